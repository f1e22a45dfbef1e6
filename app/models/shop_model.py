"""The shop model: one gradient-boosted model per shop and frequency, across its whole catalogue.

`fit(panel)` does three things:
1. a held-out backtest: trees fitted on all but the last `horizon` periods forecast those periods
   for every product, beside the local families (`LOCAL_FAMILIES`) forecasting from the same
   origin. Per product, the method kept is the one with the lowest MASE on that window (the
   trees, a local family, or the mean of the trees and the best local family); the trees win
   ties and keep the product unless another method is clearly better (`SWITCH_MARGIN`), as a
   single window is a noisy judge. When the caller sent drivers (prices, promotions, typed or
   scoped events), trees are fitted on the same window without them too, and the drivers stay only
   if the trees with them score better there (`DriverCheck`, on the model card);
2. the intervals, from the kept methods' errors on that window, per horizon bucket and sales-rate
   band (`app.models.rate_bands`; a small shop's pooled in one band), and the model card's scores
   (coverage measured with bands learned on the other half of the products, so it is out of sample
   too). Without enough errors for that measure the model has no intervals (`intervals` is None);
3. the trees refitted on every period, which is what serves the forecasts.

`forecast(panel, horizon)` forecasts any products from their own history in `panel` (seen at
training or not) with those trees; products whose kept method is a local family are fitted on
their request history with it. Nothing is trained per request but those cheap local fits.

The trees: XGBoost with a Tweedie loss (log link) and each row's base level as the base margin;
training rows are (product, target period, anchor) with one lead per target period drawn from
1..horizon, targets in the last two years (three for weekly), no row before a product's first sale.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np

from app.models import metrics
from app.models.elasticity import Elasticities, estimate, shrink
from app.models.intervals import cap_upper
from app.models.model_inputs import checked_inputs
from app.models.panel import Panel
from app.models.rate_bands import fit_bands
from app.models.registry import make
from app.models.selection import ENSEMBLE_SEPARATOR, SHORT_TERM
from app.models.shop_features import BASE_WINDOW, Columns, History, feature_rows, known_prices
from app.utils.optional import xgboost

SHOP = "shop_model"
ZERO = "zero"
LOCAL_FAMILIES = ("moving_average", "seasonal_naive", "linear", "holt_winters", "intermittent")
TRAIN_PERIODS = {1: 730, 7: 156}
MAX_TRAIN_ROWS = 1_200_000
MIN_TRAIN_ROWS = 200
SWITCH_MARGIN = 0.5  # another method is kept only with under half the trees' MASE: one window is a noisy judge
MIN_ORIGIN = {1: 56, 7: 16}
ROUNDS = 150
PARAMS: dict[str, Any] = {"objective": "reg:tweedie", "tweedie_variance_power": 1.1, "eta": 0.1, "max_depth": 7,
                          "min_child_weight": 10, "subsample": 0.7, "colsample_bytree": 0.8, "lambda": 1.0,
                          "tree_method": "hist", "max_bin": 64}


def shop_history(panel: Panel) -> History:
    return History.of(panel.values, panel.start, panel.first_day, panel.step, panel.event_days, panel.price,
                      panel.drivers)


def _training_rows(history: History, horizon: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(rows, targets, anchors) of the training set: one random lead per (product, target period)."""
    n, length = history.values.shape
    first = max(1, length - TRAIN_PERIODS[history.step])
    rows = np.repeat(np.arange(n), length - first)
    targets = np.tile(np.arange(first, length), n)
    anchors = targets - rng.integers(1, horizon + 1, size=targets.size)
    keep = anchors >= history.begin[rows]
    rows, targets, anchors = rows[keep], targets[keep], anchors[keep]
    if rows.size > MAX_TRAIN_ROWS:
        chosen = np.sort(rng.choice(rows.size, MAX_TRAIN_ROWS, replace=False))
        rows, targets, anchors = rows[chosen], targets[chosen], anchors[chosen]
    return rows, targets, anchors


def most_training_rows(begin: np.ndarray, length: int, step: int) -> int:
    """The most rows `_training_rows` can draw from a history of `length` periods whose products begin
    (first sale) at column `begin` int64[n]: every target after a product's begin, as if each lead were 1."""
    first = max(1, length - TRAIN_PERIODS[step])
    return int(np.maximum(length - np.maximum(first, begin + 1), 0).sum())


@dataclass
class Trees:
    """A fitted booster and the columns it reads."""

    booster: Any
    names: list[str]
    columns: Columns
    importances: list[tuple[str, float]] = field(default_factory=list)

    def forecast(self, history: History, horizon: int) -> np.ndarray:
        """float64[n, horizon] after the history's last column."""
        n, length = history.values.shape
        rows = np.repeat(np.arange(n), horizon)
        targets = np.tile(np.arange(length, length + horizon), n)
        features, base, _ = feature_rows(history, rows, targets, np.full(rows.size, length - 1), self.columns)
        checked_inputs(features, self.names, margin=np.log(base))
        predicted = self.booster.inplace_predict(features, base_margin=np.log(base))  # no DMatrix: a request is small
        return np.asarray(predicted, dtype=np.float64).reshape(n, horizon)


def fit_trees(history: History, horizon: int, random_state: int) -> Trees | None:
    """Trees for leads 1..horizon on `history`; None with under MIN_TRAIN_ROWS usable training rows."""
    xgb = xgboost()
    columns = history.columns()
    rows, targets, anchors = _training_rows(history, horizon, np.random.default_rng(random_state))
    if rows.size < MIN_TRAIN_ROWS:
        return None
    features, base, names = feature_rows(history, rows, targets, anchors, columns)
    target = history.values[rows, targets]
    checked_inputs(features, names, target, np.log(base))
    train = xgb.QuantileDMatrix(features, target, base_margin=np.log(base), feature_names=names,
                                max_bin=PARAMS["max_bin"])
    rounds = int(np.clip(rows.size / 2000, 60, ROUNDS))
    booster = xgb.train({**PARAMS, "seed": random_state}, train, num_boost_round=rounds)
    gain = booster.get_score(importance_type="gain")
    total = sum(gain.values()) or 1.0
    importances = sorted(((name, value / total) for name, value in gain.items()), key=lambda kv: -kv[1])
    return Trees(booster, names, columns, importances)


def recent_rate(panel: Panel) -> np.ndarray:
    """float64[n]: each product's mean over its last BASE_WINDOW periods (its sales-rate band)."""
    lo = np.maximum(panel.n_periods - BASE_WINDOW[panel.step], panel.start)
    tail = np.where(np.arange(panel.n_periods)[None, :] >= lo[:, None], panel.values, 0.0)
    return tail.sum(axis=1) / np.maximum(panel.n_periods - lo, 1)


def _local_forecasts(panel: Panel, families: list[str], horizon: int) -> dict[str, np.ndarray]:
    """Each local family fitted on `panel` -> {family: [n, horizon]}, NaN where it cannot forecast."""
    return {family: make(family, horizon).fit(panel).predict(horizon) for family in families}


def _scores(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray, squared: np.ndarray) -> dict[str, np.ndarray]:
    return {"mase": metrics.mase(actual, forecast, scale), "rmsse": metrics.rmsse(actual, forecast, squared),
            "rmse": metrics.rmse(actual, forecast),
        "bias": metrics.bias(actual, forecast), "smape": metrics.smape(actual, forecast),
        "mape": metrics.mape(actual, forecast)}


@dataclass(frozen=True)
class DriverCheck:
    """The trees with and without the caller's drivers on the held-out window (lower is better)."""

    metric: str  # "wrmsse" (revenue weights known) or "mase" (mean over the scored products)
    with_drivers: float
    without_drivers: float
    used: bool


def _held_out_error(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray, squared: np.ndarray,
                    weights: np.ndarray | None) -> float:
    """The held-out window's WRMSSE (with revenue weights) or mean MASE over the scored products."""
    if weights is not None:
        rmsse = np.nan_to_num(metrics.rmsse(actual, forecast, squared))
        return float((rmsse * weights).sum() / max(weights.sum(), 1e-12))
    mase = metrics.mase(actual, forecast, scale)
    return float(np.nanmean(mase)) if np.isfinite(mase).any() else float("inf")


@dataclass
class HeldOut:
    """The backtest on the last `horizon` periods before training on all of them."""

    origin_day: int  # first day of the held-out window
    horizon: int
    scores: dict[str, dict[str, np.ndarray]]  # candidate -> metric -> float64[n] (NaN = not scored)
    weights: np.ndarray | None  # float64[n]: revenue over the window before the origin, sums to 1
    scored: np.ndarray  # bool[n]
    short_term_rmse: np.ndarray  # float64[n]: the kept method's RMSE over the window's first SHORT_TERM periods
    forecasts: dict[str, np.ndarray]  # candidate -> float64[n, horizon], each made before the window
    intervals: dict[str, dict[str, float]]  # candidate -> {"coverage_80", "coverage_95", "msis"} (out of sample)


class ShopModel:
    """One XGBoost model across a shop's products, with per-product method choice and banded intervals."""

    def __init__(self, horizon: int = 28, random_state: int = 0) -> None:
        self.horizon = horizon
        self.random_state = random_state

    def fit(self, panel: Panel) -> Self:
        horizon = self.horizon
        origin = panel.n_periods - horizon
        if origin < MIN_ORIGIN[panel.step]:
            raise ValueError(f"a shop model needs at least {MIN_ORIGIN[panel.step] + horizon} periods of history "
                             f"for a {horizon}-period horizon")
        self.step_ = panel.step
        self.product_ids_ = list(panel.product_ids)
        self.index_ = {product_id: i for i, product_id in enumerate(panel.product_ids)}
        self.last_day_ = int(panel.first_day + (panel.n_periods - 1) * panel.step)
        self.first_day_ = int(panel.first_day)
        head = panel.head(origin)
        head_history = shop_history(head)
        trees = fit_trees(head_history, horizon, self.random_state)
        if trees is None:
            raise ValueError(f"too little history to train a shop model (under {MIN_TRAIN_ROWS} product-periods "
                             "after first sales)")
        actual = panel.values[:, origin:]
        history_begin = head_history.begin
        scored = (origin - history_begin) >= MIN_ORIGIN[panel.step] // 2
        actual = np.where(scored[:, None], actual, np.nan)
        scale = metrics.seasonal_scale(head.values, head.start, panel.season_length)
        squared = metrics.squared_scale(head.values, history_begin)
        weights = _revenue_weights(head, horizon)
        trees_forecast = trees.forecast(head_history, horizon)
        self.driver_check_ = None
        if head.drivers is not None and head.drivers.read_by_trees:  # drivers stay only if they help held out
            plain_history = shop_history(dataclasses.replace(head, drivers=None))
            plain = fit_trees(plain_history, horizon, self.random_state)
            if plain is not None:
                plain_forecast = plain.forecast(plain_history, horizon)
                judged = {used: _held_out_error(actual, f, scale, squared, weights)
                          for used, f in ((True, trees_forecast), (False, plain_forecast))}
                self.driver_check_ = DriverCheck("wrmsse" if weights is not None else "mase", judged[True],
                                                 judged[False], used=judged[True] < judged[False])
                if not self.driver_check_.used:
                    trees, trees_forecast = plain, plain_forecast
        candidates = {SHOP: trees_forecast, **_local_forecasts(head, list(LOCAL_FAMILIES), horizon)}
        mase = {name: np.nan_to_num(metrics.mase(actual, f, scale), nan=np.inf) for name, f in candidates.items()}
        local = np.stack([mase[f] for f in LOCAL_FAMILIES], axis=1)
        best_local = np.argmin(local, axis=1)
        rows = np.arange(panel.n_products)
        local_stack = np.stack([candidates[f] for f in LOCAL_FAMILIES], axis=1)
        paired = (candidates[SHOP] + local_stack[rows, best_local]) / 2
        paired_mase = np.nan_to_num(metrics.mase(actual, paired, scale), nan=np.inf)
        best_local_mase = local[rows, best_local]
        switch_pair = paired_mase < SWITCH_MARGIN * mase[SHOP]
        switch_local = (best_local_mase < SWITCH_MARGIN * mase[SHOP]) & (best_local_mase < paired_mase)
        methods = np.where(switch_local, np.array(LOCAL_FAMILIES)[best_local],
                           np.where(switch_pair, np.char.add(SHOP + ENSEMBLE_SEPARATOR,
                                                             np.array(LOCAL_FAMILIES)[best_local]), SHOP))
        methods = np.where(scored, methods, SHOP)
        chosen = np.where(switch_local[:, None], local_stack[rows, best_local],
                          np.where(switch_pair[:, None], paired, candidates[SHOP]))
        chosen = np.where(scored[:, None], chosen, candidates[SHOP])
        self.method_ = {pid: str(m) for pid, m in zip(panel.product_ids, methods, strict=True)}
        rate = recent_rate(head)
        self.bands_ = fit_bands(actual, chosen, rate)
        outcomes = {"auto": chosen, SHOP: candidates[SHOP], "seasonal_naive": candidates["seasonal_naive"],
                    "moving_average": candidates["moving_average"]}
        self.held_out_ = HeldOut(
            origin_day=int(panel.first_day + origin * panel.step), horizon=horizon,
            scores={name: _scores(actual, f, scale, squared) for name, f in
                    {**outcomes, **{k: v for k, v in candidates.items() if k not in outcomes}}.items()},
            weights=weights, scored=scored,
            short_term_rmse=metrics.rmse(actual[:, :SHORT_TERM], chosen[:, :SHORT_TERM]), forecasts=candidates,
            intervals={name: _cross_fitted(actual, f, rate, scale) for name, f in outcomes.items()},
        )
        if not np.isfinite(self.held_out_.intervals["auto"]["coverage_80"]):
            self.bands_ = None  # no bounds whose coverage the card cannot show (too few held-out errors per half)
        self.elasticity_ = price_elasticities(panel)
        group = panel.drivers.group if panel.drivers is not None else None
        self.pool_groups_ = ({} if group is None else  # each product's pooling group (category, else department)
                             {p: c for p, c in zip(panel.product_ids, group.tolist(), strict=True) if c is not None})
        kept = panel if self.driver_check_ is None or self.driver_check_.used else dataclasses.replace(panel,
                                                                                                      drivers=None)
        final = fit_trees(shop_history(kept), horizon, self.random_state)
        self.trees_ = final if final is not None else trees
        self.fitted_ = True
        return self

    @property
    def importances(self) -> list[tuple[str, float]]:
        return self.trees_.importances

    def forecast(self, panel: Panel, horizon: int) -> tuple[np.ndarray, list[str]]:
        """Forecasts float64[n, horizon] >= 0 of `panel`'s products from their own history, and the
        method of each (products unseen at training get the trees; a product never sold, zero)."""
        if horizon > self.horizon:
            raise ValueError(f"trained for horizons up to {self.horizon}, asked for {horizon}")
        trees = self.trees_.forecast(self.tree_history(panel), horizon)
        methods = [self.method_.get(pid, SHOP) for pid in panel.product_ids]
        out = trees.copy()
        families = sorted({part for m in methods for part in m.split(ENSEMBLE_SEPARATOR)} - {SHOP})
        for family in families:
            rows = np.array([i for i, m in enumerate(methods) if family in m.split(ENSEMBLE_SEPARATOR)])
            local = make(family, horizon).fit(panel.take(rows)).predict(horizon)
            local = np.where(np.isfinite(local), local, trees[rows])
            paired = np.array([ENSEMBLE_SEPARATOR in methods[r] for r in rows])
            out[rows] = np.where(paired[:, None], (trees[rows] + local) / 2, local)
        never_sold = np.asarray(~(panel.values > 0).any(axis=1))
        out[never_sold] = 0.0
        methods = [ZERO if zero else method for method, zero in zip(methods, never_sold.tolist(), strict=True)]
        return np.maximum(out, 0.0), methods

    @property
    def reads_drivers(self) -> bool:
        """Whether the trees read the caller's drivers (False when the held-out check dropped them)."""
        return self.driver_check_ is None or self.driver_check_.used

    def tree_history(self, panel: Panel) -> History:
        """What the trees read of `panel`: its drivers only when they were kept at training."""
        return shop_history(panel if self.reads_drivers else dataclasses.replace(panel, drivers=None))

    def elasticities(self, panel: Panel) -> Elasticities | None:
        """`panel`'s products' own price elasticities pooled towards their category's (as the request names
        it, else as training did) and the shop's (None without prices)."""
        if self.elasticity_ is None or not np.isfinite(self.elasticity_.shop):
            return None
        own = price_elasticities(panel, pool=False)
        if own is None:
            return None
        sent = panel.drivers.group if panel.drivers is not None else None
        known = self.pool_groups_
        groups = np.array([sent[k] if sent is not None and sent[k] is not None else known.get(p)
                           for k, p in enumerate(panel.product_ids)], dtype=object)
        return shrink(own, self.elasticity_, groups)

    def intervals(self, forecast: np.ndarray, panel: Panel, coverage: float) -> tuple[np.ndarray, np.ndarray] | None:
        """Bounds [n, h] for `panel`'s products; None when the held-out window had too few errors for bands
        whose coverage could be measured out of sample."""
        if self.bands_ is None:
            return None
        lower, upper = self.bands_.bounds(forecast, recent_rate(panel), coverage)
        return lower, cap_upper(upper, forecast, np.max(panel.values, axis=1, initial=0.0))


def price_elasticities(panel: Panel, pool: bool = True) -> Elasticities | None:
    """Elasticities from the panel's known prices (the caller's where sent, else revenue / qty), or None."""
    price = known_prices(panel.price, panel.drivers, panel.n_periods)
    if price is None:
        return None
    groups = panel.drivers.group if panel.drivers is not None else None
    return estimate(panel.values, price, shop_history(panel).begin, panel.step, pool=pool, groups=groups)


def _revenue_weights(head: Panel, horizon: int) -> np.ndarray | None:
    """Each product's share of revenue over the `horizon` periods before the origin (M5's weights)."""
    if head.price is None:
        return None
    window = slice(max(0, head.n_periods - horizon), head.n_periods)
    revenue = np.nansum(head.values[:, window] * np.nan_to_num(head.price[:, window]), axis=1)
    total = revenue.sum()
    return revenue / total if total > 0 else None


def _cross_fitted(actual: np.ndarray, forecast: np.ndarray, rate: np.ndarray,
                  scale: np.ndarray) -> dict[str, float]:
    """Coverage of the 80 and 95% bounds and the mean scaled interval score at 95% on the held-out
    window, each half of the products bounded with bands learned on the other half (out of sample)."""
    halves = np.arange(actual.shape[0]) % 2
    inside = {0.8: 0, 0.95: 0}
    counted = 0
    msis = np.full(actual.shape[0], np.nan)
    for half in (0, 1):
        learn, judge = halves != half, halves == half
        bands = fit_bands(actual[learn], forecast[learn], rate[learn])
        if bands is None:
            continue
        seen = np.isfinite(actual[judge])
        counted += int(seen.sum())
        for level in inside:
            lower, upper = bands.bounds(forecast[judge], rate[judge], level)
            inside[level] += int(((actual[judge] >= lower) & (actual[judge] <= upper) & seen).sum())
            if level == 0.95:
                msis[judge] = metrics.interval_score(actual[judge], lower, upper, 0.95) / scale[judge]
    return {"coverage_80": inside[0.8] / counted if counted else float("nan"),
            "coverage_95": inside[0.95] / counted if counted else float("nan"),
            "msis": float(np.nanmean(msis)) if np.isfinite(msis).any() else float("nan")}
