"""Insights: aggregation, moving averages, trends, seasonality and recommendations."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from app.schemas.insights import InsightsRequest
from app.services.analytics.insights import summarise_sales
from app.utils.errors import InvalidInputError, SmartShelfError
from tests.conftest import sales_rows
from tests.support.budget import BUDGET

START = date(2025, 9, 1)  # a Monday


def rows(product_id: str, values: list[float], start: date = START, revenue_per_unit: float | None = 2.0) -> list:
    out = []
    for k, qty in enumerate(values):
        row = {"product_id": product_id, "date": (start + timedelta(days=k)).isoformat(), "qty": qty}
        if revenue_per_unit is not None:
            row["revenue"] = qty * revenue_per_unit
        out.append(row)
    return out


def run(sales: list, **body):
    return summarise_sales(InsightsRequest.model_validate({"shop_id": "s", "sales": sales, **body}), BUDGET)


def test_daily_series_lists_every_day_with_zeros_and_sums_back():
    sales = [*rows("a", [5, 0, 3]), {"product_id": "b", "date": "2025-09-05", "qty": 4, "revenue": 8}]
    response = run(sales, range={"start": "2025-09-01", "end": "2025-09-07"})
    assert [p.date.isoformat() for p in response.series] == [f"2025-09-0{d}" for d in range(1, 8)]
    assert [p.total_sales for p in response.series] == [5, 0, 3, 0, 4, 0, 0]
    assert sum(p.total_revenue for p in response.series) == pytest.approx(24.0)


def test_moving_averages_are_trailing_means_over_available_periods():
    response = run(rows("a", [float(k) for k in range(1, 11)]))
    ma7 = [p.moving_avg_7 for p in response.series]
    assert ma7[0] == 1.0 and ma7[6] == pytest.approx(4.0) and ma7[9] == pytest.approx(np.mean(range(4, 11)))
    assert response.series[9].moving_avg_30 == pytest.approx(5.5)


def test_sales_before_the_range_warm_up_moving_averages_only():
    sales = rows("a", [10.0] * 14)
    response = run(sales, range={"start": "2025-09-08", "end": "2025-09-14"})
    assert response.series[0].moving_avg_7 == 10.0  # uses the 6 days before the range
    assert sum(p.total_sales for p in response.series) == 70
    warning = next(w for w in response.warnings if w.code == "outside_range")
    assert warning.count == 7


def test_weekly_periods_are_iso_weeks_labelled_by_monday():
    sales = rows("a", [1.0] * 21, start=date(2025, 9, 3))  # Wed 3rd .. Tue 23rd
    response = run(sales, granularity="weekly")
    assert [p.date.isoformat() for p in response.series] == ["2025-09-01", "2025-09-08", "2025-09-15", "2025-09-22"]
    assert [p.total_sales for p in response.series] == [5, 7, 7, 2]


def test_monthly_periods_sum_calendar_months():
    sales = rows("a", [1.0] * 45, start=date(2025, 1, 20))
    response = run(sales, granularity="monthly")
    assert [(p.date.isoformat(), p.total_sales) for p in response.series] == [
        ("2025-01-01", 12), ("2025-02-01", 28), ("2025-03-01", 5)]


def test_top_items_by_units_with_trends():
    grow = rows("grow", [float(k) for k in range(1, 29)])
    fall = rows("fall", [float(40 - k) for k in range(28)])
    flat = rows("flat", [3.0, 4.0] * 14)
    response = run(grow + fall + flat, top_k=3)
    items = {i.product_id: i for i in response.top_items}
    assert [i.product_id for i in response.top_items] == ["fall", "grow", "flat"]
    assert items["grow"].trend == "increasing" and items["grow"].trend_slope == pytest.approx(1.0)
    assert items["fall"].trend == "decreasing" and items["fall"].trend_slope == pytest.approx(-1.0)
    assert items["flat"].trend == "stable"
    # 28 days cannot tell whether a trend still holds (it is checked on the last 28 and the days before them): no
    # order advice on them (a review: a one-week range's weekday pattern read as 'falling -45%: reduce the order')
    assert any("grow" in r and "rising" in r and "too short to tell" in r for r in response.recommendations)
    assert any("fall" in r and "falling" in r and "too short to tell" in r for r in response.recommendations)
    assert not any("increasing stock" in r or "Reduce the next order" in r for r in response.recommendations)


def test_a_slow_movers_trend_is_written_with_its_own_digits_not_as_zero():
    """A slow mover rising 0.004 units a day is no "+0.00 per day" in a recommendation."""
    slow = rows("slow", [float(k >= 50 and k % 5 == 0) + float(k >= 80 and k % 3 == 0) for k in range(112)])
    response = run(slow, top_k=1)
    item = response.top_items[0]
    assert item.trend == "increasing" and abs(item.trend_slope) < 0.1
    advice = next(r for r in response.recommendations if "slow" in r)
    assert "+0.00 per" not in advice and f"{item.trend_slope:+.2g} per day" in advice


def test_top_k_limits_the_list():
    sales = [r for k in range(5) for r in rows(f"p{k}", [float(k + 1)] * 3)]
    response = run(sales, top_k=2)
    assert [i.product_id for i in response.top_items] == ["p4", "p3"]
    assert response.meta.total_products == 5


def test_missing_revenue_counts_as_zero_and_is_reported():
    response = run(rows("a", [1.0, 2.0], revenue_per_unit=None))
    assert response.top_items[0].total_revenue == 0
    assert next(w for w in response.warnings if w.code == "missing_revenue").count == 2


def test_returns_reduce_totals():
    sales = [*rows("a", [5.0, 5.0]), {"product_id": "a", "date": "2025-09-02", "qty": -2, "revenue": -4}]
    response = run(sales)
    assert [p.total_sales for p in response.series] == [5.0, 3.0]
    assert any(w.code == "returns_netted" for w in response.warnings)


def test_range_start_after_end_is_unusable():
    with pytest.raises(SmartShelfError) as error:
        run(rows("a", [1.0]), range={"start": "2025-09-10", "end": "2025-09-01"})
    assert error.value.field == "range"


def test_no_sales_and_no_range_is_unusable():
    with pytest.raises(SmartShelfError):
        run([])


@pytest.mark.slow
def test_real_store_item_weekday_peak_and_weekly_totals_match_pandas(store_item):
    store = store_item[(store_item.store == 2) & (store_item.date >= "2017-01-02") & (store_item.date <= "2017-06-25")]
    response = run(sales_rows(store), granularity="weekly", top_k=5)
    daily = store.groupby("date").sales.sum()
    weekday_mean = daily.groupby(daily.index.day_of_week).mean()
    assert response.seasonality.peak_day == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                             "Saturday", "Sunday"][int(weekday_mean.idxmax())]
    weekly = daily.groupby(daily.index.to_period("W-SUN")).sum()
    np.testing.assert_allclose([p.total_sales for p in response.series], weekly.to_numpy())
    top = store.groupby("item").sales.sum().sort_values(ascending=False).head(5)
    assert [i.product_id for i in response.top_items] == [f"p{i}" for i in top.index]
    assert response.seasonality.peak_month == "June"
    assert sum(i.share_of_units for i in response.top_items) == pytest.approx(top.sum() / daily.sum(), abs=1e-3)
    assert pd.Series([p.total_sales for p in response.series]).sum() == daily.sum()


def test_periods_the_range_cuts_are_marked_partial_and_left_out_of_trends():
    """Issue #24: 1-11 November shown as a full month, so a steady shop 'fell' 64% in November."""
    sales = [*rows("a", [10.0] * 164, start=date(2025, 6, 1)), *rows("b", [3.0] * 164, start=date(2025, 6, 1))]
    response = run(sales, granularity="monthly")  # 2025-06-01 .. 2025-11-11
    assert [p.partial for p in response.series] == [False] * 5 + [True]
    assert response.series[-1].total_sales == 11 * 13 and response.meta.partial_periods == 1
    assert {item.trend for item in response.top_items} == {"stable"}
    assert not any("fell" in advice for advice in response.recommendations)
    weekly = run(sales, granularity="weekly", range={"start": "2025-06-04", "end": "2025-11-11"})
    assert weekly.series[0].partial and weekly.series[-1].partial and not any(p.partial for p in weekly.series[1:-1])


def test_moving_averages_are_daily_means_at_weekly_and_monthly_grain():
    """Issue #24: at monthly grain moving_avg_7 / moving_avg_30 were means over 7 and 30 months."""
    sales = rows("a", [float(k % 7 + 7) for k in range(364)], start=date(2025, 1, 6))  # 10 a day on average
    for granularity in ("weekly", "monthly"):
        response = run(sales, granularity=granularity)
        complete = [p for p in response.series if not p.partial]
        assert [p.moving_avg_7 for p in complete] == pytest.approx([10.0] * len(complete))
        assert all(abs(p.moving_avg_30 - 10) < 0.5 for p in complete[1:])
    monthly = run(sales, granularity="monthly", range={"start": "2025-03-01", "end": "2025-03-31"})
    units = np.array([k % 7 + 7 for k in range(364)], dtype=float)
    march_end = (date(2025, 3, 31) - date(2025, 1, 6)).days
    assert monthly.series[0].moving_avg_30 == pytest.approx(units[march_end - 29:march_end + 1].mean())


def test_range_is_capped_before_any_work():
    """Issue #25: a 200-byte request for ~499 k daily periods answered 49 MB."""
    with pytest.raises(InvalidInputError) as caught:
        run(rows("a", [1.0]), range={"start": "1000-01-01", "end": "2366-12-31"})
    message = str(caught.value)
    assert caught.value.field == "range" and "499,286 daily periods" in message and "3,653" in message
    ten_years = run(rows("a", [1.0]), range={"start": "2015-09-02", "end": "2025-09-01"})
    assert ten_years.meta.periods == 3653
    centuries = run(rows("a", [1.0]), range={"start": "1800-01-01", "end": "2025-12-31"}, granularity="monthly")
    assert centuries.meta.periods == 226 * 12


def test_a_rise_that_ended_is_no_advice_to_stock_up():
    """A seaside shop's year: a line through 14 months rising to the summer peak, then four quiet weeks at a
    third of the peak. The range's trend is rising, but it does not hold now: no "increase stock" (a review found
    croissants falling 65 % from August told to stock up on 1 October), the advice says why."""
    values = [10.0 + 0.1 * k for k in range(400)] + [15.0] * 28
    response = run(rows("croissant", values), top_k=1)
    item = response.top_items[0]
    assert item.trend == "increasing"
    advice = next(r for r in response.recommendations if "croissant" in r)
    assert "increasing stock" not in advice
    assert "does not hold now" in advice and "over the last 28 days it sold" in advice
    # the range's way and the measured change apart: never 'fell ... the rise does not hold' in one clause
    assert advice.startswith("Product croissant: the range's rise does not hold now"), advice
    steady = run(rows("croissant", [10.0 + 0.1 * k for k in range(428)]), top_k=1)
    assert any("croissant" in r and "increasing stock" in r for r in steady.recommendations)


def test_a_fall_is_never_more_than_all_of_the_sales():
    """change_pct is the line's change from its first period to its last (floored at 0): a fall to nothing is
    -100 %, never "fell 136 %"."""
    response = run(rows("gone", [max(0.0, 100.0 - 3 * k) for k in range(60)]), top_k=1)
    assert -100.0 <= response.top_items[0].change_pct < -99  # it stopped at 0: the first 28 days against the last
    assert all("fell 1" not in r or "fell 100%" in r for r in response.recommendations)
    halved = run(rows("half", [100.0 - k * 50 / 27 for k in range(28)]), top_k=1)
    assert halved.top_items[0].change_pct == pytest.approx(-50.0, abs=0.1)


def _summer_then_flat() -> list[float]:
    """A seaside bakery's baguettes from 1 August: three weeks at the peak, a fall over twelve days to a third,
    then four flat weeks, with a weekend peak (the shape of a real bakery's August-September)."""
    week = [1.0, 0.9, 0.95, 1.0, 1.1, 1.4, 1.2]
    level = [430.0] * 21 + [430.0 - 275.0 * k / 12 for k in range(1, 13)] + [155.0] * 28
    return [round(v * week[k % 7]) for k, v in enumerate(level)]


def test_a_fall_that_levelled_off_is_no_advice_to_cut_orders():
    """A review found the bakery's best sellers told "Reduce the next order" on 30 September after their summer
    fall had ended: the line through 61 days ends at a third of what sells, and its mean over the last 28 days
    matched the flat level, so the old "holds now" check passed. The last weeks' own slope tells: no cut, and the
    figures describe the sales (first four weeks against the last four), not the line's end."""
    values = _summer_then_flat()
    response = run(rows("baguette", values), top_k=1)
    item = response.top_items[0]
    assert item.trend == "decreasing"
    measured = (np.mean(values[-28:]) / np.mean(values[:28]) - 1) * 100
    assert item.change_pct == pytest.approx(measured, abs=0.1)  # about -60 %, not the line's -89 %
    advice = next(r for r in response.recommendations if "baguette" in r)
    assert "Reduce the next order" not in advice
    assert f"it fell {abs(measured):.0f}%)" in advice
    assert "over the last 28 days it changed -0.46 per day, against -6.95" in advice
    assert "does not hold now" in advice
    weekly = run(rows("baguette", values), granularity="weekly", top_k=1)
    assert not any("Reduce the next order" in r for r in weekly.recommendations)


def test_a_fall_that_runs_on_is_still_advice_to_cut_orders():
    """The same weekly noise on a fall that keeps going: its last weeks fall with it, the advice stands (after a
    steady year: a year ago the same weeks did not turn)."""
    week = [1.0, 0.9, 0.95, 1.0, 1.1, 1.4, 1.2]
    values = [round((430.0 - 4.5 * k) * week[k % 7]) for k in range(61)]
    year = [round(430.0 * week[k % 7]) for k in range(364)]
    response = run(rows("baguette", year + values, start=START - timedelta(days=364)), top_k=1,
                   range={"start": START.isoformat(), "end": (START + timedelta(days=60)).isoformat()})
    assert any("baguette" in r and "Reduce the next order" in r for r in response.recommendations)
    assert response.top_items[0].change_pct < -60
    alone = run(rows("baguette", values), top_k=1)  # 61 days: a decline or a season's low, it cannot tell
    advice = next(r for r in alone.recommendations if "baguette" in r)
    assert "cannot tell a seasonal low from a decline" in advice and "Reduce the next order" not in advice


def _christmas(first: date, last: date, base: float = 100.0) -> list[float]:
    """Daily units from `first` to `last` with a weekday pattern and a Christmas peak: a rise over the five weeks to
    28 December to 2.5 times the level, back to it a week later (a bakery's December)."""
    week = [1.0, 0.9, 0.95, 1.0, 1.1, 1.4, 1.2]
    values = []
    for k in range((last - first).days + 1):
        day = first + timedelta(days=k)
        to_peak = (date(day.year, 12, 28) - day).days
        since_peak = (day - date(day.year - (to_peak > 35), 12, 28)).days
        peak = 1.5 * (1 - to_peak / 35) if 0 <= to_peak <= 35 else 1.5 * max(0.0, 1 - since_peak / 7)
        values.append(round(base * (1 + peak) * week[k % 7]))
    return values


def test_a_rise_into_a_seasonal_peak_is_no_advice_to_stock_up():
    """Review 6 F12: the bakery's export with as_of late December 2021 (a six-week range) read "High demand ...
    Consider increasing stock levels" for its best sellers on the rise into Christmas; in January 2022 its weeks
    sold half. Where the sales reach a year back, last year's same weeks tell the peak: the next weeks fell."""
    first, end = date(2023, 1, 2), date(2024, 12, 31)
    response = run(rows("baguette", _christmas(first, end), start=first), top_k=1,
                   range={"start": "2024-11-20", "end": end.isoformat()})
    item = response.top_items[0]
    assert item.trend == "increasing"
    advice = next(r for r in response.recommendations if "baguette" in r)
    assert "increasing stock" not in advice
    assert advice.startswith("Product baguette: seasonal peak: last year demand fell ")
    assert "in the 4 weeks after 2024-01-02; it is rising now" in advice and "Do not stock up" in advice
    # the figure is last year's: its open days' mean, the 28 days after 2024-01-02 against the 28 up to it
    values = np.array(_christmas(first, end))
    year_ago = (date(2024, 1, 2) - first).days
    fell = (1 - values[year_ago + 1:year_ago + 29].mean() / values[year_ago - 27:year_ago + 1].mean()) * 100
    assert f"fell {fell:.0f}% in" in advice
    # the mirror: a sandwich that sells less over the holidays and recovers in January is no cut to its order
    dip = [round(2 * 100 * (1 + 0.2 * (k % 7 == 5)) - v / 2) for k, v in enumerate(_christmas(first, end))]
    low = run(rows("sandwich", dip, start=first), top_k=1, range={"start": "2024-11-20", "end": end.isoformat()})
    assert low.top_items[0].trend == "decreasing"
    advice = next(r for r in low.recommendations if "sandwich" in r)
    assert advice.startswith("Product sandwich: seasonal low: last year demand rose ") and "Reduce" not in advice


def test_a_rise_without_a_year_of_history_cannot_be_told_from_growth():
    """The bakery's case as it came: its export began in January 2021, so in December 2021 no same weeks a year ago
    tell a Christmas rise from growth: the trend is described and no stock advice is given."""
    first, end = date(2024, 2, 1), date(2024, 12, 31)
    response = run(rows("baguette", _christmas(first, end), start=first), top_k=1,
                   range={"start": "2024-11-20", "end": end.isoformat()})
    assert response.top_items[0].trend == "increasing"
    advice = next(r for r in response.recommendations if "baguette" in r)
    assert "increasing stock" not in advice
    assert advice == ("Product baguette is rising (+165% over the range, +4.09 per day), but the sales sent do not "
                      "reach a year back (to 2023-12-06), so this cannot tell a seasonal peak from growth: plan stock "
                      "on the forecast.")
    # a product new since last year in a shop whose sales reach back: the same words, for its own reason
    shop = rows("croissant", [50.0] * ((end - date(2023, 1, 2)).days + 1), start=date(2023, 1, 2))
    new = run(shop + rows("baguette", _christmas(first, end), start=first), top_k=2,
              range={"start": "2024-11-20", "end": end.isoformat()})
    advice = next(r for r in new.recommendations if "baguette" in r)
    assert "but it sold nothing in the 4 weeks to 2024-01-02, so this cannot tell" in advice


def test_steady_growth_over_years_is_still_advice_to_stock_up():
    """A product growing all year, both years (+27 % every two months): last year's next weeks rose too, so the rise
    is growth."""
    first = date(2023, 1, 2)
    week = [1.0, 0.9, 0.95, 1.0, 1.1, 1.4, 1.2]
    values = [round(100.0 * np.exp(0.004 * k) * week[k % 7]) for k in range(730)]
    response = run(rows("baguette", values, start=first), top_k=1, range={"start": "2024-11-01", "end": "2024-12-31"})
    advice = next(r for r in response.recommendations if "baguette" in r)
    assert advice.startswith("High demand detected for product baguette") and "increasing stock" in advice
    assert "the 4 weeks after 2024-01-02 last year changed +" in advice



def test_a_stable_trend_shows_the_first_and_last_periods_change_never_the_lines():
    """Review 5 F12: VIK BREAD, January to September by month, was "stable" (the line through its summer hump is not
    significant) with change_pct +278 %, the line's ends; its months went 83 (January) to 118 (September), +42 %."""
    months = [83.0, 90.0, 100.0, 150.0, 300.0, 370.0, 378.0, 363.0, 118.0]
    sales = []
    for month, total in enumerate(months, start=1):
        first = date(2022, month, 1)
        days = (date(2022 + month // 12, month % 12 + 1, 1) - first).days
        sales += rows("vik", [total / days] * days, start=first)
    response = run(sales, range={"start": "2022-01-01", "end": "2022-09-30"}, granularity="monthly", top_k=1)
    item = response.top_items[0]
    assert item.trend == "stable" and item.trend_slope > 20  # the line rises steeply, but not significantly
    assert item.change_pct == pytest.approx((118 / 83 - 1) * 100, abs=0.1)
    short = run(sales, range={"start": "2022-01-01", "end": "2022-02-28"}, granularity="monthly", top_k=1)
    assert short.top_items[0].trend == "stable" and short.top_items[0].change_pct is None  # two months: too few
