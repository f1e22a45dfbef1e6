"""Lead-time demand distributions: the family each product gets, its quantile and fill rate against scipy and
against simulated demand."""

import numpy as np
import pytest
from scipy import stats

from app.models import demand_distribution as dd
from app.models.demand_distribution import (
    after_silence,
    choose_family,
    lead_time_demand,
    lead_time_dispersion,
    silence_days,
    woken_level,
)


def test_family_follows_the_skew_of_the_count():
    mean = np.array([2.0, 2.0, 400.0, 2.0])
    variance = np.array([2.0, 9.0, 500.0, 9.0])
    whole = np.array([True, True, True, False])
    assert choose_family(mean, variance, whole).tolist() == ["poisson", "negative_binomial", "normal", "normal"]


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_count_reorder_point_is_the_smallest_stock_covering_the_level(level):
    mean, variance = np.array([1.5, 6.0, 3.0]), np.array([1.5, 30.0, 3.0 + 1e-12])
    result = lead_time_demand(mean, variance, np.ones(3, bool), level, np.full(3, 10.0))
    size, prob = mean[1] ** 2 / (variance[1] - mean[1]), mean[1] / variance[1]
    assert result.family.tolist() == ["poisson", "negative_binomial", "poisson"]
    assert result.reorder_point[0] == stats.poisson.ppf(level, 1.5)
    assert result.reorder_point[1] == stats.nbinom.ppf(level, size, prob)
    assert stats.nbinom.cdf(result.reorder_point[1], size, prob) >= level
    assert stats.nbinom.cdf(result.reorder_point[1] - 1, size, prob) < level


def test_expected_shortage_and_fill_rate_match_simulated_demand():
    rng = np.random.default_rng(3)
    mean, variance = np.array([4.0, 300.0]), np.array([20.0, 900.0])
    result = lead_time_demand(mean, variance, np.ones(2, bool), 0.9, np.array([8.0, 100.0]))
    size, prob = 16.0 / 16.0, 4.0 / 20.0
    draws = rng.negative_binomial(size, prob, 400_000)
    assert result.expected_shortage[0] == pytest.approx(np.maximum(draws - result.reorder_point[0], 0).mean(),
                                                        rel=0.03)
    normal = rng.normal(300.0, 30.0, 400_000)
    assert result.family[1] == "normal"
    assert result.expected_shortage[1] == pytest.approx(np.maximum(normal - result.reorder_point[1], 0).mean(),
                                                        rel=0.03)
    assert result.fill_rate[1] == pytest.approx(1 - result.expected_shortage[1] / 100.0)


def test_dispersion_of_poisson_demand_is_near_zero_and_of_lumpy_demand_large():
    rng = np.random.default_rng(5)
    steady = rng.poisson(2.0, (1, 364)).astype(float)
    lumpy = (rng.poisson(2.0, (1, 364)) * np.repeat(rng.random(52) < 0.3, 7)[None, :] * 3).astype(float)
    phi = lead_time_dispersion(np.vstack([steady, lumpy]), np.array([7, 7]))
    assert phi[0] < 0.05 and phi[1] > 0.5


def test_a_steady_weekday_pattern_is_no_dispersion():
    """A bakery's bread: the same Poisson level every week, Saturdays three times Tuesdays. A trailing flat mean
    misses every 3-day total by its weekday mix (phi about 0.06, a 95% reorder point ~15% above the forecast's
    own quantile); the mean of the same weekdays does not, so the dispersion stays that of a Poisson count."""
    rng = np.random.default_rng(7)
    pattern = np.tile([100, 80, 80, 100, 150, 240, 160], 52).astype(float)  # Monday .. Sunday
    bread = rng.poisson(pattern)[None, :].astype(float)
    assert lead_time_dispersion(bread, np.array([3]), period=1)[0] > 0.03  # period 1: the flat mean's errors
    assert lead_time_dispersion(bread, np.array([3]))[0] < 0.005


def _selling_then_silent(rng: np.random.Generator, silent: int, length: int = 364) -> np.ndarray:
    """A slow mover (Poisson 1.5 a day) that stops selling for the last `silent` days."""
    units = rng.poisson(1.5, length).astype(float)
    units[length - silent:] = 0.0
    units[length - silent - 1] = 2.0
    return units


def _catalogue(rng: np.random.Generator, resumed: int, stopped: int) -> np.ndarray:
    """Row 0: a slow mover silent for the last 40 days. Then `resumed` products that paused from day 100 to 149
    and sold again, and `stopped` ones that never sold after day 99."""
    rows = [_selling_then_silent(rng, 40)]
    for back in [True] * resumed + [False] * stopped:
        units = rng.poisson(1.5, 364).astype(float)
        units[99], units[100:] = 2.0, 0.0
        if back:
            units[150:] = rng.poisson(1.5, 214) + 1.0
        rows.append(units)
    return np.vstack(rows)


def _woke_share(history: np.ndarray, silent_for: int, days: int) -> float:
    """Reference: over all products' origins after a silence of at least `silent_for` days, the share that sold
    within the next `days` days."""
    woke = seen = 0
    for units in history:
        for origin in range(1, units.size - days + 1):
            sold_before = np.flatnonzero(units[:origin] > 0)
            if sold_before.size and origin - 1 - sold_before[-1] >= silent_for:
                seen += 1
                woke += units[origin:origin + days].sum() > 0
    return woke / seen


def test_an_empty_shelfs_silence_is_the_demand_met_while_selling_when_the_catalogue_wakes_up():
    """No stock, no sale: 40 silent days with nothing on hand may be a stockout. In a catalogue whose products
    sold again after such silences, the 14-day demand is what the product sold over 14 days while it sold, its
    90% quantile the empirical one."""
    rng = np.random.default_rng(11)
    history = _catalogue(rng, resumed=4, stopped=0)
    result = after_silence(history, np.full(5, 14), 0.9, np.array([True, False, False, False, False]))
    first = int(np.argmax(history[0] > 0))  # origins after the first sale, 14-day totals ending by the last sale
    totals = np.convolve(history[0, first + 1:324], np.ones(14), "valid")
    assert silence_days(history)[0] == 40 and result.applies[0] and result.origins[0] == totals.size
    assert result.wake_probability[0] == 1.0
    assert result.mean[0] == pytest.approx(totals.mean())
    assert (totals <= result.reorder_point[0]).mean() >= 0.9 > (totals <= result.reorder_point[0] - 1).mean()
    assert result.expected_shortage[0] == pytest.approx(np.maximum(totals - result.reorder_point[0], 0).mean())


def test_an_empty_shelfs_silence_in_a_catalogue_where_silent_products_stay_gone():
    """Two products paused and came back, two stopped for good: after 40 silent days about 5% of the catalogue's
    origins sold within 14 days. At 90% that is a reorder point of 0 (a seasonal or delisted product is not
    reordered); at 99% the pre-silence demand's (0.99 - 0.95) / 0.05 quantile."""
    rng = np.random.default_rng(13)
    history = _catalogue(rng, resumed=2, stopped=2)
    empty = np.array([True, False, False, False, False])
    share = _woke_share(history, 40, 14)
    assert 0.03 < share < 0.1
    at_90 = after_silence(history, np.full(5, 14), 0.9, empty)
    at_99 = after_silence(history, np.full(5, 14), 0.99, empty)
    assert at_90.wake_probability[0] == pytest.approx(share) and at_90.reorder_point[0] == 0
    first = int(np.argmax(history[0] > 0))
    totals = np.sort(np.convolve(history[0, first + 1:324], np.ones(14), "valid"))
    inner = (0.99 - (1 - share)) / share
    assert at_99.reorder_point[0] == totals[int(np.ceil(inner * totals.size)) - 1]
    assert at_99.mean[0] == pytest.approx(share * totals.mean())


def test_a_silence_on_the_shelf_decays_the_chance_of_selling_again():
    """With stock on the shelf the silence is demand. A product that paused for 30-35 days twice and sold again
    each time: after 30 silent days it has a chance to sell within 14 days; one silent for 200 days with stock
    on the shelf (it stopped selling) has none, and is not reordered."""
    rng = np.random.default_rng(12)
    paused = rng.poisson(1.5, 364).astype(float)
    paused[100:135] = 0.0
    paused[200:230] = 0.0
    paused[334:] = 0.0
    stopped = _selling_then_silent(rng, 200)
    result = after_silence(np.vstack([paused, stopped]), np.array([14, 14]), 0.95, np.array([False, False]))
    assert result.applies.tolist() == [True, True]
    assert result.reorder_point[0] > 0 and result.mean[0] > 0
    assert result.reorder_point[1] == 0 and result.mean[1] < 0.2
    longer = after_silence(paused[None, :], np.array([45]), 0.95, np.array([True]))
    assert not longer.applies[0]  # silent for less than the protection interval: the forecast's distribution


def test_a_reviews_overshoot_lowers_a_smooth_reorder_point_to_the_cycles_own_risk():
    """Weekly review of a fast mover (50 a day, 350 a review): at the last review that does not order, the
    position is above the reorder point by up to a review's demand, so a cycle fails when the 14-day demand
    exceeds s + U, U uniform in (0, 350). The point solves that at the level (simulated), below the plain
    quantile; with no overshoot it is the plain normal quantile."""
    rng = np.random.default_rng(8)
    mean, sd = np.array([700.0, 700.0]), np.array([60.0, 60.0])
    result = lead_time_demand(mean, sd**2, np.ones(2, bool), 0.9, np.full(2, 1000.0), np.array([350.0, 0.0]))
    demand, above = rng.normal(700.0, 60.0, 400_000), rng.uniform(0.0, 350.0, 400_000)
    assert (demand > result.reorder_point[0] + above).mean() == pytest.approx(0.1, abs=0.003)
    assert result.reorder_point[0] < result.reorder_point[1] == pytest.approx(700.0 + stats.norm.ppf(0.9) * 60.0)


@pytest.mark.parametrize(("mean", "variance", "overshoot", "level"), [
    (200.0, 4200.0, 100.0, 0.9),  # a bakery's lumpy best seller: 14 days, a weekly review of 100 units
    (22.0, 80.0, 11.0, 0.95),  # an M5 item selling 1.6 a day
    (3.0, 6.0, 1.5, 0.95),
])
def test_a_count_reorder_point_is_averaged_over_the_reviews_overshoot(mean, variance, overshoot, level):
    """The count families as the normal: whole-unit demand above s + U, U uniform in (0, one review's demand),
    fails the cycle. The point is the smallest whole number whose simulated risk is within 1 - level (one unit
    less is not), at most the plain quantile (which over-served the bakery's lumpy best sellers: 0.943 at a 0.90
    target on the inventory simulation)."""
    rng = np.random.default_rng(11)
    result = lead_time_demand(np.array([mean]), np.array([variance]), np.ones(1, bool), level, np.full(1, 100.0),
                              np.array([overshoot]))
    plain = lead_time_demand(np.array([mean]), np.array([variance]), np.ones(1, bool), level, np.full(1, 100.0))
    assert result.family[0] == "negative_binomial"
    demand = rng.negative_binomial(mean**2 / (variance - mean), mean / variance, 400_000)
    above = rng.uniform(0.0, overshoot, 400_000)
    point = result.reorder_point[0]
    assert (demand > np.floor(point + above)).mean() <= 1 - level + 0.002
    assert (demand > np.floor(point - 1 + above)).mean() > 1 - level - 0.002
    assert point <= plain.reorder_point[0]
    draws = rng.negative_binomial(mean**2 / (variance - mean), mean / variance, 400_000)
    assert result.expected_shortage[0] == pytest.approx(np.maximum(draws - point, 0).mean(), rel=0.03)


def test_an_overshoot_under_one_unit_keeps_the_plain_count_quantile():
    """A slow mover reviewed daily: its review's demand is under a unit, the position just above the point is the
    point + 1, and the plain quantile is the point."""
    mean, variance = np.array([1.5, 3.0]), np.array([1.5, 9.0])
    averaged = lead_time_demand(mean, variance, np.ones(2, bool), 0.95, np.full(2, 10.0), np.array([0.2, 0.9]))
    plain = lead_time_demand(mean, variance, np.ones(2, bool), 0.95, np.full(2, 10.0))
    assert averaged.reorder_point.tolist() == plain.reorder_point.tolist()


def test_a_product_selling_again_after_a_silence_reads_the_demand_it_met_before_it():
    """Poisson 2 a day, then (row 0) silent 45 days and a sale 3 days ago: the forecast's trailing level still
    counts the zeros, so the 14-day demand is the pre-silence level, 28. A silence that ended 41 days ago has left
    a 28-day window (row 1); a slow mover's ordinary gaps (row 2: a sale every 5 days) and a product silent now
    (row 3: `after_silence` decides) are not woken."""
    rng = np.random.default_rng(12)
    history = rng.poisson(2.0, (4, 364)).astype(float)
    history[0, 315:] = 0.0
    history[0, 360] = 1.0
    history[1, 300:323] = 0.0
    history[2] = np.where(np.arange(364) % 5 == 0, 3.0, 0.0)
    history[3, 340:] = 0.0
    woke, mean = woken_level(history, np.full(4, 14))
    assert woke.tolist() == [True, False, False, False]
    sold = np.flatnonzero(history[0, :315])
    assert mean[0] == pytest.approx(history[0, sold[0]:sold[-1] + 1].mean() * 14)
    assert 24 < mean[0] < 32 and mean[1:].tolist() == [0.0, 0.0, 0.0]
    assert not woken_level(history[:1], np.array([50]))[0][0]  # a silence shorter than the protection interval
    assert not woken_level(history[:, :1], np.full(4, 14))[0].any()  # one open day: no silence has ended


def _wake_rate_per_interval(cumulative: np.ndarray, seen_last: np.ndarray, silent_now: np.ndarray,
                            days: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The former `_wake_rate` (one sort per distinct protection interval), the reference for the one-pass one."""
    n, length = seen_last.shape
    out = np.zeros(n)
    for span in np.unique(days[wanted]):
        origin = np.arange(1, length - span + 1)
        seen = seen_last[:, origin - 1]
        known = seen >= 0
        silence = np.sort((origin[None, :] - 1 - seen)[known])
        woke = ((cumulative[:, origin + span] - cumulative[:, origin]) > 0)[known]
        woke_by_silence = woke[np.argsort((origin[None, :] - 1 - seen)[known], kind="stable")]
        after = np.concatenate([np.cumsum(woke_by_silence[::-1])[::-1], [0]])
        these = wanted & (days == span)
        first = np.searchsorted(silence, silent_now[these], side="left")
        total = silence.size - first
        out[these] = np.where(total > 0, after[first] / np.maximum(total, 1), 0.0)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_wake_rate_is_one_pass_with_the_per_interval_answers(seed):
    """A random panel of sparse sellers with many distinct intervals (1 to past the history's length) and
    silences: the one-pass wake rate equals the per-interval one exactly."""
    rng = np.random.default_rng(seed)
    n, length = 60, 120
    history = rng.poisson(rng.uniform(0.01, 0.6, (n, 1)), (n, length)).astype(np.float64)
    history[: n // 4, -rng.integers(20, 100, n // 4)[0]:] = 0  # long silences at the end
    history[n - 3:] = 0  # never sold
    last = np.maximum.accumulate(np.where(history > 0, np.arange(length)[None, :], -1), axis=1)
    silent_now = dd.silence_days(history)
    days = rng.integers(1, length + 10, n)
    wanted = rng.random(n) < 0.8
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(history, axis=1)], axis=1)
    expected = _wake_rate_per_interval(cumulative, last, silent_now, days, wanted)
    assert np.array_equal(dd._wake_rate(dd.wake_tables(history), silent_now, days, wanted), expected)
    assert (expected[wanted] > 0).any() and len(np.unique(days[wanted])) > 20


def test_no_open_day_on_record_has_no_dispersion():
    assert np.isnan(lead_time_dispersion(np.zeros((2, 0)), np.array([7, 3]))).all()


def _weekend_cake(weeks: int = 52) -> np.ndarray:
    """A cake sold on Saturdays and Sundays only (Poisson 6 and 8), the history ending on a Friday."""
    rng = np.random.default_rng(29)
    week = np.array([0, 0, 0, 0, 0, 6, 8], dtype=float)  # Monday .. Sunday
    return rng.poisson(np.tile(week, weeks))[None, :-2].astype(float)  # to the last Friday


def test_a_silence_within_the_products_usual_gaps_is_no_silence():
    """Review 5, finding 2: on a Friday a weekend cake has not sold for 5 days, as every Friday. Its forecast sees
    the weekend coming; the silence rule (nothing on the shelf: the shop's wake-up rate) must not replace it."""
    history = _weekend_cake()
    assert silence_days(history)[0] == 5
    assert not after_silence(history, np.array([3]), 0.95, np.array([True])).applies[0]
    assert not after_silence(history, np.array([3]), 0.95, np.array([False])).applies[0]
    stopped = np.concatenate([history, np.zeros((1, 21))], axis=1)  # three weekends without a sale: news
    assert after_silence(stopped, np.array([3]), 0.95, np.array([True])).applies[0]


def test_a_seasonal_products_dispersion_is_measured_at_its_seasons_level():
    """Review 5, finding 3: a galette sold in January alone. Pooled over the year its January errors were divided
    by a yearly mean close to 0 (phi > 100: a negative binomial whose 95% quantile is 0 for a mean of 11.5); at
    the level of each origin its 95% reorder point sits above the mean."""
    rng = np.random.default_rng(31)
    history = np.zeros((1, 364))
    history[0, :28] = rng.poisson(8.0, 28)  # last January
    history[0, -12:] = rng.poisson(8.0, 12)  # this one, under way
    phi = lead_time_dispersion(history, np.array([2]))[0]
    mean = np.array([11.5])
    point = lead_time_demand(mean, mean + phi * mean**2, np.array([True]), 0.95, np.array([10.0])).reorder_point
    assert phi < 10 and point[0] > mean[0]


def test_a_seasonal_level_keeps_its_quiet_weeks_spread():
    """A product whose level swings with the seasons (8 a day +- 90%, negative-binomial days): the dispersion
    measured on one year sets 95% reorder points over the trailing 28-day mean that cover the next year's 7-day
    demand about as often as promised. Weighted by each origin's level squared (a92202b) the busiest weeks decided
    it and the points covered 0.88 of the origins (the inventory benchmark's bakery 90% cycle service level fell
    from 0.881 to 0.847 with it)."""
    rng = np.random.default_rng(5)
    days, n = 7, 60
    level = 8 * (1 + 0.9 * np.sin(2 * np.pi * np.arange(728) / 364))
    history = rng.negative_binomial(5.0, 5.0 / (5.0 + level), size=(n, 728)).astype(np.float64)
    phi = lead_time_dispersion(history[:, :364], np.full(n, days))
    cumulative = np.cumsum(history, axis=1)
    origins = np.arange(364, 728 - days)  # the next year: mean of the 28 days to the origin, the 7 days after it
    mean = (cumulative[:, origins] - cumulative[:, origins - 28]) / 28 * days
    actual = cumulative[:, origins + days] - cumulative[:, origins]
    rows = np.repeat(np.arange(n), origins.size)
    flat = mean.ravel()
    points = lead_time_demand(flat, flat + phi[rows] * flat**2, np.ones(flat.size, dtype=bool), 0.95,
                              np.full(flat.size, 100.0)).reorder_point
    assert (actual.ravel() <= points).mean() > 0.9


def test_a_slow_return_after_a_one_off_is_no_return():
    """The bakery's fraisier, a summer cake: 2 a day for months, silent two months, one sale of 2, silent two months,
    one sale of 2 three days ago (row 0): its previous return was a one-off and it sells under half its old pace
    since, so the forecast stands (reorder ordered 41 cakes, critical, on 4 January for a forecast of 2 that week).
    The same return with a previous one that lasted (row 1), or a first return (row 2), or selling at its pace
    again (row 3) reads the demand the product met before."""
    rng = np.random.default_rng(4)
    history = np.zeros((4, 364))
    history[:, :200] = rng.poisson(2.0, (4, 200))
    for row in range(4):
        history[row, 260] = 2.0  # a return after 60 silent days
        history[row, 360] = 2.0  # and another, 3 days before the end
    history[1, 260:290] = rng.poisson(2.0, 30)  # the previous return lasted a month
    history[2, 260] = 0.0  # no previous return
    history[3, 361:] = 2.0  # selling at its old pace since
    woke, mean = woken_level(history, np.full(4, 14))
    assert woke.tolist() == [False, True, True, True]
    assert mean[0] == 0.0 and (mean[1:] > 20).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_wake_tables_from_the_selling_days_are_the_grids(seed):
    """The catalogue's wake tables read off the selling days alone (`sparse_wake_tables`, no products x days grid)
    equal the grid's, cell for cell: sparse sellers, long silences at the end, a sale on the last day, never sold."""
    rng = np.random.default_rng(seed)
    n, length = 60, 120
    history = rng.poisson(rng.uniform(0.01, 0.6, (n, 1)), (n, length)).astype(np.float64)
    history[: n // 4, -rng.integers(20, 100, n // 4)[0]:] = 0
    history[n // 4, -1] = 3.0
    history[n - 3:] = 0
    product, column = np.nonzero(history > 0)
    dense, sparse = dd.wake_tables(history), dd.sparse_wake_tables(product, column, length)
    assert np.array_equal(sparse.gap, dense.gap) and np.array_equal(sparse.to_end, dense.to_end)
    assert dense.gap[1:, :].sum() > 0


def test_the_dispersion_reads_from_the_first_sale_on():
    """Days before every product's first sale change no phi (their origins are not computed): a year of history of
    which 90 days sold measures what those 90 days measure; a product never sold is NaN either way."""
    rng = np.random.default_rng(3)
    sold = rng.poisson(rng.uniform(0.3, 6, (40, 1)), (40, 90)).astype(np.float64)
    sold[::7, :30] = 0  # later first sales
    sold[-1] = 0
    days = rng.integers(1, 15, 40)
    year = np.concatenate([np.zeros((40, 274)), sold], axis=1)
    for period in (7, 6):
        measured = dd.lead_time_dispersion(sold, days, period=period)
        assert np.allclose(dd.lead_time_dispersion(year, days, period=period), measured, rtol=1e-12, equal_nan=True)
        assert np.isfinite(measured[:-1]).all() and np.isnan(measured[-1])
