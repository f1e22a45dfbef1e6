"""The state-space ETS family (`bench/ets_family.py`, not a service family) against the Holt-Winters grid,
in process, on the shop model's backtest windows and on the data README's holdout.

Not an HTTP benchmark (the service's figures are bench/bakery.py's and bench/accuracy.py's): this answers one
question, whether statsmodels' ETS beats the grid as the exponential-smoothing candidate, on the same panel the
shop model trains on (french-bakery: every article of the training part, store-wide empty days detected as
closed as the service does; walmart-weekly: the complete store-department series). Per family: MASE (mean over
products of each product's MASE, scale from the data before the earliest window) pooled over the shop model's
backtest windows (up to 4, horizon-long, before the training end), then on the holdout (fitted at the training
end), both on the products where ETS answers; the products each wins; the seconds each took.

    nice -n 5 .venv/bin/python -m bench.ets_backtest [french-bakery|walmart-weekly] [every]

`every` k > 1 keeps every k-th product (sorted by id) of the panel: ETS costs ~0.1-1 s per product and fit on a
shared 2-core machine, and walmart-weekly has 2,660 series.
"""

import json
import sys
import time

import numpy as np
import pandas as pd

from app.models import metrics
from app.models.panel import Panel, build_panel
from app.models.registry import make
from app.models.shop_model import window_origins
from app.utils.dates import day_number
from app.utils.opening_days import OPEN_EVERY_DAY, detect
from app.utils.sales_frame import SalesColumns
from bench.accuracy_data import Holdout, walmart_holdout
from bench.bakery import bakery_holdout, bakery_lines
from bench.ets_family import StateSpaceETS

FAMILIES = ("holt_winters", "ets")


def _model(family: str, horizon: int):
    """The service's family by name, or the state-space ETS kept here."""
    return StateSpaceETS(horizon=horizon) if family == "ets" else make(family, horizon)


def _panel(train: pd.DataFrame, step: int) -> Panel:
    """The panel the service builds from these rows (closed days detected for daily data)."""
    frame = train[train["y"] != 0]
    codes, ids = pd.factorize(frame["unique_id"], sort=True)
    days = np.array([day_number(d.date()) for d in frame["ds"]], dtype=np.int64)
    sales = SalesColumns(np.asarray(ids, dtype=object), codes.astype(np.int64), days,
                         frame["y"].to_numpy(np.float64), np.arange(len(frame)), None)
    opening = detect(sales)[0] if step == 1 else OPEN_EVERY_DAY
    last = day_number(train["ds"].max().date())
    panel, _ = build_panel(sales, "daily" if step == 1 else "weekly", set(), origin_day=last,
                           closed=opening.closed if opening.any else None)
    return panel


def _bakery_train() -> tuple[pd.DataFrame, Holdout]:
    lines = bakery_lines()
    holdout = bakery_holdout(lines)
    daily = lines.groupby(["article", "date"])["quantity"].sum().clip(lower=0).reset_index()
    daily.columns = ["unique_id", "ds", "y"]
    return daily[daily["ds"] <= holdout.train["ds"].max()], holdout


def _mase(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Per product MASE over [n, windows, steps]."""
    n = actual.shape[0]
    return metrics.mase(actual.reshape(n, -1), forecast.reshape(n, -1), scale)


def compare(key: str, every: int = 1) -> dict:
    if key == "french-bakery":
        train, holdout = _bakery_train()
        step = 1
    else:
        holdout = walmart_holdout()
        train, step = holdout.train, 7
    panel = _panel(train, step)
    if every > 1:
        panel = panel.take(np.arange(0, panel.n_products, every))
    horizon = holdout.horizon
    origins = window_origins(panel.n_periods, horizon, step)
    first = min(origins)
    scale = metrics.seasonal_scale(panel.values[:, :first], np.minimum(panel.start, first), panel.season_length)
    columns = np.array(origins)[:, None] + np.arange(horizon)[None, :]
    actual = panel.values[:, columns]  # [n, windows, horizon]
    test = holdout.test.pivot(index="unique_id", columns="ds", values="y")
    test = test.loc[test.index.isin(panel.product_ids)]
    rows = np.array([panel.product_ids.index(p) for p in test.index])
    truth = test.to_numpy(np.float64)[:, None, :]
    backtest, final, seconds = {}, {}, {}
    for family in FAMILIES:
        started = time.perf_counter()
        backtest[family] = _model(family, horizon).forecast_origins(panel, origins, horizon)
        final[family] = _model(family, horizon).fit(panel).predict(horizon)[rows][:, None, :]
        seconds[family] = round(time.perf_counter() - started, 1)
    answered = np.isfinite(backtest["ets"]).all(axis=2) & np.isfinite(backtest["holt_winters"]).all(axis=2)
    actual = np.where(answered[:, :, None], actual, np.nan)  # the windows both families forecast
    both = answered.any(axis=1)
    held = np.isfinite(final["ets"][:, 0]).all(axis=1) & np.isfinite(final["holt_winters"][:, 0]).all(axis=1)
    window_scores = {f: _mase(actual[both], backtest[f][both], scale[both]) for f in FAMILIES}
    holdout_scores = {f: _mase(truth[held], final[f][held], scale[rows][held]) for f in FAMILIES}
    per_window = {f: [round(float(np.nanmean(_mase(actual[answered[:, k]][:, [k]], backtest[f][answered[:, k]][:, [k]],
                                                    scale[answered[:, k]]))), 3) if answered[:, k].any() else None
                      for k in range(len(origins))] for f in FAMILIES}
    return {
        "data": holdout.name, "every": every, "products": panel.n_products, "windows": len(origins), "horizon": horizon,
        "backtest": {"products_both": int(both.sum()),
                     "mase": {f: round(float(np.nanmean(window_scores[f])), 3) for f in FAMILIES},
                     "mase_per_window_latest_first": per_window,
                     "ets_wins": int((window_scores["ets"] < window_scores["holt_winters"]).sum())},
        "holdout": {"products_both": int(held.sum()), "of": len(rows),
                    "mase": {f: round(float(np.nanmean(holdout_scores[f])), 3) for f in FAMILIES},
                    "ets_wins": int((holdout_scores["ets"] < holdout_scores["holt_winters"]).sum())},
        "seconds_backtest_and_fit": seconds,
    }


if __name__ == "__main__":
    names = [a for a in sys.argv[1:] if not a.isdigit()] or ["french-bakery", "walmart-weekly"]
    every = int(next((a for a in sys.argv[1:] if a.isdigit()), "1"))
    for name in names:
        print(json.dumps(compare(name, every)), flush=True)
