"""Forecast error metrics per product; NaN marks periods that were not evaluated.

All take actual and predicted arrays of shape [n, h] and return float64[n].
"""

import numpy as np


def seasonal_scale(values: np.ndarray, start: np.ndarray, season: int) -> np.ndarray:
    """MASE denominator: mean |y_t - y_{t-season}| over each row's history (lag 1 if too short).

    Rows with a zero scale (constant history) get the mean level, or 1 if that is 0 too.
    """
    n, length = values.shape
    columns = np.arange(length)[None, :]
    scales = np.full(n, np.nan)
    for lag in (season, 1):
        valid = columns >= (start[:, None] + lag)
        diffs = np.abs(values[:, lag:] - values[:, :-lag]) if length > lag else np.zeros((n, 0))
        mask = valid[:, lag:]
        count = mask.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            candidate = np.where(mask, diffs, 0.0).sum(axis=1) / count
        scales = np.where(np.isnan(scales) & (count > 0), candidate, scales)
    observed = columns >= start[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.where(observed, values, 0.0).sum(axis=1) / np.maximum(observed.sum(axis=1), 1)
    fallback = np.where(level > 0, level, 1.0)
    return np.where(np.isfinite(scales) & (scales > 0), scales, fallback)


def _nanmean(values: np.ndarray) -> np.ndarray:
    count = np.isfinite(values).sum(axis=1)
    total = np.where(np.isfinite(values), values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def mase(actual: np.ndarray, predicted: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return _nanmean(np.abs(actual - predicted)) / scale


def rmse(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return np.sqrt(_nanmean((actual - predicted) ** 2))


def bias(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Mean of predicted - actual: positive = over-forecast."""
    return _nanmean(predicted - actual)


def smape(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Symmetric MAPE in %, 0 where both are 0."""
    denominator = np.abs(actual) + np.abs(predicted)
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(denominator > 0, 2 * np.abs(actual - predicted) / denominator, 0.0)
    return _nanmean(np.where(np.isnan(actual), np.nan, terms)) * 100


def mape(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """MAPE in %, over periods with actual > 0 only; NaN where no such period."""
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(actual > 0, np.abs(actual - predicted) / actual, np.nan)
    return _nanmean(terms) * 100


def rmsse(actual: np.ndarray, predicted: np.ndarray, squared: np.ndarray) -> np.ndarray:
    """Root mean squared error over the row's `squared` scale (see `squared_scale`)."""
    return np.sqrt(_nanmean((actual - predicted) ** 2) / squared)


def squared_scale(values: np.ndarray, begin: np.ndarray) -> np.ndarray:
    """RMSSE denominator as M5 counts it: mean squared one-period change from each row's `begin`
    (its first sale) on; 1 where that is 0 or undefined."""
    columns = np.arange(values.shape[1])[None, 1:]
    inside = columns > begin[:, None]
    changes = np.where(inside, np.diff(values, axis=1) ** 2, 0.0)
    count = inside.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = changes.sum(axis=1) / count
    return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)


def interval_score(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, coverage: float) -> np.ndarray:
    """M4's interval score per row, unscaled: mean of (u - l) + 2/a (l - y)+ + 2/a (y - u)+, a = 1 - coverage."""
    alpha = 1 - coverage
    score = (upper - lower) + 2 / alpha * np.maximum(lower - actual, 0) + 2 / alpha * np.maximum(actual - upper, 0)
    return _nanmean(score)
