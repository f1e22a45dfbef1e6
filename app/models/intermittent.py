"""TSB (Teunter-Syntetos-Babai) for intermittent demand: how often it sells x how much when it does.

p, the probability of a sale in a period, is updated every period; z, the size of a sale, only
in periods with a sale. Forecast = p * z, flat. Unlike Croston, p decays through long runs of
zeros, so a product that stopped selling is forecast towards zero. The smoothing weights are
chosen per product from a grid by one-step squared error; one causal pass serves every origin.
"""

import itertools
from typing import Self

import numpy as np

from app.models.base import Forecaster
from app.models.panel import Panel

ALPHAS_P = (0.05, 0.1, 0.2, 0.3)  # smoothing weights of the probability of a sale
ALPHAS_Z = (0.05, 0.1, 0.2, 0.3)  # smoothing weights of the size of a sale
INIT_PERIODS = 28
HISTORY_PERIODS = 365


def _filter(values: np.ndarray, start: np.ndarray, record: list[int],
            grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p, z [r, n, combos] and cumulative SSE [r, n, combos] at each `record` column, for every
    (alpha_p, alpha_z) row of `grid` [combos, 2]."""
    n, length = values.shape
    rows = np.arange(n)
    init = np.clip(start[:, None] + np.arange(INIT_PERIODS)[None, :], 0, max(length - 1, 0))
    inside = init < np.minimum(start + INIT_PERIODS, length)[:, None]
    first = np.where(inside, values[rows[:, None], init], 0.0)
    sold = (first > 0) & inside
    p0 = sold.sum(axis=1) / np.maximum(inside.sum(axis=1), 1)
    z0 = np.where(sold, first, 0.0).sum(axis=1) / np.maximum(sold.sum(axis=1), 1)
    combos = grid.shape[0]
    alpha_p, alpha_z = grid[:, 0][None, :], grid[:, 1][None, :]
    p = np.repeat(p0[:, None], combos, axis=1)
    z = np.repeat(z0[:, None], combos, axis=1)
    sse = np.zeros((n, combos))
    wanted = sorted(set(record))
    states: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    begin = min(int(start.min()) if n else 0, wanted[0])
    for column in range(begin, length + 1):
        if column in wanted:
            states[column] = (p.copy(), z.copy(), sse.copy())
        if column == length:
            break
        active = (column >= start)[:, None]
        y = values[:, column][:, None]
        positive = y > 0
        sse = sse + np.where(active, (y - p * z) ** 2, 0.0)
        z = np.where(active & positive, z + alpha_z * (y - z), z)
        p = np.where(active, p + alpha_p * (positive - p), p)
    stacked = [states[c] for c in record]
    return (np.stack([s[0] for s in stacked]), np.stack([s[1] for s in stacked]),
            np.stack([s[2] for s in stacked]))


class IntermittentTSB(Forecaster):
    """TSB forecast for products that sell on some periods only."""

    family = "intermittent"

    def __init__(self, alphas_p: tuple[float, ...] = ALPHAS_P, alphas_z: tuple[float, ...] = ALPHAS_Z) -> None:
        self.alphas_p = alphas_p
        self.alphas_z = alphas_z

    def _grid(self) -> np.ndarray:
        return np.array(list(itertools.product(self.alphas_p, self.alphas_z)), dtype=np.float64)

    def fit(self, panel: Panel) -> Self:
        origin = panel.n_periods
        p, z, sse = _filter(panel.values, np.maximum(panel.start, origin - HISTORY_PERIODS), [origin], self._grid())
        self.best_ = sse[0].argmin(axis=1)
        rows = np.arange(panel.n_products)
        self.probability_ = p[0][rows, self.best_]
        self.size_ = z[0][rows, self.best_]
        self.fitted_ = True
        return self

    def predict(self, horizon: int) -> np.ndarray:
        self.check_fitted()
        return np.repeat((self.probability_ * self.size_)[:, None], horizon, axis=1)

    def forecast_origins(self, panel: Panel, origins: list[int], horizon: int) -> np.ndarray:
        p, z, sse = _filter(panel.values, np.maximum(panel.start, min(origins) - HISTORY_PERIODS), origins,
                            self._grid())
        rows = np.arange(panel.n_products)
        best = sse.argmin(axis=2)  # [r, n]
        rate = p[np.arange(len(origins))[:, None], rows[None, :], best] * z[
            np.arange(len(origins))[:, None], rows[None, :], best]
        return np.repeat(rate.T[:, :, None], horizon, axis=2)

    def drivers(self, row: int) -> list[str]:
        return [f"sells in {self.probability_[row] * 100:.0f}% of periods, {self.size_[row]:.1f} units "
                "when it sells"]
