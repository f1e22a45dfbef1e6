"""Interval calibration from backtest errors: every product counts once, whatever its windows."""

import numpy as np

from app.models.rate_bands import GRID, _weighted_quantiles, fit_bands
from app.models.shop_model import WINDOW_HALF_LIFE


def test_equal_weights_read_numpys_weibull_quantiles():
    values = np.random.default_rng(11).normal(0.0, 1.0, 137)
    np.testing.assert_allclose(_weighted_quantiles(values, np.ones(137)), np.quantile(values, GRID, method="weibull"))


def test_a_product_scored_on_more_windows_does_not_weigh_more():
    """Half the products are steady and scored on one backtest window, half volatile and scored on four (as the
    local families are when the trees' earlier windows have too little history): counting each error once
    lends the volatile ones four times the weight, and the next window, where every product counts once,
    is over-covered."""
    rng = np.random.default_rng(12)
    products, windows, steps = 30, 4, 28
    spread = np.where(np.arange(products) < products // 2, 1.0, 4.0)  # steady, then volatile
    level = np.full((products, windows, steps), 50.0)
    actual = level + rng.normal(0.0, 1.0, level.shape) * spread[:, None, None]
    actual[: products // 2, 1:] = np.nan  # the steady ones: the last window only
    rate = np.full((products, windows), 50.0)
    future = level[:, 0] + rng.normal(0.0, 1.0, level[:, 0].shape) * spread[:, None]

    def coverage(bands) -> float:
        lower, upper = bands.bounds(level[:, 0], rate[:, 0], 0.8)
        return float(((future >= lower) & (future <= upper)).mean())

    weighted = fit_bands(actual, level, rate)
    per_error = fit_bands(actual.reshape(-1, steps), level.reshape(-1, steps), rate.reshape(-1))
    assert weighted is not None and per_error is not None
    assert 0.76 < coverage(weighted) < 0.84
    assert coverage(per_error) > 0.86


def test_one_products_backtest_reaches_the_95_percent_tails():
    """One product, three 28-day windows (a per-request forecast): 21 errors per horizon bucket cannot resolve
    the 2.5 % tails (their smallest and largest read at 1/22 and 21/22), so their bounds held ~93 % of the next
    window at 95 %; past its own resolution a bucket reads the product's 84 errors pooled."""
    rng = np.random.default_rng(14)
    level = np.full((1, 3, 28), 50.0)
    inside = {0.8: [], 0.95: []}
    for _ in range(300):
        bands = fit_bands(level + rng.normal(0.0, 5.0, level.shape), level, np.full((1, 3), 50.0))
        assert bands is not None
        future = level[:, 0] + rng.normal(0.0, 5.0, (1, 28))
        for coverage, held in inside.items():
            lower, upper = bands.bounds(level[:, 0], np.full(1, 50.0), coverage)
            held.append(((future >= lower) & (future <= upper)).mean())
    assert 0.94 < np.mean(inside[0.95]) < 0.975
    assert 0.79 < np.mean(inside[0.8]) < 0.85


def test_a_product_below_its_bands_floor_is_scaled_by_its_own_rate():
    """The lowest band's floor is its 10th-percentile rate: products selling less than that (not slow movers:
    over a unit a period) were scaled by it, so their bounds were the floor product's width (walmart-weekly's
    departments under ~170 $ a week covered ~92 % at 80 %). Their own rate scales them, as their errors do."""
    rng = np.random.default_rng(15)
    rate = np.concatenate([np.geomspace(100.0, 1000.0, 27), [2.0, 2.5, 3.0]])  # one band (under 40 products)
    level = np.broadcast_to(rate[:, None], (rate.size, 56)).copy()  # one backtest window of 56 periods
    actual = level + rng.normal(0.0, 0.3, level.shape) * level  # errors proportional to the level
    bands = fit_bands(actual, level, rate)
    assert bands is not None and bands.floors[0] > 50.0  # the band's floor sits far above the three small ones
    small = rate < 10.0
    inside = []
    for _ in range(50):
        future = level + rng.normal(0.0, 0.3, level.shape) * level
        lower, upper = bands.bounds(level, rate, 0.8)
        inside.append(((future >= lower) & (future <= upper))[small].mean())
    assert 0.74 < np.mean(inside) < 0.86


def test_one_products_quiet_days_are_not_scaled_by_its_mean():
    """One product alone (a per-request forecast) has no band of products to take a low rate from: its 10th
    percentile rate was its own, and every forecast under its mean was scaled by the mean, so a shop's quiet
    weekdays got its busy ones' width (the bakery's articles one a request covered 88 % at 80 %)."""
    rng = np.random.default_rng(16)
    week = np.array([30.0, 30.0, 30.0, 30.0, 30.0, 12.0, 12.0])
    level = np.broadcast_to(np.tile(week, 4), (1, 3, 28)).copy()  # three 28-day windows
    quiet = np.tile(week, 4) < 20.0
    inside = []
    for _ in range(100):
        bands = fit_bands(rng.poisson(level).astype(float), level, np.full((1, 3), week.mean()))
        assert bands is not None
        future = rng.poisson(level[:, 0])
        lower, upper = bands.bounds(level[:, 0], np.full(1, week.mean()), 0.8)
        inside.append(((future >= lower) & (future <= upper))[:, quiet].mean())
    assert 0.72 < np.mean(inside) < 0.88


def test_the_shop_models_bands_weigh_the_latest_window_most():
    """Four windows, the three earlier ones forecast by a staler fit with errors 1.3 times as wide (the shop
    model's earlier trees: one fit before the earliest origin): weighed equally they lend the next window, whose
    errors are the latest's, about 89 % coverage at 80 %; the latest window weighing most, nearer 80 %."""
    rng = np.random.default_rng(5)
    products, windows, steps = 60, 4, 28
    spread = np.array([1.0, 1.3, 1.3, 1.3])  # latest first
    level = np.full((products, windows, steps), 50.0)
    actual = level + rng.normal(0.0, 1.0, level.shape) * spread[None, :, None]
    rate = np.full((products, windows), 50.0)
    future = level[:, 0] + rng.normal(0.0, 1.0, level[:, 0].shape)

    def coverage(bands) -> float:
        lower, upper = bands.bounds(level[:, 0], rate[:, 0], 0.8)
        return float(((future >= lower) & (future <= upper)).mean())

    equal = fit_bands(actual, level, rate)
    recent = fit_bands(actual, level, rate, WINDOW_HALF_LIFE)
    assert equal is not None and recent is not None
    assert coverage(equal) > 0.87
    assert coverage(recent) < coverage(equal) - 0.02
