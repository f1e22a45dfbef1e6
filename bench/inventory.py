"""Inventory decisions on real demand, through HTTP with the default settings: a rolling reorder simulation
(issue #24), the promotions' leftovers at a made-up expiry and reorder
speed (BENCH_INVENTORY_SPEED=0 skips it).

Rolling simulation, as a backend runs it: every 7 days (the review) the backend sends POST /reorder the last
365 days of sales to date, each product's stock on hand and on order (lead time 7 days, `review_days` 7, unit
cost 1, price 2, default ordering and holding costs) and the target service level, and places the recommended
orders; an order placed at the end of day t is on the shelf on day t + 8; demand not met from the shelf is
lost. The demand is the real daily units of the last `WEEKS` weeks (the history sent is the real sales too).
Three policies see the same demand and start from the same stock: the mean demand of the last 28 days x 14 x a
random factor in [1, 4] per product (seed 0), so that first orders fall in different weeks of the window and the
end of a cycle, where its stockout risk is, can be observed with EOQ lots of months of stock:

- SmartShelf: `recommended_order_qty` of POST /reorder (the lead-time demand's own distribution).
- the previous normal approximation, from the same forecast (POST /forecast, a cache hit): reorder point =
  forecast over 13 days + 3.5 days' mean demand + z x sqrt(13 x the 7-day backtest RMSE^2 + the undershoot
  variance), EOQ lots (the code this issue replaced).
- statsforecast AutoETS(season 7) on the same 365 days + the normal approximation with its in-sample
  residual sd, EOQ lots.

Cycle service level: a replenishment cycle of a product ends the day before a delivery and starts at the previous
delivery, or for the first delivery on day LEAD + 1 of the simulation, the first day an order of the policy can be
on the shelf (before it the shelf holds only the bench's starting stock, which no policy chose: counting those days
made every policy's CSL flat across targets); it fails when demand goes unmet on any of its days. The cycle still
open at the end is not counted. Fill rate = units sold / demand;
mean stock = mean units on hand at the end of a day; orders = order lines placed.

Promotions: M5 items stocked with 21 days of their mean demand x 1.5 and a made-up expiry in 14 days, one
store-wide event in 3 days; units left at expiry of the real next-14-day demand without the suggested
promotions and with them (the promoted days' demand lifted by the answer's own `projected_sales_lift`).
"""

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

from app.models.demand_distribution import lead_time_demand
from app.services.decisions.inventory_math import eoq, round_order, undershoot, z_score
from bench.bakery import bakery_lines
from bench.data import SHARED_DATA, daily_panel, sales_rows, store_item
from bench.service_speed import timed
from tests.support.server import serving

LEAD, REVIEW = 7, 7
PROTECTION = LEAD + REVIEW - 1  # the previous policy's protection interval (plus its undershoot)
LEVELS = (0.90, 0.95, 0.99)
WEEKS = int(os.environ.get("BENCH_INVENTORY_WEEKS", "12"))
HISTORY = 365
PRICE, COST = 2.5, 1.0  # bench.data.sales_rows sells at 2.5
# subsets that keep the run near 15 minutes on 2 shared cores (every review retrains the forecasts)
M5_ITEMS = int(os.environ.get("BENCH_INVENTORY_M5_ITEMS", "200"))
STORE_ITEM_SERIES = int(os.environ.get("BENCH_INVENTORY_STORE_ITEM_SERIES", "50"))
PREFIX = "/api/v1/smart-shelf"


@dataclass(frozen=True)
class Panel:
    name: str
    ids: list[str]
    units: np.ndarray  # float64[n, T] daily demand, days without sales 0
    dates: pd.DatetimeIndex


def m5_panel(items: int = M5_ITEMS) -> Panel:
    """M5 TX_3 FOODS_3 to 2016-05-22; `items` spread evenly over the ranking by total units."""
    wide = pd.read_csv(SHARED_DATA / "m5-tx3-foods3" / "sales.csv.gz")
    units = wide.iloc[:, 1:].to_numpy(np.float64)
    keep = np.sort(np.argsort(-units.sum(axis=1), kind="stable")[np.linspace(0, len(wide) - 1, items).astype(int)])
    return Panel("m5-tx3-foods3", wide.id.iloc[keep].tolist(), units[keep],
                 pd.date_range("2011-01-29", periods=units.shape[1]))


def store_item_panel(series: int = STORE_ITEM_SERIES) -> Panel:
    frame = store_item()
    wide = frame.pivot_table(index=["store", "item"], columns="date", values="sales").sort_index(axis=1)
    keep = np.linspace(0, len(wide) - 1, series).astype(int)
    return Panel("store-item", [f"s{s}_i{i}" for s, i in wide.index[keep]], wide.to_numpy(np.float64)[keep],
                 pd.DatetimeIndex(wide.columns))


def bakery_panel() -> Panel:
    """french-bakery articles sold on 100 or more days: daily net units (returns netted, below 0 clipped),
    closed days 0, to the end of the export."""
    lines = bakery_lines()
    daily = lines.groupby(["article", "date"])["quantity"].sum().clip(lower=0).unstack(fill_value=0.0)
    daily.columns = pd.DatetimeIndex(daily.columns)
    daily = daily.reindex(columns=pd.date_range(daily.columns.min(), daily.columns.max()), fill_value=0.0)
    daily = daily[(daily > 0).sum(axis=1) >= 100]
    return Panel("french-bakery", [str(a) for a in daily.index], daily.to_numpy(np.float64), daily.columns)


@dataclass
class Shelf:
    """One policy's stock: on hand now, orders in transit by arrival day, and what happened."""

    on_hand: np.ndarray
    arrivals: dict[int, np.ndarray]
    short: np.ndarray  # bool[n, days]
    delivered: np.ndarray  # bool[n, days]: an order arrived that morning
    sold: float = 0.0
    demand: float = 0.0
    stock_days: float = 0.0
    orders: int = 0

    def on_order(self, day: int) -> np.ndarray:
        pending = [q for d, q in self.arrivals.items() if d > day]
        return np.sum(pending, axis=0) if pending else np.zeros_like(self.on_hand)


def _old_order(mean_path: np.ndarray, daily_sd: np.ndarray, position: np.ndarray, level: float) -> np.ndarray:
    """The replaced policy: normal lead-time demand, EOQ lots, whole units."""
    rate = mean_path.mean(axis=1)
    short_mean, short_var = undershoot(rate, REVIEW)
    point = mean_path[:, :PROTECTION].sum(axis=1) + short_mean + z_score(level) * np.sqrt(
        daily_sd**2 * PROTECTION + short_var)
    lot = np.maximum(eoq(rate * 365, 25.0, np.full(len(rate), 0.25 * COST)), 1.0)
    raw = np.where((position <= point) & (rate > 0), (np.floor((point - position) / lot) + 1) * lot, 0.0)
    return round_order(raw, np.zeros(len(rate)), np.ones(len(rate)))


def _ets(history: np.ndarray, ids: list[str], last: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """statsforecast AutoETS(7): mean path [n, 28] and the in-sample residual sd [n]."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    n, days = history.shape
    frame = pd.DataFrame({"unique_id": np.repeat(ids, days), "ds": np.tile(pd.date_range(end=last, periods=days), n),
                          "y": history.ravel()})
    model = StatsForecast(models=[AutoETS(season_length=7)], freq="D", n_jobs=1)
    forecast = model.forecast(df=frame, h=28, fitted=True)
    fitted = model.forecast_fitted_values()
    residual = (fitted["y"] - fitted["AutoETS"]).to_numpy().reshape(n, days)
    path = forecast.sort_values(["unique_id", "ds"])["AutoETS"].to_numpy().reshape(n, 28)
    order = np.argsort(np.argsort(ids))  # statsforecast sorts by id
    return np.clip(path[order], 0, None), np.nanstd(residual[order], axis=1)


POLICIES = ("smartshelf", "normal_approximation", "autoets_normal")


def simulate(client, panel: Panel, progress: Callable[[str], None], policies: tuple[str, ...] = POLICIES) -> dict:
    """The policies (all three by default) at each target over the last WEEKS weeks of `panel`."""
    n, total = panel.units.shape
    start = total - WEEKS * 7 - LEAD - 1  # the last review's cycle ends on the last day
    reviews = list(range(start, total - LEAD - REVIEW, REVIEW))
    spread = np.random.default_rng(0).uniform(1.0, 4.0, n)
    initial = panel.units[:, start - 28:start].mean(axis=1) * (LEAD + REVIEW) * spread
    shelves = {(p, level): Shelf(np.round(initial), {}, np.zeros((n, total), bool), np.zeros((n, total), bool))
               for p in policies for level in LEVELS}
    families: dict[str, int] = {}
    chosen = {level: np.full((n, total), "", dtype="<U17") for level in LEVELS}  # SmartShelf's family per review
    seconds = {"reorder_http": 0.0, "autoets": 0.0}
    for day in range(start, total):
        for shelf in shelves.values():
            arriving = shelf.arrivals.pop(day, np.zeros(n))
            shelf.delivered[:, day] = arriving > 0
            shelf.on_hand = shelf.on_hand + arriving
            served = np.minimum(shelf.on_hand, panel.units[:, day])
            shelf.short[:, day] = panel.units[:, day] > served + 1e-9
            shelf.sold += served.sum()
            shelf.demand += panel.units[:, day].sum()
            shelf.on_hand = shelf.on_hand - served
            shelf.stock_days += shelf.on_hand.sum()
        if day not in reviews:
            continue
        history = panel.units[:, day - HISTORY + 1:day + 1]
        dates = panel.dates[day - HISTORY + 1:day + 1]
        rows = sales_rows(history, dates)
        if "autoets_normal" in policies:
            started = time.perf_counter()
            ets_path, ets_sd = _ets(history, panel.ids, panel.dates[day])
            seconds["autoets"] += time.perf_counter() - started
        forecast_path = forecast_sd = None
        for level in LEVELS:
            for policy in policies:
                shelf = shelves[(policy, level)]
                on_order = shelf.on_order(day)
                position = shelf.on_hand + on_order
                if policy == "smartshelf":
                    started = time.perf_counter()
                    answer = _post(client, "reorder", {
                        "shop_id": f"bench-{panel.name}", "sales": rows, "as_of": dates[-1].strftime("%Y-%m-%d"),
                        "service_level": level, "review_days": REVIEW,
                        "inventory": [{"product_id": f"p{k:06d}", "quantity": float(shelf.on_hand[k]),
                                       "on_order": float(on_order[k]), "price": PRICE, "cost": COST,
                                       "lead_time_days": LEAD} for k in range(n)]})
                    seconds["reorder_http"] += time.perf_counter() - started
                    recs = {r["product_id"]: r for r in answer["recommendations"]}
                    order = np.array([recs[f"p{k:06d}"]["recommended_order_qty"] for k in range(n)])
                    chosen[level][:, day] = [recs[f"p{k:06d}"]["demand_distribution"] for k in range(n)]
                    if level == 0.95:
                        for r in recs.values():
                            families[r["demand_distribution"]] = families.get(r["demand_distribution"], 0) + 1
                elif policy == "normal_approximation":
                    if forecast_path is None:
                        forecast_path, forecast_sd = _forecast(client, panel, rows, dates[-1].strftime("%Y-%m-%d"))
                    order = _old_order(forecast_path, forecast_sd, position, level)
                else:
                    order = _old_order(ets_path, ets_sd, position, level)
                if (order > 0).any():
                    shelf.arrivals[day + LEAD + 1] = shelf.arrivals.get(day + LEAD + 1, 0.0) + order
                shelf.orders += int((order > 0).sum())
        progress(f"inventory: {panel.name} review {reviews.index(day) + 1}/{len(reviews)}")
    out: dict = {"products": n, "weeks": len(reviews), "first_day": str(panel.dates[start].date()),
                 "families_at_0.95": families, "seconds": {k: round(v, 1) for k, v in seconds.items()}}
    dormant = panel.units[:, start - 28:start].sum(axis=1) == 0  # nothing sold in the 4 weeks before: stock 0
    for (policy, level), shelf in shelves.items():
        covered, product, end = _cycles_covered(shelf.short[:, start:], shelf.delivered[:, start:])
        woken = covered[dormant[product]]
        out.setdefault(f"{level:.2f}", {})[policy] = {
            "cycle_service_level": round(float(np.mean(covered)), 4) if covered.size else None,
            "cycles": int(covered.size), "failed_cycles_of_dormant_products": int((~woken).sum()),
            "fill_rate": round(shelf.sold / max(shelf.demand, 1e-9), 4),
            "mean_stock": round(shelf.stock_days / (n * (total - start)), 2),
            "orders": shelf.orders}
        if policy == "smartshelf":  # by the family of the review whose order ended the cycle
            family = chosen[level][product, start + end - LEAD - 1]
            out.setdefault("smartshelf_by_family", {})[f"{level:.2f}"] = {
                name: {"cycles": int((family == name).sum()), "failed": int((~covered[family == name]).sum())}
                for name in sorted(set(family.tolist()))}
    return out


def _cycles_covered(short: np.ndarray, delivered: np.ndarray,
                    first: int = LEAD + 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per complete replenishment cycle (from day `first` or a delivery up to the day before the next delivery,
    at least one day long): bool, no unmet demand in it; its product (row); the delivery day that ends it. Days
    before `first` are the starting stock's."""
    covered, product, end = [], [], []
    for row, (row_short, row_delivered) in enumerate(zip(short, delivered, strict=True)):
        bounds = np.concatenate([[first], np.flatnonzero(row_delivered[first + 1:]) + first + 1])
        for a, b in pairwise(bounds):
            covered.append(not row_short[a:b].any())
            product.append(row)
            end.append(b)
    return np.array(covered, dtype=bool), np.array(product, dtype=np.int64), np.array(end, dtype=np.int64)


def _post(client, path: str, body: dict) -> dict:
    response = client.post(f"{PREFIX}/{path}", json=body, timeout=600)
    response.raise_for_status()
    return response.json()


def _forecast(client, panel: Panel, rows: list[dict], as_of: str) -> tuple[np.ndarray, np.ndarray]:
    """The forecast /reorder used (same keys: a cache hit): mean path [n, 28] and the 7-day backtest RMSE."""
    n = len(panel.ids)
    sold = sorted({row["product_id"] for row in rows})
    answer = _post(client, "forecast", {"shop_id": f"bench-{panel.name}", "sales": rows, "product_ids": sold,
                                        "frequency": "daily", "periods": 28, "confidence_interval": 0.95,
                                        "as_of": as_of})
    path, sd = np.zeros((n, 28)), np.zeros(n)
    for forecast in answer["forecasts"]:
        k = int(forecast["product_id"][1:])
        path[k] = [p["predicted_qty"] for p in forecast["predictions"]]
        sd[k] = forecast["short_term_rmse"] or 0.0
    return path, sd


def promotions_leftovers(client, panel: Panel) -> dict:
    """Units left at a made-up expiry 14 days ahead with and without the suggested promotions (M5); the items
    promoted that sold out at full price anyway and those not promoted whose units were left over."""
    n, total = panel.units.shape
    today = total - 15
    rate = panel.units[:, today - 27:today + 1].mean(axis=1)
    stock = np.ceil(rate * 21 * 1.5)
    dates = panel.dates
    answer = _post(client, "promotions", {
        "shop_id": "bench-promotions", "as_of": dates[today].strftime("%Y-%m-%d"),
        "sales": sales_rows(panel.units[:, today - 89:today + 1], dates[today - 89:today + 1]),
        "items": [{"product_id": f"p{k:06d}", "quantity": float(stock[k]), "price": PRICE, "cost": COST,
                   "expiry_date": dates[today + 14].strftime("%Y-%m-%d")} for k in range(n) if stock[k] > 0],
        "calendar_events": [{"id": "sale", "date": dates[today + 3].strftime("%Y-%m-%d"), "title": "Store sale"}]})
    demand = panel.units[:, today + 1:today + 15]
    left_without = np.maximum(stock - demand.sum(axis=1), 0.0)
    left_with = left_without.copy()
    promoted = {p["product_id"]: p for p in answer["promotions"]}
    revenue_without = revenue_with = 0.0
    for k in range(n):
        sold_plain = min(stock[k], demand[k].sum())
        revenue_without += sold_plain * PRICE
        promo = promoted.get(f"p{k:06d}")
        if promo is None:
            revenue_with += sold_plain * PRICE
            continue
        first = (pd.Timestamp(promo["start_date"]) - dates[today]).days - 1
        last = (pd.Timestamp(promo["end_date"]) - dates[today]).days - 1
        lifted = demand[k].copy()
        lifted[first:last + 1] *= 1 + promo["projected_sales_lift"] / 100
        remaining, revenue = stock[k], 0.0
        for d, units in enumerate(lifted):
            sold = min(remaining, units)
            remaining -= sold
            revenue += sold * PRICE * ((1 - promo["suggested_discount_pct"] / 100) if first <= d <= last else 1)
        left_with[k] = remaining
        revenue_with += revenue
    return {"items": int((stock > 0).sum()), "promotions": len(answer["promotions"]),
            "unmatched": len(answer["unmatched"]), "stock": float(stock.sum()),
            "left_without": round(float(left_without.sum()), 1), "left_with": round(float(left_with.sum()), 1),
            "revenue_without": round(revenue_without, 2), "revenue_with": round(revenue_with, 2),
            "promoted_items_selling_out_anyway": int(sum(
                1 for k in range(n) if f"p{k:06d}" in promoted and left_without[k] == 0)),
            # the other error: stocked items left without a promotion whose units were left at expiry
            "unpromoted_items_left_over": int(sum(
                1 for k in range(n) if stock[k] > 0 and f"p{k:06d}" not in promoted and left_without[k] > 0))}


def speed(client, progress: Callable[[str], None]) -> dict:
    """POST /reorder for 1,000 products x 365 days through HTTP: the first call (it trains the per-request
    forecast) and then the median of 5 with the forecast cached (the common case), JSON encoded once."""
    progress("inventory: reorder speed, 1,000 products x 365 days, through HTTP")
    units, dates = daily_panel(1000, 365)
    body = json.dumps({"shop_id": "bench-speed", "sales": sales_rows(units, dates), "inventory": [
        {"product_id": f"p{k:06d}", "quantity": float(units[k, -14:].sum()), "price": 2.5, "cost": 1.2,
         "lead_time_days": 7} for k in range(1000)]}).encode()

    def call() -> None:
        response = client.post(f"{PREFIX}/reorder", content=body, headers={"content-type": "application/json"},
                               timeout=600)
        response.raise_for_status()

    started = time.perf_counter()
    call()
    cold = (time.perf_counter() - started) * 1000
    return {"reorder_cold_ms": round(cold, 1), "reorder_cached": timed(call, 5)}


def lead_time_demand_check() -> dict:
    """The count quantile against simulated negative-binomial demand (a sanity line for the docs)."""
    rng = np.random.default_rng(0)
    result = lead_time_demand(np.array([3.0]), np.array([12.0]), np.array([True]), 0.95, np.array([10.0]))
    draws = rng.negative_binomial(1.0, 0.25, 200_000)
    return {"reorder_point": float(result.reorder_point[0]),
            "simulated_coverage": round(float((draws <= result.reorder_point[0]).mean()), 4)}


def run(progress: Callable[[str], None] = print) -> dict:
    panels = [m5_panel(), store_item_panel(), bakery_panel()]
    out: dict = {"settings": {"lead_time_days": LEAD, "review_days": REVIEW, "weeks": WEEKS,
                              "history_days": HISTORY}}
    # a model store of this run's own: one kept from an earlier run held the speed test's forecast, and its "first
    # call, training included" read it from disk instead
    with tempfile.TemporaryDirectory() as fresh, \
            serving({"MODEL_DIR": os.environ.get("BENCH_MODEL_DIR", fresh)}) as client:
        for panel in panels:
            progress(f"inventory: {panel.name}, {len(panel.ids)} products, {WEEKS} weekly reviews")
            out[panel.name] = simulate(client, panel, progress)
        progress("inventory: promotions on M5 at a made-up expiry")
        out["promotions"] = promotions_leftovers(client, panels[0])
        if os.environ.get("BENCH_INVENTORY_SPEED", "1") == "1":
            out["speed"] = speed(client, progress)
    out["count_quantile"] = lead_time_demand_check()
    return out
