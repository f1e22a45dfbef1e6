"""Each product's normal daily demand, to tell an unusual day from a usual one.

The model of a product-day is a negative binomial count: mean `expected[i, t]`, variance
mean + dispersion[i] x mean^2 (dispersion 0 is Poisson). The mean comes from one of two models:

- dense products (DENSE_LEVEL units or more per open day, 4 weeks or more observed): statsmodels' STL
  (period 7, robust) of the product's series from its first sale; expected = trend + weekday component, so
  the weekday pattern may drift and the trend follows the season. Closed days are filled with the count
  model's mean before the decomposition (they are not demand) and are never scored.
- the others (slow movers): level x weekday factor. The weekday factor is the product's mean units on that
  weekday over its mean units per open day, shrunk towards 1 by PRIOR_UNITS pseudo-units (a product selling
  0.3 a day has no reliable weekday pattern); the level is the mean of units / weekday factor over the
  learned open days of the 29 days centred on the day (LEVEL_DAYS[0]), the day itself left out, shrunk towards the
  product's overall rate by PRIOR_DAYS days, so a slow season or a product's first weeks still have a small
  positive mean.

The dispersion is a moment estimate per product, sum((y - mean)^2 - mean) / sum(mean^2) over its scored
days, the TRIM share of days farthest from the mean (in Pearson residuals) left out so the anomalies being
looked for do not widen the normal range. A day with MIN_WINDOW_DAYS learned open days in its 29-day window is
`near`: judged on both sides, and read by the dispersion and the runs. A day farther from them (inside or next to
a long stock-out, whose days are left out, below) gets the level of the first wider window (LEVEL_DAYS: 91, 183,
365, 731 days) with that many, and is judged for spikes only: a sale of 4x the product's level on a day it was
mostly out of stock is a spike against its level, not against the stock-out's zeros (nor, as before 2026-12-06,
left unjudged: 6 of 200 spikes injected on M5 were); a low day there is part of the stock-out. A dense product's
days are all near (STL reads every day; its gaps are filled with the count model's level, not its overall rate).

Days without a sale are also judged as runs: consecutive open days with nothing sold (closed days between them
skipped), the run's probability being the product of its days' P(Y = 0). A run at or below GAP_TAIL (a shelf gap,
a stock-out, a product taken off sale) is not normal demand, nor is a slow mover's day in the upper tail at or
below GAP_TAIL (STL is robust to those by itself): the model is fitted a second time for the products with one,
those days left out of the level, the weekday pattern, STL and the dispersion, so a two-week stock-out neither
lowers the level around it nor widens the normal range, and a promotion's day does not lift its neighbours'.

A dense product's days in either tail at or below MEAN_TAIL in the first fit are left out of its second STL too
(filled with the count model's mean), not of its dispersion: STL's robustness weights barely lower one day, and
an empty day of an item selling 14 a day pulled its own STL mean to 6.5.

Each product's dispersion is then taken halfway to the request's typical one (`_shrunk`): the median of the
positive dispersions of its products selling TYPICAL_RATE units or more per open day (below that an estimate rests
on a few sales and is mostly 0). One product's moment estimate is a noisy measure of its spread, and a biased one
for what is looked for: it squares each day's distance from the mean, so the promotion days the TRIM leaves in (the
request carries no prices) set the spread of every other day, and a real M5 item expected to sell 7 with its
dispersion of 0.62 had a day of 39 units as a once-in-650-days event (not flagged at the default rate); and about
half of M5's items have a trimmed estimate of 0 (the trim takes a Poisson's own top days), whose busy days then
read as rarer than they are. Chosen on M5's
earlier two years (2012-05-24 .. 2014-05-22, three injection seeds): spikes of +4 x level found 0.845-0.855 ->
0.88-0.89 at 0.998% -> 1.01% of product-days flagged; a higher rate by `false_alerts_per_year` 1.15 (1.05%) found
0.85. Measured once on the benchmark's window afterwards (docs/decisions.md).

A day without a sale is judged with a dispersion of its own: the product's spread below its mean (the
dispersion whose variance, mean + a x mean^2, has the trimmed lower semivariance as a Poisson's share of it,
`_lower_share`; at most the dispersion). A product's spread is mostly upward (promotions, busy days), and one
dispersion from both sides made an empty day of an M5 item expected to sell 10 a day a once-in-20-days event
(dispersion 0.7: P(0) = 0.05), where the 823 items together have 253 lone days without a sale (runs of one) in
28,700 days expected to sell 8 or more.
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats

from app.utils.arrays import prefix_sums
from app.utils.dates import weekday

DENSE_LEVEL = 10.0
MIN_STL_DAYS = 28
LEVEL_DAYS = (29, 91, 183, 365, 731)
MIN_WINDOW_DAYS = 14
PRIOR_UNITS = 10.0
PRIOR_DAYS = 7.0
TRIM = 0.025
MIN_MEAN = 1e-3  # units: keeps the count model defined on a product that sold nothing around a day
STL_TREND_DAYS = 29
STL_SEASONAL_DAYS = 13
STL_OUTER_ITERATIONS = 3  # robustness passes: the first few do nearly all of the down-weighting of outliers
STL_MAX_DAYS = 500_000  # product-days decomposed by STL per request (a few seconds); slower sellers beyond: counts
MEAN_TAIL = 0.01  # a dense product's day this far out (either tail) is left out of the second fit's STL
TYPICAL_RATE = 1.0  # units per open day: a product selling less tells little of its spread (its estimate mostly 0)
GAP_TAIL = 1e-3  # a run of days without a sale (a slow mover's day) this unlikely is left out of the second fit


@dataclass(frozen=True)
class NormalDemand:
    """expected: float64[n, T] mean units (NaN where a day is not scored); near: bool[n, T], the days judged on both
    sides (the others only for spikes; module docstring); dispersion: float64[n];
    zero_dispersion: float64[n], the one P(Y = 0) reads (module docstring); dense: bool[n], True where the mean
    comes from STL; runs: the runs of days without a sale."""

    expected: np.ndarray
    near: np.ndarray
    dispersion: np.ndarray
    zero_dispersion: np.ndarray
    dense: np.ndarray
    runs: "ZeroRuns"


@dataclass(frozen=True)
class ZeroRuns:
    """Runs of consecutive open days without a sale, k of them: row, first and last day int64[k]; days int64[k]
    (open days in the run); run_of int64[n, T], the run of each such day (-1 elsewhere)."""

    row: np.ndarray
    first: np.ndarray
    last: np.ndarray
    days: np.ndarray
    run_of: np.ndarray


def zero_runs(units: np.ndarray, observed: np.ndarray) -> ZeroRuns:
    """The runs of observed days with units <= 0 (unobserved days between two such days skipped)."""
    rows, days = np.nonzero(observed)  # by row, then day
    zero = units[rows, days] <= 0
    new_row = np.r_[True, rows[1:] != rows[:-1]]
    starts = zero & (new_row | ~np.r_[False, zero[:-1]])
    ends = zero & np.r_[new_row[1:] | ~zero[1:], True]
    index = np.cumsum(starts) - 1
    run_of = np.full(units.shape, -1, dtype=np.int64)
    run_of[rows[zero], days[zero]] = index[zero]
    return ZeroRuns(rows[starts], days[starts], days[ends], np.bincount(index[zero], minlength=int(starts.sum())),
                    run_of)


def run_sums(runs: ZeroRuns, values: np.ndarray) -> np.ndarray:
    """Sum of values [n, T] over each run's days (NaN counted as 0) -> float64[k]."""
    inside = runs.run_of >= 0
    return np.bincount(runs.run_of[inside], weights=np.nan_to_num(values[inside]), minlength=runs.row.size)


def log_zero_probability(expected: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """log P(Y = 0) under the negative binomial of each day (Poisson in the limit of dispersion 0)."""
    small = dispersion < 1e-8
    return -np.where(small, expected, np.log1p(dispersion * expected) / np.where(small, 1.0, dispersion))


def weekday_factors(units: np.ndarray, observed: np.ndarray, day_of_week: np.ndarray) -> np.ndarray:
    """Each product's weekday factor, shrunk towards 1 -> float64[n, 7].

    Args: units [n, T]; observed bool[n, T] (open days from the product's first sale); day_of_week int[T].
    """
    n = units.shape[0]
    totals, counts = np.zeros((n, 7)), np.zeros((n, 7))
    kept = np.where(observed, units, 0.0)
    for day in range(7):  # seven column slices, not a loop over products
        columns = day_of_week == day
        totals[:, day] = kept[:, columns].sum(axis=1)
        counts[:, day] = observed[:, columns].sum(axis=1)
    rate = totals.sum(axis=1) / np.maximum(counts.sum(axis=1), 1)
    return (totals + PRIOR_UNITS) / (counts * rate[:, None] + PRIOR_UNITS)


def _windowed(values: np.ndarray, half: int) -> np.ndarray:
    """Sum of values[:, t - half .. t + half] (clipped to the series) for each t -> [n, T]."""
    length = values.shape[1]
    sums = prefix_sums(values)
    t = np.arange(length)
    return sums[:, np.minimum(t + half + 1, length)] - sums[:, np.maximum(t - half, 0)]


def _count_mean(units: np.ndarray, learned: np.ndarray, observed: np.ndarray,
                factor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Level x weekday factor [n, T] and near bool[n, T], the days with MIN_WINDOW_DAYS learned days in the first
    of the LEVEL_DAYS windows. Farther from the learned days (inside or next to a long stock-out) the level is read
    in the first wider window with that many (NaN with none): a product's level, not the stock-out's zeros. The
    level is shrunk towards the product's rate over all its observed days: a slow mover whose few sales were left
    out of the learned days as spikes keeps the small positive mean those sales say it has."""
    adjusted = np.where(learned, units / factor, 0.0)
    counts = learned.astype(float)
    rate = (np.where(observed, units / factor, 0.0).sum(axis=1) / np.maximum(observed.sum(axis=1), 1))[:, None]

    def level(days: int) -> np.ndarray:
        window_units = _windowed(adjusted, days // 2) - adjusted
        window_days = _windowed(counts, days // 2) - counts
        shrunk = (window_units + PRIOR_DAYS * rate) / (window_days + PRIOR_DAYS)
        return np.where(window_days >= MIN_WINDOW_DAYS, shrunk, np.nan)

    mean = level(LEVEL_DAYS[0])
    near = np.isfinite(mean)
    for days in LEVEL_DAYS[1:]:
        if np.isfinite(mean).all():
            break
        mean = np.where(np.isfinite(mean), mean, level(days))
    return np.maximum(mean * factor, MIN_MEAN), near


def _stl_mean(series: np.ndarray) -> np.ndarray:
    """Trend + weekly component of one series (no NaN) by robust STL. The weekday subseries are smoothed by
    local means (seasonal_deg 0), not local lines: a line extrapolated to the series' last days, the ones a
    retailer reads first, put a Friday of a real M5 item selling about 20 a day at 0."""
    from statsmodels.tsa.seasonal import STL

    fit = STL(series, period=7, seasonal=STL_SEASONAL_DAYS, trend=STL_TREND_DAYS, robust=True,
              seasonal_jump=3, trend_jump=5, low_pass_jump=3, seasonal_deg=0).fit(outer_iter=STL_OUTER_ITERATIONS)
    return np.asarray(fit.trend + fit.seasonal)


def _dispersion(units: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Negative binomial dispersion per product (moment estimate, extremes trimmed) -> float64[n] >= 0."""
    scored = np.isfinite(expected)
    mean = np.where(scored, expected, 1.0)
    pearson = np.where(scored, (units - mean) ** 2 / mean, np.nan)
    ordered = np.sort(pearson, axis=1)  # NaN last
    position = np.floor((1 - TRIM) * np.maximum(scored.sum(axis=1) - 1, 0)).astype(np.int64)
    cut = np.take_along_axis(ordered, position[:, None], axis=1)
    kept = scored & (pearson <= cut)
    excess = np.where(kept, (units - mean) ** 2 - mean, 0.0).sum(axis=1)
    squares = np.where(kept, mean**2, 0.0).sum(axis=1)
    return np.maximum(excess / np.maximum(squares, 1e-12), 0.0)


def _shrunk(dispersion: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Each product's dispersion halfway to the request's typical one: the median of the positive dispersions of
    its products selling TYPICAL_RATE units or more per open day (module docstring) -> float64[n] >= 0.

    Args: dispersion float64[n] (the products' own moment estimates); rate float64[n] units per open day."""
    typical = dispersion[(dispersion > 0) & (rate >= TYPICAL_RATE)]
    if typical.size == 0:
        return dispersion
    return (dispersion + float(np.median(typical))) / 2


def _lower_share(mean: np.ndarray) -> np.ndarray:
    """E[(Y - mean)^2; Y < mean] / Var Y for Y Poisson(mean): the share of the variance below the mean (1/2 for a
    symmetric count, less for a skewed one: 0.42 at mean 3)."""
    below = np.ceil(mean) - 1  # the largest count under the mean
    f = [stats.poisson.cdf(below - j, mean) for j in range(3)]  # F(K), F(K - 1), F(K - 2)
    semivariance = mean**2 * f[2] + mean * f[1] - 2 * mean**2 * f[1] + mean**2 * f[0]
    return np.where(mean > 0, semivariance / np.maximum(mean, 1e-12), 0.5)


def _lower_dispersion(units: np.ndarray, expected: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """Each product's dispersion of the days below their mean, at most `dispersion`: the variance, mean + a x
    mean^2, whose share below the mean (a Poisson's, `_lower_share`) the product's lower semivariance matches
    (moment estimate, the TRIM share of days farthest below the mean left out) -> float64[n] >= 0."""
    scored = np.isfinite(expected)
    mean = np.where(scored, expected, 1.0)
    below = scored & (units < mean)
    pearson = np.where(below, (units - mean) ** 2 / mean, np.nan)
    ordered = np.sort(pearson, axis=1)
    position = np.floor((1 - TRIM) * np.maximum(below.sum(axis=1) - 1, 0)).astype(np.int64)
    cut = np.take_along_axis(ordered, position[:, None], axis=1)
    kept = below & (pearson <= cut)
    counted = scored & ~(below & ~kept)  # the days above the mean and the kept ones below it
    share = np.zeros(units.shape)
    share[counted] = _lower_share(mean[counted])
    excess = np.where(kept, (units - mean) ** 2, 0.0).sum(axis=1) - (share * np.where(counted, mean, 0.0)).sum(axis=1)
    squares = (share * np.where(counted, mean**2, 0.0)).sum(axis=1)
    return np.minimum(np.maximum(excess / np.maximum(squares, 1e-12), 0.0), dispersion)


def _dense(rate: np.ndarray, days: np.ndarray, length: int) -> np.ndarray:
    """bool[n]: products modelled by STL, the best sellers first while their series fit in STL_MAX_DAYS."""
    candidates = np.flatnonzero((rate >= DENSE_LEVEL) & (days >= MIN_STL_DAYS))
    ranked = candidates[np.argsort(-rate[candidates], kind="stable")]
    dense = np.zeros(rate.shape[0], dtype=bool)
    dense[ranked[np.cumsum(np.full(ranked.size, length)) <= STL_MAX_DAYS]] = True
    return dense


def _fit(units: np.ndarray, observed: np.ndarray, learned: np.ndarray, day_of_week: np.ndarray,
         dense: np.ndarray, rate: np.ndarray,
         spread: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected units [n, T] on observed days (NaN elsewhere) learned from `learned` days, near bool[n, T] (the
    days both tails are judged on: every observed day of a dense product) and dispersion [n] from the near
    `spread` days (default: the learned ones)."""
    factor = weekday_factors(units, learned, day_of_week)[:, day_of_week]
    expected, near = _count_mean(units, learned, observed, factor)
    start = np.argmax(observed, axis=1)
    for i in np.flatnonzero(dense):
        fill = np.where(np.isfinite(expected[i]), expected[i], rate[i])
        series = np.where(learned[i], units[i], fill)[start[i]:]
        expected[i, start[i]:] = np.maximum(_stl_mean(series), MIN_MEAN)
        near[i, start[i]:] = True
    spread = near & (learned if spread is None else spread)
    expected = np.where(observed, expected, np.nan)
    return expected, near & observed, _dispersion(units, np.where(spread, expected, np.nan))


def normal_demand(units: np.ndarray, observed: np.ndarray, first_day: int) -> NormalDemand:
    """The model of each product's usual day (module docstring).

    Args: units float64[n, T] net units per day (negative days as 0); observed bool[n, T], True on open days
    from the product's first sale; first_day: day number (since 1970-01-01) of column 0.
    """
    day_of_week = weekday(first_day + np.arange(units.shape[1]))
    days = observed.sum(axis=1)
    rate = np.where(observed, units, 0.0).sum(axis=1) / np.maximum(days, 1)
    dense = _dense(rate, days, units.shape[1])
    expected, near, dispersion = _fit(units, observed, observed, day_of_week, dense, rate)
    runs = zero_runs(units, observed)
    empty = log_zero_probability(np.where(near, expected, np.nan), dispersion[:, None])
    gap_runs = run_sums(runs, empty) <= np.log(GAP_TAIL)
    left_out = (runs.run_of >= 0) & np.r_[gap_runs, False][runs.run_of]  # run -1 (no run) reads the False
    rows, columns = np.nonzero(np.isfinite(expected))
    upper, lower = tail_probabilities(units[rows, columns], expected[rows, columns], dispersion[rows])
    slow_spike = (upper <= GAP_TAIL) & ~dense[rows]  # slow movers' spikes are left out of the spread too
    left_out[rows[slow_spike], columns[slow_spike]] = True
    outside = left_out.copy()  # a dense product's days far out are left out of its STL, not of its spread
    tails = (np.minimum(upper, lower) <= MEAN_TAIL) & dense[rows]
    outside[rows[tails], columns[tails]] = True
    again = np.flatnonzero(outside.any(axis=1))
    if again.size:
        expected[again], near[again], dispersion[again] = _fit(
            units[again], observed[again], observed[again] & ~outside[again], day_of_week, dense[again], rate[again],
            observed[again] & ~left_out[again])
    dispersion = _shrunk(dispersion, rate)
    lower = _lower_dispersion(units, np.where(near & ~left_out, expected, np.nan), dispersion)
    return NormalDemand(expected, near, dispersion, lower, dense, runs)


def _distribution(expected: np.ndarray, dispersion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scipy's negative binomial (n, p) for mean and dispersion (Poisson in the limit of dispersion 0)."""
    size = 1.0 / np.maximum(dispersion, 1e-8)
    return size, size / (size + expected)


def tail_probabilities(units: np.ndarray, expected: np.ndarray, dispersion: np.ndarray) -> tuple[np.ndarray, ...]:
    """P(Y >= units) and P(Y <= units) under each day's model (arrays of one shape; non-integer units rounded
    away from the mean: up for the upper tail, down for the lower).

    Only days more than one standard deviation from their mean are computed; the others get 1 on both sides
    (a negative binomial has more than 5% of its mass beyond one standard deviation on either side that has
    any, and no sensitivity here flags a tail above 5%)."""
    sd = np.sqrt(expected + dispersion * expected**2)
    upper, lower = np.ones(units.shape), np.ones(units.shape)
    high, low = units >= expected + sd, units <= expected - sd
    size, p = _distribution(expected[high], dispersion[high])
    upper[high] = stats.nbinom.sf(np.ceil(units[high]) - 1, size, p)
    size, p = _distribution(expected[low], dispersion[low])
    lower[low] = stats.nbinom.cdf(np.floor(units[low]), size, p)
    return upper, lower


def usual_range(expected: np.ndarray, dispersion: np.ndarray, tail: float) -> tuple[np.ndarray, np.ndarray]:
    """The units between the `tail` and 1 - `tail` quantiles of each day's model."""
    size, p = _distribution(expected, dispersion)
    return stats.nbinom.ppf(tail, size, p), stats.nbinom.isf(tail, size, p)
