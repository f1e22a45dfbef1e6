"""What a product silent now sold on the days after its own past silences: the upper bound a backtest cannot see.

A product that sold ~10 a day and then nothing for months (a stock-out, a shelf gap) is forecast ~0, and
every backtest window of a per-request fit falls inside the silence: its errors are all 0 and so was its
interval, [0, 0], while such products often sell again (M5 FOODS_3_444: 181 silent days, then 8-50 a day on 19
of the 28 days after; its MSIS at 95 % was 135, the 62 other items of the benchmark's per-request sample 7.25 on
average). Its own history says how likely that is: for every past origin o that followed at least SILENCE_WINDOW
days without a sale (the current spell's own origins included, each adding its zeros), the units sold h periods
after it.
`silent_quantiles` keeps, per horizon step, the quantiles of those units (numpy's "inverted_cdf": a whole
unit a share of the origins reached; never narrowing with the step), and the per-request interval's upper
bound is never under them.
"""

import numpy as np

from app.models.demand_distribution import MIN_SILENT_ORIGINS, SILENCE_WINDOW, silence_days
from app.models.rate_bands import GRID


def silent_quantiles(values: np.ndarray, start: np.ndarray, step: int, horizon: int) -> dict[int, np.ndarray]:
    """Row -> float64[horizon, len(GRID)] for the rows of `values` [n, T] (history from `start` [n]) silent for at
    least SILENCE_WINDOW days (in periods of `step` days) after selling before, with at least MIN_SILENT_ORIGINS
    such origins at every step."""
    window = max(1, SILENCE_WINDOW // step)
    silent = silence_days(values)
    out: dict[int, np.ndarray] = {}
    for row in np.flatnonzero((silent >= window) & (silent < values.shape[1] - start)):
        sales = values[row, start[row]:]
        last = np.maximum.accumulate(np.where(sales > 0, np.arange(sales.size), -1))
        origin = np.arange(1, sales.size)
        after = origin[(last[origin - 1] >= 0) & (origin - 1 - last[origin - 1] >= window)]
        columns = after[:, None] + np.arange(horizon)[None, :]  # [origins, horizon]
        seen = columns < sales.size
        if seen.sum(axis=0).min() < MIN_SILENT_ORIGINS:
            continue
        units = np.where(seen, sales[np.minimum(columns, sales.size - 1)], np.nan)
        grids = np.stack([np.quantile(units[seen[:, h], h], GRID, method="inverted_cdf") for h in range(horizon)])
        out[int(row)] = np.maximum.accumulate(grids, axis=0)  # never narrowing with the horizon, as the bands
    return out


def silent_upper(quantiles: dict[int, np.ndarray], level: np.ndarray) -> np.ndarray:
    """float64[n, h]: each cell's `level` [n, h] quantile of its row's `quantiles` (0 for the other rows), the
    last stored step's past the stored horizon."""
    out = np.zeros(level.shape)
    k = np.minimum(np.ceil(level * (GRID.size - 1)).astype(np.int64), GRID.size - 1)
    for row, grid in quantiles.items():
        steps = np.minimum(np.arange(level.shape[1]), grid.shape[0] - 1)
        out[row] = grid[steps, k[row]]
    return out
