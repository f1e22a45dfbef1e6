"""The candidates' disagreement: a width the backtest errors alone miss."""

import numpy as np

from app.models.auto import AutoForecaster
from app.models.disagreement import WEIGHT, spread_factor
from app.models.panel import Panel
from app.models.rate_bands import fit_bands


def test_candidates_that_agree_add_no_width_and_one_that_cannot_forecast_is_left_out():
    agree = np.full((3, 28), 10.0)
    apart = np.stack([np.full(28, 5.0), np.full(28, 10.0), np.full(28, 20.0)])
    missing = np.vstack([apart[:2], np.full((1, 28), np.nan)])
    factor = spread_factor(np.stack([agree, apart, missing, np.full((3, 28), np.nan)]))
    np.testing.assert_allclose(factor[0], 1.0)
    np.testing.assert_allclose(factor[1], 1 + WEIGHT * np.std(np.log([5.5, 10.5, 20.5])))
    np.testing.assert_allclose(factor[2], 1 + WEIGHT * np.std(np.log([5.5, 10.5])))
    assert factor[3] == 1.0  # no candidate could forecast


def test_bands_read_errors_in_units_of_the_windows_spread():
    """Forty products whose backtest errors were twice as large in the windows where the candidates disagreed
    (spread 2) as where they agreed (1): read in those units, the bounds of a product whose candidates disagree
    now are twice as wide as of one whose agree, and each covers what it should."""
    rng = np.random.default_rng(5)
    products, windows, steps = 40, 3, 28
    spread = np.where(rng.random((products, windows)) < 0.5, 1.0, 2.0)
    forecast = np.full((products, windows, steps), 50.0)
    actual = forecast + rng.normal(0.0, 3.0, forecast.shape) * spread[:, :, None]
    bands = fit_bands(actual, forecast, np.full((products, windows), 50.0), spread=spread)
    assert bands is not None
    now = np.where(np.arange(products) < products // 2, 1.0, 2.0)
    future = 50.0 + rng.normal(0.0, 3.0, (products, steps)) * now[:, None]
    lower, upper = bands.bounds(np.full((products, steps), 50.0), np.full(products, 50.0), 0.8, now)
    width = (upper - lower).mean(axis=1)
    assert 1.8 < width[now == 2].mean() / width[now == 1].mean() < 2.2
    inside = (future >= lower) & (future <= upper)
    for group in (now == 1, now == 2):
        assert 0.74 < inside[group].mean() < 0.86


def test_a_request_whose_candidates_part_ways_gets_wider_bounds():
    """Thirty products selling about 20 a day, half of which doubled their sales in the last week: the 28-day mean,
    last week and the smoothed level no longer agree on them, and their bounds, relative to a Poisson count's
    spread at their level, are 1.86 times the steady half's (1.37 read from the backtest errors alone); one
    product alone (no band to learn what a disagreement is worth) keeps its own errors' width."""
    rng = np.random.default_rng(9)
    products, days = 30, 400
    level = np.full((products, days), 20.0)
    level[products // 2:, -7:] = 40.0
    panel = Panel([f"p{i}" for i in range(products)], rng.poisson(level).astype(float), np.zeros(products, int),
                  19000, 1)
    model = AutoForecaster(families=("moving_average", "seasonal_naive", "holt_winters"), horizon=28).fit(panel)
    spread = model.selection_.spread
    assert spread[products // 2:].mean() > spread[: products // 2].mean() + 0.05
    forecast = model.predict(28)
    lower, upper, _ = model.intervals(forecast, 0.8)
    relative = ((upper - lower) / forecast).mean(axis=1)
    assert relative[products // 2:].mean() > 1.6 * relative[: products // 2].mean() * np.sqrt(
        forecast[: products // 2].mean() / forecast[products // 2:].mean())
    alone = AutoForecaster(families=("moving_average", "seasonal_naive", "holt_winters"), horizon=28).fit(
        panel.take(np.array([products - 1])))
    np.testing.assert_array_equal(alone.selection_.spread, 1.0)
