"""Per-product model choice by a rolling-origin backtest; the chosen models fitted on all data.

Origins are the columns T - k * h for k = 1..3 (h = the backtest horizon: the requested
horizon, shortened so that each origin keeps `MIN_TRAIN` periods of history). Every forecast
at an origin is made from data before it. Per product, the family (or the mean of its two or three best) with the
lowest squared scaled error pooled over the origins is chosen (`app.models.window_choice`, as the shop
model chooses, without the shrinkage towards similar products: a request may hold one product, or a few
unlike ones). In a request of MIN_BAND_PRODUCTS products or more, every family is fitted on all data too, the ones
not chosen only for how far the candidates' forecasts land apart now and at each backtest origin
(`app.models.disagreement`: the intervals' width where they disagree). Fewer products' bands cannot learn what a
disagreement is worth: one product a request through HTTP (`python -m bench.per_request`), the bakery's articles
went 86.5 -> 87.9 % inside their 80 % bounds (MSIS 5.08 -> 5.24), M5's sample's MSIS 7.96 -> 8.12, and the
bakery's service time per request 105 -> 140 ms (p50) for the extra fits.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from app.models import metrics
from app.models.base import Forecaster
from app.models.disagreement import spread_factor
from app.models.panel import Panel
from app.models.rate_bands import MIN_BAND_PRODUCTS
from app.models.registry import make
from app.models.window_choice import choose

T = TypeVar("T")

ORIGINS = 3
MIN_TRAIN = {1: 28, 7: 12}
REQUEST_MEMBERS = 3  # the mean of up to three best: one product's own windows choose noisily (`window_choice`)
SHORT_TERM = 7  # periods of the short-term error that safety stock needs


@dataclass
class Selection:
    """What the backtest found, and the chosen models fitted on all data (`predict` forecasts)."""

    method: list[str]  # per product: a family, or "a+b" / "a+b+c" for the mean of two or three
    scores: dict[str, dict[str, np.ndarray]]  # family -> metric -> float64[n]
    chosen_scores: dict[str, np.ndarray]  # metric -> float64[n] of the chosen method (a family or a mean)
    short_term_rmse: np.ndarray  # float64[n]: chosen method's RMSE over the first SHORT_TERM backtest steps
    backtest_actual: np.ndarray  # float64[n, origins, backtest_horizon], NaN where not evaluated
    backtest_forecast: np.ndarray  # float64[n, origins, backtest_horizon] of the chosen method
    scale: np.ndarray  # float64[n]
    origins: list[int]
    backtest_horizon: int
    backtested: np.ndarray  # bool[n]: the backtest scored at least one family for the product
    families: list[str] = field(default_factory=list)
    weights: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # [n, families], rows sum to 1
    models: dict[str, Forecaster] = field(default_factory=dict)
    train_seconds: dict[str, float] = field(default_factory=dict)  # family -> backtest + fit time
    window_spread: np.ndarray | None = None  # float64[n, origins]: the families' disagreement at each origin
    spread: np.ndarray | None = None  # float64[n]: and after the last period (None: selected before it was kept)

    def predict(self, horizon: int) -> np.ndarray:
        """Forecasts [n, horizon] of the chosen (fitted) models, weighted per product."""
        forecast = np.zeros((self.weights.shape[0], horizon))
        for family, model in self.models.items():
            weight = self.weights[:, self.families.index(family)][:, None]
            forecast = forecast + np.where(weight > 0, weight * model.predict(horizon), 0.0)
        return forecast


def backtest_plan(panel: Panel, horizon: int) -> tuple[list[int], int]:
    """Origins (latest first) and the backtest horizon; no origins when history is too short."""
    longest = int(panel.observed.max()) if panel.n_products else 0
    usable = longest - MIN_TRAIN[panel.step]
    if usable < 1:
        return [], 0
    step = min(horizon, max(1, usable // ORIGINS))
    count = min(ORIGINS, usable // step)
    return [panel.n_periods - k * step for k in range(1, count + 1)], step


def _actuals(panel: Panel, origins: list[int], steps: int) -> np.ndarray:
    """[n, origins, steps] actual values after each origin, NaN where the product had too little history and on
    closed days (the filled level is no sale to score)."""
    columns = np.array(origins)[:, None] + np.arange(steps)[None, :]
    actual = panel.values[:, columns]
    enough = (np.array(origins)[None, :] - panel.start[:, None]) >= MIN_TRAIN[panel.step]
    scored = enough[:, :, None] if panel.imputed is None else enough[:, :, None] & ~panel.imputed[:, columns]
    return np.where(scored, actual, np.nan)


def _score(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> dict[str, np.ndarray]:
    n = actual.shape[0]
    a, f = actual.reshape(n, -1), forecast.reshape(n, -1)
    valid = np.isfinite(a) & np.isfinite(f)
    a, f = np.where(valid, a, np.nan), np.where(valid, f, np.nan)
    return {"mase": metrics.mase(a, f, scale), "rmse": metrics.rmse(a, f), "bias": metrics.bias(a, f),
            "mape": metrics.mape(a, f), "smape": metrics.smape(a, f)}


def _timed(seconds: dict[str, float], family: str, work: Callable[..., T], *args: Any) -> T:
    """`work(*args)`, adding its duration to `seconds[family]`."""
    started = time.perf_counter()
    try:
        return work(*args)
    finally:
        seconds[family] = seconds.get(family, 0.0) + time.perf_counter() - started


def select_and_forecast(panel: Panel, horizon: int, families: list[str], random_state: int = 0) -> Selection:
    """Backtest `families` for `horizon`, pick per product, fit the chosen ones on all data.

    Products the backtest could not score (too little history at every origin) get the first
    family of `families`; `Selection.backtested` says which.
    """
    n = panel.n_products
    origins, steps = backtest_plan(panel, horizon)
    first_origin = min(origins) if origins else panel.n_periods
    scale = metrics.seasonal_scale(panel.values[:, :first_origin], np.minimum(panel.start, first_origin),
                                   panel.season_length)
    scores: dict[str, dict[str, np.ndarray]] = {}
    seconds: dict[str, float] = {}
    weights = np.zeros((n, len(families)))
    weights[:, 0] = 1.0
    method = [families[0]] * n
    actual = chosen = np.full((n, len(origins), steps), np.nan)
    window_spread = np.ones((n, len(origins)))
    backtested = np.zeros(n, dtype=bool)
    if origins:
        actual = _actuals(panel, origins, steps)
        stacked = np.stack([_timed(seconds, f, make(f, steps, random_state).forecast_origins, panel, origins, steps)
                            for f in families], axis=1)  # [n, families, origins, steps]
        for k, family in enumerate(families):
            scores[family] = _score(actual, stacked[:, k], scale)
        backtested = np.isfinite(np.stack([scores[f]["mase"] for f in families], axis=1)).any(axis=1)
        choice = choose(families, actual, stacked, scale, np.zeros(n, dtype=np.int64), shrinkage=0.0,
                        members=REQUEST_MEMBERS)
        weights, method = choice.weights, choice.method.tolist()
        chosen = choice.combine(stacked)
        actual = np.where(backtested[:, None, None], actual, np.nan)
    pooled = bool(origins) and n >= MIN_BAND_PRODUCTS
    if pooled:
        window_spread = spread_factor(np.moveaxis(stacked, 1, 2))
    needed = [f for k, f in enumerate(families) if weights[:, k].any()]
    fitted = {family: _timed(seconds, family, make(family, horizon, random_state).fit, panel)
              for family in (families if pooled else needed)}
    spread = spread_factor(np.stack([fitted[f].predict(steps) for f in families], axis=1)) if pooled else np.ones(n)
    short = slice(0, min(SHORT_TERM, steps))
    return Selection(
        method=method, scores=scores,
        chosen_scores=_score(actual, chosen, scale),
        short_term_rmse=metrics.rmse(actual[:, :, short].reshape(n, -1), chosen[:, :, short].reshape(n, -1)),
        backtest_actual=actual,
        backtest_forecast=chosen, scale=scale, origins=origins, backtest_horizon=steps, backtested=backtested,
        families=families, weights=weights,
        models={family: fitted[family] for family in needed}, train_seconds=seconds,
        window_spread=window_spread, spread=spread,
    )
