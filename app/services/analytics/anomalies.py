"""Anomalies in sales and stock movements.

- robust_z (spike / drop): each product's daily net units, divided by its weekday factor (mean by
  weekday / overall mean), against the median of the 29 days centred on it (the days after count
  too: this looks back at recorded history); scale = max(1.4826 x the median absolute deviation
  over the 57 days around it, sqrt(median / weekday factor)) (the square root is the Poisson
  noise floor for counts).
  |z| >= `z_threshold` is an anomaly; needs 14 observed days in the window.
- closed days (the request's `closed_weekdays` / `closed_dates`, else detected on a catalogue of 20 or more
  products: `app/utils/opening_days.py`) are no demand: never an anomaly, and out of the baselines.
- stock_rule: running stock (opening + receipts - sales + adjustments) below zero is
  `negative_stock`; an adjustment larger than `adjustment_threshold_pct` of the stock before it
  is `large_adjustment`.
- isolation_forest: products whose sales profile (level, variability, share of zero days, trend,
  weekday amplitude, largest |z|) is an outlier among the request's products (8 or more),
  scikit-learn's IsolationForest with random_state 0 (deterministic).
"""

import warnings

import numpy as np
import pandas as pd

from app.schemas.anomalies import AnomaliesMeta, AnomaliesRequest, AnomaliesResponse, Anomaly
from app.schemas.common import DataWarning
from app.utils.arrays import first_column
from app.utils.dates import day_number, from_day_number, weekday
from app.utils.opening_days import opening_days
from app.utils.sales_frame import clean_sales, daily_net_units
from app.utils.work_budget import WorkBudget

WINDOW = 29
MIN_HISTORY = 14
MIN_PRODUCTS_FOR_FOREST = 8


def _daily(request: AnomaliesRequest, budget: WorkBudget) -> tuple[np.ndarray, np.ndarray, np.ndarray, int,
                                                                  np.ndarray, list[DataWarning]]:
    """Products, net units [n, days] (negative days as 0), first observed column, first day, closed days
    bool[days], warnings."""
    sales, warnings = clean_sales(request)
    opening, found = opening_days(request, sales)
    first = int(sales.day.min())
    n_days = int(sales.day.max()) - first + 1
    n = len(sales.product_ids)
    budget.check("grid", {"products": n, "days": n_days},
                 "send fewer products per request, or a shorter stretch of sales")
    start = first_column(sales.product, sales.day - first, n, n_days)
    closed = opening.closed(first + np.arange(n_days))
    return sales.product_ids, daily_net_units(sales, n, first, n_days), start, first, closed, warnings + found


def robust_scores(units: np.ndarray, start: np.ndarray, first_day: int,
                  closed: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Robust z [n, T] of each day (NaN on closed days: bool[T]), with the deseasonalised baseline, scale and
    weekday factor behind it."""
    n, length = units.shape
    day_of_week = weekday(first_day + np.arange(length))
    observed = np.arange(length)[None, :] >= start[:, None]
    if closed is not None:
        observed &= ~closed[None, :]
    totals = np.zeros((n, 7))
    counts = np.zeros((n, 7))
    np.add.at(totals.T, day_of_week, np.where(observed, units, 0.0).T)
    np.add.at(counts.T, day_of_week, observed.T.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        by_day = totals / counts
        overall = np.where(observed, units, 0.0).sum(axis=1) / np.maximum(observed.sum(axis=1), 1)
        factor = np.clip(np.nan_to_num(by_day / overall[:, None], nan=1.0), 0.2, 5.0)
    factor = np.where(np.isfinite(factor), factor, 1.0)[:, day_of_week]  # [n, T]
    adjusted = pd.DataFrame((units / factor).T)  # T x n: rolling runs down columns in C
    masked = adjusted.where(observed.T)
    baseline = masked.rolling(WINDOW, center=True, min_periods=MIN_HISTORY).median()
    # the spread needs more days than the level to settle: twice the window
    deviation = (masked - baseline).abs().rolling(2 * WINDOW - 1, center=True, min_periods=MIN_HISTORY).median()
    base = baseline.to_numpy().T
    scale = np.maximum(1.4826 * deviation.to_numpy().T, np.sqrt(np.maximum(base, 1.0) / factor))
    z = (adjusted.to_numpy().T - base) / scale
    return np.where(observed, z, np.nan), base, scale, factor


def find_anomalies(request: AnomaliesRequest, budget: WorkBudget) -> AnomaliesResponse:
    """Sales spikes and drops, stock-rule breaks and outlier products, strongest first."""
    anomalies: list[Anomaly] = []
    warnings: list[DataWarning] = []
    products: set[str] = set()
    days = 0
    threshold = request.z_threshold
    if request.has_sales():
        product_ids, units, start, first_day, closed, warnings = _daily(request, budget)
        products.update(str(p) for p in product_ids)
        days = units.shape[1]
        z, base, scale, factor = robust_scores(units, start, first_day, closed)
        hits = np.argwhere(np.abs(np.nan_to_num(z)) >= threshold)
        for i, t in hits:
            low = max(0.0, (base[i, t] - threshold * scale[i, t]) * factor[i, t])
            high = (base[i, t] + threshold * scale[i, t]) * factor[i, t]
            kind = "spike" if z[i, t] > 0 else "drop"
            anomalies.append(Anomaly(
                product_id=str(product_ids[i]), date=from_day_number(first_day + t), type=kind,
                observed=float(units[i, t]), expected_low=round(low, 2), expected_high=round(high, 2),
                score=round(float(z[i, t]), 2), method="robust_z",
                description=f"{units[i, t]:g} units sold, expected {low:.1f}-{high:.1f} for that weekday "
                f"from the {WINDOW} days around it (robust z {z[i, t]:+.1f})."))
        anomalies += _forest(product_ids, np.where(closed[None, :], np.nan, units), start, z)
    anomalies += _stock_rules(request, products)
    rank = {"stock_rule": 0, "robust_z": 1, "isolation_forest": 2}
    anomalies.sort(key=lambda a: (rank[a.method], -abs(a.score), a.product_id, a.date or from_day_number(0)))
    return AnomaliesResponse(anomalies=anomalies, warnings=warnings,
                             meta=AnomaliesMeta(shop_id=request.shop_id, products=len(products), sales_days=days,
                                                anomalies=len(anomalies)))


def _forest(product_ids: np.ndarray, units: np.ndarray, start: np.ndarray, z: np.ndarray) -> list[Anomaly]:
    n = units.shape[0]
    if n < MIN_PRODUCTS_FOR_FOREST:
        return []
    from sklearn.ensemble import IsolationForest

    observed = np.arange(units.shape[1])[None, :] >= start[:, None]
    values = np.where(observed, units, np.nan)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        # a product without sales in a half (or with one day) has NaN statistics there, set to 0 below
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=1)
        variability = np.nanstd(values, axis=1) / np.where(mean > 0, mean, 1.0)
        half = units.shape[1] // 2
        recent, early = np.nanmean(values[:, half:], axis=1), np.nanmean(values[:, :half], axis=1)
        trend = np.nan_to_num(np.log((recent + 1) / (early + 1)))
    zero_share = np.nansum(values == 0, axis=1) / np.maximum(observed.sum(axis=1), 1)
    peak = np.nan_to_num(np.nanmax(np.abs(z), axis=1, initial=0.0))
    names = ["mean daily units (log)", "variability", "share of zero days", "trend (log ratio)", "largest |z|"]
    features = np.column_stack([np.log1p(np.nan_to_num(mean)), np.nan_to_num(variability), zero_share, trend, peak])
    forest = IsolationForest(n_estimators=200, contamination="auto", random_state=0).fit(features)
    outlier = forest.predict(features) == -1
    score = -forest.score_samples(features)
    median = np.median(features, axis=0)
    spread = np.maximum(np.median(np.abs(features - median), axis=0), 1e-9)
    out = []
    for i in np.flatnonzero(outlier):
        strangest = np.argsort(-np.abs(features[i] - median) / spread)[:2]
        reason = ", ".join(f"{names[k]} {features[i, k]:.2f} (typical {median[k]:.2f})" for k in strangest)
        out.append(Anomaly(product_id=str(product_ids[i]), date=None, type="unusual_product",
                           observed=round(float(mean[i]), 3), expected_low=None, expected_high=None,
                           score=round(float(score[i]), 3), method="isolation_forest",
                           description=f"sales profile unlike the other {n - 1} products: {reason}."))
    return out


def _stock_rules(request: AnomaliesRequest, products: set[str]) -> list[Anomaly]:
    if not request.stock_movements:
        return []
    frame = pd.DataFrame({
        "product_id": [m.product_id for m in request.stock_movements],
        "day": [day_number(m.date) for m in request.stock_movements],
        "type": [m.type for m in request.stock_movements],
        "qty": [m.qty for m in request.stock_movements],
        "order": np.arange(len(request.stock_movements)),
    })
    products.update(frame["product_id"])
    opening = {o.product_id: o.quantity for o in request.opening_stock}
    sign = frame["type"].map({"receipt": 1.0, "sale": -1.0, "adjustment": 1.0})
    frame["delta"] = sign * frame["qty"]  # receipts and sales are >= 0 (schema); adjustments signed
    frame = frame.sort_values(["product_id", "day", "order"], kind="stable")
    frame["after"] = frame.groupby("product_id")["delta"].cumsum() + frame["product_id"].map(opening).fillna(0.0)
    frame["before"] = frame["after"] - frame["delta"]
    anomalies = []
    negative = frame[(frame["after"] < 0) & (frame["before"] >= 0)]
    for product_id, day, kind, qty, after in zip(negative["product_id"].tolist(), negative["day"].tolist(),
                                                 negative["type"].tolist(), negative["qty"].tolist(),
                                                 negative["after"].tolist(), strict=True):
        anomalies.append(Anomaly(
            product_id=str(product_id), date=from_day_number(int(day)), type="negative_stock",
            observed=float(after), expected_low=0.0, expected_high=None, score=round(-float(after), 2),
            method="stock_rule", description=f"stock fell to {after:g} after a {kind} of {qty:g}: "
            "more units left than were there (a missed receipt, a double-counted sale or a counting error)."))
    limit = request.adjustment_threshold_pct / 100
    adjustments = frame[frame["type"] == "adjustment"]
    large = adjustments[adjustments["qty"].abs() > limit * adjustments["before"].clip(lower=1.0)]
    for product_id, day, qty, before in zip(large["product_id"].tolist(), large["day"].tolist(),
                                            large["qty"].tolist(), large["before"].tolist(), strict=True):
        stock = max(float(before), 1.0)
        share = abs(float(qty)) / stock * 100
        anomalies.append(Anomaly(
            product_id=str(product_id), date=from_day_number(int(day)), type="large_adjustment",
            observed=float(qty), expected_low=-limit * stock, expected_high=limit * stock,
            score=round(share / 100, 2), method="stock_rule",
            description=f"adjustment of {qty:+g} units is {share:.0f}% of the {before:g} in stock before it "
            f"(threshold {request.adjustment_threshold_pct:g}%)."))
    return anomalies
