"""Forecast accuracy and speed against statsforecast and mlforecast, in one run, on real data.

Holdouts (../shared/data/README.md): store-item, train to 2017-10-02 and forecast 90 days;
walmart-weekly, the last 13 weeks of every complete store-department series. Each engine runs
in its own process so its wall time and peak memory (max RSS) are its own. SmartShelf runs
through its public service function (`forecast_products`, validated request in, response out),
once per interval level (the point forecasts are identical; the time is the first run's).
"""

import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from bench.data import SHARED_DATA, store_item

Holdout = dict[str, Any]  # train (unique_id, ds, y), test, freq, season, horizon, events


def store_item_holdout() -> Holdout:
    frame = store_item().rename(columns={"date": "ds", "sales": "y"})
    frame["unique_id"] = "s" + frame["store"].astype(str) + "_i" + frame["item"].astype(str)
    frame = frame[["unique_id", "ds", "y"]].astype({"y": float})
    cut = pd.Timestamp("2017-10-02")
    return {"name": "store-item (500 daily series, 90 days)", "train": frame[frame.ds <= cut],
            "test": frame[frame.ds > cut], "freq": "D", "season": 7, "horizon": 90, "events": []}


def walmart_holdout() -> Holdout:
    raw = pd.read_csv(SHARED_DATA / "walmart-weekly" / "train.csv.gz", parse_dates=["Date"])
    raw["unique_id"] = "st" + raw["Store"].astype(str) + "_d" + raw["Dept"].astype(str)
    weeks = raw["Date"].nunique()
    complete = raw.groupby("unique_id")["Date"].transform("size") == weeks
    frame = raw[complete].rename(columns={"Date": "ds", "Weekly_Sales": "y"})[["unique_id", "ds", "y"]]
    cut = frame["ds"].sort_values().unique()[-14]
    holidays = pd.read_csv(SHARED_DATA / "walmart-weekly" / "features.csv.gz", parse_dates=["Date"])
    events = sorted({d.date().isoformat() for d in holidays.loc[holidays["IsHoliday"], "Date"]})
    return {"name": f"walmart-weekly ({frame.unique_id.nunique()} complete series, 13 weeks)",
            "train": frame[frame.ds <= cut], "test": frame[frame.ds > cut], "freq": "W-FRI", "season": 52,
            "horizon": 13, "events": events}


def _smartshelf(holdout: Holdout) -> dict:
    from app.schemas.forecast import ForecastRequest
    from app.services.forecast import forecast_products, spec_of
    from app.utils.optional import xgboost
    from tests.support.budget import BUDGET

    xgboost()  # a running service has imported it; the references import theirs before their timers too
    train = holdout["train"]
    rows = [{"product_id": u, "date": d, "qty": y} for u, d, y in
            zip(train.unique_id, train.ds.dt.strftime("%Y-%m-%d"), train.y, strict=True)]
    out: dict = {}
    for level in (0.8, 0.95):
        body = {"shop_id": "bench", "sales": rows, "periods": holdout["horizon"], "confidence_interval": level,
                "calendar_events": [{"date": d} for d in holdout["events"]]}
        started = time.perf_counter()
        request = ForecastRequest.model_validate(body)
        validated = time.perf_counter()
        response = forecast_products(spec_of(request), BUDGET)
        finished = time.perf_counter()
        frame = pd.DataFrame([(f.product_id, p.date, p.predicted_qty, p.lower_ci, p.upper_ci)
                              for f in response.forecasts for p in f.predictions],
                             columns=["unique_id", "ds", "yhat", f"lo{int(level * 100)}", f"hi{int(level * 100)}"])
        frame["ds"] = pd.to_datetime(frame["ds"])
        if not out:
            out = {"pred": frame, "seconds": finished - validated, "validate_seconds": validated - started,
                   "methods": pd.Series([f.method for f in response.forecasts]).value_counts().head(6).to_dict()}
        else:
            out["pred"] = out["pred"].merge(frame.drop(columns="yhat"), on=["unique_id", "ds"])
    return out


def _statsforecast(holdout: Holdout, model: str) -> dict:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, SeasonalNaive

    m = holdout["season"]
    engine = StatsForecast(models=[SeasonalNaive(m) if model == "naive" else AutoETS(season_length=m)],
                           freq=holdout["freq"], n_jobs=2)
    started = time.perf_counter()
    pred = engine.forecast(df=holdout["train"], h=holdout["horizon"], level=[80, 95])
    seconds = time.perf_counter() - started
    name = next(c for c in pred.columns if c not in ("unique_id", "ds") and "-lo-" not in c and "-hi-" not in c)
    pred = pred.rename(columns={name: "yhat", f"{name}-lo-80": "lo80", f"{name}-hi-80": "hi80",
                                f"{name}-lo-95": "lo95", f"{name}-hi-95": "hi95"})
    return {"pred": pred, "seconds": seconds}


def _mlforecast(holdout: Holdout) -> dict:
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean

    daily = holdout["freq"] == "D"
    lags = [1, 7, 14, 28] if daily else [1, 2, 4, 52]
    windows = [7, 28] if daily else [4, 13]
    engine = MLForecast(
        models={"lgbm": lgb.LGBMRegressor(verbosity=-1, random_state=0, n_jobs=2)}, freq=holdout["freq"], lags=lags,
        lag_transforms={1: [RollingMean(window_size=w) for w in windows]},
        date_features=["dayofweek", "month", "day"] if daily else ["week", "month"],
    )
    started = time.perf_counter()
    engine.fit(holdout["train"])
    pred = engine.predict(holdout["horizon"]).rename(columns={"lgbm": "yhat"})
    return {"pred": pred, "seconds": time.perf_counter() - started}


ENGINES: dict[str, Callable[[Holdout], dict]] = {
    "SmartShelf auto": _smartshelf,
    "statsforecast SeasonalNaive": lambda h: _statsforecast(h, "naive"),
    "statsforecast AutoETS": lambda h: _statsforecast(h, "ets"),
    "mlforecast LightGBM": _mlforecast,
}


def _child(engine: str, holdout_name: str, queue: Any) -> None:
    holdout = store_item_holdout() if holdout_name == "store-item" else walmart_holdout()
    result = ENGINES[engine](holdout)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(result)


def run_engine(engine: str, holdout_name: str) -> dict:
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(engine, holdout_name, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def score(holdout: Holdout, pred: pd.DataFrame) -> dict[str, float]:
    """Mean over series of MASE and RMSSE (scaled by in-sample seasonal naive), sMAPE, coverage."""
    season = holdout["season"]
    train = holdout["train"].sort_values(["unique_id", "ds"])
    grouped = train.groupby("unique_id")["y"]
    mae_scale = grouped.apply(lambda y: np.mean(np.abs(y.to_numpy()[season:] - y.to_numpy()[:-season])))
    mse_scale = grouped.apply(lambda y: np.mean((y.to_numpy()[season:] - y.to_numpy()[:-season]) ** 2))
    joined = holdout["test"].merge(pred, on=["unique_id", "ds"], how="left")
    missing = int(joined["yhat"].isna().sum())
    joined["yhat"] = joined["yhat"].fillna(0.0)
    error = joined["y"] - joined["yhat"]
    per_series = pd.DataFrame({"unique_id": joined.unique_id, "abs": error.abs(), "sq": error**2,
                               "smape": np.where((joined.y.abs() + joined.yhat.abs()) > 0,
                                                 2 * error.abs() / (joined.y.abs() + joined.yhat.abs()), 0.0)})
    agg = per_series.groupby("unique_id").mean()
    result = {
        "mase": float((agg["abs"] / mae_scale.reindex(agg.index).replace(0, np.nan)).mean()),
        "rmsse": float(np.sqrt(agg["sq"] / mse_scale.reindex(agg.index).replace(0, np.nan)).mean()),
        "smape": float(agg["smape"].mean() * 100),
        "missing_predictions": missing,
    }
    for level in (80, 95):
        if f"lo{level}" in joined:
            inside = (joined["y"] >= joined[f"lo{level}"]) & (joined["y"] <= joined[f"hi{level}"])
            result[f"coverage_{level}"] = float(inside.mean() * 100)
    return result


def run(progress: Callable[[str], None] = print) -> dict:
    results: dict[str, dict] = {}
    for holdout_name, build in (("store-item", store_item_holdout), ("walmart-weekly", walmart_holdout)):
        holdout = build()
        results[holdout_name] = {"name": holdout["name"], "engines": {}}
        for engine in ENGINES:
            progress(f"accuracy: {holdout_name}: {engine}")
            outcome = run_engine(engine, holdout_name)
            scores = score(holdout, outcome["pred"])
            entry = {"seconds": round(outcome["seconds"], 2), "peak_mb": round(outcome["peak_mb"]),
                     **{k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}}
            if "validate_seconds" in outcome:
                entry["validate_seconds"] = round(outcome["validate_seconds"], 2)
                entry["methods"] = outcome["methods"]
            results[holdout_name]["engines"][engine] = entry
            progress(f"accuracy: {holdout_name}: {engine}: {entry}")
    return results
