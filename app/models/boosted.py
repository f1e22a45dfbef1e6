"""Gradient-boosted trees (XGBoost), one global model across every product of the request.

Direct strategy: the value at column t is predicted from data up to column t - lead only, with
lead >= the forecast horizon, so one model serves every step with no recursion and no feature
ever reads a value at or after the day it predicts. Each row's target is modelled as
level x exp(f(features)) with a Poisson loss: `level` is the product's mean over the year (or
4 weeks, for short histories) ending at t - lead, fed as the base margin, so the trees learn
shared multiplicative shapes (weekday, season, events, price) across products of any size.
"""

from typing import Any, Self

import numpy as np

from app.models.base import Forecaster
from app.models.model_inputs import checked_inputs
from app.models.panel import Panel
from app.utils.arrays import prefix_sums, strided_mean
from app.utils.dates import dates_of, weekday
from app.utils.optional import xgboost

SEASON_LAGS = {1: (364, 357, 371), 7: (52, 51, 53)}
LONG_WINDOW = {1: 364, 7: 52}
SHORT_WINDOW = {1: 28, 7: 8}
RECENT = {1: 7, 7: 4}
TRAIN_PERIODS = {1: 730, 7: 156}
MIN_LEVEL = 1e-3


def _level(cumulative: np.ndarray, start: np.ndarray, end_column: np.ndarray, window: int) -> np.ndarray:
    """Mean over the observed part of [end - window + 1, end] per row -> [n, len(end_column)]; NaN if empty."""
    hi = end_column[None, :] + 1
    lo = np.maximum(hi - window, start[:, None])
    count = hi - lo
    rows = np.arange(cumulative.shape[0])[:, None]
    total = cumulative[rows, np.clip(hi, 0, None)] - cumulative[rows, np.clip(lo, 0, None)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def boosted_features(panel: Panel, values: np.ndarray, columns: np.ndarray, lead: int,
                     window: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features [n * len(columns), k], level [n * len(columns)] and feature names.

    `values` is the panel's values, possibly extended with zeros past its end; only columns
    <= t - lead are read for target column t.
    """
    n = values.shape[0]
    step = panel.step
    cumulative = prefix_sums(values)
    anchor = columns - lead
    level = _level(cumulative, panel.start, anchor, window)
    safe_level = np.maximum(np.nan_to_num(level, nan=MIN_LEVEL), MIN_LEVEL)
    days = panel.first_day + columns * step
    dates = np.array(dates_of(days), dtype="datetime64[D]")
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    year_start = dates.astype("datetime64[Y]").astype("datetime64[D]")
    day_of_year = (dates - year_start).astype(np.int64) + 1
    calendar: dict[str, np.ndarray] = {"month": month}
    if step == 1:
        calendar["day of week"] = weekday(days)
        calendar["day of year"] = day_of_year
        calendar["day of month"] = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    else:
        calendar["week of year"] = (day_of_year - 1) // 7 + 1
    names = list(calendar)
    blocks = [np.broadcast_to(v[None, :].astype(np.float64), (n, len(columns))) for v in calendar.values()]
    for lag in SEASON_LAGS[step]:
        if lag >= lead:
            lagged = values[:, np.maximum(columns - lag, 0)]
            seen = (columns - lag)[None, :] >= panel.start[:, None]
            blocks.append(np.where(seen, lagged / safe_level, np.nan))
            names.append(f"same period {lag} back" if step == 7 else f"same weekday {lag} days back")
    if step == 1:  # the product's own recent weekday shape: its 4 latest same weekdays up to the anchor (with only the
        # single days a year back, one accident there set a weekday: review 6's F7, a sold-out Sunday a year before)
        latest = columns - 7 * int(np.ceil(lead / 7))
        same_weekday = strided_mean(values, np.repeat(panel.start, columns.size), np.repeat(np.arange(n), columns.size),
                                    np.tile(latest, n), 7, 4).reshape(n, columns.size)
        blocks.append(same_weekday / safe_level)
        names.append("same weekday, last 4 weeks")
    recent = _level(cumulative, panel.start, anchor, RECENT[step])
    blocks.append(recent / safe_level)
    names.append("recent level")
    if panel.event_days:
        event_days = np.array(sorted(panel.event_days))
        on = np.isin(days, event_days) if step == 1 else np.array(
            [np.any((event_days >= d) & (event_days < d + 7)) for d in days])
        near = np.isin(days - step, event_days) | np.isin(days + step, event_days)
        blocks += [np.broadcast_to(on[None, :].astype(np.float64), (n, len(columns))),
                   np.broadcast_to(near[None, :].astype(np.float64), (n, len(columns)))]
        names += ["calendar event", "next to a calendar event"]
    if panel.price is not None:
        observed_price = panel.price
        priced = np.isfinite(observed_price)
        median = np.full(n, np.nan)  # a product never priced has no usual price: its feature is missing
        has_price = priced.any(axis=1)
        median[has_price] = np.nanmedian(np.where(priced[has_price], observed_price[has_price], np.nan), axis=1)
        last_known = np.minimum(columns, observed_price.shape[1] - 1)
        filled = _forward_fill(observed_price)
        blocks.append(filled[:, last_known] / median[:, None])
        names.append("price vs usual")
    features = np.stack(blocks, axis=2).reshape(n * len(columns), len(blocks))
    return features, level.reshape(-1), names


def _forward_fill(values: np.ndarray) -> np.ndarray:
    """Carry the last finite value forward along each row."""
    finite = np.isfinite(values)
    index = np.where(finite, np.arange(values.shape[1])[None, :], 0)
    np.maximum.accumulate(index, axis=1, out=index)
    filled = values[np.arange(values.shape[0])[:, None], index]
    return np.where(finite.any(axis=1)[:, None], filled, np.nan)


def _gain_shares(gain: dict[str, float], names: list[str]) -> list[tuple[str, float]]:
    """(feature name, share of total gain) from XGBoost's {"f<k>": gain}, largest first."""
    total = sum(gain.values()) or 1.0
    return sorted(((names[int(k[1:])], v / total) for k, v in gain.items()), key=lambda kv: -kv[1])


class GlobalBoosted(Forecaster):
    """One XGBoost model (Poisson loss, level as base margin) shared by all products."""

    family = "boosted"

    def __init__(self, horizon: int = 30, random_state: int = 0) -> None:
        self.horizon = horizon
        self.random_state = random_state

    def fit(self, panel: Panel) -> Self:
        return self._fit(panel, max(self.horizon, 1))

    def _fit(self, panel: Panel, lead: int) -> Self:
        """Fit for forecasts up to `lead` periods ahead (at least the `horizon` parameter)."""
        xgb = xgboost()
        self.lead_ = lead
        long = LONG_WINDOW[panel.step]
        enough = int(panel.observed.max()) >= lead + long + TRAIN_PERIODS[panel.step] // 4
        self.window_ = long if enough else SHORT_WINDOW[panel.step]
        length = panel.n_periods
        columns = np.arange(max(0, length - TRAIN_PERIODS[panel.step]), length)
        features, level, self.feature_names_ = boosted_features(panel, panel.values, columns, self.lead_, self.window_)
        target = panel.values[:, columns].reshape(-1)
        in_history = (columns[None, :] - self.lead_ >= panel.start[:, None] + panel.season_length - 1).reshape(-1)
        usable = in_history & np.isfinite(level)
        if panel.imputed is not None:  # a closed day's filled level is no training target
            usable &= ~panel.imputed[:, columns].reshape(-1)
        rows = int(usable.sum())
        self.panel_ = panel
        self.fitted_ = True
        self.model_: Any = None
        self.importances_: list[tuple[str, float]] = []
        if rows < 50:
            return self
        deep = rows > 50_000
        params = {"objective": "count:poisson", "eta": 0.1, "max_depth": 7 if deep else 4, "subsample": 0.8,
                  "tree_method": "hist", "max_bin": 64, "seed": self.random_state}
        # threads: OpenMP's default, i.e. every core, or OMP_NUM_THREADS (Celery workers share the cores)
        margin = np.log(np.maximum(level[usable], MIN_LEVEL))
        checked_inputs(features[usable], self.feature_names_, target[usable], margin)
        train = xgb.QuantileDMatrix(features[usable], target[usable], max_bin=64, base_margin=margin)
        self.model_ = xgb.train(params, train, num_boost_round=int(np.clip(rows / 1500, 40, 200)))
        self.importances_ = _gain_shares(self.model_.get_score(importance_type="gain"), self.feature_names_)
        return self

    def predict(self, horizon: int) -> np.ndarray:
        self.check_fitted()
        return self._predict_from(self.panel_, horizon)

    def forecast_origins(self, panel: Panel, origins: list[int], horizon: int) -> np.ndarray:
        """One model fitted before the earliest origin forecasts from every origin.

        It has seen no data after any origin, so the backtest stays honest (if a little
        pessimistic for the later origins) at a quarter of the training cost of refitting.
        """
        model = self.clone()._fit(panel.head(min(origins)), max(self.horizon, horizon, 1))
        out = np.full((panel.n_products, len(origins), horizon), np.nan)
        for k, origin in enumerate(origins):
            out[:, k, :] = model._predict_from(panel.head(origin), horizon)
        return out

    def _predict_from(self, panel: Panel, horizon: int) -> np.ndarray:
        """Forecast the `horizon` columns after `panel`'s end with the fitted trees."""
        if horizon > self.lead_:
            raise ValueError(f"fitted for horizons up to {self.lead_}, asked for {horizon}")
        n, length = panel.values.shape
        if self.model_ is None:
            return np.full((n, horizon), np.nan)
        extended = np.concatenate([panel.values, np.zeros((n, horizon))], axis=1)
        columns = np.arange(length, length + horizon)
        features, level, _ = boosted_features(panel, extended, columns, self.lead_, self.window_)
        margin = np.log(np.maximum(np.nan_to_num(level, nan=MIN_LEVEL), MIN_LEVEL))
        checked_inputs(features, self.feature_names_, margin=margin)
        predicted = self.model_.predict(xgboost().DMatrix(features, base_margin=margin)).reshape(n, horizon)
        has_level = np.isfinite(level).reshape(n, horizon)
        return np.where(has_level, predicted, np.nan)

    def drivers(self, row: int) -> list[str]:
        self.check_fitted()
        top = self.importances_[:3]
        shared = ", ".join(f"{name} ({share * 100:.0f}%)" for name, share in top)
        return [f"one model across {self.panel_.n_products} products; strongest signals: {shared}"] if top else []
