"""Lead-time demand distributions: the family each product gets, its quantile and fill rate against scipy and
against simulated demand."""

import numpy as np
import pytest
from scipy import stats

from app.models.demand_distribution import choose_family, lead_time_demand, lead_time_dispersion


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
