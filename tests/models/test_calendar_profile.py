"""The calendar profiles (level x weekday x month of year): what they recover, for whom, and on real sales."""

from datetime import date

import numpy as np
import pandas as pd

from app.models.auto import AutoForecaster
from app.models.calendar_profile import CalendarProfile, WeekdayProfile
from app.models.panel import Panel
from app.models.registry import make
from app.utils.dates import day_number, weekday

WEEK = np.array([0.8, 0.9, 0.9, 1.0, 1.1, 1.2, 1.1])  # Monday .. Sunday
MONTH = np.array([0.7, 0.75, 0.9, 1.05, 1.1, 1.2, 1.3, 1.15, 1.05, 0.95, 1.05, 0.8])
FIRST = day_number(date(2019, 1, 1))


def _panel(values: np.ndarray, first_day: int = FIRST, step: int = 1, imputed: np.ndarray | None = None) -> Panel:
    values = np.atleast_2d(values).astype(float)
    return Panel([f"p{i}" for i in range(values.shape[0])], values, np.zeros(values.shape[0], dtype=np.int64),
                 first_day, step, imputed=imputed)


def _calendar(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dates = days.astype("datetime64[D]")
    return (weekday(days), dates.astype("datetime64[M]").astype(np.int64) % 12,
            dates.astype("datetime64[Y]").astype(np.int64) + 1970)


def test_calendar_profile_recovers_the_year_level_the_weekday_and_the_month():
    days = FIRST + np.arange(3 * 365 + 200)  # 2019-01-01 .. 2022-07-19, then 60 days ahead
    day_of_week, month, year = _calendar(days)
    level = {2019: 40.0, 2020: 46.0, 2021: 50.0, 2022: 55.0}
    expected = np.array([level[y] for y in year]) * WEEK[day_of_week] * MONTH[month]
    history, ahead = expected[:-60], expected[-60:]
    forecast = CalendarProfile().fit(_panel(history)).predict(60)[0]
    np.testing.assert_allclose(forecast, ahead, rtol=0.01)


def test_weekday_profile_carries_the_last_four_weeks_level_with_the_weekday_shape():
    days = FIRST + np.arange(800)
    shape = WEEK[weekday(days)]
    history = np.where(np.arange(800) >= 800 - 28, 20.0, 10.0) * shape
    forecast = WeekdayProfile().fit(_panel(history)).predict(14)[0]
    np.testing.assert_allclose(forecast, 20.0 * WEEK[weekday(FIRST + 800 + np.arange(14))], rtol=0.01)


def test_profiles_need_two_years_of_daily_sales():
    short = np.full(700, 5.0)
    for family in (WeekdayProfile, CalendarProfile):
        assert np.isnan(family().fit(_panel(short)).predict(7)).all()
        assert np.isfinite(family().fit(_panel(np.full(800, 5.0))).predict(7)).all()
        assert np.isnan(family().fit(_panel(np.full((1, 120), 5.0), step=7)).predict(4)).all()


def test_closed_days_are_not_read_as_no_sales():
    days = FIRST + np.arange(800)
    history = 10.0 * WEEK[weekday(days)]
    closed = weekday(days) == 0  # closed on Mondays, filled with 0 here: not a sale to read
    forecast = WeekdayProfile().fit(_panel(np.where(closed, 0.0, history), imputed=closed[None, :])).predict(7)[0]
    open_days = weekday(FIRST + 800 + np.arange(7)) != 0
    np.testing.assert_allclose(forecast[open_days], 10.0 * WEEK[weekday(FIRST + 800 + np.arange(7))][open_days],
                               rtol=0.02)


def test_a_product_alone_beats_its_own_trees_on_real_store_item_sales(store_item: pd.DataFrame):
    """The per-request path (one product per request): on store-item the trees of one product were chosen
    and the profile, seeing the year through its months, forecasts the 90 held-out days better."""
    daily = store_item[(store_item["store"] == 2) & (store_item["item"] <= 4)].pivot(index="item", columns="date",
                                                                                     values="sales")
    values = daily.to_numpy(np.float64)
    first_day = day_number(daily.columns[0].date())
    auto_error = trees_error = 0.0
    for row in values:
        train = _panel(row[:-90], first_day)
        auto_error += np.abs(AutoForecaster(horizon=90).fit(train).predict(90)[0] - row[-90:]).mean()
        trees_error += np.abs(make("boosted", 90).fit(train).predict(90)[0] - row[-90:]).mean()
    assert auto_error < 0.92 * trees_error
