"""Prediction intervals from out-of-sample backtest errors (split conformal, per horizon step).

Errors are relative: (actual - forecast) / max(forecast, 0.1 x scale), `scale` being the
product's MASE denominator. Retail errors grow with the level (a busy December day misses by
more units than a quiet Tuesday), so relative errors pool across products and seasons; the
floor keeps near-zero forecasts of intermittent products from dividing by ~0. Buckets hold at least
`MIN_ERRORS` errors; the bounds are conformal quantiles of each bucket, made to widen (never
narrow) with the horizon, and grow with sqrt(step) past the backtested horizon.

One guard on top: an upper bound never exceeds PEAK_CAP x the product's busiest period on record
(or the forecast, if higher). A product whose backtest forecast was near zero (a long stock-out)
and then sold again has huge relative errors, and one product's request has no other products'
errors to pool with: without the guard its 95% bound was 300x its forecast.
"""

import math
from statistics import NormalDist

import numpy as np

MIN_ERRORS = 60
FLOOR = 0.1
PEAK_CAP = 2.0


def _normaliser(forecast: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Per-value error unit: the forecast itself, at least FLOOR x the product's scale."""
    expanded = scale.reshape(scale.shape + (1,) * (forecast.ndim - 1))
    return np.maximum(np.nan_to_num(forecast, nan=0.0), FLOOR * expanded)


def _conformal_quantile(errors: np.ndarray, level: float) -> float:
    """The ceil((N+1) level)/N empirical quantile (finite-sample valid), the max when N is small."""
    count = errors.size
    rank = min(1.0, math.ceil((count + 1) * level) / count)
    return float(np.quantile(errors, rank, method="higher"))


def error_bands(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray, horizon: int,
                coverage: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Lower and upper relative-error quantiles per step -> two float64[horizon], or None.

    `actual` and `forecast` are backtest arrays [n, origins, backtest_horizon], NaN where not
    evaluated; None when fewer than 10 errors exist.
    """
    errors = (actual - forecast) / _normaliser(forecast, scale)
    steps = errors.shape[2]
    per_step = [errors[:, :, j][np.isfinite(errors[:, :, j])] for j in range(steps)]
    if sum(e.size for e in per_step) < 10:
        return None
    tail = (1 - coverage) / 2
    lower, upper = np.zeros(steps), np.zeros(steps)
    j = 0
    while j < steps:
        bucket, end = [per_step[j]], j + 1
        while sum(b.size for b in bucket) < MIN_ERRORS and end < steps:
            bucket.append(per_step[end])
            end += 1
        pooled = np.concatenate(bucket)
        if pooled.size < MIN_ERRORS and j > 0:  # too few at the tail: merge into the previous bucket
            pooled = np.concatenate([pooled, *per_step[max(0, j - 1): j]])
        lower[j:end] = -_conformal_quantile(-pooled, 1 - tail) if pooled.size else 0.0
        upper[j:end] = _conformal_quantile(pooled, 1 - tail) if pooled.size else 0.0
        j = end
    lower = np.minimum.accumulate(np.minimum(lower, 0.0))
    upper = np.maximum.accumulate(np.maximum(upper, 0.0))
    if horizon > steps:
        growth = np.sqrt(np.arange(steps + 1, horizon + 1) / steps)
        lower = np.concatenate([lower, lower[-1] * growth])
        upper = np.concatenate([upper, upper[-1] * growth])
    return lower[:horizon], upper[:horizon]


def normal_bands(horizon: int, coverage: float) -> tuple[np.ndarray, np.ndarray]:
    """Fallback without backtest errors: +-z sqrt(step) x 0.5 forecasts (a random-walk-like widening)."""
    z = NormalDist().inv_cdf(0.5 + coverage / 2)
    width = 0.5 * z * np.sqrt(np.arange(1, horizon + 1))
    return -width, width


def apply_bands(forecast: np.ndarray, scale: np.ndarray, bands: tuple[np.ndarray, np.ndarray]) -> tuple[
        np.ndarray, np.ndarray]:
    """Bounds [n, h]: lower >= 0, lower <= forecast <= upper."""
    unit = _normaliser(forecast, scale)
    lower = forecast + bands[0][None, :] * unit
    upper = forecast + bands[1][None, :] * unit
    return np.clip(np.minimum(lower, forecast), 0.0, None), np.maximum(upper, forecast)


def cap_upper(upper: np.ndarray, forecast: np.ndarray, peak: np.ndarray) -> np.ndarray:
    """Upper bounds [n, h] no higher than PEAK_CAP x each product's busiest period (`peak`, float64[n]) or its
    forecast, whichever is higher."""
    return np.minimum(upper, np.maximum(PEAK_CAP * peak[:, None], forecast))
