"""Price elasticity backtest on M5 through HTTP: does a product's learned elasticity predict what its
next price change did to its sales better than the constant rule (PROMOTION_ELASTICITY_MULTIPLIER)?

A real server with the default settings; the shop model trained by `POST /models/train` on the M5
department up to a cutoff (112 days before the standard training end, d_1801), with each item's
daily selling price up to the cutoff; then, for every item whose price changed after the cutoff (the
first change, with the price steady over the 28 days before and after it and sales before it), one
`POST /forecast` carrying its history to the cutoff reads its `price_elasticity` (learned before the
change). Predicted lift = (new / old price) ** elasticity - 1; the constant rule's = -2 x the price
change; "as used" = the learned lift where the 90% interval is below zero, else the constant rule's
(what /promotions does); the actual lift = mean units over the 28 days after the change / the 28 days before - 1.

Two yardsticks from the data alone, beside them: the best single elasticity in hindsight (the one
value for every item that fits these very changes best), and the noise floor: the median error an
exact elasticity would still make, because 28 days of a slow mover's sales are a small Poisson
sample (simulated at each item's rate before its change, with its change's lift at the best
single elasticity).
"""

import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from app.config import Settings
from bench.accuracy_data import M5
from bench.payload_formats import PREFIX, compact, server_env, wait_for_job
from tests.support.server import serving

CUTOFF = 1801  # d_1801: 112 days before the standard holdout's training end (d_1913)
LAST = 1913
WINDOW = 28


def m5_prices() -> tuple[list[str], np.ndarray, np.ndarray, pd.DatetimeIndex]:
    """Item ids, units[823, 1941], price[823, 1941] (NaN before release) and the dates."""
    wide = pd.read_csv(M5 / "sales.csv.gz")
    calendar = pd.read_csv(M5 / "calendar.csv.gz", parse_dates=["date"])
    ids = wide["id"].str.removesuffix("_TX_3_validation").tolist()
    units = wide.drop(columns="id").to_numpy(dtype=float)
    days = calendar.set_index("d").loc[wide.columns[1:]]
    prices = pd.read_csv(M5 / "sell_prices.csv.gz").pivot_table(index="item_id", columns="wm_yr_wk",
                                                                  values="sell_price")
    weekly = prices.reindex(index=ids, columns=sorted(days["wm_yr_wk"].unique()))
    price = weekly[days["wm_yr_wk"].to_numpy()].to_numpy(dtype=float)
    return ids, units, price, pd.DatetimeIndex(days["date"])


def price_changes(units: np.ndarray, price: np.ndarray) -> list[tuple[int, int]]:
    """(item, day index) of each item's first price change after the cutoff with steady prices around it."""
    found = []
    for k in range(units.shape[0]):
        for day in range(CUTOFF + 1, LAST - WINDOW + 1):
            before, after = price[k, day - WINDOW:day], price[k, day:day + WINDOW]
            if np.isnan(before).any() or np.isnan(after).any() or before[-1] == after[0]:
                continue
            if np.ptp(before) == 0 and np.ptp(after) == 0 and units[k, day - WINDOW:day].sum() > 0:
                found.append((k, day))
            break
    return found


def run(progress: Callable[[str], None] = print) -> dict:
    ids, units, price, dates = m5_prices()
    changes = price_changes(units, price)
    progress(f"elasticity: {len(changes)} items with a clean price change after the cutoff")
    start = dates[0].date().isoformat()
    history = slice(0, CUTOFF)  # d_1 .. d_1801

    def series(k: int) -> dict:
        qty = units[k, history]
        revenue = np.round(qty * price[k, history], 2)
        return {"product_id": ids[k], "start": start, "qty": qty.tolist(),
                "revenue": [None if np.isnan(v) else float(v) for v in revenue]}

    def prices(k: int) -> dict:
        return {"product_id": ids[k], "start": start,
                "price": [None if np.isnan(v) else float(v) for v in price[k, history]]}

    multiplier = Settings(_env_file=None).promotion_elasticity_multiplier  # type: ignore[call-arg]
    rows = []
    with tempfile.TemporaryDirectory() as model_dir, serving(server_env(model_dir)) as client:
        client.timeout = 300
        started = time.perf_counter()
        accepted = client.post(f"{PREFIX}/models/train", content=compact({
            "shop_id": "elasticity", "periods": 28, "series": [series(k) for k in range(len(ids))],
            "prices": [prices(k) for k in range(len(ids))]}), headers={"content-type": "application/json"})
        if accepted.status_code != 202:
            raise SystemExit(f"training refused: {accepted.status_code} {accepted.text[:300]}")
        state, _ = wait_for_job(client, accepted.json()["job_id"])
        progress(f"elasticity: trained ({state}) in {time.perf_counter() - started:.1f} s")
        card = client.get(f"{PREFIX}/models/elasticity").json()
        for k, day in changes:
            answer = client.post(f"{PREFIX}/forecast", content=compact({
                "shop_id": "elasticity", "periods": 28, "series": [series(k)], "prices": [prices(k)]}),
                headers={"content-type": "application/json"})
            answer.raise_for_status()
            estimate = answer.json()["forecasts"][0]["price_elasticity"]
            ratio = price[k, day] / price[k, day - 1]
            actual = units[k, day:day + WINDOW].mean() / units[k, day - WINDOW:day].mean() - 1
            constant = -multiplier * (ratio - 1)
            ours = None if estimate is None else ratio ** estimate["value"] - 1
            # what /promotions does: the learned value only when clearly negative, else the constant rule
            used = ours if estimate is not None and estimate["high"] < 0 else constant
            rows.append({"item": ids[k], "price_change": ratio - 1, "actual": actual, "ours": ours, "used": used,
                         "constant": constant, "own_share": None if estimate is None else estimate["own_share"]})
    scored = [r for r in rows if r["ours"] is not None]
    floor = _noise_floor(changes, units, price, scored)
    ours_error = statistics.median(abs(r["ours"] - r["actual"]) for r in scored)
    constant_error = statistics.median(abs(r["constant"] - r["actual"]) for r in scored)
    used_error = statistics.median(abs(r["used"] - r["actual"]) for r in scored)
    cuts = [r for r in scored if r["price_change"] < 0]
    return {"items": len(rows), "scored": len(scored), "price_cuts": len(cuts),
            "median_abs_error_ours": round(ours_error, 4), "median_abs_error_constant": round(constant_error, 4),
            "ratio": round(ours_error / constant_error, 3), "multiplier": multiplier,
            "median_abs_error_as_used": round(used_error, 4),
            "learned_used": sum(r["used"] is not r["constant"] for r in scored),
            "median_actual_lift": round(statistics.median(r["actual"] for r in scored), 4),
            "median_price_change": round(statistics.median(r["price_change"] for r in scored), 4),
            "card": card.get("price_elasticity"), **floor, "rows": rows}


def _noise_floor(changes: list[tuple[int, int]], units: np.ndarray, price: np.ndarray, scored: list[dict]) -> dict:
    """The best single elasticity in hindsight and its median error; the median error of an exact elasticity
    under Poisson sampling of the two 28-day windows."""
    grid = np.round(np.arange(-4.0, 1.01, 0.1), 1)
    errors = {b: statistics.median(abs((1 + r["price_change"]) ** b - 1 - r["actual"]) for r in scored) for b in grid}
    best = float(min(errors, key=errors.__getitem__))
    rng = np.random.default_rng(0)
    floors = []
    for k, day in changes:
        rate = units[k, day - WINDOW:day].mean()
        lift = (price[k, day] / price[k, day - 1]) ** best - 1
        before = rng.poisson(rate, (2000, WINDOW)).mean(axis=1)
        after = rng.poisson(rate * (1 + lift), (2000, WINDOW)).mean(axis=1)
        seen = before > 0
        floors.append(float(np.median(np.abs(after[seen] / before[seen] - 1 - lift))))
    return {"best_single_elasticity": best, "median_abs_error_best_single": round(errors[best], 4),
            "median_abs_error_exact_noise_floor": round(statistics.median(floors), 4)}
