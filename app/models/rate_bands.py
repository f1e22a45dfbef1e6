"""Prediction intervals from out-of-sample errors, per horizon step and per sales-rate band.

A product selling 0.3 a day and one selling 300 do not share an error distribution, so the
errors of a backtest are pooled per band of sales rate (quintiles of the products' recent
level) and per bucket of horizon steps. Within a band an error is scaled by its forecast (at least the
band's typical rate) to a power estimated from the same errors (`spread_power`: the slope of log mean
|error| on log forecast, between 0.5 and 1): Poisson-like demand spreads with the square root of its level,
a shop's bread with its level itself (on the bakery's export the slope is ~0.7), so products of different
size pool without the small ones' intervals being the big ones'. Each (band, bucket) keeps a
grid of quantiles, so any interval level is read off without the errors; bounds widen (never
narrow) with the horizon, and grow with sqrt(step) past the backtested one. The widening is the
least-squares monotone fit of the buckets' quantiles (`monotone`), not their running maximum: a bucket's
quantile is a noisy estimate, and the running maximum lent every later bucket the noisiest one's width
(the bakery's first week is its narrowest, the next three 1.58 / 1.24 / 1.50 units at 80 %: all became 1.58).
A cell's quantiles are numpy's "weibull" ones (the k-th of n sorted errors at level k / (n + 1)): a new error
falls below the k-th of n exchangeable ones with probability k / (n + 1), so a small cell's tails are not
read too narrow (the default interpolation lent 150 errors' 95 % bounds about 94 % coverage). A cell cannot
resolve levels past its smallest and largest errors' (1 / (n + 1) and n / (n + 1)): there it reads its band's
errors of every bucket pooled when those reach further (`_resolved`). One product's three 28-day backtest
windows (a per-request forecast) hold 21 errors a bucket: their 95 % bounds were its extremes, which hold a new
error with probability 20 / 22.
Every product counts once: the errors of a product scored on k backtest windows weigh 1 / k each (the shop
model's trees are scored on fewer windows than the local families when their earliest fit has too little
history, and the served window holds every product once; counting errors lent walmart's local-family
products, scored on twice the windows and with wider errors, twice their share). With a `half_life` (in windows,
the latest first) a product's windows share its weight unequally, each earlier one half as much per half-life:
the errors nearest the served forecast's conditions weigh most (the shop model's; a request's models are refitted
at every origin and keep equal windows).

A product's floor never exceeds its own recent rate (down to its band's slow-mover floor): the lowest band's
floor is its 10th-percentile rate, and the products below that rate were scaled by it. On walmart-weekly (dollar
sales, a lowest band of 0-2,300 $ a week) the forecasts under that floor, a tenth of the band's, covered 92.8 / 91.7 %
at 80 % on two 13-week windows before the benchmark's training end (the band's others 82.9 / 79.0); with their own
rate 80.5 / 78.7.

A small shop (under 2 x MIN_BAND_PRODUCTS products) has one band: its products' errors are pooled,
whatever their rate. Bands need MIN_ERRORS held-out errors in all; below that there are none.
"""

from dataclasses import dataclass

import numpy as np

from app.models.panel import Panel
from app.models.shop_features import BASE_WINDOW

GRID = np.linspace(0.0, 1.0, 401)
BANDS = 5
MIN_ERRORS = 20
MIN_BAND_PRODUCTS = 20
BUCKETS = 4
POWERS = (0.5, 1.0)  # the spread power's range: Poisson-like to proportional
SPREAD_BINS = 10
SPREAD_SPAN = 4.0  # the bins' forecasts must span this factor for a slope (one product's do not: noise)
FLOOR_QUANTILE = 0.1  # the lowest band's floor: a low rate of it
SLOW_RATE = 1.0  # units per period: below it a band's median rate floors its unit
FEW_PRODUCTS_FLOOR = 0.5  # a band of under MIN_BAND_PRODUCTS products: its floor's share of its low rate (`_floors`)
RESOLVED_TAIL = 3  # errors beyond a tail quantile for a cell to read that tail itself (`RateBands.resolves`)


def monotone(values: np.ndarray) -> np.ndarray:
    """The least-squares non-decreasing fit float64[k] of `values` [k] (pool adjacent violators)."""
    means: list[float] = []  # the pooled runs' means and lengths
    counts: list[int] = []
    for value in values.tolist():
        means.append(value)
        counts.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            mean, count = means.pop(), counts.pop()
            means[-1] = (means[-1] * counts[-1] + mean * count) / (counts[-1] + count)
            counts[-1] += count
    return np.repeat(np.array(means, dtype=np.float64), counts)


def _unit(forecast: np.ndarray, floor: np.ndarray, power: float) -> np.ndarray:
    return np.maximum(np.nan_to_num(forecast, nan=0.0), floor) ** power


def _row_floors(floors: np.ndarray, slow_floors: np.ndarray | None, band: np.ndarray,
                rate: np.ndarray) -> np.ndarray:
    """float64[rows, 1]: each row's forecast floor, its band's (`floors`) but never above the row's own `rate`
    (NaN: the band's), nor under the band's slow-mover floor (`slow_floors`; None, bands fitted before it: the
    band's floor for every row)."""
    if slow_floors is None:
        return floors[band][:, None]
    own = np.fmin(floors[band], rate)
    return np.maximum(np.maximum(own, slow_floors[band]), 1e-3)[:, None]


def spread_power(actual: np.ndarray, forecast: np.ndarray) -> float:
    """How backtest errors grow with the forecast: the least-squares slope of log mean |error| on log median
    forecast over SPREAD_BINS equal-count bins of the positive forecasts, clipped to POWERS (the low end when
    fewer than three bins have errors, or their forecasts span less than SPREAD_SPAN times)."""
    seen = np.isfinite(actual) & np.isfinite(forecast) & (forecast > 0)
    error, level = np.abs(actual - forecast)[seen], forecast[seen]
    if level.size < MIN_ERRORS:
        return POWERS[0]
    edges = np.quantile(level, np.linspace(0.0, 1.0, SPREAD_BINS + 1))
    bin_of = np.clip(np.searchsorted(edges, level, side="right") - 1, 0, SPREAD_BINS - 1)
    counts = np.bincount(bin_of, minlength=SPREAD_BINS)
    mean_error = np.bincount(bin_of, error, SPREAD_BINS) / np.maximum(counts, 1)
    middle = np.array([np.median(level[bin_of == k]) if counts[k] else 0.0 for k in range(SPREAD_BINS)])
    usable = (counts > 0) & (mean_error > 0) & (middle > 0)
    if np.unique(middle[usable]).size < 3 or middle[usable].max() < SPREAD_SPAN * middle[usable].min():
        return POWERS[0]
    slope = np.polyfit(np.log(middle[usable]), np.log(mean_error[usable]), 1)[0]
    return float(np.clip(slope, *POWERS))


@dataclass(frozen=True)
class RateBands:
    """Quantile grids of scaled errors per sales-rate band and horizon bucket."""

    edges: np.ndarray  # float64[bands - 1], rate boundaries
    floors: np.ndarray  # float64[bands], the band's median rate (the smallest error unit)
    bucket_of_step: np.ndarray  # int64[steps]
    quantiles: np.ndarray  # float64[bands, buckets, len(GRID)]
    power: float = 0.5  # errors are scaled by max(forecast, floor) ** power (bands fitted before it: 0.5)
    slow_floors: np.ndarray | None = None  # float64[bands]: a row's floor is min(band's, own rate), never under this
    cell_errors: np.ndarray | None = None  # int64[bands, buckets]: the errors each cell's quantiles were read from

    @property
    def steps(self) -> int:
        return int(self.bucket_of_step.size)

    def band(self, rate: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.edges, rate, side="right")

    def resolves(self, rate: np.ndarray, horizon: int, tail: float) -> np.ndarray:
        """bool[n, horizon]: whether the cell of each product (of recent `rate` [n]) and step holds at least
        RESOLVED_TAIL errors beyond a `tail` quantile (False for bands fitted before the counts were kept)."""
        if self.cell_errors is None:
            return np.zeros((rate.size, horizon), dtype=bool)
        bucket = self.bucket_of_step[np.minimum(np.arange(horizon), self.steps - 1)]
        return self.cell_errors[self.band(rate)][:, bucket] * tail >= RESOLVED_TAIL

    def bounds(self, forecast: np.ndarray, rate: np.ndarray, coverage: float,
               spread: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds [n, h] around `forecast` [n, h] for products of recent `rate` [n], each
        product's error unit times its `spread` [n] (bands fitted with `fit_bands`'s `spread`)."""
        horizon = forecast.shape[1]
        band = self.band(rate)
        tail = (1 - coverage) / 2
        low = np.array([[np.interp(tail, GRID, q) for q in grids] for grids in self.quantiles])  # [bands, buckets]
        high = np.array([[np.interp(1 - tail, GRID, q) for q in grids] for grids in self.quantiles])
        low = -np.array([monotone(-np.minimum(row, 0.0)) for row in low])  # widening with the horizon
        high = np.array([monotone(np.maximum(row, 0.0)) for row in high])
        step = np.arange(horizon)
        bucket = self.bucket_of_step[np.minimum(step, self.steps - 1)]
        growth = np.sqrt(np.maximum(step + 1, self.steps) / self.steps)
        unit = _unit(forecast, _row_floors(self.floors, self.slow_floors, band, rate), self.power)
        if spread is not None:
            unit = unit * spread[:, None]
        lower = forecast + low[band][:, bucket] * growth * unit
        upper = forecast + high[band][:, bucket] * growth * unit
        return np.clip(np.minimum(lower, forecast), 0.0, None), np.maximum(upper, forecast)


def band_edges(rate: np.ndarray) -> np.ndarray:
    """Rate boundaries float64[bands - 1] of the products' `rate` (quantiles; one band under 2 x MIN_BAND_PRODUCTS
    products); a product's band is `np.searchsorted(edges, rate, side="right")`."""
    count = int(max(1, min(BANDS, rate.size // MIN_BAND_PRODUCTS)))
    return np.unique(np.quantile(rate, np.arange(1, count) / count)) if count > 1 else np.zeros(0)


def _floors(rate: np.ndarray, band: np.ndarray, scored: np.ndarray, edges: np.ndarray,
            windows: int) -> tuple[np.ndarray, np.ndarray]:
    """float64[bands] twice: the smallest forecast an error is scaled by, per band: the band's lower rate edge
    (its FLOOR_QUANTILE rate for the lowest band), never under the band's median rate when that is below
    SLOW_RATE; and that slow-mover part alone (a product below its band's floor is scaled by its own rate, never
    under it: `_row_floors`). `rate`, `band` and `scored` are per product and window (`windows` rows a product).
    A band of fewer than MIN_BAND_PRODUCTS products (a request's few) floors at FEW_PRODUCTS_FLOOR of that: one
    product's 10th-percentile rate is its own, which floored every forecast under its mean, so the bakery's quiet
    weekdays got its busy ones' width (one article a request, `python -m bench.per_request`: 88.0 / 97.1 % of the
    28 days after the split inside the 80 / 95 % bounds, MSIS 5.21; with half the rate 86.5 / 96.8, 5.08;
    store-item's 62 products 82.0 -> 80.8 %, MSIS 4.29 -> 4.18; M5 and walmart within 0.5 points). Half, not
    less: a quarter put the same figures within 0.2 points, but a backtest window in a stock-out (forecast ~0,
    then the usual sales) made errors of many units, and a 95 % upper bound five times the product's rate
    (tests/models/test_auto.py).

    Not the median everywhere: that lent every product below a band's median the median product's unit. But
    a slow mover's errors are whole units whatever its forecast (0.02 or 0.2 a day), so slow bands keep their
    median."""
    floors, slow = np.ones(edges.size + 1), np.full(edges.size + 1, 1e-3)
    for b in range(edges.size + 1):
        rows = scored & (band == b)
        members = rate[rows]
        if members.size:
            slow[b] = max(min(float(np.median(members)), SLOW_RATE), 1e-3)
            low = edges[b - 1] if b >= 1 else np.quantile(members, FLOOR_QUANTILE)
            if np.unique(np.flatnonzero(rows) // windows).size < MIN_BAND_PRODUCTS:
                low = low * FEW_PRODUCTS_FLOOR
            floors[b] = max(low, slow[b])
    return np.maximum(floors, 1e-3), slow


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """float64[len(GRID)]: the GRID quantiles of `values` [m] whose each value counts `weights` [m] times, the
    k-th of the sorted values read at level (its cumulative weight) / (total + mean weight): numpy's "weibull"
    k / (m + 1) when the weights are equal."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return np.interp(GRID, cumulative / (cumulative[-1] + weights.mean()), values[order])


def _resolved(values: np.ndarray, weights: np.ndarray, pooled: np.ndarray) -> np.ndarray:
    """The GRID quantiles of a cell's `values`, its tails past its first and last sorted value's level (which
    m values cannot resolve: numpy's weibull reads 1 / (m + 1) and below as the smallest) widened to
    `pooled`'s there when those are wider."""
    own = _weighted_quantiles(values, weights)
    edge = weights.min() / (weights.sum() + weights.mean())
    outside = np.minimum(GRID, 1 - GRID) < edge
    low, high = outside & (GRID < 0.5), outside & (GRID > 0.5)
    own[low] = np.minimum(own[low], pooled[low])
    own[high] = np.maximum(own[high], pooled[high])
    return own


def fit_bands(actual: np.ndarray, forecast: np.ndarray, rate: np.ndarray,
              half_life: float | None = None, spread: np.ndarray | None = None) -> RateBands | None:
    """Bands from backtest `actual` and `forecast` [n, windows, steps] (or [n, steps]: one window; NaN = not
    evaluated) of products whose rate before each window was `rate` [n, windows] (or [n]); None with fewer
    than MIN_ERRORS scored errors. Each band holds at least MIN_BAND_PRODUCTS products (one band, every
    product's errors, below that). Every product counts once whatever the number of windows it was scored
    on: its errors weigh 1 / that number, or, with `half_life` (windows), its windows' shares of its weight halve
    every `half_life` windows back from the latest (window 0). With `spread` [n, windows] (or [n] with one window's
    [n, steps]), each window's errors are read in units of that factor (`app.models.disagreement`), and bounds take
    the product's factor now."""
    if actual.ndim == 2:
        actual, forecast, rate = actual[:, None], forecast[:, None], rate[:, None]
        spread = None if spread is None else spread[:, None]
    seen = np.isfinite(actual - forecast).any(axis=2) & np.isfinite(rate)  # [n, windows]
    recency = (np.ones(actual.shape[1]) if half_life is None
               else 0.5 ** (np.arange(actual.shape[1]) / half_life))[None, :]  # [1, windows], latest first
    share = np.where(seen, recency, 0.0)
    share = share / np.maximum(share.sum(axis=1, keepdims=True), 1e-12)
    windows, steps = actual.shape[1:]
    actual, forecast = actual.reshape(-1, steps), forecast.reshape(-1, steps)
    rate, weight = rate.reshape(-1), np.where(share.reshape(-1) > 0, share.reshape(-1), 1.0)
    scored = np.isfinite(actual).any(axis=1) & np.isfinite(forecast).any(axis=1) & np.isfinite(rate)
    if np.isfinite(actual[scored] - forecast[scored]).sum() < MIN_ERRORS:
        return None
    edges = band_edges(rate[scored])
    band = np.searchsorted(edges, rate, side="right")
    floors, slow_floors = _floors(rate, band, scored, edges, windows)
    buckets = min(BUCKETS, steps)
    bucket_of_step = np.minimum(np.arange(steps) * buckets // steps, buckets - 1)
    power = spread_power(actual[scored], forecast[scored])
    unit = _unit(forecast, _row_floors(floors, slow_floors, band, rate), power)
    errors = (actual - forecast) / (unit if spread is None else unit * spread.reshape(-1)[:, None])
    weights = np.broadcast_to(weight[:, None], errors.shape)
    quantiles = np.zeros((edges.size + 1, buckets, GRID.size))
    cell_errors = np.zeros((edges.size + 1, buckets), dtype=np.int64)
    finite = np.isfinite(errors)
    everything = _weighted_quantiles(errors[finite], weights[finite])
    for b in range(edges.size + 1):
        members = finite & ((band == b) & scored)[:, None]
        pooled = _weighted_quantiles(errors[members], weights[members]) if members.sum() >= 20 else everything
        for k in range(buckets):
            cell = members & (bucket_of_step == k)[None, :]
            quantiles[b, k] = (_resolved(errors[cell], weights[cell], pooled) if cell.sum() >= 20 else pooled)
            read = cell if cell.sum() >= 20 else members if members.sum() >= 20 else finite
            cell_errors[b, k] = read.sum()
    return RateBands(edges, floors, bucket_of_step, quantiles, power, slow_floors, cell_errors)


def recent_rate(panel: Panel) -> np.ndarray:
    """float64[n]: each product's mean over its last BASE_WINDOW periods (its sales-rate band)."""
    lo = np.maximum(panel.n_periods - BASE_WINDOW[panel.step], panel.start)
    tail = np.where(np.arange(panel.n_periods)[None, :] >= lo[:, None], panel.values, 0.0)
    return tail.sum(axis=1) / np.maximum(panel.n_periods - lo, 1)
