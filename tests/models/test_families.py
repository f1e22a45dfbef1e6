"""Each family on a signal it should get right, leakage checks, and the one-pass backtests."""

import numpy as np
import pytest

from app.models.boosted import GlobalBoosted, boosted_features
from app.models.holt_winters import HoltWinters
from app.models.intermittent import IntermittentTSB
from app.models.linear import LinearLags, lag_features
from app.models.naive import MovingAverage, SeasonalNaive
from app.models.panel import Panel
from app.models.rate_bands import fit_bands, monotone, spread_power
from app.utils.dates import weekday

WEEK = np.array([10.0, 12, 11, 13, 18, 25, 22])


def panel(values, start=None, step: int = 1, first_day: int = 19000) -> Panel:
    values = np.atleast_2d(np.asarray(values, dtype=float))
    start = np.zeros(values.shape[0], dtype=np.int64) if start is None else np.asarray(start)
    return Panel([f"p{i}" for i in range(values.shape[0])], values, start, first_day, step)


def weekly_pattern(weeks: int) -> np.ndarray:
    return np.tile(WEEK, weeks)


def test_seasonal_naive_repeats_a_pure_weekly_pattern():
    forecast = SeasonalNaive().fit(panel(weekly_pattern(10))).predict(14)
    np.testing.assert_allclose(forecast[0], np.tile(WEEK, 2))


def test_moving_average_of_the_last_window():
    values = np.concatenate([np.full(30, 100.0), np.full(28, 4.0)])
    np.testing.assert_allclose(MovingAverage().fit(panel(values)).predict(5), 4.0)


def test_linear_follows_a_linear_trend():
    values = 5 + 0.5 * np.arange(200)
    forecast = LinearLags().fit(panel(values)).predict(10)[0]
    np.testing.assert_allclose(forecast, 5 + 0.5 * np.arange(200, 210), rtol=0.02)


def test_holt_winters_learns_pattern_and_trend():
    values = weekly_pattern(40) + 0.1 * np.arange(280)
    forecast = HoltWinters().fit(panel(values)).predict(14)[0]
    expected = np.tile(WEEK, 2) + 0.1 * np.arange(280, 294)
    assert np.mean(np.abs(forecast - expected)) < 1.0


def test_intermittent_forecasts_rate_times_size():
    rng = np.random.default_rng(0)
    values = np.where(rng.random(400) < 0.3, 5.0, 0.0)
    forecast = IntermittentTSB().fit(panel(values)).predict(7)[0]
    assert forecast == pytest.approx(np.full(7, 1.5), abs=0.5)
    assert np.ptp(forecast) == 0


def test_boosted_learns_a_shared_weekday_shape_across_products():
    rng = np.random.default_rng(1)
    sizes = rng.uniform(1, 20, 40)
    values = rng.poisson(sizes[:, None] * np.tile(WEEK / WEEK.mean(), 120)[None, :]).astype(float)
    model = GlobalBoosted(horizon=14).fit(panel(values[:, :-14]))
    forecast = model.predict(14)
    truth = sizes[:, None] * np.tile(WEEK / WEEK.mean(), 2)
    assert np.mean(np.abs(forecast - truth) / truth.mean(axis=1, keepdims=True)) < 0.12
    assert model.drivers(0)[0].startswith("one model across 40 products")


def test_no_lag_feature_reads_its_own_day_or_later():
    rng = np.random.default_rng(2)
    values = rng.poisson(10, (3, 120)).astype(float)
    columns = np.arange(60, 120)
    before = lag_features(values, columns, step=1)
    for t in (60, 90, 119):
        perturbed = values.copy()
        perturbed[:, t:] += 1000
        after = lag_features(perturbed, columns, step=1)
        np.testing.assert_array_equal(before[:, columns <= t], after[:, columns <= t])


@pytest.mark.parametrize("lead", [1, 14, 60])
def test_no_boosted_feature_reads_within_the_lead(lead):
    rng = np.random.default_rng(3)
    values = rng.poisson(10, (3, 800)).astype(float)
    p = panel(values)
    columns = np.arange(700, 800)
    before, level, _ = boosted_features(p, values, columns, lead, 364)
    t = 750
    perturbed = values.copy()
    perturbed[:, t - lead + 1:] += 1000
    after, level_after, _ = boosted_features(p, perturbed, columns, lead, 364)
    rows = np.tile(columns <= t, 3)
    np.testing.assert_array_equal(before[rows], after[rows])
    np.testing.assert_array_equal(level[rows], level_after[rows])


@pytest.mark.parametrize("family", [HoltWinters, IntermittentTSB])
def test_one_pass_backtest_equals_refitting_before_the_origin(family):
    rng = np.random.default_rng(4)
    values = rng.poisson(weekly_pattern(60), (4, 420)).astype(float)
    p = panel(values, start=[0, 10, 100, 300])
    origin = 380
    one_pass = family().forecast_origins(p, [origin], 20)[:, 0, :]
    refit = family().fit(p.head(origin)).predict(20)
    np.testing.assert_allclose(one_pass, refit, equal_nan=True)


def test_backtests_never_see_data_after_their_origin():
    rng = np.random.default_rng(5)
    values = rng.poisson(weekly_pattern(80), (5, 560)).astype(float)
    p = panel(values)
    for family in (LinearLags(), HoltWinters(), IntermittentTSB(), GlobalBoosted(horizon=28)):
        before = family.clone().forecast_origins(p, [500, 472], 28)
        perturbed = values.copy()
        perturbed[:, 500:] *= 3
        after = family.clone().forecast_origins(panel(perturbed), [500, 472], 28)
        np.testing.assert_allclose(before, after, err_msg=type(family).__name__)


def test_intervals_are_ordered_non_negative_and_widen():
    rng = np.random.default_rng(6)
    actual = rng.poisson(5, (60, 14)).astype(float)
    bands = fit_bands(actual, np.full_like(actual, 5.0), np.full(60, 5.0))
    assert bands is not None
    point = np.full((20, 30), 5.0)
    lower, upper = bands.bounds(point, np.full(20, 5.0), 0.9)
    assert (lower >= 0).all() and (lower <= point).all() and (point <= upper).all()
    width = upper - lower
    assert (np.diff(width, axis=1) >= -1e-12).all()
    assert width[0, -1] > width[0, 0]


def test_bounds_widen_by_a_monotone_fit_of_the_buckets_not_their_running_maximum():
    """One noisy bucket (the second week's errors twice the others') widens the later weeks by the pooled
    estimate, not to its own width: the running maximum lent every later week the noisiest one's width."""
    np.testing.assert_allclose(monotone(np.array([1.0, 3.0, 2.0, 4.0])), [1.0, 2.5, 2.5, 4.0])
    np.testing.assert_allclose(monotone(np.array([3.0, 2.0, 1.0])), [2.0, 2.0, 2.0])
    rng = np.random.default_rng(9)
    level = np.full((30, 28), 20.0)
    errors = rng.normal(0.0, 2.0, level.shape)
    errors[:, 7:14] *= 2
    bands = fit_bands(level + errors, level, np.full(30, 20.0))
    assert bands is not None
    lower, upper = bands.bounds(level[:1], np.full(1, 20.0), 0.8)
    first, second, last = (upper - lower)[0, [0, 7, 27]]
    assert first < second <= 1.5 * first  # 2 x in the noisy week, its pooled mean with the two calm ones after
    assert last == pytest.approx(second)


def test_bounds_from_few_errors_still_cover_as_asked():
    """140 errors per (band, bucket): a new error falls outside the k-th of n sorted ones with probability
    k / (n + 1); bounds read at the plain sample quantile cover ~93.9 % at 95 %."""
    rng = np.random.default_rng(10)
    level = np.full((20, 28), 50.0)
    inside = []
    for _ in range(200):
        bands = fit_bands(level + rng.normal(0.0, 5.0, level.shape), level, np.full(20, 50.0))
        assert bands is not None
        lower, upper = bands.bounds(level, np.full(20, 50.0), 0.95)
        future = level + rng.normal(0.0, 5.0, level.shape)
        inside.append(((future >= lower) & (future <= upper)).mean())
    assert 0.945 < np.mean(inside) < 0.96


def test_spread_power_is_read_off_the_errors():
    rng = np.random.default_rng(7)
    level = np.repeat(rng.uniform(1, 200, 300)[:, None], 14, axis=1)
    poisson = rng.poisson(level).astype(float)
    proportional = level * rng.lognormal(0.0, 0.3, level.shape)
    assert abs(spread_power(poisson, level) - 0.5) < 0.1
    assert abs(spread_power(proportional, level) - 1.0) < 0.1
    assert spread_power(np.full((2, 3), 1.0), np.full((2, 3), 1.0)) == 0.5  # too few errors: Poisson-like
    one = np.tile(np.array([10.0, 12, 11, 13, 18, 25, 22]), (3, 4))  # one product's weekdays: too narrow a span
    assert spread_power(one * rng.lognormal(0.0, 0.3, one.shape), one) == 0.5


def test_products_of_different_size_in_one_band_each_get_their_own_coverage():
    """Errors proportional to the level: with the estimated power the small and the big sellers of one band
    are each covered about as asked (a square-root unit would over-cover the small, under-cover the big)."""
    rng = np.random.default_rng(8)
    rate = np.geomspace(5.0, 50.0, 39)  # under 2 x MIN_BAND_PRODUCTS products: one band
    level = np.repeat(rate[:, None], 28, axis=1)
    history = level * rng.lognormal(0.0, 0.4, level.shape)
    bands = fit_bands(history, level, rate)
    assert bands is not None and bands.edges.size == 0
    future = level * rng.lognormal(0.0, 0.4, level.shape)
    lower, upper = bands.bounds(level, rate, 0.8)
    inside = (future >= lower) & (future <= upper)
    for sellers in (rate < 10, rate > 25):
        assert 0.72 < inside[sellers].mean() < 0.88


def test_boosted_reads_each_products_own_recent_weekday_shape():
    """Half the products sell twice as much on Sundays since 30 weeks (a new Sunday market), the others have no
    weekday shape: a year back and the shared weekday effect both say flat, only their own recent weeks say Sunday."""
    rng = np.random.default_rng(6)
    n, days, horizon = 30, 800, 28
    sunday = weekday(19000 + np.arange(days)) == 6
    sizes = rng.uniform(5, 30, n)
    shape = np.ones((n, days))
    shape[: n // 2, days - 210:] = np.where(sunday[days - 210:], 2.0, 1.0)
    values = rng.poisson(sizes[:, None] * shape).astype(float)
    forecast = GlobalBoosted(horizon=horizon).fit(panel(values[:, :-horizon])).predict(horizon)
    ahead = sunday[-horizon:]
    changed = forecast[: n // 2, ahead].mean(axis=1) / forecast[: n // 2, ~ahead].mean(axis=1)
    flat = forecast[n // 2:, ahead].mean(axis=1) / forecast[n // 2:, ~ahead].mean(axis=1)
    assert np.median(changed) > 1.6  # sold 2.0x on Sundays
    assert np.all(np.abs(flat - 1) < 0.2)
