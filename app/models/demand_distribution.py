"""Lead-time demand as a distribution: which family, its service-level quantile and the fill rate it gives.

Inputs per product are the forecast's own numbers: the mean demand over the protection interval `mean`
(units) and its variance `variance` (units^2: the forecast's out-of-sample daily error variance times the
days, or the item's own lead-time dispersion). The family:

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
from scipy import special, stats

Family = Literal["normal", "poisson", "negative_binomial"]
SMOOTH_SKEW = 0.5  # skewness under which the normal's service-level quantile is close to the count's
MAX_COUNT_CELLS = 20_000_000  # bounds the loss-function grid of the count families
SILENCE_WINDOW = 28  # days: a silence this long is one the trailing-window forecasts see as no demand
MIN_SILENT_ORIGINS = 8  # past origins needed to read a silent product's lead-time demand off its history
WOKEN_SILENCE = SILENCE_WINDOW // 2  # days: a silence in the trailing window at least this long halves its level
WOKEN_PACE = 0.5  # a return selling under this share of the product's old pace is in doubt (`woken_level`)
WAKE_PRIOR_ORIGINS = 8  # the catalogue's rate of waking up weighs as this many of the product's own past origins
MIN_SILENCE_DAYS = 2  # open days without a sale: one is no silence (`after_silence`)
USUAL_GAP_SHARE = 0.1  # a silence at least this share of a product's gaps between selling days reached is its rhythm


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


def _normal(mean: np.ndarray, sd: np.ndarray, level: float,
            overshoot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reorder point s with E_U[P(D > s + U)] = 1 - level, U ~ uniform(0, overshoot), and E[(D - s)+].

    With periodic review the position at the last review that does not order is above s by U, up to one
    review's demand (`overshoot`, units): the protection interval's demand must exceed s + U for the cycle to
    fail. E_U[P(D > s + U)] = sd / overshoot x (G((s - mu) / sd) - G((s + overshoot - mu) / sd)), G the
    standard normal loss function; it lies between P(D > s + overshoot) and P(D > s), so s is found by
    bisection in [mu + z sd - overshoot, mu + z sd]. overshoot 0 gives the plain quantile mu + z sd.
    """
    z = stats.norm.ppf(level)
    safe_sd = np.maximum(sd, 1e-12)
    high = mean + z * sd
    low = high - overshoot
    spread = np.maximum(overshoot, 1e-12)

    def missed(point: np.ndarray) -> np.ndarray:
        a, b = (point - mean) / safe_sd, (point + overshoot - mean) / safe_sd
        averaged = safe_sd / spread * (_loss(a) - _loss(b))
        return np.where(overshoot > 1e-9 * np.maximum(sd, 1.0), averaged, special.ndtr(-a))

    for _ in range(50):
        middle = (low + high) / 2
        too_low = missed(middle) > 1 - level
        low, high = np.where(too_low, middle, low), np.where(too_low, high, middle)
    point = np.where(sd > 0, high, mean)
    loss = sd * _loss((point - mean) / safe_sd)  # sigma x the standard normal loss function at the point
    return point, loss


def _loss(z: np.ndarray) -> np.ndarray:
    """The standard normal loss function G(z) = E[(Z - z)+] (scipy.special's ndtr, not scipy.stats: the
    bisection calls it a hundred times a request and the distribution objects' argument checks cost 7x)."""
    return np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi) - z * special.ndtr(-z)


def _count(mean: np.ndarray, variance: np.ndarray, negative_binomial: np.ndarray, level: float,
           overshoot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reorder point of Poisson / NB counts averaged over a review's overshoot, as `_normal` does, and the expected
    shortage E[(D - r)+] = mean - sum_{k<r} P(D > k).

    The position at the last review that does not order is r + U, U uniform in (0, `overshoot`), and a whole-unit
    demand exceeds it when D > floor(r + U): the risk is E_U[P(D > r + floor(U))] = (sum_{j<w} P(D > r + j) +
    (overshoot - w) P(D > r + w)) / overshoot, w = floor(overshoot), P(D > r) for an overshoot under one unit (a
    slow mover: the plain quantile). The point is the smallest r >= 0 whose risk is at most 1 - level, at most
    the plain quantile."""
    excess = np.maximum(variance - mean, 1e-12)
    size = np.where(negative_binomial, mean**2 / excess, 1.0)
    prob = np.where(negative_binomial, mean / np.maximum(variance, np.maximum(mean, 1e-12)), 0.5)
    plain = np.where(negative_binomial, stats.nbinom.ppf(level, size, prob), stats.poisson.ppf(level, mean))
    plain = np.where(mean > 0, plain, 0.0)
    whole = np.floor(overshoot)
    width = int((plain + whole).max()) + 2 if plain.size else 1
    point, loss = np.zeros(mean.size), np.empty(mean.size)
    rows = max(1, MAX_COUNT_CELLS // width)
    for start in range(0, mean.size, rows):  # chunks bound the grid: [rows, width] cells at a time
        part = slice(start, start + rows)
        k = np.arange(width)[None, :]
        tail = np.where(negative_binomial[part, None],
                        stats.nbinom.sf(k, size[part, None], prob[part, None]),
                        stats.poisson.sf(k, mean[part, None]))  # P(D > k)
        below = np.concatenate([np.zeros((tail.shape[0], 1)), np.cumsum(tail, axis=1)], axis=1)  # sum_{j<k}
        r = np.arange(width - 1)[None, :]
        w = whole[part, None].astype(np.int64)
        last = np.take_along_axis(tail, np.minimum(r + w, width - 1), axis=1)
        spread = overshoot[part, None]
        averaged = (np.take_along_axis(below, np.minimum(r + w, width), axis=1) - below[:, :width - 1]
                    + (spread - w) * last) / np.maximum(spread, 1e-12)
        risk = np.where(spread >= 1.0, averaged, tail[:, :-1])
        ok = (risk <= 1 - level) | (r >= plain[part, None])
        point[part] = np.where(mean[part] > 0, ok.argmax(axis=1), 0.0)
        covered = np.where(k < point[part, None], tail, 0.0).sum(axis=1)  # E[min(D, r)]
        loss[part] = np.maximum(mean[part] - covered, 0.0)
    return point, loss


def lead_time_demand(mean: np.ndarray, variance: np.ndarray, whole_units: np.ndarray, level: float,
                     lot: np.ndarray, overshoot: np.ndarray | None = None) -> LeadTimeDemand:
    """Reorder points at the cycle service level `level` and the fill rate with lots of `lot` units.

    Args:
        mean: float64[n] expected demand over the protection interval (units, >= 0).
        variance: float64[n] its variance (units^2, >= 0).
        whole_units: bool[n], True where the product sells in whole units (count families allowed).
        level: target cycle service level in (0, 1).
        lot: float64[n] units received per order (the fill rate's denominator; at least one unit).
        overshoot: float64[n] one review's mean demand (units; default 0): how far above the reorder point the
            position can be at the last review that does not order (`_normal`, `_count`).
    """
    mean = np.maximum(np.asarray(mean, dtype=np.float64), 0.0)
    variance = np.maximum(np.asarray(variance, dtype=np.float64), 0.0)
    family = choose_family(mean, variance, np.asarray(whole_units, dtype=bool))
    overshoot = np.zeros(mean.size) if overshoot is None else np.maximum(np.asarray(overshoot, dtype=np.float64), 0)
    point, loss = _normal(mean, np.sqrt(variance), level, overshoot)
    counted = family != "normal"
    if counted.any():
        count_point, count_loss = _count(mean[counted], variance[counted], family[counted] == "negative_binomial",
                                         level, overshoot[counted])
        point[counted], loss[counted] = count_point, count_loss
    fill = np.clip(1.0 - loss / np.maximum(lot, 1.0), 0.0, 1.0)
    return LeadTimeDemand(family=family, reorder_point=point, expected_shortage=loss, fill_rate=fill)


def lead_time_dispersion(history: np.ndarray, days: np.ndarray, window: int = 28, period: int = 7) -> np.ndarray:
    """The negative binomial's extra dispersion phi (variance = mean + phi mean^2) of `days`-day demand totals,
    from the out-of-sample errors of two simple forecasts of them at every origin of `history` after the
    product's first sale: the trailing `window`-day mean, and the mean of the same days of the week over the
    `window // period` weeks before (a bakery's Saturday is not its Tuesday: the flat mean's misses on a
    weekday pattern are errors the forecast does not make). phi = (mean of error^2 - level) / (mean level)^2 over the
    origins in season (a level above 0), at least 0, of whichever of the two forecasts erred less (the forecast is
    at least as good as the better simple one); NaN with under 8 such origins.

    In season only: pooled over the whole year, a galette sold in January alone divides its January errors by a
    yearly mean close to 0 (phi 126 on 4 January 2022: a negative binomial whose 95% quantile is 0 for a mean of
    11.5); origins with a level of 0 (out of season, a silence) have no level to measure a spread against.
    Pooled over those origins, not weighted by each origin's level squared (sum (error^2 - level) / sum level^2,
    the textbook moment estimator, used at a92202b): that one lets the busiest weeks decide, while a level that
    changes with the season misses by more, relative to it, in the quieter weeks (a trailing mean lags both ways),
    and it cut every steady bakery product's phi by 10-20%: the inventory benchmark's bakery 90% cycle service
    level fell from 0.881 to 0.847 (M5 0.913 -> 0.903; store-item unchanged).

    Daily backtest errors times the days assume the days' errors are independent; a lead time's errors are
    not (a level that drifts misses on every day of it). Relative to the level, the dispersion carries over
    to the forecast's own mean.

    Args:
        history: float64[n, T] daily units (open days), oldest first, days without sales 0.
        days: int64[n] protection interval per product (days, >= 1).
        period: days of a week in `history` (open weekdays, when closed weekdays were left out).
    """
    n, length = history.shape
    if length == 0:  # no open day on record
        return np.full(n, np.nan)
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(history, axis=1)], axis=1)
    started = history > 0
    first = np.where(started.any(axis=1), started.argmax(axis=1), length)
    # the origins before every row's first sale + `window` are none of theirs: not computed, their zeros still
    # summed (the same sums bit for bit: a sum's pairwise order depends on where the zeros are). A year of history
    # of which 90 days sold: at-risk's reorder points on the service_speed payload 5.9 -> 2.6 ms
    skip = int(min(first.min(), max(length - window, 0)))
    origin = np.arange(window + skip, length)[None, :]  # after day origin - 1: the forecasts cover the next days

    def before(back: int) -> np.ndarray:  # the running total `back` days before each origin: a slice, no gather
        return cumulative[:, window + skip - back:length - back]

    rows = np.arange(n)[:, None]
    end = origin + days[:, None]
    valid = (end <= length) & (origin - window >= first[:, None])
    actual = cumulative[rows, np.minimum(end, length)] - before(0)
    flat = (before(0) - before(window)) / window * days[:, None]
    period = min(max(period, 1), window)
    weeks = window // period
    whole, rest = np.divmod(days, period)  # whole weeks take the weeks' mean total, the rest their own days
    by_weekday = whole[:, None] * (before(0) - before(weeks * period)) / weeks
    for back in range(1, weeks + 1):
        ahead = origin - back * period
        by_weekday += (cumulative[rows, ahead + rest[:, None]] - before(back * period)) / weeks
    phis = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for level in (flat, by_weekday):
            measured = valid & (level > 0)
            count = measured.sum(axis=1)
            excess = _with_zeros(np.where(measured, (actual - level) ** 2 - level, 0.0), skip)  # a biased level counts
            mean = _with_zeros(np.where(measured, level, 0.0), skip) / count
            phis.append(np.where(count >= 8, np.maximum(excess / count, 0.0) / mean**2, np.nan))
    return np.fmin(*phis)


def _with_zeros(values: np.ndarray, zeros: int) -> np.ndarray:
    """float64[n]: the row sums of `values` (float64[n, k]) after `zeros` leading zeros: numpy's pairwise sum of the
    same row, the same rounding."""
    return np.concatenate([np.zeros((values.shape[0], zeros)), values], axis=1).sum(axis=1)


@dataclass(frozen=True)
class AfterSilence:
    """Per product: the lead-time demand of a product in a silent spell, from what followed its earlier ones."""

    applies: np.ndarray  # bool[n]: silent for at least the protection interval and longer than its usual gaps,
    # with enough past origins
    mean: np.ndarray  # float64[n], units (0 where it does not apply)
    reorder_point: np.ndarray  # float64[n], the service-level quantile of the past totals, units
    expected_shortage: np.ndarray  # float64[n], E[(D - reorder_point)+] over the past totals, units
    origins: np.ndarray  # int64[n]: past origins the distribution is drawn from
    wake_probability: np.ndarray  # float64[n]: chance an empty shelf's silence ends within the days (1: own history)
    # what it is made of (0 where not read): the product's own past silences as long that ended within the days,
    # out of how many, and the share of the catalogue's that did, weighing WAKE_PRIOR_ORIGINS of its own
    own_wakes: np.ndarray  # float64[n]
    own_silences: np.ndarray  # float64[n]
    shop_wake: np.ndarray  # float64[n]


def silence_days(history: np.ndarray) -> np.ndarray:
    """int64[n]: days without sales at the end of `history` (float64[n, T]); T where it never sold."""
    length = history.shape[1]
    last = np.where((history > 0).any(axis=1), length - 1 - np.argmax(history[:, ::-1] > 0, axis=1), -1)
    return np.where(last >= 0, length - 1 - last, length)


def usual_silence(history: np.ndarray, silent_now: np.ndarray, share: float = USUAL_GAP_SHARE) -> np.ndarray:
    """bool[n]: the current silence `silent_now` (days) is the product's own rhythm: at least `share` of its gaps
    between two selling days in `history` (float64[n, T], open days) lasted as long.

    A weekend cake is silent Monday to Friday every week: on a Friday its 5 silent days are a quarter of its gaps,
    no sign of a stockout or of a product gone, and the forecast that sees the weekend coming stands (the bakery's
    fraisier on Friday 29 April 2022: a forecast of about 10 over the weekend, 27 sold; the silence rule said 0.3).
    A bread that sells every day and stops for 5 days has no such gap: that silence is news. A product without a
    gap on record (sold every open day, or once) has no rhythm to explain a silence."""
    n, length = history.shape
    sold = history > 0
    before = np.maximum.accumulate(np.where(sold, np.arange(length)[None, :], -1), axis=1)
    previous = np.concatenate([np.full((n, 1), -1), before[:, :-1]], axis=1)  # the last sale before each day
    ends = sold & (previous >= 0)  # a selling day that ends a gap (0 days when the day before sold too)
    gap = np.arange(length)[None, :] - 1 - previous
    gaps = ends.sum(axis=1)
    as_long = (ends & (gap >= silent_now[:, None])).sum(axis=1)
    return (gaps > 0) & (as_long >= share * gaps)


def woken_level(history: np.ndarray, days: np.ndarray, window: int = SILENCE_WINDOW,
                silence: int = WOKEN_SILENCE, pace: float = WOKEN_PACE) -> tuple[np.ndarray, np.ndarray]:
    """Products that sold again within the last `window` days after a silence of at least max(`days`, `silence`)
    days, and the demand they met before it: bool[n] and float64[n], their mean `days`-day total from the first
    sale to the last sale before the silence (0 where it does not apply).

    A forecast fitted to the recent level still counts the silence's zeros until they leave its window: the week
    an M5 item sells again after 54 silent days (a stockout), its 14-day forecast is 0.1 units and it sells 28.
    Of the M5 inventory simulation's reviews whose 14-day demand exceeded the 99% reorder point, 47 of 65 had been
    silent 14 days or more within the 8 weeks before.

    A sale after a silence is no return, though, when the product sells under `pace` of its old pace since (from
    the first sale after the silence to the end of `history`) and its previous return after such a silence was a
    one-off too (it fell silent again within max(`days`, `silence`) days): the forecast stands. The bakery's
    fraisier, a summer cake, sold 2 on 29 October and 2 on New Year's Eve after two silent months each: on 4
    January its old pace (1.45 a day) had reorder order 41 cakes, critical, where its forecast said 2 for the
    week. A product's first return after a stockout is never in doubt (M5's inventory simulation: its cycle service
    levels unchanged), nor one selling at its pace again.

    Args:
        history: float64[n, T] daily units (open days), oldest first, the last day the day before the forecast.
        days: int64[n] protection interval (open days, >= 1).
    """
    n, length = history.shape
    if length < 2:  # no silence can have ended
        return np.zeros(n, dtype=bool), np.zeros(n)
    sold = history > 0
    last = np.maximum.accumulate(np.where(sold, np.arange(length)[None, :], -1), axis=1)
    recent = np.arange(max(length - window, 1), length)
    before = last[:, recent - 1]  # the last sale before each recent day
    quiet = np.maximum(days, silence)  # days: a silence at least this long
    ended = sold[:, recent] & (before >= 0) & (recent[None, :] - 1 - before >= quiet[:, None])
    woke = ended.any(axis=1)
    latest = np.where(woke, recent.size - 1 - np.argmax(ended[:, ::-1], axis=1), 0)
    end = np.where(woke, before[np.arange(n), latest] + 1, 0)  # days up to the last sale before the silence
    first = np.where(sold.any(axis=1), sold.argmax(axis=1), 0)
    level = np.zeros(n)
    rows = np.flatnonzero(woke & (end > first))  # the units before the silence are summed for these alone
    cumulative = np.concatenate([np.zeros((rows.size, 1)), np.cumsum(history[rows], axis=1)], axis=1)
    index = np.arange(rows.size)
    since, until = first[rows], end[rows]
    level[rows] = (cumulative[index, until] - cumulative[index, since]) / (until - since) * days[rows]
    # in doubt: selling under `pace` of the old pace since the return, and the previous return a one-off
    woken_day = recent[latest[rows]]
    slow = (cumulative[index, length] - cumulative[index, woken_day]
            < pace * level[rows] / days[rows] * (length - woken_day))
    day = np.arange(length)[None, :]
    previous_sale = np.concatenate([np.full((rows.size, 1), -1), last[rows, :-1]], axis=1)
    returns = sold[rows] & (previous_sale >= 0) & (day - 1 - previous_sale >= quiet[rows, None])
    last_return = np.maximum.accumulate(np.where(returns, day, -1), axis=1)[index, until - 1]
    doubt = slow & (last_return >= 0) & (until - 1 - last_return < quiet[rows])
    woke[rows[doubt]], level[rows[doubt]] = False, 0.0
    return woke, level


def after_silence(history: np.ndarray, days: np.ndarray, level: float, stocked_out: np.ndarray,
                  window: int = SILENCE_WINDOW, min_origins: int = MIN_SILENT_ORIGINS,
                  catalogue: "WakeTables | None" = None) -> AfterSilence:
    """The empirical lead-time demand of products now silent for at least `days` (their protection interval) and
    MIN_SILENCE_DAYS.

    A forecast fitted to the recent level says 0 after weeks without sales, yet such products often sell again.
    A silence no longer than the product's usual gaps between selling days (`usual_silence`: a weekend cake on a
    Friday, a slow mover between its sales) is no silence: its forecast stands. Otherwise the `days`-day demand is
    read off the history, by what the silence can mean:

    - with stock on the shelf (`stocked_out` False) the silence is demand: the product's own totals of the `days`
      days after every origin (after its first sale) that followed at least s = min(current silence, `window`)
      silent days. The current spell's own origins count: each further silent day adds a total of 0, so the
      chance of selling again decays with the silence, as Teunter-Syntetos-Babai's demand probability does, and
      an item that stopped selling months ago while on the shelf is not reordered;
    - with nothing on the shelf (`stocked_out` True) a silence may be a stockout (no stock, no sale) or the
      product may be gone (out of season, delisted). D is a mixture: with probability p the demand the product
      met while it sold (its totals at every origin whose `days` days end by the last sale), else 0. p is the
      catalogue's own rate of waking up: over every product of the request and every origin that followed a
      silence at least as long as this one, the share that sold within the next `days` days (M5's supermarket
      after 28-120 silent days: 14-20% within 14 days; the bakery after 28: under 2% within 3), pooled with the
      product's own such origins as WAKE_PRIOR_ORIGINS of them (`_own_wakes`: a bun that always sold again
      within days of a short pause is not judged by the shop's discontinued lines). The
      service-level quantile is 0 when 1 - p >= level, else the pre-silence quantile at (level - (1 - p)) / p.

    Args:
        history: float64[n, T] daily units (open days), oldest first, the last day the day before the forecast.
        days: int64[n] protection interval (open days, >= 1).
        level: cycle service level in (0, 1).
        stocked_out: bool[n], True where nothing is on hand.
        catalogue: the catalogue's past origins the rate of waking up is read from (`wake_tables`), when `history`
            holds only some of the request's products; None: `history`'s own.
    """
    n, length = history.shape
    silent_now = silence_days(history)
    # only a product silent for at least its interval (not for its whole history) can apply: the past origins'
    # totals are read for those alone (the catalogue's rate of waking up still reads every product's history)
    # one open day without a sale is no news, whatever the interval: a closed day leaves 1 open day in a 2-day
    # interval, and the bakery's sandwich (10 sold on Monday, 0 on Tuesday) had its forecast replaced by what
    # followed its earlier one-day silences (review 6 F4); a day's zero is within the forecast's own daily error
    silent = np.flatnonzero((silent_now >= np.maximum(days, MIN_SILENCE_DAYS)) & (silent_now < length)
                            & ~usual_silence(history, silent_now))
    applies, mean, point = np.zeros(n, dtype=bool), np.zeros(n), np.zeros(n)
    shortage, count, wake = np.zeros(n), np.zeros(n, dtype=np.int64), np.ones(n)
    woke, seen, shop = np.zeros(n), np.zeros(n), np.zeros(n)
    if silent.size:
        totals, valid, count[silent] = _origin_totals(history[silent], days[silent], silent_now[silent],
                                                      stocked_out[silent], window)
        applies[silent] = count[silent] >= min_origins
        waking = stocked_out & applies
        if waking.any():
            # the catalogue's rate of waking up, the product's own where its own silences as long tell it: the
            # bakery's financier, silent 2 days on 2022-01-04, had ended 13 of its 20 such silences of the year
            # within 2 days, the shop's 149 articles (out-of-season and delisted ones too) 10.1% of theirs: 49.3%
            # (review 9 F1)
            tables = wake_tables(history) if catalogue is None else catalogue
            shop = _wake_rate(tables, silent_now, days, waking)
            woke, seen = _own_wakes(history, silent_now, days, waking)
            wake = np.where(waking, (woke + WAKE_PRIOR_ORIGINS * shop) / (seen + WAKE_PRIOR_ORIGINS), 1.0)
        inner = _inner_level(wake[silent], level)
        selling = applies[silent] & (inner > 0)
        rank = np.clip(np.ceil(inner * count[silent]).astype(np.int64) - 1, 0, length - 1)
        sold = np.flatnonzero(selling)
        point[silent[sold]] = np.sort(totals[sold], axis=1)[np.arange(sold.size), rank[sold]]
        finite = np.where(valid, totals, 0.0)
        on = applies[silent]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[silent] = np.where(on, wake[silent] * finite.sum(axis=1) / count[silent], 0.0)
            shortage[silent] = np.where(on, wake[silent] * np.maximum(finite - point[silent][:, None], 0.0).sum(
                axis=1) / count[silent], 0.0)
    return AfterSilence(applies=applies, mean=mean, reorder_point=point, expected_shortage=shortage,
                        origins=count, wake_probability=wake, own_wakes=woke, own_silences=seen, shop_wake=shop)


def _own_wakes(history: np.ndarray, silent_now: np.ndarray, days: np.ndarray,
               wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64[n] each, for the `wanted` products (0 for the others): of the product's own past origins (after its
    first sale) that followed a silence at least as long as its current one and whose `days` days end within the
    history, how many sold within those days, and how many there are: `_wake_rate`'s counts over its own
    history alone."""
    n, length = history.shape
    woke, seen = np.zeros(n), np.zeros(n)
    rows = np.flatnonzero(wanted)
    if not rows.size:
        return woke, seen
    own = history[rows]
    columns = np.arange(length)
    seen_last = np.maximum.accumulate(np.where(own > 0, columns[None, :], -1), axis=1)  # up to origin - 1
    upcoming = np.minimum.accumulate(np.where(own > 0, columns, length)[:, ::-1], axis=1)[:, ::-1]
    origin = columns + 1  # origins 1 .. length - 1 can still see a day after them
    next_sale = np.concatenate([upcoming[:, 1:], np.full((rows.size, 1), length)], axis=1)
    d = np.clip(days[rows], 1, length)[:, None]
    counted = (seen_last >= 0) & (origin - 1 - seen_last >= np.clip(silent_now[rows], 0, length)[:, None]) & (
        length - origin >= d)
    woke[rows] = (counted & (next_sale - origin < d)).sum(axis=1)
    seen[rows] = counted.sum(axis=1)
    return woke, seen


def _inner_level(wake: np.ndarray, level: float) -> np.ndarray:
    """The quantile of the pre-silence totals that makes the mixture's `level` quantile: (level - (1 - p)) / p."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(wake > 0, (level - (1.0 - wake)) / wake, 0.0)


def _origin_totals(history: np.ndarray, days: np.ndarray, silent_now: np.ndarray, stocked_out: np.ndarray,
                   window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`after_silence`'s past origins of each product: the `days`-day totals after every origin that followed a
    long enough silence (float64[n, T], inf where not an origin), which ones are (bool[n, T]) and how many
    (int64[n])."""
    n, length = history.shape
    last_sale = length - 1 - silent_now  # -1 .. T - 1
    need = np.where(stocked_out, 0, np.minimum(silent_now, window))[:, None]
    horizon_end = np.where(stocked_out, last_sale + 1, length)[:, None]
    last = np.maximum.accumulate(np.where(history > 0, np.arange(length)[None, :], -1), axis=1)
    origin = np.arange(1, length + 1)[None, :]  # forecasts the days from `origin` on, history up to origin - 1
    seen_last = last[:, origin[0] - 1]
    silence = origin - 1 - seen_last
    end = origin + days[:, None]
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(history, axis=1)], axis=1)
    rows = np.arange(n)[:, None]
    valid = (seen_last >= 0) & (silence >= need) & (end <= horizon_end)
    totals = np.where(valid, cumulative[rows, np.minimum(end, length)] - cumulative[rows, origin], np.inf)
    return totals, valid, valid.sum(axis=1)


@dataclass(frozen=True)
class WakeTables:
    """The catalogue's past origins (after a product's first sale) as cumulative 2-D histograms: [s, d] counts
    the origins with a silence L >= s and a value below d + 1, the value being the days G to the product's next
    sale (`gap`) or the days t to the history's end (`to_end`; `length` days of history). G <= t always: G counts
    to the next sale, or to the history's end where there is none."""

    gap: np.ndarray  # int64[length + 1, length + 1]
    to_end: np.ndarray  # int64[length + 1, length + 1]
    length: int


def _at_least_below(counts: np.ndarray) -> np.ndarray:
    """[s, d]: the origins with silence >= s and value < d + 1, from `counts` [silence, value]."""
    return np.cumsum(np.cumsum(counts[::-1], axis=0)[::-1], axis=1)


def wake_tables(history: np.ndarray) -> WakeTables:
    """`WakeTables` of every product of `history` (float64[n, T], open days)."""
    n, length = history.shape
    columns = np.arange(length)
    seen_last = np.maximum.accumulate(np.where(history > 0, columns[None, :], -1), axis=1)
    # the first day with a sale at or after each column (length: none), for origins 1..length
    upcoming = np.minimum.accumulate(np.where(history > 0, columns, length)[:, ::-1], axis=1)[:, ::-1]
    origin = columns + 1
    next_sale = np.concatenate([upcoming[:, 1:], np.full((n, 1), length)], axis=1)
    known = seen_last >= 0
    silence = (origin - 1 - seen_last)[known]
    gap = np.minimum(next_sale - origin, length)[known]
    to_end = np.broadcast_to(length - origin, (n, length))[known]

    def counts(values: np.ndarray) -> np.ndarray:
        return np.bincount(silence * (length + 1) + values, minlength=(length + 1) ** 2).reshape(length + 1, -1)

    return WakeTables(_at_least_below(counts(gap)), _at_least_below(counts(to_end)), length)


def sparse_wake_tables(product: np.ndarray, column: np.ndarray, length: int) -> WakeTables:
    """`wake_tables` from the selling days alone: `product`, `column` (int64[k], sorted by product then column)
    the open days (0..`length` - 1) with net units above 0, without the products x days grid.

    The origins after a sale on day c up to the product's next sale on day e (or the history's end: e = `length`)
    are c + 1 .. e: silence j = 0 .. e - c - 1 and next sale e - c - 1 - j days on, the history's end `length` - 1
    - c - j days on. Each run is one anti-diagonal of the [silence, value] counts (silence + value constant), so
    the counts are a difference array per anti-diagonal, one pass over the selling days."""
    size = length + 1
    same = np.r_[product[1:] == product[:-1], False]  # the product sells again after this day
    until = np.where(same, np.r_[column[1:], 0], length)
    runs = until - column  # origins in the run
    silence, value = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")

    def counts(constant: np.ndarray) -> np.ndarray:
        cells = 2 * size * (size + 1)  # [silence + value, silence]: +1 where a run starts, -1 past its end
        starts = np.bincount(constant * (size + 1), minlength=cells)
        ends = np.bincount(constant * (size + 1) + runs, minlength=cells)
        by_diagonal = np.cumsum((starts - ends).reshape(2 * size, size + 1), axis=1)
        return by_diagonal[silence + value, silence]

    return WakeTables(_at_least_below(counts(runs - 1)), _at_least_below(counts(length - 1 - column)), length)


def _wake_rate(tables: WakeTables, silent_now: np.ndarray, days: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """float64[n]: for the `wanted` products, the share of all products' past origins after a silence of at
    least `silent_now` days that sold (a day with net units > 0) within the next `days` days, over the origins
    whose `days` days end within the history (0 without such origins).

    One pass for every protection interval: each past origin o (after a first sale) has its silence L, the days
    G to its next sale (`length`: none) and the days t = length - o to the history's end; a product's share is
    #{L >= s, G < d, t >= d} / #{L >= s, t >= d} with #{G < d, t >= d} = #{G < d} - #{max(G, t) < d}, each a
    look-up in a cumulative 2-D histogram (silence x days, `WakeTables`; max(G, t) = t)."""
    length = tables.length
    out = np.zeros(silent_now.size)
    if not wanted.any():
        return out
    s = np.clip(silent_now[wanted], 0, length)
    d = np.clip(days[wanted], 1, length) - 1  # d + 1 > length - 1 counts every real value, never `length`
    woke = tables.gap[s, d] - tables.to_end[s, d]
    total = tables.to_end[s, length] - tables.to_end[s, d]  # t >= days: t > d
    out[wanted] = np.where(total > 0, woke / np.maximum(total, 1), 0.0)
    return out
