"""The interval fallback when there are no backtest errors to learn from.

Bounds from backtest errors are `app.models.rate_bands`'s (per horizon bucket and sales-rate band),
for the shop model and the per-request models alike; this is only for a history too short for any
backtest: +-z x sqrt(step) x half the forecast, a random-walk-like widening, flagged uncalibrated.
"""

from statistics import NormalDist

import numpy as np


def normal_bounds(forecast: np.ndarray, coverage: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounds [n, h] around `forecast` [n, h]: lower >= 0, lower <= forecast <= upper."""
    z = NormalDist().inv_cdf(0.5 + coverage / 2)
    width = 0.5 * z * np.sqrt(np.arange(1, forecast.shape[1] + 1))[None, :] * np.maximum(forecast, 0.0)
    return np.clip(forecast - width, 0.0, None), forecast + width
