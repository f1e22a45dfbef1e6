"""Lead-time demand as a distribution: which family, its service-level quantile and the fill rate it gives.

Inputs per product are the forecast's own numbers: the mean demand over the protection interval `mean`
(units) and its variance `variance` (units^2: the forecast's out-of-sample daily error variance times the
days, plus the review undershoot). The family:

- `normal` where demand is smooth: the count distribution with that mean and variance is only mildly skewed
  (skewness below `SMOOTH_SKEW` = 0.5: a Poisson count of 4 or more units, a lead time's error within about
  25% of its level), or the quantities are not whole units (weights, litres);
- `poisson` for whole-unit demand whose errors are no wider than a Poisson count's (variance <= mean);
- `negative_binomial` for the other whole-unit demand: slow and lumpy movers selling 0-3 a day, whose
  lead-time demand is a skewed count. Its dispersion is the forecast's: mean and variance are matched
  (n = mean^2 / (variance - mean), p = mean / variance).

The reorder point is the smallest stock level whose probability of covering the lead-time demand is at
least the service level (the cycle service level; a whole number for the count families). The expected
fill rate of an (r, Q) policy is 1 - E[(D - r)+] / Q: the expected units short per cycle over the lot.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

Family = Literal["normal", "poisson", "negative_binomial"]
SMOOTH_SKEW = 0.5  # skewness under which the normal's service-level quantile is close to the count's
MAX_COUNT_CELLS = 20_000_000  # bounds the loss-function grid of the count families


@dataclass(frozen=True)
class LeadTimeDemand:
    """Per product: the family, its reorder point at the service level and the expected fill rate."""

    family: np.ndarray  # <U17[n]
    reorder_point: np.ndarray  # float64[n], units
    expected_shortage: np.ndarray  # float64[n], E[(D - reorder_point)+] per cycle, units
    fill_rate: np.ndarray  # float64[n] in [0, 1]


def count_skewness(mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Skewness of the count with this mean and variance: (2 v - m) / (m sqrt(v)); inf at mean 0."""
    v = np.maximum(variance, mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean > 0, (2 * v - mean) / (mean * np.sqrt(v)), np.inf)


def choose_family(mean: np.ndarray, variance: np.ndarray, whole_units: np.ndarray) -> np.ndarray:
    """`normal`, `poisson` or `negative_binomial` per product (see the module docstring)."""
    smooth = count_skewness(mean, variance) < SMOOTH_SKEW
    counts = np.where(variance > mean * (1 + 1e-9), "negative_binomial", "poisson")
    return np.where(smooth | ~whole_units, "normal", counts)


def _normal(mean: np.ndarray, sd: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    z = stats.norm.ppf(level)
    point = mean + z * sd
    loss = sd * (stats.norm.pdf(z) - z * stats.norm.sf(z))  # sigma x the standard normal loss function
    return point, loss


def _count(mean: np.ndarray, variance: np.ndarray, negative_binomial: np.ndarray,
           level: float) -> tuple[np.ndarray, np.ndarray]:
    """Quantile and expected shortage E[(D - r)+] = mean - sum_{k<r} P(D > k) of Poisson / NB counts."""
    excess = np.maximum(variance - mean, 1e-12)
    size = np.where(negative_binomial, mean**2 / excess, 1.0)
    prob = np.where(negative_binomial, mean / np.maximum(variance, np.maximum(mean, 1e-12)), 0.5)
    point = np.where(negative_binomial, stats.nbinom.ppf(level, size, prob), stats.poisson.ppf(level, mean))
    point = np.where(mean > 0, point, 0.0)
    width = int(point.max()) + 1 if point.size else 1
    loss = np.empty(mean.size)
    rows = max(1, MAX_COUNT_CELLS // width)
    for start in range(0, mean.size, rows):  # chunks bound the grid: [rows, width] cells at a time
        part = slice(start, start + rows)
        k = np.arange(width)[None, :]
        tail = np.where(negative_binomial[part, None],
                        stats.nbinom.sf(k, size[part, None], prob[part, None]),
                        stats.poisson.sf(k, mean[part, None]))
        covered = np.where(k < point[part, None], tail, 0.0).sum(axis=1)  # E[min(D, r)]
        loss[part] = np.maximum(mean[part] - covered, 0.0)
    return point, loss


def lead_time_demand(mean: np.ndarray, variance: np.ndarray, whole_units: np.ndarray, level: float,
                     lot: np.ndarray) -> LeadTimeDemand:
    """Reorder points at the cycle service level `level` and the fill rate with lots of `lot` units.

    Args:
        mean: float64[n] expected demand over the protection interval (units, >= 0).
        variance: float64[n] its variance (units^2, >= 0).
        whole_units: bool[n], True where the product sells in whole units (count families allowed).
        level: target cycle service level in (0, 1).
        lot: float64[n] units received per order (the fill rate's denominator; at least one unit).
    """
    mean = np.maximum(np.asarray(mean, dtype=np.float64), 0.0)
    variance = np.maximum(np.asarray(variance, dtype=np.float64), 0.0)
    family = choose_family(mean, variance, np.asarray(whole_units, dtype=bool))
    point, loss = _normal(mean, np.sqrt(variance), level)
    counted = family != "normal"
    if counted.any():
        count_point, count_loss = _count(mean[counted], variance[counted], family[counted] == "negative_binomial",
                                         level)
        point[counted], loss[counted] = count_point, count_loss
    fill = np.clip(1.0 - loss / np.maximum(lot, 1.0), 0.0, 1.0)
    return LeadTimeDemand(family=family, reorder_point=point, expected_shortage=loss, fill_rate=fill)


def lead_time_dispersion(history: np.ndarray, days: np.ndarray, window: int = 28, period: int = 7) -> np.ndarray:
    """The negative binomial's extra dispersion phi (variance = mean + phi mean^2) of `days`-day demand totals,
    from the out-of-sample errors of two simple forecasts of them at every origin of `history` after the
    product's first sale: the trailing `window`-day mean, and the mean of the same days of the week over the
    `window // period` weeks before (a bakery's Saturday is not its Tuesday: the flat mean's misses on a
    weekday pattern are errors the forecast does not make). phi = (mean square error - mean) / mean^2, at
    least 0, of whichever of the two forecasts erred less (the forecast is at least as good as the better simple
    one); NaN with under 8 origins or no demand.

    Daily backtest errors times the days assume the days' errors are independent; a lead time's errors are
    not (a level that drifts misses on every day of it). Relative to the level, the dispersion carries over
    to the forecast's own mean.

    Args:
        history: float64[n, T] daily units (open days), oldest first, days without sales 0.
        days: int64[n] protection interval per product (days, >= 1).
        period: days of a week in `history` (open weekdays, when closed weekdays were left out).
    """
    n, length = history.shape
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(history, axis=1)], axis=1)
    started = history > 0
    first = np.where(started.any(axis=1), started.argmax(axis=1), length)
    origin = np.arange(window, length)[None, :]  # after day origin - 1: the forecasts cover the next days
    rows = np.arange(n)[:, None]
    end = origin + days[:, None]
    valid = (end <= length) & (origin - window >= first[:, None])
    actual = cumulative[rows, np.minimum(end, length)] - cumulative[rows, origin]
    flat = (cumulative[rows, origin] - cumulative[rows, origin - window]) / window * days[:, None]
    period = min(max(period, 1), window)
    weeks = window // period
    whole, rest = np.divmod(days, period)  # whole weeks take the weeks' mean total, the rest their own days
    by_weekday = whole[:, None] * (cumulative[rows, origin] - cumulative[rows, origin - weeks * period]) / weeks
    for back in range(1, weeks + 1):
        ahead = origin - back * period
        by_weekday += (cumulative[rows, ahead + rest[:, None]] - cumulative[rows, ahead]) / weeks
    count = valid.sum(axis=1)
    phis = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for level in (flat, by_weekday):
            mean_square = np.where(valid, (actual - level) ** 2, 0.0).sum(axis=1) / count  # a biased level counts
            mean = np.where(valid, level, 0.0).sum(axis=1) / count
            phis.append(np.where((count >= 8) & (mean > 0), np.maximum(mean_square - mean, 0.0) / mean**2, np.nan))
    return np.fmin(*phis)
