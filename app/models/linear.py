"""Linear regression on lagged sales, per product, forecasting recursively.

Features for the value at column t use only columns before t: lags 1, 7, 14 and the mean of
the 7 previous values (weekly data: lags 1, 2, 4 and a 4-week mean), plus a trend index. The
coefficients are fitted per product by ridge-regularised least squares over its last year,
all products in one batched solve; the forecast feeds its own predictions back as lags.
"""

from dataclasses import dataclass
from typing import Self

import numpy as np

from app.models.base import Forecaster
from app.models.panel import Panel
from app.utils.arrays import prefix_sums


@dataclass(frozen=True)
class LagSpec:
    lags: tuple[int, ...]
    window: int  # periods in the trailing mean
    history: int  # periods the regression is fitted on


SPEC = {1: LagSpec((1, 7, 14), 7, 365), 7: LagSpec((1, 2, 4), 4, 104)}
RIDGE = 1e-4  # relative to the mean diagonal of X'X; the intercept is not penalised


def feature_names(step: int) -> list[str]:
    spec = SPEC[step]
    unit = "day" if step == 1 else "week"
    return ["intercept", "trend", *[f"lag-{lag}" for lag in spec.lags], f"{spec.window}-{unit} mean"]


def lag_features(values: np.ndarray, columns: np.ndarray, step: int, offset: int = 0) -> np.ndarray:
    """Features [n, len(columns), k] of the values at `columns`, each from earlier columns only.

    `offset` is the panel column of values[:, 0] (the trend counts panel columns).
    """
    spec = SPEC[step]
    n = values.shape[0]
    cumulative = prefix_sums(values)
    window = spec.window
    lags = [values[:, np.maximum(columns - lag, 0)] for lag in spec.lags]
    recent = (cumulative[:, columns] - cumulative[:, np.maximum(columns - window, 0)]) / window
    trend = np.broadcast_to((columns + offset) / 365.0, (n, len(columns)))
    return np.stack([np.ones((n, len(columns))), trend, *lags, recent], axis=2)


class LinearLags(Forecaster):
    """Per-product ridge regression on leakage-safe lag features, recursive multi-step."""

    family = "linear"

    def fit(self, panel: Panel) -> Self:
        spec = SPEC[panel.step]
        length = panel.n_periods
        warmup = max(max(spec.lags), spec.window)
        first = max(0, length - spec.history)
        columns = np.arange(first, length)
        features = lag_features(panel.values, columns, panel.step)
        target = panel.values[:, columns]
        usable = columns[None, :] >= (panel.start[:, None] + warmup)
        weights = usable.astype(np.float64)
        k = features.shape[2]
        gram = np.einsum("nrk,nrj->nkj", features * weights[:, :, None], features)
        scale = np.trace(gram, axis1=1, axis2=2)[:, None, None] / k
        penalty = np.eye(k)
        penalty[0, 0] = 1e-6  # keeps rows without usable history solvable
        gram = gram + RIDGE * np.maximum(scale, 1e-9) * penalty[None]
        moment = np.einsum("nrk,nr->nk", features * weights[:, :, None], target)
        self.coef_ = np.linalg.solve(gram, moment[:, :, None])[:, :, 0]
        self.applicable_ = usable.sum(axis=1) >= 3 * k
        self.feature_std_ = np.sqrt(np.maximum(
            (features**2 * weights[:, :, None]).sum(1) / np.maximum(weights.sum(1), 1)[:, None]
            - ((features * weights[:, :, None]).sum(1) / np.maximum(weights.sum(1), 1)[:, None]) ** 2, 0))
        self.values_, self.step_ = panel.values, panel.step
        self.fitted_ = True
        return self

    def predict(self, horizon: int) -> np.ndarray:
        self.check_fitted()
        n, length = self.values_.shape
        extended = np.concatenate([self.values_, np.zeros((n, horizon))], axis=1)
        reach = max(SPEC[self.step_].lags) + SPEC[self.step_].window
        for j in range(horizon):
            column = length + j
            tail = max(0, column - reach)
            x = lag_features(extended[:, tail : column + 1], np.array([column - tail]), self.step_, tail)[:, 0, :]
            extended[:, column] = np.maximum((x * self.coef_).sum(axis=1), 0.0)
        return np.where(self.applicable_[:, None], extended[:, length:], np.nan)

    def drivers(self, row: int) -> list[str]:
        names = feature_names(self.step_)
        influence = np.abs(self.coef_[row] * self.feature_std_[row])
        influence[0] = 0.0
        top = np.argsort(-influence)[:2]
        return [f"{names[k]} weight {self.coef_[row, k]:+.2f}" for k in top if influence[k] > 0]
