"""Inventory decisions on real demand: the reorder policy simulated on the store-item holdout,
anomaly detection against injected anomalies, and reorder/anomaly speed.

Reorder simulation (500 series, 90 held-out days of real demand, lead time 7 days, lost sales):
SmartShelf's policy uses the engine's forecast made on 2017-10-02 (time-varying reorder point =
forecast demand over the lead time + the mean review undershoot + z x sqrt(7 x the 7-day backtest
RMSE^2 + the undershoot variance), EOQ lots with ordering cost
25 and holding 25 %/year of a unit cost of 1). The baseline is a plain 28-day moving average with
its standard deviation, its z searched until it achieves the same cycle service level; the
comparison is the average stock each needs. A cycle is an order's lead time; it fails when any
demand goes unmet before the order arrives.
"""

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from app.config import Settings
from app.schemas.anomalies import AnomaliesRequest
from app.schemas.forecast import ForecastRequest
from app.schemas.reorder import ReorderRequest
from app.services.analytics.anomalies import find_anomalies
from app.services.decisions.inventory_math import eoq, undershoot, z_score
from app.services.decisions.reorder import recommend_orders
from app.services.forecasting.local_models import forecast_products
from app.services.forecasting.spec import spec_of
from app.utils.cache import MemoryCache
from bench.data import daily_panel, sales_rows, store_item
from bench.service_speed import timed
from tests.support.budget import BUDGET

LEAD = 7
LEVELS = (0.90, 0.95, 0.99)


def simulate(demand: np.ndarray, reorder_point: np.ndarray, lot: np.ndarray) -> dict[str, float]:
    """Lost-sales (r, Q) simulation; demand and reorder_point [n, days], lot [n]."""
    n, days = demand.shape
    on_hand = reorder_point[:, 0] + lot
    pipeline = np.zeros((n, days + LEAD + 2))
    sold = lost_total = stock_sum = 0.0
    cycles = failures = 0
    open_cycles: list[tuple[np.ndarray, int]] = []
    short = np.zeros((n, days), dtype=bool)
    for t in range(days):
        on_hand = on_hand + pipeline[:, t]
        served = np.minimum(on_hand, demand[:, t])
        short[:, t] = demand[:, t] > served + 1e-9
        sold += served.sum()
        lost_total += (demand[:, t] - served).sum()
        on_hand = on_hand - served
        stock_sum += on_hand.sum()
        position = on_hand + pipeline[:, t + 1:].sum(axis=1)
        orders = position <= reorder_point[:, t]
        lots = np.where(orders, (np.floor((reorder_point[:, t] - position) / lot) + 1) * lot, 0.0)
        pipeline[:, t + LEAD + 1] += lots  # ordered at the end of day t, on the shelf for day t + LEAD + 1
        open_cycles.append((orders, t))
    for orders, t in open_cycles:
        if t + LEAD >= days:
            continue
        cycles += int(orders.sum())
        failures += int((orders & short[:, t + 1:t + LEAD + 1].any(axis=1)).sum())  # the LEAD days it covers
    return {"cycle_service_level": 1 - failures / max(cycles, 1), "fill_rate": sold / (sold + lost_total),
            "average_stock": stock_sum / (n * days), "orders": cycles}


def reorder_simulation(progress: Callable[[str], None]) -> dict:
    frame = store_item()
    wide = frame.pivot_table(index=["store", "item"], columns="date", values="sales").sort_index(axis=1)
    cut = list(wide.columns).index(pd.Timestamp("2017-10-02")) + 1
    history, future = wide.to_numpy()[:, :cut], wide.to_numpy()[:, cut:cut + 90]
    ids = [f"s{s}_i{i}" for s, i in wide.index]
    dates = wide.columns[:cut].strftime("%Y-%m-%d")
    rows = [{"product_id": ids[k], "date": dates[d], "qty": float(history[k, d])}
            for k in range(len(ids)) for d in range(cut)]
    progress("inventory: forecasting 500 series for the reorder simulation")
    out = {}
    for level in LEVELS:
        answer = forecast_products(spec_of(ForecastRequest.model_validate(
            {"shop_id": "sim", "sales": rows, "periods": 90 + LEAD + 1, "confidence_interval": level})), BUDGET)
        forecast = np.array([[p.predicted_qty for p in f.predictions] for f in answer.forecasts])
        forecast = np.concatenate([forecast, forecast[:, -1:]], axis=1)  # one more day for the last window
        rmse = np.array([f.short_term_rmse or 0.0 for f in answer.forecasts])
        # as the service: at the end of day t the reorder point covers days t+1 .. t+LEAD (forecast
        # column 0 is holdout day 0) plus the daily review's undershoot
        window = np.lib.stride_tricks.sliding_window_view(forecast, LEAD, axis=1)[:, 1:91].sum(axis=2)
        short_mean, short_var = undershoot(forecast.mean(axis=1), 1)
        sigma = np.sqrt(rmse**2 * LEAD + short_var)
        ours_rop = window + (short_mean + z_score(level) * sigma)[:, None]
        lot = np.maximum(eoq(forecast.mean(axis=1) * 365, 25.0, np.full(len(ids), 0.25)), 1.0)
        ours = simulate(future, ours_rop, lot)
        recent = history[:, -28:]
        base_mean, base_sd = recent.mean(axis=1), recent.std(axis=1)

        def baseline(z: float, base_mean=base_mean, base_sd=base_sd, lot=lot) -> dict:
            rop = np.repeat((base_mean * LEAD + z * base_sd * np.sqrt(LEAD))[:, None], 90, axis=1)
            return simulate(future, rop, lot)

        plain = baseline(z_score(level))
        low, high = -2.0, 6.0
        for _ in range(25):  # bisection: the z at which the baseline reaches our achieved service level
            middle = (low + high) / 2
            if baseline(middle)["cycle_service_level"] < ours["cycle_service_level"]:
                low = middle
            else:
                high = middle
        matched = baseline(high)
        out[f"{level:.2f}"] = {"smartshelf": ours, "moving_average_same_z": plain,
                               "moving_average_matched": {**matched, "z": high}}
        progress(f"inventory: service level {level}: ours {ours}, matched baseline {matched}")
    return out


def anomaly_recall(progress: Callable[[str], None]) -> dict:
    """Inject 4-sigma spikes and drops at known dates in 100 real series; precision and recall
    at the default threshold and one step either side."""
    units, dates = daily_panel(100, 365)
    rng = np.random.default_rng(7)
    injected = set()
    values = units.copy()
    weekly = pd.DataFrame(units.T).rolling(7, center=True, min_periods=1).mean().to_numpy().T
    sigma = (units - weekly).std(axis=1)
    for k in range(100):
        for position, direction in zip(rng.choice(np.arange(60, 365), 4, replace=False), (1, -1, 1, -1), strict=True):
            values[k, position] = max(0.0, round(values[k, position] + direction * 4 * sigma[k]))
            injected.add((f"p{k:06d}", dates[position].date()))
    progress("inventory: anomaly detection on 100 series with 400 injected anomalies")
    out = {}
    for threshold in (3.0, 3.25, 3.5, 4.0):
        response = find_anomalies(AnomaliesRequest.model_validate(
            {"shop_id": "b", "sales": sales_rows(values, dates), "z_threshold": threshold}), BUDGET)
        found = {(a.product_id, a.date) for a in response.anomalies if a.type in ("spike", "drop")}
        hits = len(found & injected)
        out[f"{threshold:g}"] = {"injected": len(injected), "flagged": len(found),
                                 "recall": round(hits / len(injected), 4),
                                 "precision": round(hits / max(len(found), 1), 4)}
    return out


def speed(progress: Callable[[str], None]) -> dict:
    progress("inventory: reorder speed, 1,000 products x 365 days, cached forecasts")
    units, dates = daily_panel(1000, 365)
    body = {"shop_id": "b", "sales": sales_rows(units, dates), "inventory": [
        {"product_id": f"p{k:06d}", "quantity": float(units[k, -14:].sum()), "price": 2.5, "cost": 1.2,
         "lead_time_days": 7} for k in range(1000)]}
    request = ReorderRequest.model_validate(body)
    settings = Settings(_env_file=None, max_payload_rows=10_000_000)  # type: ignore[call-arg]
    cache = MemoryCache()
    started = time.perf_counter()
    recommend_orders(request, settings, cache, "bench-key")
    cold = (time.perf_counter() - started) * 1000
    cached = timed(lambda: recommend_orders(request, settings, cache, "bench-key"), 5)
    progress("inventory: anomalies speed, 1,000,000 sales rows")
    big_units, big_dates = daily_panel(2740, 365)
    anomaly_request = AnomaliesRequest.model_validate({"shop_id": "b", "sales": sales_rows(big_units, big_dates)})
    anomalies = timed(lambda: find_anomalies(anomaly_request, BUDGET), 3)
    return {"reorder_cold_ms": round(cold, 1), "reorder_cached": cached,
            "anomaly_rows": len(anomaly_request.sales), "anomalies": anomalies}


def run(progress: Callable[[str], None] = print) -> dict:
    return {"speed": speed(progress), "anomalies": anomaly_recall(progress),
            "reorder_simulation": reorder_simulation(progress)}
