"""Sales insights: period series with moving averages, top products with trends, seasonality,
and recommendations computed from those numbers.

Rules:
- Periods are days, ISO weeks (labelled by their Monday) or calendar months; every period of
  the range is listed, empty ones as 0, at most MAX_PERIODS of them (a longer range is refused, 422 on
  `range`, before the series is built). Totals are net units (returns subtract).
- A period the range cuts (a week or month with days outside [start, end], e.g. 1-11 November) is
  `partial`: listed with what it holds, left out of every trend.
- Moving averages are in days at every granularity: `moving_avg_7` / `moving_avg_30` are the mean daily
  units over the 7 / 30 days ending on the period's last day in the range (at daily grain: the trailing
  means of `total_sales`); sales up to 29 days before the range start warm them up (those rows count nowhere
  else; reported in `warnings`), counted from the first sale.
- Trend of a product: least-squares line through its per-period units over the range's complete periods.
  change_pct = the line's change from its first period to its last, % of the first (the line floored at 0:
  a fall is at most -100 %; a line rising from 0 or less: % of the period mean). "increasing"/"decreasing"
  when |slope| * (periods - 1) is >= 10 % of the period mean and the slope's t-statistic is >= 2 in size (3+
  periods), else "stable". A stable trend's change_pct is no line's (a line through a summer hump ends far above
  both ends' sales): the mean of the last RECENT_PERIODS against that of the first ones before them, null when
  the range is too short for that or the first ones sold nothing.
- A trend is advice only where it holds now: the mean of the last RECENT_PERIODS (about four weeks) is not
  RECENT_TOLERANCE or more behind the line over those periods, and those periods still move its way (their own
  slope, fitted on their open days, is not both under half the line's and TREND_MIN_T standard errors flatter).
  A seaside shop's year-long rise that ended in its off season, or its summer fall that levelled off in
  September (a line through it ends at a third of what sells), says so instead of "increase stock" / "reduce the
  next order", and its change_pct is measured: the last RECENT_PERIODS' mean against that of the first ones
  before them. A range too short for that check gets no order advice.
- Stock advice reads what comes next: a trend that holds now is "increase stock" / "reduce the next order" unless
  last year's same weeks went against it by TREND_MIN_CHANGE_PCT or more (a change of -8% after a rise still
  advises stock, with that figure quoted). Last year's weeks are the AHEAD_DAYS ending SEASON_LAG days (52
  weeks, same weekdays) before the range's end and the AHEAD_DAYS after them, read from every sale sent (before the
  range too), mean units per open day. A rise whose next weeks a year ago fell TREND_MIN_CHANGE_PCT or more is a
  seasonal peak (a fall they rose after, a seasonal low): the advice says what last year's next weeks did instead
  of "increase stock" / "reduce the next order". Where the sales sent do not reach the first of last year's weeks,
  or the product sold nothing in them, the trend is described and the advice says it cannot tell a season from
  growth (or a decline): no order advice. On the french bakery's export the next 28 days went the way of the
  order advice about half the time without that check (2021, no year back: 46 % of rises, 59 % of falls); in 2022,
  where a year ago fell 10 % or more against the rise, 90 % of the rises fell in the next 28 days too (the
  Christmas and mid-August peaks), and 69 % of the rises kept went on rising.
- Seasonality: mean daily units per weekday and per calendar month over the range's open days: closed
  days (the request's `closed_weekdays` / `closed_dates`, else detected on a catalogue of 20 or more
  products, `app/utils/opening_days.py`) are no demand and stay out of both; a closed weekday has no index.
"""

import calendar
from typing import NamedTuple

import numpy as np
import pandas as pd

from app.schemas.common import DataWarning
from app.schemas.insights import (
    MAX_PERIODS,
    Granularity,
    InsightsMeta,
    InsightsRequest,
    InsightsResponse,
    Seasonality,
    SeriesPoint,
    TopItem,
)
from app.utils.arrays import grid_sums, least_squares_slopes
from app.utils.dates import dates_of, day_number, from_day_number, month_of_year, weekday
from app.utils.errors import InvalidInputError, SmartShelfError
from app.utils.opening_days import OpeningDays, opening_days
from app.utils.sales_frame import SalesColumns, clean_sales
from app.utils.work_budget import WorkBudget

WARMUP_DAYS = 29
TREND_MIN_CHANGE_PCT = 10.0
TREND_MIN_T = 2.0
RECENT_PERIODS = {"daily": 28, "weekly": 4, "monthly": 1}
RECENT_TOLERANCE = 0.25  # the last periods' mean this far (as a share) beyond the line's end: the trend ended
SEASON_LAG = 364  # last year's same weeks: 52 weeks back, on the same weekdays
AHEAD_DAYS = 28  # the weeks stock advice is for: last year's 28 days after the same day against the 28 up to it
PERIOD_WORD = {"daily": "day", "weekly": "week", "monthly": "month"}
WEEKDAYS = list(calendar.day_name)  # Monday first


def period_of(days: np.ndarray, granularity: Granularity) -> np.ndarray:
    """Period number of each day: days since epoch, Mondays' day number // 7, or months since epoch."""
    if granularity == "daily":
        return days
    if granularity == "weekly":
        return (days + 3) // 7  # 1970-01-01 was a Thursday: +3 makes weeks start on Monday
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def period_start(periods: np.ndarray, granularity: Granularity) -> np.ndarray:
    """First day number of each period."""
    if granularity == "daily":
        return periods
    if granularity == "weekly":
        return periods * 7 - 3
    return periods.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _range_days(request: InsightsRequest, sales: SalesColumns) -> tuple[int, int]:
    if request.range is not None:
        if request.range.start > request.range.end:
            raise SmartShelfError(
                f"start {request.range.start} is after end {request.range.end}", field="range"
            )
        return day_number(request.range.start), day_number(request.range.end)
    if sales.size == 0:
        raise SmartShelfError("no sales rows and no range: nothing to summarise", field="sales")
    return int(sales.day.min()), int(sales.day.max())


def _line(units: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares line of each row of units[k, periods] (3+ periods): x (centred), mean, slope, its standard
    error."""
    periods = units.shape[1]
    x = np.arange(periods, dtype=np.float64) - (periods - 1) / 2
    mean = units.mean(axis=1)
    slope = least_squares_slopes(units)
    residual = units - mean[:, None] - slope[:, None] * x
    return x, mean, slope, np.sqrt((residual**2).sum(axis=1) / (periods - 2) / float((x**2).sum()))


def _pace(daily: np.ndarray, open_days: np.ndarray, days_per_period: float) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope of each row of daily[k, days] over its open days (closed days are no demand), and its
    standard error, in units per period (days_per_period times the daily slope); NaN with under 3 open days."""
    x = np.flatnonzero(open_days).astype(np.float64)
    if x.size < 3:
        return np.full(daily.shape[0], np.nan), np.full(daily.shape[0], np.nan)
    x -= x.mean()
    sxx = float((x**2).sum())
    y = daily[:, open_days] - daily[:, open_days].mean(axis=1, keepdims=True)
    slope = y @ x / sxx
    se = np.sqrt(((y - slope[:, None] * x) ** 2).sum(axis=1) / (x.size - 2) / sxx)
    return slope * days_per_period, se * days_per_period


class Trends(NamedTuple):
    """Per row of units[k, periods] (`_trends`)."""

    slope: np.ndarray
    change: np.ndarray  # change_pct
    label: np.ndarray
    lately: np.ndarray  # the last `recent` periods' mean relative to the line over them (NaN: too few periods)
    pace: np.ndarray  # the last `recent` periods' own slope (NaN: too few periods)
    stopped: np.ndarray


def _trends(units: np.ndarray, recent: int, pace: np.ndarray, pace_se: np.ndarray) -> Trends:
    """Per row of units[k, periods]: slope, change_pct, trend label, the mean of the last `recent` periods
    relative to the line over them (0: on it), their own slope and whether the trend has stopped:
    its last periods fell behind the line by over RECENT_TOLERANCE, or no longer move its way (`pace`, their
    own slope in units per period measured on their open days (`_pace`), with its standard error `pace_se`, is
    under half the line's and TREND_MIN_T standard errors flatter than it). A stopped trend's change_pct is
    measured, the last `recent` periods' mean against the first ones' (a line through a fall that levelled off
    ends far under the sales)."""
    n, periods = units.shape
    if periods < 3:
        zeros = np.zeros(n)
        return Trends(zeros, np.full(n, np.nan), np.full(n, "stable"), np.full(n, np.nan), np.full(n, np.nan),
                      np.zeros(n, dtype=bool))
    x, mean, slope, se = _line(units)
    first = np.maximum(mean - slope * x[-1], 0.0)  # the line at the first and last periods, floored at 0
    last = np.maximum(mean + slope * x[-1], 0.0)
    lately = np.full(n, np.nan)
    stopped = np.zeros(n, dtype=bool)
    measured = np.full(n, np.nan)  # the last `recent` periods' mean against the first ones' (NaN: too few periods)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(mean > 0, slope * (periods - 1) / mean * 100, 0.0)
        change = np.where(first > 0, (last - first) / first * 100, relative)
        t_stat = np.where(se > 0, np.abs(slope) / se, np.where(slope != 0, np.inf, 0.0))
        strong = (np.abs(relative) >= TREND_MIN_CHANGE_PCT) & (t_stat >= TREND_MIN_T)
        if periods >= recent + 2:
            # the last periods' mean against the line over the same periods (not its end: a steady fall's last
            # weeks average above its last point); at most 1000 % over a line at 0 there
            on_line = np.maximum(mean + slope * x[-recent:].mean(), 0.0)
            lately = np.minimum(units[:, -recent:].mean(axis=1) / on_line - 1, 10.0)
            stopped = strong & (np.sign(slope) * lately < -RECENT_TOLERANCE)  # left the line against its way
            along = np.sign(slope) * pace  # the last periods' own slope, in the trend's direction
            stopped |= strong & (along < np.abs(slope) / 2) & (np.abs(slope) - along > TREND_MIN_T * pace_se)
            # the first periods before the last `recent` (never overlapping them) against those
            before, now = units[:, :min(recent, periods - recent)].mean(axis=1), units[:, -recent:].mean(axis=1)
            measured = np.where(before > 0, (now - before) / before * 100, np.nan)
            change = np.where(stopped & (before > 0), measured, change)
    label = np.where(strong & (slope > 0), "increasing", np.where(strong & (slope < 0), "decreasing", "stable"))
    # no line's change beside "stable" (review 5 F12: a line through a summer hump said +278 %, the months +42 %)
    change = np.where(label == "stable", measured, change)
    return Trends(slope, change, label, lately, pace, stopped)


def _seasonality(sales: SalesColumns, start: int, end: int, opening: OpeningDays) -> Seasonality:
    n_days = end - start + 1
    inside = (sales.day >= start) & (sales.day <= end)
    days = np.arange(start, end + 1)
    open_days = ~opening.closed(days)
    daily = np.bincount(sales.day[inside] - start, weights=sales.qty[inside], minlength=n_days)[open_days]
    days = days[open_days]
    day_of_week = weekday(days)
    weekday_units = np.bincount(day_of_week, weights=daily, minlength=7)
    weekday_count = np.bincount(day_of_week, minlength=7)
    month = month_of_year(days)
    month_units = np.bincount(month, weights=daily, minlength=12)
    month_count = np.bincount(month, minlength=12)
    overall = daily.mean() if daily.size else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        weekday_mean = np.where(weekday_count > 0, weekday_units / weekday_count, -np.inf)
        month_mean = np.where(month_count > 0, month_units / month_count, -np.inf)
    index = {
        WEEKDAYS[d]: round(float(weekday_mean[d] / overall), 3) if overall > 0 else 0.0
        for d in range(7)
        if weekday_count[d] > 0
    }
    return Seasonality(
        peak_day=WEEKDAYS[int(np.argmax(weekday_mean))] if overall > 0 else "none",
        peak_month=calendar.month_name[int(np.argmax(month_mean)) + 1] if overall > 0 else "none",
        weekday_index=index,
        months_observed=int((month_count > 0).sum()),
    )


def period_partial(periods: np.ndarray, granularity: Granularity, start: int, end: int) -> np.ndarray:
    """bool per period: some of its days fall outside [start, end] (a week or month the range cuts)."""
    first = period_start(periods, granularity)
    following = period_start(periods + 1, granularity)
    return (first < start) | (following - 1 > end)


def _daily_means(sales: SalesColumns, start: int, end: int, last_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean daily net units over the 7 and the 30 days ending on each of `last_days` (day numbers in the range);
    the WARMUP_DAYS before the range count, from the first sale on (missing history is not read as zeros)."""
    first = min(start, max(start - WARMUP_DAYS, int(sales.day.min()) if sales.size else start))
    inside = (sales.day >= first) & (sales.day <= end)
    daily = pd.Series(np.bincount(sales.day[inside] - first, weights=sales.qty[inside], minlength=end - first + 1))
    at = last_days - first
    return (daily.rolling(7, min_periods=1).mean().to_numpy()[at],
            daily.rolling(30, min_periods=1).mean().to_numpy()[at])


def summarise_sales(request: InsightsRequest, budget: WorkBudget) -> InsightsResponse:
    """Series, top items, seasonality and recommendations for the request's range."""
    sales, warnings = clean_sales(request, with_revenue=True)
    opening, found = opening_days(request, sales)
    warnings += found
    start, end = _range_days(request, sales)
    granularity = request.granularity
    first_period = int(period_of(np.array([start]), granularity)[0])
    last_period = int(period_of(np.array([end]), granularity)[0])
    n_periods = last_period - first_period + 1
    hint = "shorten the range or choose a coarser granularity"
    budget.check("answer", {f"{granularity} periods": n_periods}, hint)
    if n_periods > MAX_PERIODS:
        raise InvalidInputError(f"the range holds {n_periods:,} {granularity} periods, over the {MAX_PERIODS:,} an "
                                f"answer holds (ten years of days); {hint}", field="range")
    budget.check("grid", {"days": end - start + WARMUP_DAYS + 1}, hint)
    budget.check("grid", {"top products": request.top_k, "periods": n_periods}, hint + ", or a smaller top_k")
    period = period_of(sales.day, granularity) - first_period
    in_range = (sales.day >= start) & (sales.day <= end)
    warmup = (sales.day >= start - WARMUP_DAYS) & (sales.day < start)

    outside = int((~in_range).sum())
    if outside:
        warnings.append(DataWarning(
            code="outside_range",
            message=f"{outside} sales rows fell outside the range and were not counted in totals "
            f"({int(warmup.sum())} of them, in the {WARMUP_DAYS} days before the start, "
            "only warm up the moving averages; those a year before the range's end tell the stock advice what "
            "came next a year ago).",
            count=outside,
        ))
    assert sales.revenue is not None
    missing_revenue = np.isnan(sales.revenue) & in_range
    if missing_revenue.any():
        count = int(missing_revenue.sum())
        warnings.append(DataWarning(
            code="missing_revenue",
            message=f"{count} sales rows in the range had no revenue; they count as 0 revenue.",
            count=count,
        ))
    revenue = np.nan_to_num(sales.revenue, nan=0.0)

    periods = np.arange(first_period, last_period + 1)
    partial = period_partial(periods, granularity, start, end)
    units = np.bincount(period[in_range], weights=sales.qty[in_range], minlength=n_periods)
    period_revenue = np.bincount(period[in_range], weights=revenue[in_range], minlength=n_periods)
    last_days = np.minimum(period_start(periods + 1, granularity) - 1, end)
    ma7, ma30 = _daily_means(sales, start, end, last_days)
    labels = dates_of(period_start(periods, granularity))
    series = [
        SeriesPoint(date=label, total_sales=round(float(u), 4), total_revenue=round(float(r), 2),
                    moving_avg_7=round(float(a), 4), moving_avg_30=round(float(b), 4), partial=bool(cut))
        for label, u, r, a, b, cut in zip(labels, units, period_revenue, ma7, ma30, partial, strict=True)
    ]

    n_products = len(sales.product_ids)
    product_units = np.bincount(sales.product[in_range], weights=sales.qty[in_range], minlength=n_products)
    product_revenue = np.bincount(sales.product[in_range], weights=revenue[in_range], minlength=n_products)
    sold = np.flatnonzero(np.bincount(sales.product[in_range], minlength=n_products) > 0)
    ranked = sold[np.lexsort((sales.product_ids[sold].astype(str), -product_units[sold]))][: request.top_k]
    matrix = np.zeros((len(ranked), n_periods))
    if len(ranked):
        slot = np.full(n_products, -1)
        slot[ranked] = np.arange(len(ranked))
        take = in_range & (slot[sales.product] >= 0)
        np.add.at(matrix, (slot[sales.product[take]], period[take]), sales.qty[take])
    recent = RECENT_PERIODS[granularity]
    pace, pace_se = _recent_pace(sales, ranked, periods[~partial], granularity, opening)
    trends = _trends(matrix[:, ~partial], recent, pace[:-1], pace_se[:-1])  # a cut period would read as a fall
    total_units = float(product_units[sold].sum())
    top_items = [
        TopItem(product_id=str(sales.product_ids[p]), total_qty=round(float(product_units[p]), 4),
                total_revenue=round(float(product_revenue[p]), 2),
                share_of_units=round(float(product_units[p]) / total_units, 4) if total_units > 0 else 0.0,
                trend=trends.label[k], trend_slope=round(float(trends.slope[k]), 4),
                change_pct=None if np.isnan(trends.change[k]) else round(float(trends.change[k]), 1))
        for k, p in enumerate(ranked)
    ]
    seasonality = _seasonality(sales, start, end, opening)
    total = _trends(units[~partial][None, :], recent, pace[-1:], pace_se[-1:])
    year_ago = _year_ago(sales, ranked, end, opening)
    return InsightsResponse(
        series=series,
        top_items=top_items,
        seasonality=seasonality,
        recommendations=_recommendations(top_items, trends, year_ago, total, seasonality, granularity, len(sold))
        + _closed_words(opening, start, end),
        meta=InsightsMeta(shop_id=request.shop_id, start=from_day_number(start), end=from_day_number(end),
                          granularity=granularity, periods=n_periods, partial_periods=int(partial.sum()),
                          total_products=len(sold)),
        warnings=warnings,
    )


def _recent_pace(sales: SalesColumns, ranked: np.ndarray, complete: np.ndarray, granularity: Granularity,
                 opening: OpeningDays) -> tuple[np.ndarray, np.ndarray]:
    """`_pace` of the last RECENT_PERIODS of the `complete` periods, on their days: rows are the `ranked` products,
    then all units (NaN with too few periods for a trend to be judged now)."""
    recent = RECENT_PERIODS[granularity]
    if len(complete) < recent + 2:
        return np.full(len(ranked) + 1, np.nan), np.full(len(ranked) + 1, np.nan)
    first = int(period_start(complete[-recent:], granularity)[0])
    n_days = int(period_start(complete[-1:] + 1, granularity)[0]) - first
    take = (sales.day >= first) & (sales.day < first + n_days)
    slot = np.full(len(sales.product_ids), len(ranked))  # products outside the top ones: a row left out below
    slot[ranked] = np.arange(len(ranked))
    daily = grid_sums(slot[sales.product[take]], sales.day[take] - first, len(ranked) + 1, n_days, sales.qty[take])
    daily[-1] = daily[-1] + daily[:-1].sum(axis=0)  # the last row: all units
    return _pace(daily, ~opening.closed(np.arange(first, first + n_days)), n_days / recent)


class YearAgo(NamedTuple):
    """What came next a year ago (`_year_ago`)."""

    change: np.ndarray  # per product, % (NaN: unknown)
    day: int  # the range's end a year ago (day number); its next weeks follow it
    reached: bool  # the sales sent begin on or before the first of last year's weeks


def _year_ago(sales: SalesColumns, ranked: np.ndarray, end: int, opening: OpeningDays) -> YearAgo:
    """What came next a year ago, per `ranked` product: the % change of its mean units per open day from the
    AHEAD_DAYS ending SEASON_LAG days before `end` (a day number) to the AHEAD_DAYS after them; NaN where the sales
    sent begin after the first of those days, the product sold nothing in the first ones, or they hold no open day.

    Args:
        sales: every sale sent, before the range too.
        ranked: int[k] product codes.
    Returns:
        `YearAgo`, its change float64[k] in % (-100 .. ).
    """
    first = end - SEASON_LAG - AHEAD_DAYS + 1
    reached = sales.size > 0 and int(sales.day.min()) <= first
    unknown = YearAgo(np.full(len(ranked), np.nan), end - SEASON_LAG, reached)
    if len(ranked) == 0 or not reached:
        return unknown
    days = 2 * AHEAD_DAYS
    take = (sales.day >= first) & (sales.day < first + days)
    slot = np.full(len(sales.product_ids), len(ranked))  # products outside the top ones: a row left out below
    slot[ranked] = np.arange(len(ranked))
    daily = grid_sums(slot[sales.product[take]], sales.day[take] - first, len(ranked) + 1, days, sales.qty[take])[:-1]
    open_days = ~opening.closed(np.arange(first, first + days))
    before_open, after_open = open_days[:AHEAD_DAYS], open_days[AHEAD_DAYS:]
    if not before_open.any() or not after_open.any():
        return unknown
    before = daily[:, :AHEAD_DAYS][:, before_open].mean(axis=1)
    after = daily[:, AHEAD_DAYS:][:, after_open].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return unknown._replace(change=np.where(before > 0, (after / before - 1) * 100, np.nan))


def _closed_words(opening: OpeningDays, start: int, end: int) -> list[str]:
    """What the patterns left out: the shop's closed weekdays and dates in the range."""
    if not opening.any:
        return []
    days = np.arange(start, end + 1)
    others = int((opening.closed(days) & ~np.isin(weekday(days), list(opening.closed_weekdays))).sum())
    since = "" if opening.weekdays_from is None else " lately"  # detected: earlier ones that sold were open
    parts = [f"on {', '.join(name.capitalize() + 's' for name in opening.weekday_names())}{since}"] \
        if opening.closed_weekdays else []
    other = " other" if opening.closed_weekdays else ""  # besides the weekdays named before
    parts += [f"on {others}{other} day{'s' if others != 1 else ''} in the range"] if others else []
    if not parts:
        return []
    return [f"The shop is closed {' and '.join(parts)}: those closed days are no demand and are left out of the "
            "weekday and month patterns; plan stock and staff for the open days."]


def _slope(units: float) -> str:
    """A trend's units per period for people: two decimals, two significant digits under 0.1 (never +0.00)."""
    if units == 0:
        return "0"
    return f"{units:+.2f}" if abs(units) >= 0.1 else f"{units:+.2g}"


def _recommendations(top_items: list[TopItem], trends: Trends, year_ago: YearAgo, total: Trends,
                     seasonality: Seasonality, granularity: Granularity, n_products: int) -> list[str]:
    """The advice; `trends` of the top items, `year_ago` what their next weeks did a year ago (`_year_ago`),
    `total` of all units (`_trends`)."""
    word = PERIOD_WORD[granularity]
    count = RECENT_PERIODS[granularity]
    recent = f"the last {count} {word}s" if count > 1 else f"the last {word}"
    first = f"the first {count} {word}s" if count > 1 else f"the first {word}"
    advice: list[str] = []
    if total.label[0] != "stable":
        way = "rise" if total.label[0] == "increasing" else "fall"
        went = "rose" if total.change[0] > 0 else "fell"
        advice.append(f"Total unit sales: the range's {way} has stopped lately (from {first} to {recent} they {went} "
                      f"{abs(total.change[0]):.0f}%)." if total.stopped[0] else
                      f"Total unit sales {'grew' if total.change[0] > 0 else 'fell'} {abs(total.change[0]):.0f}% "
                      f"across the range (least-squares trend over {word}s).")
    ahead = f"the {AHEAD_DAYS // 7} weeks after {from_day_number(year_ago.day)}"
    unknown = f"it sold nothing in the {AHEAD_DAYS // 7} weeks to {from_day_number(year_ago.day)}" \
        if year_ago.reached else \
        f"the sales sent do not reach a year back (to {from_day_number(year_ago.day - AHEAD_DAYS + 1)})"
    for item, change, off, pace, ended, next_year_ago in zip(top_items, trends.change, trends.lately, trends.pace,
                                                             trends.stopped, year_ago.change, strict=True):
        rising = item.trend == "increasing"
        figures = f"({change:+.0f}% over the range, {_slope(item.trend_slope)} per {word})"
        if ended:
            went = "rose" if change > 0 else "fell"
            way = "rise" if item.trend == "increasing" else "fall"
            why = f"sold {abs(off) * 100:.0f}% {'under' if off < 0 else 'over'} that trend" \
                if np.sign(item.trend_slope) * off < -RECENT_TOLERANCE else \
                f"changed {_slope(pace)} per {word}, against {_slope(item.trend_slope)} over the range"
            advice.append(f"Product {item.product_id}: the range's {way} does not hold now (a season, or a change): "
                          f"over {recent} it {why} (from {first} to {recent} it {went} "
                          f"{abs(change):.0f}%). Plan stock on the forecast, not on the range's trend.")
        elif item.trend != "stable" and np.isnan(off):  # too few periods to tell whether it still holds
            advice.append(f"Product {item.product_id} is {'rising' if item.trend == 'increasing' else 'falling'} "
                          f"({change:+.0f}% over the range, {_slope(item.trend_slope)} per {word}), but the "
                          f"range is too short to tell whether that holds now (a trend is checked against {recent} "
                          "and the periods before them): plan stock on the forecast.")
        elif item.trend != "stable" and np.isnan(next_year_ago):  # no year back: a season reads as growth
            season = "peak from growth" if rising else "low from a decline"
            advice.append(f"Product {item.product_id} is {'rising' if rising else 'falling'} {figures}, but "
                          f"{unknown}, so this cannot tell a seasonal {season}: plan stock on the forecast.")
        elif item.trend != "stable" and (1 if rising else -1) * next_year_ago <= -TREND_MIN_CHANGE_PCT:
            advice.append(f"Product {item.product_id}: seasonal {'peak' if rising else 'low'}: last year demand "
                          f"{'fell' if rising else 'rose'} {abs(next_year_ago):.0f}% in {ahead}; it is "
                          f"{'rising' if rising else 'falling'} now {figures}. Do not "
                          f"{'stock up' if rising else 'cut the order'} on the range's trend: plan on the forecast.")
        elif rising:
            advice.append(f"High demand detected for product {item.product_id}: units rising {change:+.0f}% over the "
                          f"range ({_slope(item.trend_slope)} per {word}), and {ahead} last year changed "
                          f"{next_year_ago:+.0f}%. Consider increasing stock levels.")
        elif item.trend == "decreasing":
            advice.append(f"Demand for product {item.product_id} is falling {figures}, and {ahead} last year changed "
                          f"{next_year_ago:+.0f}%. Reduce the next order or promote it before stock ages.")
    if seasonality.weekday_index and len(seasonality.weekday_index) == 7:
        peak = max(seasonality.weekday_index.items(), key=lambda kv: kv[1])
        if peak[1] >= 1.15:
            advice.append(f"{peak[0]} sells {(peak[1] - 1) * 100:.0f}% above an average day: "
                          f"restock and staff before {peak[0]}.")
    if n_products >= 5 and len(top_items) >= 3:
        share = sum(item.share_of_units for item in top_items[:3])
        if share >= 0.5:
            names = ", ".join(item.product_id for item in top_items[:3])
            advice.append(f"Three products ({names}) make {share * 100:.0f}% of units: keep them in stock first.")
    if not advice:
        advice.append("Sales are steady: no product shows a significant trend in this range.")
    return advice
