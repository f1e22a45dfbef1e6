"""Anomalies in sales and stock movements.

- spike / drop: each product-day against the model of the product's normal demand
  (`demand_model.py`: STL for dense series, level x weekday counts for slow movers; a negative binomial
  around it). A day whose units are in the upper tail (P(Y >= units)) or the lower tail (P(Y <= units)) at
  or below `false_alerts_per_year` / 365 / 2 is a `spike` / `drop`: if demand followed the model, a product
  would get that many false alerts in a year of open days. `score` = -log10 of that tail probability.
  Method `stl` or `counts` says which model. At most `max_alerts` per product are listed, strongest first;
  the rest are counted (`meta.not_shown`, `meta.not_shown_by_product`).
- closed days (the request's `closed_weekdays` / `closed_dates`, else detected on a catalogue of 20 or more
  products: `app/utils/opening_days.py`) are no demand: never an anomaly, and out of the model. When the
  request declares none, a day on which none of its products sold (two or more products on sale) is taken
  as closed too (`no_sale_days` warning): a drop is one product missing its sales while the shop trades.
- stock_rule: running stock (opening + receipts - sales + adjustments) below zero is
  `negative_stock`; an adjustment larger than `adjustment_threshold_pct` of the stock before it
  is `large_adjustment`.
- isolation_forest: products whose sales profile (level, variability, share of zero days, trend,
  strongest surprise) is an outlier among the request's products (8 or more), scikit-learn's IsolationForest
  with random_state 0 (deterministic), at most FOREST_SHARE of them.
"""

import warnings
from collections import Counter

import numpy as np
import pandas as pd
from scipy import stats

from app.schemas.anomalies import AnomaliesMeta, AnomaliesRequest, AnomaliesResponse, Anomaly
from app.schemas.common import DataWarning
from app.services.analytics.demand_model import (
    MIN_MEAN,
    log_zero_probability,
    normal_demand,
    run_sums,
    tail_probabilities,
    usual_range,
)
from app.utils.arrays import first_column
from app.utils.dates import day_number, from_day_number
from app.utils.opening_days import declared, opening_days
from app.utils.sales_frame import clean_sales, daily_net_units
from app.utils.work_budget import WorkBudget

MIN_PRODUCTS_FOR_FOREST = 8
FOREST_SHARE = 0.02
DAYS_PER_YEAR = 365.0
MODEL_WORDS = {"stl": "its trend and weekday pattern (STL)", "counts": "its level and weekday pattern"}


def _daily(request: AnomaliesRequest, budget: WorkBudget) -> tuple[np.ndarray, np.ndarray, np.ndarray, int,
                                                                  list[DataWarning]]:
    """Products, net units [n, days] (negative days as 0), observed bool[n, days] (open days from each
    product's first sale), first day, warnings."""
    sales, warnings = clean_sales(request)
    opening, found = opening_days(request, sales)
    first = int(sales.day.min())
    n_days = int(sales.day.max()) - first + 1
    n = len(sales.product_ids)
    budget.check("grid", {"products": n, "days": n_days},
                 "send fewer products per request, or a shorter stretch of sales")
    start = first_column(sales.product, sales.day - first, n, n_days)
    units = daily_net_units(sales, n, first, n_days)
    closed = opening.closed(first + np.arange(n_days))
    if declared(request) is None and n >= 2:
        idle = ~closed & (units.sum(axis=0) == 0) & ((start[:, None] <= np.arange(n_days)).sum(axis=0) >= 2)
        if idle.any():
            closed |= idle
            found.append(DataWarning(
                code="no_sale_days", count=int(idle.sum()),
                message=f"none of the request's products sold on {int(idle.sum())} days (first "
                f"{from_day_number(first + int(np.argmax(idle))).isoformat()}): taken as closed, so no product "
                "has a drop there. Send closed_dates / closed_weekdays to say when the shop is closed."))
    observed = (np.arange(n_days)[None, :] >= start[:, None]) & ~closed[None, :]
    return sales.product_ids, units, observed, first, warnings + found


def _day_tail(request: AnomaliesRequest) -> float:
    """The tail probability (each side) at or below which a day is flagged."""
    if request.z_threshold is not None:
        return float(stats.norm.sf(request.z_threshold))
    return request.false_alerts_per_year / DAYS_PER_YEAR / 2


def _sales_anomalies(request: AnomaliesRequest, product_ids: np.ndarray, units: np.ndarray, observed: np.ndarray,
                     first_day: int) -> tuple[list[Anomaly], np.ndarray, int, int]:
    """Spikes and drops (all of them, strongest first), each product's strongest surprise, open product-days
    scored and open product-days inside the spikes and drops found."""
    model = normal_demand(units, observed, first_day)
    tail = _day_tail(request)
    rows, days = np.nonzero(np.isfinite(model.expected))
    expected = model.expected[rows, days]
    upper, lower = tail_probabilities(units[rows, days], expected, model.dispersion[rows])
    lower[units[rows, days] <= 0] = 1.0  # a day without a sale is judged with its run (below)
    runs = model.runs
    run_expected = run_sums(runs, model.expected)
    run_variance = run_sums(runs, model.expected + model.dispersion[:, None] * model.expected**2)
    run_tail = np.exp(run_sums(runs, log_zero_probability(model.expected, model.dispersion[:, None])))
    surprise = -np.log10(np.maximum(np.minimum(upper, lower), 1e-300))
    run_surprise = -np.log10(np.maximum(run_tail, 1e-300))
    strongest = np.zeros(units.shape[0])
    np.maximum.at(strongest, rows, surprise)
    np.maximum.at(strongest, runs.row, run_surprise)
    # candidates: days (spikes, drops to a few units) then runs of days without a sale, as one table
    day_hit = np.minimum(upper, lower) <= tail
    run_hit = (run_tail <= tail) & (run_expected > 0)
    row = np.r_[rows[day_hit], runs.row[run_hit]]
    first, last = np.r_[days[day_hit], runs.first[run_hit]], np.r_[days[day_hit], runs.last[run_hit]]
    spike = np.r_[upper[day_hit] <= lower[day_hit], np.zeros(int(run_hit.sum()), dtype=bool)]
    mean = np.r_[expected[day_hit], run_expected[run_hit]]
    variance = np.r_[expected[day_hit] + model.dispersion[rows[day_hit]] * expected[day_hit] ** 2,
                     run_variance[run_hit]]
    score = np.r_[surprise[day_hit], run_surprise[run_hit]]
    open_days = np.r_[np.ones(int(day_hit.sum()), dtype=np.int64), runs.days[run_hit]]
    observed_units = np.r_[units[rows[day_hit], days[day_hit]], np.zeros(int(run_hit.sum()))]
    low, high = usual_range(mean, (variance - mean) / np.maximum(mean, MIN_MEAN) ** 2, tail)
    # beyond float precision (p < 1e-300) surprises tie: the distance in standard deviations orders those
    distance = np.abs(observed_units - mean) / np.sqrt(variance)
    order = np.lexsort((first, row, -distance, -score))
    anomalies = [_anomaly(product_ids[row[k]], first_day, int(first[k]), int(last[k]), int(open_days[k]),
                          bool(spike[k]), float(observed_units[k]), float(mean[k]), float(low[k]), float(high[k]),
                          float(score[k]), "stl" if model.dense[row[k]] else "counts") for k in order]
    return anomalies, strongest, int(observed.sum()), int(open_days.sum())


def _anomaly(product_id: object, first_day: int, first: int, last: int, open_days: int, spike: bool,
             observed: float, mean: float, low: float, high: float, score: float, method: str) -> Anomaly:
    """One spike or drop: a day, or a run of open days without a sale (`open_days` of them, first .. last)."""
    if open_days > 1:
        start, end = from_day_number(first_day + first), from_day_number(first_day + last)
        what = (f"nothing sold on {open_days} open days ({start.isoformat()} to {end.isoformat()}), expected "
                f"{mean:.1f} in total from {MODEL_WORDS[method]} (usually {low:g}-{high:g}): a stock-out or a "
                f"shelf gap? A run this empty comes {_once_in(score)}.")
    else:
        what = (f"{observed:g} units sold, expected {mean:.1f} from {MODEL_WORDS[method]} (usually {low:g}-"
                f"{high:g}); a day this far out comes {_once_in(score)}.")
    return Anomaly(product_id=str(product_id), date=from_day_number(first_day + first),
                   end_date=from_day_number(first_day + last), type="spike" if spike else "drop",
                   observed=observed, expected_low=low, expected_high=high, score=round(score, 2), method=method,
                   description=what)


def _once_in(surprise: float) -> str:
    """How rare a day is in words: the inverse of its tail probability, in open days."""
    return f"about once in {10 ** surprise:,.0f} open days" if surprise < 6 else "less than once in a million open days"


def _cut(anomalies: list[Anomaly], max_alerts: int) -> tuple[list[Anomaly], dict[str, int]]:
    """The first `max_alerts` of each product (they come strongest first) and how many were left out."""
    shown: Counter[str] = Counter()
    kept: list[Anomaly] = []
    left: Counter[str] = Counter()
    for anomaly in anomalies:
        if shown[anomaly.product_id] < max_alerts:
            shown[anomaly.product_id] += 1
            kept.append(anomaly)
        else:
            left[anomaly.product_id] += 1
    return kept, dict(sorted(left.items()))


def find_anomalies(request: AnomaliesRequest, budget: WorkBudget) -> AnomaliesResponse:
    """Sales spikes and drops, stock-rule breaks and outlier products, strongest first."""
    anomalies: list[Anomaly] = []
    warnings: list[DataWarning] = []
    products: set[str] = set()
    days = product_days = flagged = flagged_days = 0
    not_shown: dict[str, int] = {}
    if request.has_sales():
        product_ids, units, observed, first_day, warnings = _daily(request, budget)
        products.update(str(p) for p in product_ids)
        days = units.shape[1]
        found, strongest, product_days, flagged_days = _sales_anomalies(request, product_ids, units, observed,
                                                                         first_day)
        flagged = len(found)
        anomalies, not_shown = _cut(found, request.max_alerts)
        anomalies += sorted(_forest(product_ids, np.where(observed, units, np.nan), strongest),
                            key=lambda a: (-a.score, a.product_id))
    stock = sorted(_stock_rules(request, products), key=lambda a: (-abs(a.score), a.product_id, a.date))
    anomalies = stock + anomalies  # stock-rule breaks first; spikes and drops keep their strongest-first order
    return AnomaliesResponse(anomalies=anomalies, warnings=warnings, meta=AnomaliesMeta(
        shop_id=request.shop_id, products=len(products), sales_days=days, product_days=product_days,
        anomalies=len(anomalies), flagged=flagged, flagged_days=flagged_days, not_shown=sum(not_shown.values()),
        not_shown_by_product=not_shown))


def _forest(product_ids: np.ndarray, values: np.ndarray, strongest: np.ndarray) -> list[Anomaly]:
    """Outlier products by their sales profile; values [n, T] are units on observed days, NaN elsewhere."""
    n = values.shape[0]
    if n < MIN_PRODUCTS_FOR_FOREST:
        return []
    from sklearn.ensemble import IsolationForest

    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        # a product without sales in a half (or with one day) has NaN statistics there, set to 0 below
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=1)
        variability = np.nanstd(values, axis=1) / np.where(mean > 0, mean, 1.0)
        half = values.shape[1] // 2
        recent, early = np.nanmean(values[:, half:], axis=1), np.nanmean(values[:, :half], axis=1)
        trend = np.nan_to_num(np.log((recent + 1) / (early + 1)))
    zero_share = np.nansum(values == 0, axis=1) / np.maximum(np.isfinite(values).sum(axis=1), 1)
    names = ["mean daily units (log)", "variability", "share of zero days", "trend (log ratio)",
             "strongest surprise (-log10 p)"]
    features = np.column_stack([np.log1p(np.nan_to_num(mean)), np.nan_to_num(variability), zero_share, trend,
                                strongest])
    forest = IsolationForest(n_estimators=100, contamination=FOREST_SHARE, random_state=0).fit(features)
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
