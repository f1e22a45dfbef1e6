"""Anomalies in sales and stock movements.

- spike / drop: each product-day against the model of the product's normal demand
  (`demand_model.py`: STL for dense series, level x weekday counts for slow movers; a negative binomial
  around it). A day whose units are in the upper tail (P(Y >= units)) or the lower tail (P(Y <= units)) at
  or below `false_alerts_per_year` / 365 / 2 is a `spike` / `drop`: if demand followed the model, a product
  would get that many false alerts in a year of open days. `score` = -log10 of that tail probability.
  Method `stl` or `counts` says which model. Days without a sale are judged as runs (consecutive open days,
  closed days skipped): a run whose probability, the product of its days' P(Y = 0), is in that tail is one
  `drop` from `date` to `end_date` (a stock-out or a shelf gap is one alert). At most `max_alerts` per product
  are listed, strongest first; the rest are counted (`meta.not_shown`, `meta.not_shown_by_product`).
  A product that sold on fewer than MIN_SELLING_DAYS days of the request (a one-off till label, a cake made once)
  has no normal to depart from: its days are neither spikes nor drops (a review found each of the bakery's seven
  one-sale articles flagged on its only sale as "about once in 1,001 open days", one sale in 637 days).
- closed days (the request's `closed_weekdays` / `closed_dates`, else detected on a catalogue of 20 or more
  products: `app/utils/opening_days.py`) are no demand: never an anomaly, and out of the model. When the
  request declares none, a day on which none of its products sold (two or more products on sale) is taken
  as closed too (`no_sale_days` warning): a drop is one product missing its sales while the shop trades.
- stock_rule: running stock (opening + receipts - sales + adjustments) below zero is
  `negative_stock`; an adjustment larger than `adjustment_threshold_pct` of the stock before it
  is `large_adjustment`.
- isolation_forest: products whose sales profile (bursts and missing days beyond what their level explains,
  trend, strongest surprise; not the level: a best seller is no anomaly) is an outlier among the request's
  products (8 or more), scikit-learn's IsolationForest with random_state 0 (deterministic), at most FOREST_SHARE
  of them.
"""

import warnings
from collections import Counter
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from scipy import stats

from app.schemas.anomalies import AnomaliesMeta, AnomaliesRequest, AnomaliesResponse, Anomaly
from app.schemas.common import DataWarning
from app.services.analytics.demand_model import (
    MIN_MEAN,
    NormalDemand,
    log_zero_probability,
    normal_demand,
    run_sums,
    tail_probabilities,
    usual_range,
)
from app.utils.arrays import first_column
from app.utils.dates import day_number, from_day_number
from app.utils.opening_days import opening_days
from app.utils.sales_frame import clean_sales, daily_net_units
from app.utils.wording import unit_count, units_text
from app.utils.work_budget import WorkBudget

MIN_PRODUCTS_FOR_FOREST = 8
MIN_SELLING_DAYS = 3
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
    if request.closed_dates is None and n >= 2:  # days no product sold are closed unless the dates are declared
        idle = ~closed & (units.sum(axis=0) == 0) & ((start[:, None] <= np.arange(n_days)).sum(axis=0) >= 2)
        if idle.any():
            closed |= idle
            found.append(DataWarning(
                code="no_sale_days", count=int(idle.sum()),
                message=f"none of the request's products sold on {int(idle.sum())} days (first "
                f"{from_day_number(first + int(np.argmax(idle))).isoformat()}): taken as closed, so no product "
                "has a drop there. Send closed_dates / closed_weekdays to say when the shop is closed."))
    observed = (np.arange(n_days)[None, :] >= start[:, None]) & ~closed[None, :]
    if request.calendar_events:  # no grid of event days for the requests that send none
        event = _event_days(request, sales.product_ids, first, n_days) & observed
        if event.any():
            count = int(event.sum())
            found.append(DataWarning(
                code="event_days_not_judged", count=count,
                message=f"{count} open product-days on the request's calendar_events were not judged nor learned as "
                "normal demand: an event's rush or lull is the event's, not news."))
            observed &= ~event
    return sales.product_ids, units, observed, first, warnings + found


def _event_days(request: AnomaliesRequest, product_ids: np.ndarray, first: int, n_days: int) -> np.ndarray:
    """bool[n, days]: the request's calendar_events days, for their `product_ids` (ids not sold: none) or every
    product."""
    event = np.zeros((len(product_ids), n_days), dtype=bool)
    index = {str(p): i for i, p in enumerate(product_ids)}
    for item in request.calendar_events:
        column = day_number(item.date) - first
        if 0 <= column < n_days:
            rows = slice(None) if item.product_ids is None else [index[p] for p in item.product_ids if p in index]
            event[rows, column] = True
    return event


def _day_tail(request: AnomaliesRequest) -> float:
    """The tail probability (each side) at or below which a day is flagged."""
    if request.z_threshold is not None:
        return float(stats.norm.sf(request.z_threshold))
    return request.false_alerts_per_year / DAYS_PER_YEAR / 2


@dataclass(frozen=True)
class _Found:
    """Spikes and drops found, k of them (arrays [k]): product row, first and last day (column), open days
    covered and those of them the model judged, spike or drop, units observed (in total), the model's mean and
    variance of those units, surprise (-log10 of the tail probability)."""

    row: np.ndarray
    first: np.ndarray
    last: np.ndarray
    open_days: np.ndarray
    judged: np.ndarray
    spike: np.ndarray
    observed: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    score: np.ndarray

    def __add__(self, other: "_Found") -> "_Found":
        return _Found(*(np.r_[getattr(self, f.name), getattr(other, f.name)] for f in fields(self)))


def _surprise(probability: np.ndarray) -> np.ndarray:
    return -np.log10(np.maximum(probability, 1e-300))


def _days_found(model: NormalDemand, units: np.ndarray, tail: float, judged: np.ndarray) -> tuple[_Found, np.ndarray]:
    """Days in a tail (spikes, and drops to a few units: a day without a sale is judged with its run) of the
    `judged` products (bool [n]) and each product's strongest day surprise [n]."""
    rows, days = np.nonzero(np.isfinite(model.expected))
    expected, sold = model.expected[rows, days], units[rows, days]
    upper, lower = tail_probabilities(sold, expected, model.dispersion[rows])
    lower[(sold <= 0) | ~model.near[rows, days]] = 1.0  # far from the learned days: judged for spikes only
    surprise = _surprise(np.minimum(upper, lower))
    strongest = np.zeros(units.shape[0])
    np.maximum.at(strongest, rows, surprise)
    hit = (np.minimum(upper, lower) <= tail) & judged[rows]
    one = np.ones(int(hit.sum()), dtype=np.int64)
    variance = expected + model.dispersion[rows] * expected**2
    return _Found(rows[hit], days[hit], days[hit], one, one, upper[hit] <= lower[hit], sold[hit], expected[hit],
                  variance[hit], surprise[hit]), strongest


def _runs_found(model: NormalDemand, tail: float, judged: np.ndarray) -> tuple[_Found, np.ndarray]:
    """Runs of open days without a sale of the `judged` products whose probability (the product of their days'
    P(Y = 0)) is in the tail, and each run's surprise [k runs]."""
    runs, dispersion = model.runs, model.zero_dispersion[:, None]
    expected = np.where(model.near, model.expected, np.nan)  # far from the learned days a run is not judged
    probability = np.exp(run_sums(runs, log_zero_probability(expected, dispersion)))
    mean = run_sums(runs, expected)
    hit = (probability <= tail) & (mean > 0) & judged[runs.row]
    variance = run_sums(runs, expected + dispersion * expected**2)
    judged = run_sums(runs, np.isfinite(expected)).astype(np.int64)
    surprise = _surprise(probability)
    return _Found(runs.row[hit], runs.first[hit], runs.last[hit], runs.days[hit], judged[hit],
                  np.zeros(int(hit.sum()), dtype=bool), np.zeros(int(hit.sum())), mean[hit], variance[hit],
                  surprise[hit]), surprise


def _sales_anomalies(request: AnomaliesRequest, product_ids: np.ndarray, units: np.ndarray, observed: np.ndarray,
                     first_day: int) -> tuple[list[Anomaly], np.ndarray, int, int]:
    """Spikes and drops (all of them, strongest first), each product's strongest surprise, open product-days
    scored and open product-days inside the spikes and drops found."""
    model = normal_demand(units, observed, first_day)
    tail = _day_tail(request)
    judged = (units > 0).sum(axis=1) >= MIN_SELLING_DAYS  # fewer selling days: no normal to depart from
    days, strongest = _days_found(model, units, tail, judged)
    runs, run_surprise = _runs_found(model, tail, judged)
    np.maximum.at(strongest, model.runs.row, run_surprise)
    found = days + runs
    low, high = usual_range(found.mean, (found.variance - found.mean) / np.maximum(found.mean, MIN_MEAN) ** 2, tail)
    # beyond float precision (p < 1e-300) surprises tie: the distance in standard deviations orders those
    distance = np.abs(found.observed - found.mean) / np.sqrt(found.variance)
    order = np.lexsort((found.first, found.row, -distance, -found.score))
    anomalies = [_anomaly(str(product_ids[found.row[k]]), first_day, found, k, float(low[k]), float(high[k]),
                          "stl" if model.dense[found.row[k]] else "counts") for k in order]
    return anomalies, strongest, int(observed.sum()), int(found.open_days.sum())


def _anomaly(product_id: str, first_day: int, found: _Found, k: int, low: float, high: float,
             method: str) -> Anomaly:
    """The k-th spike or drop found: a day, or a run of open days without a sale."""
    start, end = from_day_number(first_day + int(found.first[k])), from_day_number(first_day + int(found.last[k]))
    mean, score, open_days, judged = float(found.mean[k]), float(found.score[k]), found.open_days[k], found.judged[k]
    usually = f"from {MODEL_WORDS[method]} (usually {low:g}{'' if high == low else f'-{high:g}'})"
    if open_days > 1:
        over = "in total" if judged == open_days else f"over the {judged} of them with enough sales around to judge"
        what = (f"nothing sold on {open_days} open days ({start.isoformat()} to {end.isoformat()}), expected "
                f"{_units(mean)} {over} {usually}: a stock-out, a shelf gap or a product taken off sale? A run this "
                f"empty comes {_once_in(score)}.")
    else:
        sold = unit_count(units_text(float(found.observed[k])))
        what = (f"{sold} sold, expected {_units(mean)} {usually}; a day this far out comes "
                f"{_once_in(score)}.")
    return Anomaly(product_id=product_id, date=start, end_date=end, type="spike" if found.spike[k] else "drop",
                   observed=float(found.observed[k]), expected_low=low, expected_high=high, score=round(score, 2),
                   method=method, description=what)


def _article(word: str) -> str:
    """'a' or 'an' before a movement type (receipt, sale, adjustment)."""
    return "an" if word[0] in "aeiou" else "a"


def _units(mean: float) -> str:
    """A model's mean in words: one decimal, two for less than one unit (0.04, not 0.0)."""
    return f"{mean:.1f}" if mean >= 1 else f"{mean:.2f}"


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
    sold = None
    if request.has_sales():
        product_ids, units, observed, first_day, warnings = _daily(request, budget)
        sold = _sold(product_ids, units, first_day)
        products.update(str(p) for p in product_ids)
        days = units.shape[1]
        found, strongest, product_days, flagged_days = _sales_anomalies(request, product_ids, units, observed,
                                                                         first_day)
        flagged = len(found)
        anomalies, not_shown = _cut(found, request.max_alerts)
        anomalies += sorted(_forest(product_ids, np.where(observed, units, np.nan), strongest),
                            key=lambda a: (-a.score, a.product_id))
    stock = sorted(_stock_rules(request, products, sold), key=lambda a: (-abs(a.score), a.product_id, a.date))
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
        # the profile leaves the level out: a best seller or a slow mover is no anomaly, how it sells may be.
        # Counts around a level `mean` vary by sqrt(mean) and miss exp(-mean) of the days by chance alone; what
        # is left (overdispersion, zeros beyond chance) is the product's own: sales in bursts, days it is missing
        burst = np.maximum(np.nanvar(values, axis=1) - mean, 0.0) / np.where(mean > 0, mean, 1.0) ** 2
        half = values.shape[1] // 2
        recent, early = np.nanmean(values[:, half:], axis=1), np.nanmean(values[:, :half], axis=1)
        trend = np.nan_to_num(np.log((recent + 1) / (early + 1)))
    zero_share = np.nansum(values == 0, axis=1) / np.maximum(np.isfinite(values).sum(axis=1), 1)
    names = ["sales in bursts (squared variation beyond chance)", "days without a sale beyond chance",
             "trend (log ratio of the second half to the first)", "strongest surprise (-log10 p)"]
    features = np.column_stack([np.log1p(np.nan_to_num(burst)), zero_share - np.exp(-np.nan_to_num(mean)), trend,
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


def _sold(product_ids: np.ndarray, units: np.ndarray, first_day: int) -> pd.DataFrame:
    """The request's sales as (product_id, day, qty) rows of net units per product and day, days that sold only."""
    rows, columns = np.nonzero(units > 0)
    return pd.DataFrame({"product_id": product_ids[rows].astype(str), "day": first_day + columns,
                         "qty": units[rows, columns]})


def _with_request_sales(frame: pd.DataFrame, sold: pd.DataFrame | None) -> pd.DataFrame:
    """The movements, plus the request's sales (net units a day) as `sale` movements of each product whose
    movements carry no sale, from its first movement's day on: on a day, after its receipts and before its
    adjustments (a count is taken after trading). The walk's order: (product, day, slot, request order)."""
    frame = frame.assign(slot=0)
    if sold is None or sold.empty:
        return frame
    takers = set(frame["product_id"]) - set(frame.loc[frame["type"] == "sale", "product_id"])
    extra = sold[sold["product_id"].isin(takers)]
    if extra.empty:
        return frame
    first_move = frame.groupby("product_id")["day"].min()
    extra = extra[extra["day"].to_numpy() >= extra["product_id"].map(first_move).to_numpy()]
    taker = frame["product_id"].isin(takers)
    frame.loc[taker & (frame["type"] != "receipt"), "slot"] = 2
    extra = extra.assign(type="sale", order=len(frame) + np.arange(len(extra)), slot=1)
    return pd.concat([frame, extra[frame.columns]], ignore_index=True)


def _stock_rules(request: AnomaliesRequest, products: set[str], sold: pd.DataFrame | None = None) -> list[Anomaly]:
    """Negative stock and large adjustments, walking each product's stock from its opening stock through its
    movements (and, for a product whose movements carry no sale, the request's `sold`)."""
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
    frame = _with_request_sales(frame, sold)
    opening = {o.product_id: o.quantity for o in request.opening_stock}
    sign = frame["type"].map({"receipt": 1.0, "sale": -1.0, "adjustment": 1.0})
    frame["delta"] = sign * frame["qty"]  # receipts and sales are >= 0 (schema); adjustments signed
    frame = frame.sort_values(["product_id", "day", "slot", "order"], kind="stable")
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
            method="stock_rule", description=f"stock fell to {after:g} after {_article(kind)} {kind} of {qty:g}: "
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
            description=f"adjustment of {qty:+g} unit{'' if abs(qty) == 1 else 's'} is {share:.0f}% of the "
            f"{before:g} in stock before it (threshold {request.adjustment_threshold_pct:g}%)."))
    return anomalies
