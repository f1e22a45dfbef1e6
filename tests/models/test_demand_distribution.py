"""Lead-time demand distributions: the family each product gets, its quantile and fill rate against scipy and
against simulated demand."""

import numpy as np
import pytest
from scipy import stats

from app.models.demand_distribution import (
    after_silence,
    choose_family,
    lead_time_demand,
    lead_time_dispersion,
    silence_days,
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


def test_a_silence_with_nothing_on_the_shelf_reads_the_demand_met_while_selling():
    """No stock, no sale: 40 silent days with nothing on hand may be a stockout, so the 14-day demand is what the
    product sold over 14 days while it sold (about 21), its 90% quantile the empirical one."""
    rng = np.random.default_rng(11)
    history = _selling_then_silent(rng, 40)[None, :]
    result = after_silence(history, np.array([14]), 0.9, np.array([True]))
    first = int(np.argmax(history[0] > 0))  # origins after the first sale, 14-day totals ending by the last sale
    totals = np.convolve(history[0, first + 1:324], np.ones(14), "valid")
    assert silence_days(history)[0] == 40 and result.applies[0] and result.origins[0] == totals.size
    assert result.mean[0] == pytest.approx(totals.mean())
    assert (totals <= result.reorder_point[0]).mean() >= 0.9 > (totals <= result.reorder_point[0] - 1).mean()
    assert result.expected_shortage[0] == pytest.approx(np.maximum(totals - result.reorder_point[0], 0).mean())


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
    quantile; with no overshoot it is the plain normal quantile, and the count families ignore it."""
    rng = np.random.default_rng(8)
    mean, sd = np.array([700.0, 700.0, 3.0]), np.array([60.0, 60.0, 3.0])
    result = lead_time_demand(mean, sd**2, np.ones(3, bool), 0.9, np.full(3, 1000.0), np.array([350.0, 0.0, 1.5]))
    demand, above = rng.normal(700.0, 60.0, 400_000), rng.uniform(0.0, 350.0, 400_000)
    assert (demand > result.reorder_point[0] + above).mean() == pytest.approx(0.1, abs=0.003)
    assert result.reorder_point[0] < result.reorder_point[1] == pytest.approx(700.0 + stats.norm.ppf(0.9) * 60.0)
    assert result.family[2] == "negative_binomial"
    assert result.reorder_point[2] == lead_time_demand(mean[2:], sd[2:] ** 2, np.ones(1, bool), 0.9,
                                                       np.full(1, 1000.0)).reorder_point[0]
