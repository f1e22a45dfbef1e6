"""The shop model: one gradient-boosted model per shop and frequency, across its whole catalogue.

`fit(panel)` does three things:
1. a backtest on up to WINDOWS horizon-long windows ending at the training end: for each, the trees
   and the local families (`LOCAL_FAMILIES`) forecast it from data before it (trees fitted before
   the last window for the last one, one fit before the earliest origin for the earlier ones). Per
   product, the method kept is the trees, a local family or the mean of its two best, on MASE pooled
   over the windows and shrunk towards the same candidate's mean in the product's sales-rate band
   (`app.models.window_choice`): no candidate is favoured; in a band where that choosing, made on the earlier
   windows, lost to the band's best single candidate on the last window (which it never saw), the band's products
   all get that candidate (`guarded`). When the caller sent drivers (prices,
   promotions, typed or scoped events), the trees are fitted without them too, the same way, and the
   drivers stay only if the trees with them score better on those same windows (`DriverCheck`, on the card);
2. the intervals, from the kept methods' errors on every window, per horizon bucket and sales-rate
   band (`app.models.rate_bands`; a small shop's pooled in one band), a window's errors weighing half the next
   later one's (`WINDOW_HALF_LIFE`): the served forecast is the freshest fit's, at the training end, and the
   earlier windows' trees are one stale fit before the earliest origin forecasting up to three windows later,
   some of them over a season unlike the next (walmart's Christmas window: mean |error| 1,866 against 1,395 on
   the last); weighed equally they lent walmart's 80 % bounds 83.0 % coverage on the 13 weeks after the
   training end (two of five bands over 83) and the bakery's 82.7 % (a band 86.0 %); and the model card's scores on
   the last window: every candidate's, and `auto` as chosen on the earlier windows only (the last one
   unseen), its coverage with bands learned on the earlier windows' errors (with a single window:
   on the other half of the products). Without enough errors for that measure the model has no
   intervals (`intervals` is None);
3. the trees refitted on every period, twice (two seeds); what serves the forecasts is the mean of theirs and
   those of the trees fitted before the last window (an ensemble of three fits over two training ends: less
   variance, one extra fit).

`forecast(panel, horizon)` forecasts any products from their own history in `panel` (seen at
training or not) with those two sets of trees; products whose kept method is a local family are fitted on
their request history with it (a pair: the mean of the two). Nothing is trained per request but those cheap local fits.

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
from app.models.model_inputs import checked_inputs
from app.models.panel import Panel
from app.models.rate_bands import RateBands, band_edges, fit_bands, recent_rate
from app.models.registry import make
from app.models.selection import SHORT_TERM
from app.models.shop_features import Columns, History, feature_rows, known_prices
from app.models.window_choice import ENSEMBLE_SEPARATOR, guarded
from app.utils.optional import xgboost

SHOP = "shop_model"
ZERO = "zero"
LOCAL_FAMILIES = ("moving_average", "seasonal_naive", "linear", "holt_winters", "intermittent")
TRAIN_PERIODS = {1: 730, 7: 156}
MAX_TRAIN_ROWS = 1_200_000
MIN_TRAIN_ROWS = 200
WINDOWS = 4  # horizon-long backtest windows before the training end (fewer when history is short)
MIN_ORIGIN = {1: 56, 7: 16}
WINDOW_HALF_LIFE = 1.0  # windows: the intervals weigh a backtest window's errors half the next later one's
ROUNDS = 150
PARAMS: dict[str, Any] = {"objective": "reg:tweedie", "tweedie_variance_power": 1.1, "eta": 0.1, "max_depth": 7,
                          "min_child_weight": 10, "subsample": 0.7, "colsample_bytree": 0.8, "lambda": 1.0,
                          "tree_method": "hist", "max_bin": 64}


def shop_history(panel: Panel) -> History:
    return History.of(panel.values, panel.start, panel.first_day, panel.step, panel.event_days, panel.price,
                      panel.drivers, panel.imputed)


def _training_rows(history: History, horizon: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(rows, targets, anchors) of the training set: one random lead per (product, target period); none whose
    target is a closed day (its value is the open-day level filled in, not a sale)."""
    n, length = history.values.shape
    first = max(1, length - TRAIN_PERIODS[history.step])
    rows = np.repeat(np.arange(n), length - first)
    targets = np.tile(np.arange(first, length), n)
    anchors = targets - rng.integers(1, horizon + 1, size=targets.size)
    keep = anchors >= history.begin[rows]
    if history.imputed is not None:
        keep &= ~history.imputed[rows, targets]
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
    """A fitted booster and the columns it reads; with `also`, boosters fitted on the same columns (with another
    seed, or over an earlier training end), whose forecasts are averaged with its own (an ensemble)."""

    booster: Any
    names: list[str]
    columns: Columns
    importances: list[tuple[str, float]] = field(default_factory=list)
    also: tuple[Any, ...] = ()  # a class default too: a model saved before this field reads as none

    def forecast(self, history: History, horizon: int) -> np.ndarray:
        """float64[n, horizon] after the history's last column."""
        n, length = history.values.shape
        rows = np.repeat(np.arange(n), horizon)
        targets = np.tile(np.arange(length, length + horizon), n)
        features, base, _ = feature_rows(history, rows, targets, np.full(rows.size, length - 1), self.columns)
        checked_inputs(features, self.names, margin=np.log(base))
        boosters = (self.booster, *self.also)  # no DMatrix: a request is small
        predicted = sum(np.asarray(b.inplace_predict(features, base_margin=np.log(base)), dtype=np.float64)
                        for b in boosters) / len(boosters)
        return np.asarray(predicted).reshape(n, horizon)


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


def window_origins(n_periods: int, horizon: int, step: int) -> list[int]:
    """The backtest windows' first columns, latest first: up to WINDOWS horizon-long windows ending at the
    training end, each origin keeping MIN_ORIGIN periods before it; none when even one does not fit."""
    count = min(WINDOWS, (n_periods - MIN_ORIGIN[step]) // horizon)
    return [n_periods - k * horizon for k in range(1, count + 1)]


def _window_actuals(panel: Panel, origins: list[int], horizon: int, begin: np.ndarray) -> np.ndarray:
    """float64[n, windows, horizon]: each window's sales, NaN for a product with under MIN_ORIGIN / 2 periods
    from its first sale (`begin`) to the window's origin."""
    columns = np.array(origins)[:, None] + np.arange(horizon)[None, :]
    enough = (np.array(origins)[None, :] - begin[:, None]) >= MIN_ORIGIN[panel.step] // 2
    scored = enough[:, :, None] if panel.imputed is None else enough[:, :, None] & ~panel.imputed[:, columns]
    return np.where(scored, panel.values[:, columns], np.nan)  # a closed day's filled level is no sale to score


def _earlier_tree_forecasts(panel: Panel, origins: list[int], horizon: int, random_state: int,
                            last: np.ndarray) -> np.ndarray:
    """float64[n, windows, horizon] of the trees: `last` (fitted before the last window) for it, and for the
    earlier windows one fit before the earliest origin forecasting from each (out of sample for all of them,
    at the cost of one fit; NaN when that fit has too few rows)."""
    out = np.full((panel.n_products, len(origins), horizon), np.nan)
    out[:, 0] = last
    if len(origins) > 1:
        early = fit_trees(shop_history(panel.head(origins[-1])), horizon, random_state)
        for k, origin in enumerate(origins[1:], start=1):
            if early is not None:
                out[:, k] = early.forecast(shop_history(panel.head(origin)), horizon)
    return out


def _scores(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray, squared: np.ndarray) -> dict[str, np.ndarray]:
    return {"mase": metrics.mase(actual, forecast, scale), "rmsse": metrics.rmsse(actual, forecast, squared),
            "rmse": metrics.rmse(actual, forecast),
        "bias": metrics.bias(actual, forecast), "smape": metrics.smape(actual, forecast),
        "mape": metrics.mape(actual, forecast)}


@dataclass(frozen=True)
class DriverCheck:
    """The trees with and without the caller's drivers on the selection's backtest windows: each window's
    error, averaged over the windows both were scored on (lower is better)."""

    metric: str  # "wrmsse" (revenue weights known) or "mase" (mean over the scored products)
    with_drivers: float
    without_drivers: float
    used: bool
    windows: int = 1  # backtest windows the two were compared on


def _held_out_error(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray, squared: np.ndarray,
                    weights: np.ndarray | None) -> float:
    """One window's WRMSSE (with revenue weights) or mean MASE over the scored products."""
    if weights is not None:
        rmsse = np.nan_to_num(metrics.rmsse(actual, forecast, squared))
        return float((rmsse * weights).sum() / max(weights.sum(), 1e-12))
    mase = metrics.mase(actual, forecast, scale)
    return float(np.nanmean(mase)) if np.isfinite(mase).any() else float("inf")


def _driver_check(panel: Panel, origins: list[int], actual: np.ndarray, with_drivers: np.ndarray,
                  without_drivers: np.ndarray, scale: np.ndarray, squared: np.ndarray) -> DriverCheck:
    """Whether the drivers stay: the trees with them (`with_drivers`) against without (`without_drivers`),
    float64[n, windows, horizon] forecasts of the selection's windows (`actual`, latest first), each window
    weighted by the revenue before its own origin (M5's weights) when prices are known. A window where either
    has no forecast (too little history before it) is left out of both means; with none left they are not read."""
    horizon = actual.shape[2]
    both = [k for k in range(len(origins))
            if np.isfinite(with_drivers[:, k]).any() and np.isfinite(without_drivers[:, k]).any()]
    if not both:  # nothing to judge them on: drivers that cannot be shown to help are not read
        return DriverCheck("mase", float("inf"), float("inf"), used=False, windows=0)
    weights = [_revenue_weights(panel.head(origins[k]), horizon) for k in both]
    judged = {used: float(np.mean([_held_out_error(actual[:, k], forecast[:, k], scale, squared, w)
                                   for k, w in zip(both, weights, strict=True)]))
              for used, forecast in ((True, with_drivers), (False, without_drivers))}
    return DriverCheck("wrmsse" if weights[0] is not None else "mase", judged[True], judged[False],
                       used=judged[True] < judged[False], windows=len(both))


@dataclass
class HeldOut:
    """The backtest's last window (the `horizon` periods before the training end), as the card shows it: every
    candidate's forecast from before it and `auto`, the method chosen per product on the earlier windows only."""

    origin_day: int  # first day of the held-out window
    horizon: int
    windows: int  # backtest windows the served choice was made on (this one and the earlier ones)
    scores: dict[str, dict[str, np.ndarray]]  # candidate -> metric -> float64[n] (NaN = not scored)
    weights: np.ndarray | None  # float64[n]: revenue over the window before the origin, sums to 1
    scored: np.ndarray  # bool[n]
    idle: np.ndarray  # bool[n]: sold nothing in the window nor in the 56 days (8 weeks) before it: nothing to score
    short_term_rmse: np.ndarray  # float64[n]: the kept method's RMSE over the window's first SHORT_TERM periods
    forecasts: dict[str, np.ndarray]  # candidate -> float64[n, horizon], each made before the window
    intervals: dict[str, dict[str, float]]  # candidate -> {"coverage_80", "coverage_95", "msis"} (out of sample)
    band: np.ndarray  # int64[n]: each product's sales-rate band before the window
    band_edges: np.ndarray  # float64[bands - 1]: the bands' rate boundaries (units per period)
    earlier: list["WindowScores"] = field(default_factory=list)  # the windows before it, latest first


@dataclass(frozen=True)
class WindowScores:
    """An earlier backtest window scored as the held-out one is: every candidate's forecast from before it and
    `auto` as chosen (and guarded) on the windows before it only. Side by side, the windows show how far `auto`'s
    score moves from one window to the next: the noise a later measurement of it is read against. An earlier
    window's `auto` is chosen on fewer windows (one fewer each step back; on a single one, unguarded) and its trees
    are the one fit made before the earliest window, so it reads a little worse than the served choice would."""

    origin_day: int
    scores: dict[str, dict[str, np.ndarray]]  # "auto" and every candidate -> metric -> float64[n]
    method: np.ndarray  # str[n]: `auto`'s choice for the window
    chosen_on: int  # backtest windows before it that choice was made on
    weights: np.ndarray | None  # float64[n]: shares of the revenue over the `horizon` periods before it, sum 1
    counted: np.ndarray  # bool[n]: scored, and sold in the window or in the 56 days before it


class ShopModel:
    """One XGBoost model across a shop's products, with per-product method choice and banded intervals."""

    def __init__(self, horizon: int = 28, random_state: int = 0) -> None:
        self.horizon = horizon
        self.random_state = random_state

    def fit(self, panel: Panel) -> Self:
        horizon = self.horizon
        origins = window_origins(panel.n_periods, horizon, panel.step)
        if not origins:
            raise ValueError(f"a shop model needs at least {MIN_ORIGIN[panel.step] + horizon} periods of history "
                             f"for a {horizon}-period horizon")
        origin = origins[0]
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
        begin = shop_history(panel).begin
        actual = _window_actuals(panel, origins, horizon, begin)  # [n, windows, horizon]
        scored = np.isfinite(actual[:, 0]).any(axis=1)
        scale = metrics.seasonal_scale(head.values, head.start, panel.season_length)
        squared = metrics.squared_scale(head.values, head_history.begin)
        weights = _revenue_weights(head, horizon)
        tree_windows = _earlier_tree_forecasts(panel, origins, horizon, self.random_state,
                                               trees.forecast(head_history, horizon))
        self.driver_check_ = None
        if head.drivers is not None and head.drivers.read_by_trees:  # drivers stay only if they help held out
            plain_panel = dataclasses.replace(panel, drivers=None)
            plain_history = shop_history(dataclasses.replace(head, drivers=None))
            plain = fit_trees(plain_history, horizon, self.random_state)
            if plain is not None:
                plain_windows = _earlier_tree_forecasts(plain_panel, origins, horizon, self.random_state,
                                                        plain.forecast(plain_history, horizon))
                self.driver_check_ = _driver_check(panel, origins, actual, tree_windows, plain_windows, scale,
                                                   squared)
                if not self.driver_check_.used:
                    trees, tree_windows = plain, plain_windows
        kept = panel if self.reads_drivers else dataclasses.replace(panel, drivers=None)
        names = [SHOP, *LOCAL_FAMILIES]
        stacked = np.stack([tree_windows, *(make(f, horizon).forecast_origins(panel, origins, horizon)
                                            for f in LOCAL_FAMILIES)],
                           axis=1)  # [n, candidates, windows, horizon]
        rates = np.stack([recent_rate(panel.head(o)) for o in origins], axis=1)  # [n, windows]
        edges = band_edges(rates[scored, 0])
        band = np.searchsorted(edges, rates[:, 0], side="right")
        served = guarded(names, actual, stacked, scale, band)
        honest = guarded(names, actual[:, 1:], stacked[:, :, 1:], scale, band)  # the last window unseen
        self.method_ = {pid: str(m) for pid, m in zip(panel.product_ids, served.method, strict=True)}
        chosen = served.combine(stacked)  # [n, windows, horizon]
        self.bands_ = fit_bands(actual, chosen, rates, WINDOW_HALF_LIFE)
        outcomes = {"auto": honest.combine(stacked), **{name: stacked[:, k] for k, name in enumerate(names)}}
        self.held_out_ = HeldOut(
            origin_day=int(panel.first_day + origin * panel.step), horizon=horizon, windows=len(origins),
            scores={name: _scores(actual[:, 0], f[:, 0], scale, squared) for name, f in outcomes.items()},
            weights=weights, scored=scored,
            idle=_idle(actual[:, 0], rates[:, 0], scored),
            short_term_rmse=metrics.rmse(actual[:, 0, :SHORT_TERM], chosen[:, 0, :SHORT_TERM]),
            forecasts={name: f[:, 0] for name, f in outcomes.items()},
            intervals={name: _interval_scores(actual, outcomes[name], rates, scale)
                       for name in ("auto", SHOP, "seasonal_naive", "moving_average")},
            band=band, band_edges=edges,
            earlier=_earlier_windows(panel, origins, names, actual, stacked, rates),
        )
        if not np.isfinite(self.held_out_.intervals["auto"]["coverage_80"]):
            self.bands_ = None  # no bounds whose coverage the card cannot show (too few held-out errors)
        self.elasticity_ = price_elasticities(panel)
        group = panel.drivers.group if panel.drivers is not None else None
        self.pool_groups_ = ({} if group is None else  # each product's pooling group (category, else department)
                             {p: c for p, c in zip(panel.product_ids, group.tolist(), strict=True) if c is not None})
        kept_history = shop_history(kept)
        final = fit_trees(kept_history, horizon, self.random_state)
        twin = fit_trees(kept_history, horizon, self.random_state + 1) if final is not None else None
        # served: the mean of the trees refitted on every period with two seeds (other leads, rows and columns
        # drawn) and those fitted before the last window (the same columns, already fitted): three fits over two
        # training ends lower the variance of any one of them
        twins = () if twin is None else (twin.booster,)
        self.trees_ = (trees if final is None else dataclasses.replace(final, also=twins) if final.names != trees.names
                       else dataclasses.replace(final, also=(*twins, trees.booster)))
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
        parts = [m.split(ENSEMBLE_SEPARATOR) for m in methods]
        total = np.zeros_like(trees)
        for family in sorted({part for p in parts for part in p}):
            rows = np.array([i for i, p in enumerate(parts) if family in p])
            if family == SHOP:
                total[rows] += trees[rows]
                continue
            local = make(family, horizon).fit(panel.take(rows)).predict(horizon)
            total[rows] += np.where(np.isfinite(local), local, trees[rows])
        out = total / np.array([len(p) for p in parts], dtype=np.float64)[:, None]
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
        return self.bands_.bounds(forecast, recent_rate(panel), coverage)


def price_elasticities(panel: Panel, pool: bool = True) -> Elasticities | None:
    """Elasticities from the panel's known prices (the caller's where sent, else revenue / qty), or None."""
    price = known_prices(panel.price, panel.drivers, panel.n_periods)
    if price is None:
        return None
    groups = panel.drivers.group if panel.drivers is not None else None
    return estimate(panel.values, price, shop_history(panel).begin, panel.step, pool=pool, groups=groups)


def _earlier_windows(panel: Panel, origins: list[int], names: list[str], actual: np.ndarray, stacked: np.ndarray,
                     rates: np.ndarray) -> list[WindowScores]:
    """The backtest windows between the held-out one and the earliest (`actual` [n, windows, horizon] and
    `stacked` [n, candidates, windows, horizon], latest first), each scored with `auto` chosen (and guarded) on
    the windows before it alone, every scale, weight and band read from the periods before its origin. The earliest
    window has none before it to choose on; a window with no product scored is left out."""
    out = []
    for k in range(1, len(origins) - 1):
        head = panel.head(origins[k])
        scored = np.isfinite(actual[:, k]).any(axis=1)
        if not scored.any():
            continue
        scale = metrics.seasonal_scale(head.values, head.start, panel.season_length)
        squared = metrics.squared_scale(head.values, shop_history(head).begin)
        band = np.searchsorted(band_edges(rates[scored, k]), rates[:, k], side="right")
        choice = guarded(names, actual[:, k + 1:], stacked[:, :, k + 1:], scale, band)
        outcomes = {"auto": choice.combine(stacked[:, :, k]),
                    **{name: stacked[:, j, k] for j, name in enumerate(names)}}
        out.append(WindowScores(origin_day=int(panel.first_day + origins[k] * panel.step),
                                scores={name: _scores(actual[:, k], f, scale, squared)
                                        for name, f in outcomes.items()},
                                method=choice.method, chosen_on=len(origins) - 1 - k,
                                weights=_revenue_weights(head, actual.shape[2]),
                                counted=scored & ~_idle(actual[:, k], rates[:, k], scored)))
    return out


def _idle(actual: np.ndarray, rate: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """bool[n]: the `scored` products that sold nothing in a window (`actual` [n, horizon]) nor at the recent
    `rate` before it: every method's zero is right there, and the card's scores leave them out."""
    return scored & (np.nansum(actual, axis=1) == 0) & (rate == 0)


def _revenue_weights(head: Panel, horizon: int) -> np.ndarray | None:
    """Each product's share of revenue over the `horizon` periods before the origin (M5's weights)."""
    if head.price is None:
        return None
    window = slice(max(0, head.n_periods - horizon), head.n_periods)
    revenue = np.nansum(head.values[:, window] * np.nan_to_num(head.price[:, window]), axis=1)
    total = revenue.sum()
    return revenue / total if total > 0 else None


def _judged(bands: RateBands | None, actual: np.ndarray, forecast: np.ndarray, rate: np.ndarray,
            scale: np.ndarray) -> tuple[dict[float, int], int, np.ndarray]:
    """Actuals [n, steps] inside the 80 and 95% bounds of `bands`, actuals counted, MSIS at 95% float64[n]."""
    msis = np.full(actual.shape[0], np.nan)
    inside = {0.8: 0, 0.95: 0}
    if bands is None:
        return inside, 0, msis
    seen = np.isfinite(actual)
    for level in inside:
        lower, upper = bands.bounds(forecast, rate, level)
        inside[level] = int(((actual >= lower) & (actual <= upper) & seen).sum())
        if level == 0.95:
            msis = metrics.interval_score(actual, lower, upper, 0.95) / scale
    return inside, int(seen.sum()), msis


def _coverage(inside: dict[float, int], counted: int, msis: np.ndarray) -> dict[str, float]:
    return {"coverage_80": inside[0.8] / counted if counted else float("nan"),
            "coverage_95": inside[0.95] / counted if counted else float("nan"),
            "msis": float(np.nanmean(msis)) if np.isfinite(msis).any() else float("nan")}


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
        part, count, msis[judge] = _judged(bands, actual[judge], forecast[judge], rate[judge], scale[judge])
        inside = {level: inside[level] + part[level] for level in inside}
        counted += count
    return _coverage(inside, counted, msis)


def _interval_scores(actual: np.ndarray, forecast: np.ndarray, rates: np.ndarray,
                     scale: np.ndarray) -> dict[str, float]:
    """Coverage of the 80 and 95% bounds and MSIS at 95% on the last window [:, 0] of `actual`/`forecast`
    [n, windows, steps], with bands learned on the earlier windows' errors (as serving learns them from the
    past); with one window, cross-fitted over the two halves of the products instead."""
    if actual.shape[1] < 2:
        return _cross_fitted(actual[:, 0], forecast[:, 0], rates[:, 0], scale)
    bands = fit_bands(actual[:, 1:], forecast[:, 1:], rates[:, 1:], WINDOW_HALF_LIFE)
    return _coverage(*_judged(bands, actual[:, 0], forecast[:, 0], rates[:, 0], scale))
