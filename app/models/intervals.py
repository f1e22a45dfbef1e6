"""The interval fallback when there are no backtest errors to learn from, and the count floor of calibrated ones.

Bounds from backtest errors are `app.models.rate_bands`'s (per horizon bucket and sales-rate band),
for the shop model and the per-request models alike; this is only for a history too short for any
backtest: +-z x sqrt(step) x half the forecast, a random-walk-like widening, flagged uncalibrated.

`nearest_count` is the least upper bound a per-request interval keeps (`app.models.auto`): units are counts, so
a Poisson count's spread is the least they have. Sales are whole units, so a bound between k and k + 1 holds
exactly as much as k: read at the unit whose Poisson probability of not being exceeded is nearest the level,
not the smallest unit reaching it. The smallest one always over-covers, and for slow movers by far: a Poisson
(0.4)'s 90 % point is 1, which holds 94 % (on M5's 823 items one request each, items of 0.29-0.57 a day covered
87.6 % at 80 %; 80.3 % read at the nearest unit).
"""

from statistics import NormalDist

import numpy as np


def normal_bounds(forecast: np.ndarray, coverage: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounds [n, h] around `forecast` [n, h]: lower >= 0, lower <= forecast <= upper."""
    z = NormalDist().inv_cdf(0.5 + coverage / 2)
    width = 0.5 * z * np.sqrt(np.arange(1, forecast.shape[1] + 1))[None, :] * np.maximum(forecast, 0.0)
    return np.clip(forecast - width, 0.0, None), forecast + width


def nearest_count(level: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """float64[n, h]: per cell the whole number k of units whose Poisson(`mean`) P(X <= k) is nearest `level`
    (of the smallest one reaching it and the one below)."""
    from scipy.stats import poisson  # here, not at start-up: scipy.stats takes a while to import

    k = poisson.ppf(level, mean)
    below = np.maximum(k - 1, 0)
    down = (k > 0) & (level - poisson.cdf(below, mean) < poisson.cdf(k, mean) - level)
    return np.where(down, below, k)
