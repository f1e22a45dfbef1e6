"""What a forecast says about itself, the same for the shop model and the per-request models: the
weekday pattern and trend words of its drivers, and the per-product data-rule warnings.

Per-product rules (reported in that product's `warnings`):
- under 14 observed periods: moving average, no backtest (`short_history`);
- under 90 days (13 weeks) of history: accuracy is limited (`limited_history`);
- never sold in its history: zero forecast (`all_zero`);
- a named `model` that cannot forecast the product (too little history): moving average
  (`model_fallback`).
"""

import numpy as np

from app.models.auto import MIN_PERIODS
from app.models.panel import Panel
from app.schemas.common import DataWarning
from app.services.forecasting.spec import ForecastSpec
from app.utils.arrays import least_squares_slopes
from app.utils.dates import weekday

LIMITED = {1: 90, 7: 13}
WEEKDAYS = ["Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"]


def product_warnings(panel: Panel, i: int, method: str, spec: ForecastSpec) -> list[DataWarning]:
    observed = int(panel.observed[i])
    unit = "days" if panel.step == 1 else "weeks"
    warnings = []
    if method == "zero":
        warnings.append(DataWarning(code="all_zero", count=observed,
                                    message="no sales in its history: the forecast is zero."))
    elif observed < MIN_PERIODS:
        warnings.append(DataWarning(code="short_history", count=observed,
                                    message=f"only {observed} {unit} of history: moving average, no backtest."))
    elif spec.model != "auto" and method != spec.model:
        warnings.append(DataWarning(code="model_fallback", count=observed,
                                    message=f"{spec.model} needs more history than {observed} {unit}; "
                                    "used a moving average."))
    if observed < LIMITED[panel.step] and method != "zero":
        warnings.append(DataWarning(code="limited_history", count=observed,
                                    message=f"{observed} {unit} of history (under {LIMITED[panel.step]}): "
                                    "accuracy is limited, and yearly patterns cannot be learned."))
    return warnings


def weekday_patterns(panel: Panel) -> list[str | None]:
    """Per product: 'weekday pattern: Saturdays +38%, Mondays -22%' from its last 8 weeks (daily data,
    at least 28 days of history, some sales); None otherwise. All rows at once."""
    if panel.step != 1:
        return [None] * panel.n_products
    tail_start = max(0, panel.n_periods - 56)
    tail = panel.values[:, tail_start:]
    inside = np.arange(tail.shape[1])[None, :] >= (np.maximum(panel.start, tail_start) - tail_start)[:, None]
    on_day = np.eye(7)[weekday(panel.first_day + np.arange(tail_start, panel.n_periods))]  # [columns, 7]
    observed_tail = np.where(inside, tail, 0.0)
    mean = observed_tail.sum(axis=1) / np.maximum(inside.sum(axis=1), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (observed_tail @ on_day) / np.maximum(inside @ on_day, 1) / mean[:, None] - 1  # [n, 7]
    patterns: list[str | None] = []
    for row, high, low in zip(ratio, np.argmax(ratio, axis=1), np.argmin(ratio, axis=1), strict=True):
        if row[high] < 0.1 and row[low] > -0.1:
            patterns.append("weekday pattern: flat (no day differs by 10% or more)")
        else:
            patterns.append(f"weekday pattern: {WEEKDAYS[high]} {row[high] * 100:+.0f}%, "
                            f"{WEEKDAYS[low]} {row[low] * 100:+.0f}%")
    usable = (panel.observed >= 28) & (mean > 0)
    return [pattern if ok else None for pattern, ok in zip(patterns, usable, strict=True)]


def trends(panel: Panel) -> list[str | None]:
    """Per product: 'trend: +4.2% per month over the last 90 days', the least-squares slope of its last
    90 days (13 weeks) relative to their mean; None under 8 periods or without sales. All rows at once."""
    window = 90 if panel.step == 1 else 13
    tail_start = max(0, panel.n_periods - window)
    tail = panel.values[:, tail_start:]
    first = np.maximum(panel.start, tail_start) - tail_start  # first observed column inside the tail
    length = tail.shape[1] - first
    mean = np.where(np.arange(tail.shape[1])[None, :] >= first[:, None], tail, 0.0).sum(axis=1) / np.maximum(length, 1)
    slope = least_squares_slopes(tail, first)
    per, unit, word = (30, "month", "days") if panel.step == 1 else (4, "4 weeks", "weeks")
    return [f"trend: {s * per / m * 100:+.1f}% per {unit} over the last {k} {word}" if k >= 8 and m > 0 else None
            for s, m, k in zip(slope, mean, length, strict=True)]
