"""Scores of a forecast frame (unique_id, ds, yhat[, lo80, hi80, lo95, hi95]) on a holdout.

Per product, then the mean over products (M4/M5 practice):
- MASE: MAE / in-sample MAE of the seasonal naive (lag = season);
- RMSSE: RMSE / in-sample RMS of the one-period change (M5's definition);
- WRMSSE: RMSSE weighted by the holdout's weights (M5: dollar sales over the last 28 training days);
- sMAPE in %, coverage of the 80 and 95 % intervals in % of actual periods;
- MSIS at 95 % (M4): mean of (hi - lo) + 40 (lo - y)+ + 40 (y - hi)+, over the seasonal-naive MAE.
Scales are counted from a product's first sale when the holdout says so (M5); a product whose
scale is 0 (constant history) has no scaled score and is left out of the means.
"""

import numpy as np
import pandas as pd

from bench.accuracy_data import Holdout, from_first_sale


def _scales(holdout: Holdout) -> pd.DataFrame:
    train = holdout.train.sort_values(["unique_id", "ds"])
    if holdout.from_first_sale:
        train = from_first_sale(train)

    def per_product(y: pd.Series) -> pd.Series:
        v = y.to_numpy()
        m = holdout.season
        seasonal = np.mean(np.abs(v[m:] - v[:-m])) if len(v) > m else np.nan
        step = np.mean((v[1:] - v[:-1]) ** 2) if len(v) > 1 else np.nan
        return pd.Series({"mae_scale": seasonal, "mse_scale": step})

    scales = train.groupby("unique_id")["y"].apply(per_product).unstack()
    return scales.replace(0.0, np.nan)


def score(holdout: Holdout, pred: pd.DataFrame) -> dict[str, float | int]:
    joined = holdout.test.merge(pred, on=["unique_id", "ds"], how="left")
    missing = int(joined["yhat"].isna().sum())
    joined["yhat"] = joined["yhat"].fillna(0.0)
    y, yhat = joined["y"], joined["yhat"]
    error = y - yhat
    denominator = y.abs() + yhat.abs()
    parts = pd.DataFrame({"unique_id": joined["unique_id"], "abs": error.abs(), "sq": error**2,
                          "smape": np.where(denominator > 0, 2 * error.abs() / denominator.where(denominator > 0, 1),
                                            0.0)})
    has_95 = "lo95" in joined
    if has_95:
        lo, hi = joined["lo95"], joined["hi95"]
        parts["is"] = (hi - lo) + 40 * (lo - y).clip(lower=0) + 40 * (y - hi).clip(lower=0)
    agg = parts.groupby("unique_id").mean()
    scales = _scales(holdout).reindex(agg.index)
    mase = agg["abs"] / scales["mae_scale"]
    rmsse = np.sqrt(agg["sq"] / scales["mse_scale"])
    result: dict[str, float | int] = {
        "mase": float(mase.mean()), "rmsse": float(rmsse.mean()), "smape": float(agg["smape"].mean() * 100),
        "products": len(agg), "unscaled_products": int(scales["mae_scale"].isna().sum()),
        "missing_predictions": missing,
    }
    if holdout.weights is not None:
        weights = holdout.weights.reindex(agg.index).fillna(0.0)
        result["wrmsse"] = float((rmsse.fillna(0.0) * weights).sum() / weights.sum())
    for level in (80, 95):
        if f"lo{level}" in joined:
            inside = (y >= joined[f"lo{level}"]) & (y <= joined[f"hi{level}"])
            result[f"coverage_{level}"] = float(inside.mean() * 100)
    if has_95:
        result["msis"] = float((agg["is"] / scales["mae_scale"]).mean())
    return result
