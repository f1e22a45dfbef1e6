"""Seasonal naive and moving average: the baselines every other family must beat."""

from typing import Self

import numpy as np

from app.models.base import Forecaster
from app.models.panel import Panel
from app.utils.arrays import prefix_sums


class SeasonalNaive(Forecaster):
    """Repeats the last season (7 days or 52 weeks); the mean where history is shorter."""

    family = "seasonal_naive"

    def fit(self, panel: Panel) -> Self:
        m = panel.season_length
        values, length = panel.values, panel.n_periods
        columns = np.clip(length - m + np.arange(m), 0, max(length - 1, 0))
        self.last_season_ = values[:, columns] if length else np.zeros((panel.n_products, m))
        observed = panel.observed
        mask = panel.observed_mask()
        mean = np.where(mask, values, 0).sum(axis=1) / np.maximum(observed, 1)
        self.last_season_ = np.where((observed >= m)[:, None], self.last_season_, mean[:, None])
        self.season_length_ = m
        self.fitted_ = True
        return self

    def predict(self, horizon: int) -> np.ndarray:
        self.check_fitted()
        return self.last_season_[:, np.arange(horizon) % self.season_length_]

    def drivers(self, row: int) -> list[str]:
        return [f"repeats the last {self.season_length_} periods"]


class MovingAverage(Forecaster):
    """Flat forecast at the mean of the last `window` periods (28 days or 8 weeks by default)."""

    family = "moving_average"

    def __init__(self, window: int | None = None) -> None:
        self.window = window

    def fit(self, panel: Panel) -> Self:
        window = self.window or (28 if panel.step == 1 else 8)
        length = panel.n_periods
        first = np.maximum(panel.start, length - window)
        cumulative = prefix_sums(panel.values)
        rows = np.arange(panel.n_products)
        count = length - first
        total = cumulative[rows, length] - cumulative[rows, first]
        self.level_ = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        self.window_ = window
        self.fitted_ = True
        return self

    def predict(self, horizon: int) -> np.ndarray:
        self.check_fitted()
        return np.repeat(self.level_[:, None], horizon, axis=1)

    def drivers(self, row: int) -> list[str]:
        return [f"average of the last {self.window_} periods: {self.level_[row]:.2f} per period"]
