"""Exponential smoothing in state-space form: statsmodels' `ETSModel`, error/trend/season chosen per product by AICc.

The candidates, as R's `ets` and statsforecast's `AutoETS` choose them (learnt from them, not copied):
additive error with no or damped trend and no or additive season; multiplicative error and season as well
when the product's history is strictly positive (a multiplicative model is undefined at 0, so most
item-level sales never get one); a season only when the period is at most MAX_SEASON (52 weekly states
estimated from three years are over-fitted; R's `ets` refuses them too). Each candidate's parameters are
fitted by maximum likelihood; the lowest AICc wins.

Cost is bounded by fitting only the products where it can matter (`eligible`): enough history for two
seasons (MIN_PERIODS when the season is too long to model) and most recent periods non-zero (intermittent
sales are the intermittent family's); the others get NaN, so the selection never picks this family for
them. A fit reads at most the HISTORY_SEASONS seasons before its origin, as the Holt-Winters grid does.
Products are fitted in a thread pool of `n_jobs` threads (statsmodels' filter and scipy's optimiser
release the GIL for part of each fit: 1.4 CPU seconds per second on the bakery).
"""

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from app.models.base import Forecaster
from app.models.holt_winters import HISTORY_SEASONS
from app.models.panel import Panel

MAX_SEASON = 24
MIN_EXTRA = 10  # periods beyond two seasons before a seasonal model is fitted
MIN_PERIODS = 20  # periods before any model is fitted (a season too long for MAX_SEASON is not waited for)
MAX_ZERO_SHARE = 0.3  # at most this share of zero periods in the fitted history
N_JOBS = 2


@dataclass(frozen=True)
class Spec:
    """One ETS candidate: error, trend ("add" damped or None), season ("add", "mul" or None)."""

    error: str
    trend: str | None
    season: str | None

    @property
    def label(self) -> str:
        letters = {None: "N", "add": "A", "mul": "M"}
        return letters[self.error] + ("Ad" if self.trend else "N") + letters[self.season]


def candidate_specs(m: int, positive: bool, seasonal: bool) -> list[Spec]:
    """The candidates for a history of season length `m`, strictly `positive` or not, long enough for a season."""
    seasons: list[str | None] = [None]
    if seasonal and m <= MAX_SEASON:
        seasons.append("add")
    specs = [Spec("add", trend, season) for trend in (None, "add") for season in seasons]
    if positive:
        specs += [Spec("mul", trend, "mul" if season else None) for trend in (None, "add") for season in seasons]
    return specs


def _fit_one(history: np.ndarray, m: int, horizon: int) -> tuple[np.ndarray, str, dict[str, float]]:
    """The AICc-best candidate's forecast float64[horizon] of one product's `history`, its label and parameters."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel as model_class
    positive = bool((history > 0).all())
    seasonal = history.size >= 2 * m + MIN_EXTRA
    best: tuple[float, Any, Spec] | None = None
    for spec in candidate_specs(m, positive, seasonal):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter: a failed candidate just loses on AICc
            try:
                model = model_class(history, error=spec.error, trend=spec.trend, damped_trend=spec.trend is not None,
                                    seasonal=spec.season, seasonal_periods=m if spec.season else None,
                                    initialization_method="heuristic" if spec.season else "estimated")
                result = model.fit(disp=False)
            except (ValueError, np.linalg.LinAlgError):
                continue
        aicc = float(result.aicc)
        if np.isfinite(aicc) and (best is None or aicc < best[0]):
            best = (aicc, result, spec)
    if best is None:
        return np.full(horizon, np.nan), "", {}
    _, result, spec = best
    forecast = np.asarray(result.forecast(horizon), dtype=np.float64)
    params = {name: float(value) for name, value in zip(result.param_names, result.params, strict=True)
              if name in ("smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend")}
    return forecast, spec.label, params


def eligible(panel: Panel, origin: int) -> np.ndarray:
    """bool[n]: the products ETS is fitted for at `origin` (enough history, mostly non-zero)."""
    m = panel.season_length
    begin = np.maximum(panel.start, origin - HISTORY_SEASONS[m] * m)
    length = origin - begin
    columns = np.arange(panel.n_periods)[None, :]
    inside = (columns >= begin[:, None]) & (columns < origin)
    zeros = (inside & (panel.values <= 0)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(length > 0, zeros / np.maximum(length, 1), 1.0)
    needed = 2 * m + MIN_EXTRA if m <= MAX_SEASON else MIN_PERIODS
    return (length >= needed) & (share <= MAX_ZERO_SHARE)


def _fit_rows(panel: Panel, origin: int, horizon: int,
              n_jobs: int) -> tuple[np.ndarray, list[str], list[dict[str, float]]]:
    """Forecasts [n, horizon] from data before `origin` (NaN where not eligible), labels and parameters per row."""
    m = panel.season_length
    rows = np.flatnonzero(eligible(panel, origin))
    begin = np.maximum(panel.start, origin - HISTORY_SEASONS[m] * m)
    histories = [panel.values[r, begin[r]:origin].astype(np.float64) for r in rows]
    out = np.full((panel.n_products, horizon), np.nan)
    labels = [""] * panel.n_products
    params: list[dict[str, float]] = [{} for _ in range(panel.n_products)]
    if rows.size == 0:
        return out, labels, params
    with ThreadPoolExecutor(max_workers=max(1, n_jobs)) as pool:
        fits = list(pool.map(lambda history: _fit_one(history, m, horizon), histories))
    for r, (forecast, label, fitted) in zip(rows, fits, strict=True):
        out[r] = np.maximum(forecast, 0.0)
        labels[r], params[r] = label, fitted
    return out, labels, params


class StateSpaceETS(Forecaster):
    """Per product, the AICc-best state-space ETS model (statsmodels), for products with smooth enough sales."""

    family = "ets"

    def __init__(self, horizon: int = 28, n_jobs: int = N_JOBS) -> None:
        self.horizon = horizon
        self.n_jobs = n_jobs

    def fit(self, panel: Panel) -> Self:
        self.forecast_, self.labels_, self.params_ = _fit_rows(panel, panel.n_periods, self.horizon, self.n_jobs)
        self.fitted_ = True
        return self

    def predict(self, horizon: int) -> np.ndarray:
        self.check_fitted()
        if horizon > self.forecast_.shape[1]:
            raise ValueError(f"fitted for horizons up to {self.forecast_.shape[1]}, asked for {horizon}")
        return self.forecast_[:, :horizon].copy()

    def forecast_origins(self, panel: Panel, origins: list[int], horizon: int) -> np.ndarray:
        out = np.full((panel.n_products, len(origins), horizon), np.nan)
        for k, origin in enumerate(origins):
            out[:, k, :] = _fit_rows(panel, origin, horizon, self.n_jobs)[0]
        return out

    def drivers(self, row: int) -> list[str]:
        self.check_fitted()
        if not self.labels_[row]:
            return []
        weights = ", ".join(f"{name.replace('smoothing_', '').replace('_trend', ' damping')} {value:.2f}"
                            for name, value in self.params_[row].items())
        return [f"exponential smoothing ETS({self.labels_[row]}) chosen by AICc: {weights}"]
