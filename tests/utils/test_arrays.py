"""Drivers for every product at once: the shared least-squares slope, trends and weekday patterns."""

import math

import numpy as np

from app.models.panel import Panel
from app.services.forecasting.explanations import WEEKDAYS, trends, weekday_patterns
from app.utils.arrays import least_squares_slopes, rounded
from app.utils.dates import weekday


def test_slopes_equal_a_per_row_polyfit_over_each_rows_columns():
    rng = np.random.default_rng(3)
    values = rng.poisson(10, (30, 90)).astype(float) + np.arange(90) * rng.normal(0, 0.3, (30, 1))
    first = rng.integers(0, 88, 30)
    expected = [np.polyfit(np.arange(90 - f), values[i, f:], 1)[0] for i, f in enumerate(first)]
    np.testing.assert_allclose(least_squares_slopes(values, first), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(least_squares_slopes(values), np.polyfit(np.arange(90), values.T, 1)[0])


def test_a_row_with_one_column_has_no_slope():
    assert np.isnan(least_squares_slopes(np.ones((1, 5)), np.array([4])))[0]


def test_trend_drivers_in_percent_of_the_mean_per_month():
    values = np.zeros((3, 120))
    values[0] = 100 + np.arange(120)  # +1 a day; last 90 days average 174.5
    values[1, 115:] = 5.0  # 5 days of history: too short
    start = np.array([0, 115, 0])  # row 2 never sold
    words = trends(Panel(["a", "b", "c"], values, start, 19000, 1))
    assert words == [f"trend: {30 / 174.5 * 100:+.1f}% per month over the last 90 days", None, None]


def test_weekday_patterns_of_every_product_at_once():
    week = np.array([10.0, 12, 11, 13, 18, 25, 21])
    values = np.zeros((4, 70))
    values[0] = np.tile(week, 10)
    values[1] = 5.0
    values[2, 50:] = np.tile(week, 3)[:20]  # 20 days: too short
    start = np.array([0, 0, 50, 0])  # row 3 never sold
    patterns = weekday_patterns(Panel(list("abcd"), values, start, 19000, 1))
    days = weekday(19000 + np.arange(7))
    ratio = week / week.mean() - 1
    high, low = days[np.argmax(ratio)], days[np.argmin(ratio)]
    assert patterns == [f"weekday pattern: {WEEKDAYS[high]} {ratio.max() * 100:+.0f}%, "
                        f"{WEEKDAYS[low]} {ratio.min() * 100:+.0f}%",
                        "weekday pattern: flat (no day differs by 10% or more)", None, None]


def test_the_numbers_shown_are_rounded_as_python_rounds_them():
    values = np.array([2.675, 1.005, 0.125, -0.125, 0.375, -0.001, 0.0, -0.0, 1e16, 123456789.125, 1e-300,
                       np.inf, -np.inf, 7.4999999999, 2.5e-3, 1234.565, -99.995])
    for digits in (1, 2, 3):
        assert [repr(v) for v in rounded(values, digits)] == [repr(round(v, digits)) for v in values.tolist()]
    assert math.isnan(rounded(np.array([np.nan]), 2)[0])
