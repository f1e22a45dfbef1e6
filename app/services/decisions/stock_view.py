"""One view of the stock, read by reorder, at-risk and promotions: which units on hand will sell in time.

Each item's stock must sell by its sell-by day: the earlier of its `expiry_date` (last day it may be sold)
and its `season_end` (last day of its selling season); neither means no limit. Given a daily demand path
(row i: item i's expected units on each day after `as_of`, day 1 first; `demand_path`: the forecast /forecast
and /reorder make for the item, the recent sales rate where the forecast cannot change the answer; where a silence
decides reorder's demand, that demand: `planned_demand`, one demand for the units on hand and for an order):

- usable units = the units that sell by the sell-by day at that demand: min(quantity, demand up to it).
  Expired stock (sell-by day before `as_of`) and stock whose sell-by day is `as_of` itself count 0.
- at-risk units = quantity - usable: the units that will be left unsold at expiry or season end, when they are at
  least MIN_LEFTOVER_UNITS (less than one unit left is the path's rounding, not stock to clear: the stock sells
  out, in all three answers). They are not cover: reorder leaves them out of the inventory position, at-risk and
  promotions clear them.
- days of supply (`supply_days`): how long the usable units last along the same daily path, the one number
  behind reorder's and at-risk's days of supply, stockout date and "last about N days"; none without usable units
  or without demand. A stockout within some days (`runs_short`) is the shelf empty by then a unit or more short of
  the demand: at-risk's `stockout_risk` and the stockout before an order placed now arrives (`shelf_gap`).
- the selling window after an order arrives (shelf life and season): an order never exceeds what the
  demand path sells in it, less the usable units still on the shelf when it arrives and the units on order (taken
  to arrive with it); units on order count as cover only up to what sells in that window (`on_order_cover`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from functools import partial

import numpy as np

from app.config import Settings
from app.models.demand_distribution import (
    AfterSilence,
    after_silence,
    lead_time_demand,
    lead_time_dispersion,
    woken_level,
)
from app.schemas.common import DataWarning
from app.schemas.inventory import InventoryItem
from app.schemas.reorder import ReorderItem, ReorderRequest
from app.schemas.sales import SalesPayload
from app.services.decisions.pricing import NO_DEMAND_UNITS, sells_nothing
from app.services.forecasting.pipeline import ForecastArrays, forecast_arrays
from app.services.forecasting.spec import ForecastSpec
from app.utils.cache import Cache
from app.utils.dates import day_number, day_numbers, today_utc
from app.utils.errors import SmartShelfError
from app.utils.opening_days import OpeningDays
from app.utils.sales_frame import SalesColumns, daily_net_units, latest_sale_day

NO_LIMIT = 1_000_000  # days: an item without expiry or season end
FORECAST_DAYS = 28  # the forecast's horizon the decisions read (`read_forecast`); its mean rate beyond it
FORECAST_LEVEL = 0.95  # reorder's interval level: one cache entry for every service level
LEAD_DAYS = ReorderItem.model_fields["lead_time_days"].default  # what /reorder assumes without a lead time
REVIEW_DAYS = ReorderRequest.model_fields["review_days"].default
SERVICE_LEVEL = ReorderRequest.model_fields["service_level"].default
INTERVAL_WARNINGS = frozenset({"intervals_uncalibrated", "intervals_unavailable"})
MIN_UNMET_UNITS = 1.0  # less demand than one unit beyond the usable units within the lead time: no stockout
YEAR_DAYS = 365  # last year's same calendar days (`last_season_units`)
MIN_LEFTOVER_UNITS = 1.0  # less than one unit left at the sell-by day: the stock sells out (no clearance, no hold)
HISTORY_DAYS = 364  # the days to as_of reorder reads for a silent product's demand and its dispersion


@dataclass(frozen=True)
class StockView:
    """Per item (float64[n] unless said): what the stock on hand is worth in sales."""

    quantity: np.ndarray
    days_to_sell_by: np.ndarray  # int64[n] days after as_of still for sale (< 0: expired; NO_LIMIT: none)
    days_to_season_end: np.ndarray  # int64[n] (NO_LIMIT: not seasonal)
    usable: np.ndarray
    at_risk: np.ndarray
    expired: np.ndarray  # bool[n]: a sell-by day before as_of with units on hand
    season_over: np.ndarray  # bool[n]: the season ended before or on as_of


def origin_day(as_of: date | None, payload: SalesPayload) -> int:
    """The decisions' day 0, one rule for reorder, at-risk and promotions (docs/sales.md "Today is the origin"):
    `as_of` when sent, else the latest date of all the request's sales (`latest_sale_day`: every product's, not
    only the items asked about, as /forecast starts), today only when there are none."""
    if as_of is not None:
        return day_number(as_of)
    latest = latest_sale_day(payload)
    return day_number(today_utc()) if latest is None else latest


def lead_times(items: Sequence[InventoryItem]) -> np.ndarray:
    """int64[n]: each item's lead time in days, /reorder's default where none is sent."""
    return np.array([LEAD_DAYS if item.lead_time_days is None else item.lead_time_days for item in items],
                    dtype=np.int64)


def shelf_lives(items: Sequence[InventoryItem]) -> np.ndarray:
    """float64[n]: each item's shelf life in days, NaN where none is sent."""
    return np.array([np.nan if item.shelf_life_days is None else item.shelf_life_days for item in items],
                    dtype=np.float64)


def cover_days(items: Sequence[InventoryItem], review_days: int = REVIEW_DAYS) -> np.ndarray:
    """int64[n]: the days of demand each item's decision reads: its protection interval (lead time + review), an
    order's selling window (lead time + shelf life) and FORECAST_DAYS, at most 365. Reorder's lots never exceed
    the forecast demand over them (`lot_bound`)."""
    lead = lead_times(items)
    protection = np.maximum(lead + review_days, 1)
    selling = lead + np.nan_to_num(shelf_lives(items), nan=0.0).astype(np.int64)
    return np.minimum(np.maximum(np.maximum(protection, selling), FORECAST_DAYS), 365)


def forecast_days(items: Sequence[InventoryItem], review_days: int = REVIEW_DAYS) -> int:
    """The days of demand a decision on `items` reads, one rule for all three: the longest of the items'
    `cover_days` (the forecast itself is read over FORECAST_DAYS of them, `read_forecast`)."""
    return int(cover_days(items, review_days).max()) if items else FORECAST_DAYS


def lot_bound(lot: np.ndarray, daily_rate: np.ndarray, cover: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reorder's lot: the EOQ `lot`, at most the demand over the item's `cover` days (`cover_days`) at its
    `daily_rate` (the forecast's mean over its days). Without a shelf life the service cannot know how long an
    item keeps, and EOQ sizes months of stock of a slow or perishable seller (a bakery's tartelette: 787 units,
    90 days of demand); a lot beyond the forecast's own days is demand it never forecast. Returns the lot (at
    least one unit) and bool[n]: the bound applied."""
    bounded = lot > daily_rate * cover
    return np.maximum(np.where(bounded, daily_rate * cover, lot), 1.0), bounded


def open_history(history: np.ndarray, origin: int, protection: np.ndarray,
                 opening: OpeningDays) -> tuple[np.ndarray, np.ndarray]:
    """The history's open days only (float64[n, open days], closed days are no demand: their zeros are not
    errors) and the open days among the `protection` days after `origin` (int64[n], at least 1)."""
    if not opening.any:
        return history, protection
    past = np.arange(origin - history.shape[1] + 1, origin + 1)
    ahead = np.cumsum(~opening.closed(origin + 1 + np.arange(int(protection.max()))))
    return history[:, ~opening.closed(past)], np.maximum(ahead[protection - 1], 1)


@dataclass(frozen=True)
class ProtectionDemand:
    """Reorder's demand over each item's protection interval (lead time + review)."""

    mean: np.ndarray  # float64[n]: units over the interval
    silent: AfterSilence  # the products whose silence decides it (`after_silence`)
    woke: np.ndarray  # bool[n]: selling again after a silence the forecast's level still counts (`woken_level`)

    def take(self, rows: np.ndarray) -> "ProtectionDemand":
        """The same demand of the items `rows` only."""
        silent = AfterSilence(**{f.name: getattr(self.silent, f.name)[rows] for f in fields(AfterSilence)})
        return ProtectionDemand(self.mean[rows], silent, self.woke[rows])

    def daily_rate(self, forecast_rate: np.ndarray, protection: np.ndarray) -> np.ndarray:
        """float64[n]: the daily demand reorder sizes lots with: the forecast's `forecast_rate`, the interval's mean
        over its `protection` days where a silence decides it."""
        return np.where(self.silent.applies | self.woke, self.mean / protection, forecast_rate)

    def within(self, days: np.ndarray, cumulative: np.ndarray, protection: np.ndarray) -> np.ndarray:
        """float64[n]: the demand over the next `days` as reorder plans it: the demand path's (`cumulative`), the
        interval's mean pro rata (over its `protection` days) where a silence decides it."""
        return np.where(self.silent.applies | self.woke, self.mean * days / protection, demand_within(cumulative, days))

    def path(self, daily: np.ndarray, protection: np.ndarray) -> np.ndarray:
        """float64[n, days]: the daily demand path every stock number reads: `daily` (the forecast's), flat at the
        interval's mean per day (over its `protection` days) where a silence decides the demand. One demand for the
        units on hand and for an order: croutons silent for weeks were judged unsellable by the forecast (donate
        all 30) and reordered by what followed their earlier silences (order one more), in the same request."""
        decided = self.silent.applies | self.woke
        return np.where(decided[:, None], (self.mean / np.maximum(protection, 1))[:, None], daily)

    def restock(self, daily_rate: np.ndarray) -> np.ndarray:
        """bool[n]: an empty shelf with nothing on order is reordered: reorder's rule at position 0 (a silent
        product only when its reorder point is above 0, the others whenever they have demand)."""
        return np.where(self.silent.applies, self.silent.reorder_point > 0, (daily_rate > 0) | (self.woke & (
            self.mean > 0)))


def protection_demand(history: np.ndarray, open_protection: np.ndarray, protection: np.ndarray,
                      cumulative: np.ndarray, on_hand: np.ndarray, level: float) -> ProtectionDemand:
    """The demand over the `protection` days (int64[n]) as reorder reads it: a product silent for at least its
    interval by what followed its earlier silences (`after_silence` over the open-day `history`, an empty shelf's
    silence possibly a stockout), one selling again after a silence by at least the demand it met before it
    (`woken_level`: the path's level still counts the silence), the others by the demand path `cumulative` (cumsum
    of the daily path). A `history` without days (a caller with no silent product to judge) reads the path for
    every product."""
    n = len(on_hand)
    path = demand_within(cumulative, protection)
    if not history.shape[1]:
        return ProtectionDemand(path, AfterSilence(
            applies=np.zeros(n, dtype=bool), mean=np.zeros(n), reorder_point=np.zeros(n),
            expected_shortage=np.zeros(n), origins=np.zeros(n, dtype=np.int64), wake_probability=np.ones(n)),
            np.zeros(n, dtype=bool))
    silent = after_silence(history, open_protection, level, on_hand <= 0)
    woke, before = woken_level(history, open_protection)
    woke &= ~silent.applies & (before > path)
    return ProtectionDemand(np.where(silent.applies, silent.mean, np.where(woke, before, path)), silent, woke)


@dataclass(frozen=True)
class PlannedDemand:
    """The demand the decisions plan with: the daily path and reorder's demand over the protection interval."""

    daily: np.ndarray  # float64[n, days]: the path the stock view reads (`ProtectionDemand.path`)
    protection: ProtectionDemand
    open_past: np.ndarray  # float64[n, open days]: the year to as_of, open days only (`open_history`)
    open_protection: np.ndarray  # int64[n]: open days of each protection interval


def planned_demand(sales: SalesColumns, origin: int, opening: OpeningDays, protection: np.ndarray,
                   daily: np.ndarray, on_hand: np.ndarray, level: float) -> PlannedDemand:
    """Reorder's demand over each item's `protection` days (`protection_demand` over the HISTORY_DAYS to `origin`,
    open days only) and the daily path (`daily`: the forecast's, or a rate's) it makes: one demand for reorder,
    at-risk and promotions, for the units on hand, the units on order and an order. The callers bound the
    history's grid (n x HISTORY_DAYS) before calling."""
    history = daily_net_units(sales, on_hand.size, origin - HISTORY_DAYS + 1, HISTORY_DAYS)  # to as_of
    open_past, open_protection = open_history(history, origin, protection, opening)
    demand = protection_demand(open_past, open_protection, protection, np.cumsum(daily, axis=1), on_hand, level)
    return PlannedDemand(demand.path(daily, protection), demand, open_past, open_protection)


@dataclass(frozen=True)
class ReorderPoint:
    """Reorder's reorder point per item and where it comes from."""

    point: np.ndarray  # float64[n], units
    family: np.ndarray  # <U17[n]: the lead-time demand's family, `after_silence` for a silent product
    fill_rate: np.ndarray  # float64[n]: expected fill rate with lots of the given size


def daily_error(rmse: np.ndarray, open_past: np.ndarray) -> np.ndarray:
    """The daily error a reorder point is built on: the forecast's 7-day backtest error (`rmse`), else the spread
    of the last 28 open days of `open_past` (float64[n, T])."""
    return np.where(np.isfinite(rmse) & (rmse > 0), rmse, open_past[:, -28:].std(axis=1))


def reorder_points(demand: ProtectionDemand, open_past: np.ndarray, open_protection: np.ndarray,
                   daily_sd: np.ndarray, whole: np.ndarray, level: float, lot: np.ndarray,
                   review_demand: np.ndarray, period: int) -> ReorderPoint:
    """Reorder's point, one rule for reorder and at-risk: the `level` quantile of the protection interval's demand
    (mean `demand.mean`, variance max(open days x `daily_sd`^2, mean + phi mean^2), phi the item's lead-time
    dispersion over its open-day history (0 where it cannot be measured: a Poisson's spread at least), `period`
    open days a week; normal averaged over a review's overshoot
    `review_demand`, or a count family for `whole`-unit skewed demand), a silent product's from what followed its
    earlier silences. `lot` (units per order) sizes the fill rate only."""
    silent, mean = demand.silent, demand.mean
    # no history to measure it (a stated avg_daily_sales, a new product): at least a Poisson count's spread, not
    # the mean with a 100% fill rate
    dispersion = np.nan_to_num(lead_time_dispersion(open_past, open_protection, period=period), nan=0.0)
    variance = np.fmax(daily_sd**2 * open_protection, mean + dispersion * mean**2)
    distribution = lead_time_demand(mean, variance, whole, level, lot, review_demand)
    return ReorderPoint(
        point=np.where(silent.applies, silent.reorder_point, distribution.reorder_point),
        family=np.where(silent.applies, "after_silence", distribution.family),
        fill_rate=np.where(silent.applies, np.clip(1.0 - silent.expected_shortage / lot, 0.0, 1.0),
                           distribution.fill_rate))


def orders(position: np.ndarray, point: np.ndarray, daily_rate: np.ndarray, silent: np.ndarray) -> np.ndarray:
    """bool[n]: reorder orders at inventory `position` (usable units + on order, `on_order_cover`): at or below the
    reorder point with forecast demand; a silent product's point is an empirical quantile, so only below it (a
    position at it already covers the level: with a small chance of waking up the point is 0, and an empty shelf
    is not a reason to order a lot)."""
    return (position <= point) & (daily_rate > 0) & (~silent | (position < point))


def whole_units(sales: SalesColumns, n: int) -> np.ndarray:
    """bool[n]: the product's sales quantities are all whole numbers (a count distribution may describe them)."""
    fractional = np.abs(sales.qty - np.round(sales.qty)) > 1e-9
    return np.bincount(sales.product[fractional], minlength=n)[:n] == 0


def stated_rates(items: Sequence[InventoryItem]) -> np.ndarray:
    """float64[n]: each item's `avg_daily_sales` as sent, NaN where not sent. The rule for all three decisions:
    the forecast wins wherever it is read (an item with sales); the stated rate stands in only where it is not
    (no sales in the request, a forecast that could not be read, an item whose stock view does not need it)."""
    return np.array([np.nan if item.avg_daily_sales is None else item.avg_daily_sales for item in items],
                    dtype=np.float64)


def days_to(items: Sequence[InventoryItem], field: str, as_of_day: int) -> np.ndarray:
    """int64[n]: days from `as_of` to each item's date `field`; NO_LIMIT where it is not sent."""
    values = [getattr(item, field) for item in items]
    sent = np.fromiter((value is not None for value in values), bool, len(values))
    days = np.full(len(values), NO_LIMIT, dtype=np.int64)
    days[sent] = day_numbers((value for value in values if value is not None), int(sent.sum())) - as_of_day
    return days


def demand_within(cumulative: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Demand over the first `days` days of each row of `cumulative` (cumsum of the daily path); the
    path's last day repeats its daily mean past the horizon, 0 for days <= 0."""
    n, horizon = cumulative.shape
    if horizon == 0:
        return np.zeros(n)
    rate = cumulative[:, -1] / horizon
    inside = np.clip(days, 1, horizon)
    within = cumulative[np.arange(n), inside - 1] + rate * np.clip(days - horizon, 0, None)
    return np.where(days > 0, within, 0.0)


def days_until(cumulative: np.ndarray, units: np.ndarray, beyond: np.ndarray) -> np.ndarray:
    """float64[n]: days after as_of until `cumulative` (cumsum of the daily path) reaches `units`, interpolated
    within the day (so its ceiling is the day they run out); 0 for no units, `beyond` where the path's days do not
    reach them."""
    n, horizon = cumulative.shape
    reaches = cumulative >= units[:, None]
    first = reaches.argmax(axis=1) if horizon else np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    before = np.where(first > 0, cumulative[rows, np.maximum(first - 1, 0)], 0.0) if horizon else np.zeros(n)
    that_day = (cumulative[rows, first] - before) if horizon else np.zeros(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        within = np.where(that_day > 0, (units - before) / that_day, 1.0)
    found = reaches.any(axis=1) if horizon else np.zeros(n, dtype=bool)
    return np.where(units <= 0, 0.0, np.where(found, first + np.clip(within, 0.0, 1.0), beyond))


def last_season_units(sales: SalesColumns, view: StockView, as_of_day: int) -> np.ndarray:
    """float64[n]: units each seasonal item (a season end after as_of) sold in the request's sales over the same
    calendar days a year earlier: from the day after as_of to its sell-by day, YEAR_DAYS back; 0 for the others.

    A forecast from as_of sees the off-season only (a Christmas log on 30 September: nothing sold for nine months);
    what the same days sold last year is the request's own evidence that the season's sales are still ahead
    (`season_ahead`), where the forecast would leave all the stock unsold."""
    n = view.quantity.size
    ahead = (view.days_to_season_end > 0) & (view.days_to_season_end < NO_LIMIT) & (view.days_to_sell_by > 0)
    end = np.where(ahead, as_of_day + np.minimum(view.days_to_sell_by, YEAR_DAYS) - YEAR_DAYS, 0)
    mine = sales.product < n
    product, day, qty = sales.product[mine], sales.day[mine], sales.qty[mine]
    inside = ahead[product] & (day > as_of_day - YEAR_DAYS) & (day <= end[product])
    return np.bincount(product[inside], weights=qty[inside], minlength=n)[:n]


def season_ahead(last_season: np.ndarray, sells: np.ndarray) -> np.ndarray:
    """bool[n]: a seasonal item whose season's sales are ahead of a forecast that sees only its off-season: the
    demand path sells under MIN_LEFTOVER_UNITS up to its sell-by day (`sells`) while the same days last year sold
    at least that (`last_season_units`). Its units left by the path are no certain write-off: at-risk and
    promotions say what last season sold. An item selling in its season now (a path that sells) is judged on its
    path as any other: its leftover is cleared, not waited on."""
    return (last_season >= MIN_LEFTOVER_UNITS) & (sells < MIN_LEFTOVER_UNITS)


def supply_days(cumulative: np.ndarray, usable: np.ndarray, sell_by: np.ndarray) -> np.ndarray:
    """float64[n]: the days after as_of the `usable` units last along the daily demand path (`cumulative`, its
    cumsum), interpolated within the day, past the path's days at its mean daily rate (as `demand_within`); NaN
    where there are no usable units or the path sells nothing (0.00 units: no stockout to date). The one number
    behind days of supply (rounded to 0.1), the stockout date (its ceiling, `date_after`) and the reasoning's
    "last about N days" of reorder and at-risk. No stock lasts past its `sell_by` day (float64[n] days after
    as_of): the shelf is empty then, whatever is written off."""
    n, horizon = cumulative.shape
    total = cumulative[:, -1] if horizon else np.zeros(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        beyond = horizon + (usable - total) / (total / max(horizon, 1))
    days = np.minimum(days_until(cumulative, usable, beyond), np.maximum(sell_by, 0))  # none last past the sell-by
    return np.where((usable < NO_DEMAND_UNITS) | sells_nothing(total), np.nan, days)


def until_empty(supply: np.ndarray, usable: np.ndarray, daily_rate: np.ndarray) -> np.ndarray:
    """float64[n]: days until the shelf is empty, for the stockout rules (`runs_short`): the `supply` days
    (`supply_days`) of the usable units, 0 for an empty shelf that sells (`daily_rate` > 0), inf for stock nothing
    buys or an empty shelf nothing is bought from."""
    empty_now = (usable < NO_DEMAND_UNITS) & (daily_rate > 0)
    return np.where(np.isfinite(supply), supply, np.where(empty_now, 0.0, np.inf))


# usable units meeting this share of the demand they face are on track: the rest is well inside a day's forecast
# error (the bakery's baguette tradition: 331 forecast for a Saturday, 75 its typical daily error)
ON_TRACK_SHARE = 0.95


def runs_short(days_left: np.ndarray, days: np.ndarray, demand: np.ndarray, units: np.ndarray) -> np.ndarray:
    """bool[n]: a stockout within `days`: the shelf is empty after `days_left` days (`until_empty`) at most `days`,
    and the `demand` over those days exceeds the `units` by MIN_UNMET_UNITS or more (less is no lost sale: a slow
    mover's last unit lasting about the lead time) and by more than 1 - ON_TRACK_SHARE of it (stock on track: 330
    baguettes baked for a forecast of 331.3). The one stockout rule: at-risk's `stockout_risk` (the usable units
    over their selling window) and the stockout before an order placed now arrives (`shelf_gap`), behind reorder's
    urgency."""
    unmet = demand - units
    return (days_left <= days) & (unmet >= MIN_UNMET_UNITS) & (unmet > (1 - ON_TRACK_SHARE) * demand)


def stock_view(items: Sequence[InventoryItem], as_of_day: int, cumulative: np.ndarray) -> StockView:
    """The stock view of `items` as of `as_of_day` with `cumulative` = cumsum of each item's daily demand
    path (float64[n, horizon], day 1 = the day after as_of)."""
    quantity = np.array([item.quantity for item in items], dtype=np.float64)
    expiry = days_to(items, "expiry_date", as_of_day)
    season = days_to(items, "season_end", as_of_day)
    sell_by = np.minimum(expiry, season)
    sells = demand_within(cumulative, np.minimum(sell_by, NO_LIMIT - 1))
    usable = np.where(sell_by >= NO_LIMIT, quantity, np.minimum(quantity, sells))
    # a fraction of a unit left of stock that sells is none to clear (expired stock, a sell-by day today and stock
    # nothing buys are never usable)
    usable = np.where((sell_by > 0) & (quantity - usable < MIN_LEFTOVER_UNITS) & ~sells_nothing(sells), quantity,
                      usable)
    return StockView(quantity=quantity, days_to_sell_by=sell_by, days_to_season_end=season, usable=usable,
                     at_risk=quantity - usable,
                     expired=(expiry < 0) & (quantity > 0), season_over=season <= 0)


def selling_window(view: StockView, cumulative: np.ndarray, lead: np.ndarray, shelf_life: np.ndarray) -> np.ndarray:
    """float64[n]: what the demand path sells to units arriving after `lead` days, within `shelf_life` days (NaN:
    none) and the rest of the season, less the usable units still on the shelf then; inf where neither limit
    applies. The window of an order placed now, and of the units on order: the service does not know when these
    arrive and takes the lead time, so they sell in the same days."""
    seasonal = view.days_to_season_end < NO_LIMIT
    life = np.where(np.isnan(shelf_life), NO_LIMIT, np.nan_to_num(shelf_life, nan=0.0)).astype(np.int64)
    end = np.minimum(np.minimum(lead + life, view.days_to_season_end), NO_LIMIT - 1)
    limited = ~np.isnan(shelf_life) | seasonal
    on_shelf_then = demand_within(cumulative, lead)
    sells = np.maximum(demand_within(cumulative, end) - on_shelf_then, 0.0)
    left_at_arrival = np.maximum(view.usable - on_shelf_then, 0.0)
    return np.where(limited, np.maximum(sells - left_at_arrival, 0.0), np.inf)


def on_order_cover(window: np.ndarray, on_order: np.ndarray) -> np.ndarray:
    """float64[n]: the units `on_order` that count as cover in the inventory position: at most what sells in their
    `window` (`selling_window`); the rest would expire unsold (6 sandwiches on order of a 2-day shelf life
    selling 0.6 a day cover 1.2)."""
    return np.minimum(on_order, window)


def order_cap(window: np.ndarray, on_order: np.ndarray) -> np.ndarray:
    """float64[n]: the most an order placed now should bring: what sells in its `window` (`selling_window`) less
    the units on order that sell there first. Never units that would expire unsold; inf where the window has no
    limit."""
    return window - on_order_cover(window, on_order)


Forecaster = Callable[[ForecastSpec], ForecastArrays]


def shop_forecaster(settings: Settings, cache: Cache, signing_key: str) -> Forecaster:
    """The forecast as /forecast and /reorder make it for the shop: `forecast_arrays` with their cache and key."""
    return partial(forecast_arrays, settings=settings, cache=cache, signing_key=signing_key)


@dataclass(frozen=True)
class DemandPath:
    """Each item's expected daily units after `as_of` and where they come from."""

    daily: np.ndarray  # float64[n, days], day 1 = the day after as_of
    from_forecast: np.ndarray  # bool[n]: the forecast's path (else the recent sales rate's)
    methods: list[str]  # the forecast's method per item, "sales_rate" for the others
    short_term_rmse: np.ndarray  # float64[n]: the forecast's 7-day backtest error, NaN where none or not read

    @property
    def cumulative(self) -> np.ndarray:
        return np.cumsum(self.daily, axis=1)


def _sales_alone(payload: SalesPayload) -> SalesPayload:
    """The request's sales and nothing else: another endpoint's fields (promotions' `calendar_events`) are no
    forecast drivers. Built from the validated values, not validated again."""
    sales = SalesPayload.model_construct(**{name: getattr(payload, name) for name in SalesPayload.model_fields})
    sales._series_values = payload.series_values  # the validated arrays of the same series
    sales._row_cache = payload.row_cache  # and the rows as read once
    return sales.attach_upload(payload.upload)


@dataclass(frozen=True)
class ForecastRead:
    """The forecast's daily demand of each item (rows in the caller's order; zeros where it was not read)."""

    daily: np.ndarray  # float64[n, periods], day 1 = the day after as_of
    short_term_rmse: np.ndarray  # float64[n]: the chosen model's 7-day backtest error, NaN where none or not read
    from_forecast: np.ndarray  # bool[n]
    methods: list[str]  # the forecast's method per item, `unread` for the others
    cache: str  # the forecast cache's state ("off": nothing was read)


def read_forecast(sales: SalesPayload, shop_id: str, product_ids: Sequence[str], wanted: np.ndarray, periods: int,
                  as_of_day: int | None, forecaster: Forecaster, warnings: list[DataWarning],
                  unread: str = "none", skip: frozenset[str] = frozenset()) -> ForecastRead:
    """The one place the decisions get the forecast's daily demand: the forecast /forecast makes for `sales` of
    the `wanted` items (bool[n]) over FORECAST_DAYS days at reorder's interval level (the same cache keys as
    POST /forecast of these products over 28 days at 95%, so /reorder, /at-risk and /promotions of the same sales
    share one entry and every service level reads one forecast), continued at its mean daily rate to `periods`
    days. One horizon whatever the items: an item's long shelf life or lead time neither changes the model chosen
    for the others nor asks a shop model for more days than it was trained for (28 by default). Appends the
    forecast's warnings whose codes are not already in `warnings` nor in `skip`. Raises the forecast's
    SmartShelfError."""
    n = len(product_ids)
    daily = np.zeros((n, periods))
    rmse = np.full(n, np.nan)
    from_forecast = np.zeros(n, dtype=bool)
    methods = [unread] * n
    if not wanted.any():
        return ForecastRead(daily, rmse, from_forecast, methods, "off")
    spec = ForecastSpec(shop_id=shop_id, sales=sales, product_ids=tuple(p for p, w in zip(product_ids, wanted,
                                                                                          strict=True) if w),
                        periods=min(periods, FORECAST_DAYS), model="auto", confidence_interval=FORECAST_LEVEL,
                        frequency="daily",
                        as_of_day=as_of_day)
    answer = forecaster(spec)
    seen = {w.code for w in warnings} | skip  # the forecast applies the same sales rules: each reported once
    warnings += [w for w in answer.warnings if w.code not in seen]
    index = {p: i for i, p in enumerate(product_ids)}
    rows = np.array([index[p] for p in answer.product_ids], dtype=np.int64)
    read = answer.forecast[:, :periods]
    daily[rows] = read.mean(axis=1, keepdims=True)  # beyond the forecast's days: its mean daily rate
    daily[rows, :read.shape[1]] = read
    rmse[rows] = answer.short_term_rmse
    from_forecast[rows] = True
    for row, method in zip(rows, answer.methods, strict=True):
        methods[row] = method
    return ForecastRead(daily, rmse, from_forecast, methods, answer.cache)


def demand_path(sales: SalesPayload, shop_id: str, product_ids: Sequence[str], wanted: np.ndarray,
                rate_path: np.ndarray, periods: int, sent_as_of: int | None, forecaster: Forecaster | None,
                warnings: list[DataWarning]) -> DemandPath:
    """The daily demand path of each item: the forecast for the `wanted` items (bool[n]; only those whose stock
    view depends on it, which bounds the request's cost), the rate's path `rate_path` (float64[n, days],
    days >= `periods`) for the others and wherever no forecast is read (`forecaster` None: an in-process
    caller). The rule for a caller's `avg_daily_sales`: the forecast wins where it is read; the rate path is the
    fallback (the callers build it from `avg_daily_sales` where sent, else the recent sales rate).

    The forecast is `read_forecast`'s (the one /forecast and /reorder produce for these sales, the shop model
    when one is trained, else the request's own families) over `periods` days (`forecast_days`: reorder's days
    for the same items) from the request's `as_of` as sent (`sent_as_of`, None: not sent), so a /reorder of the
    same sales and items leaves it cached; beyond its days it continues at its mean daily rate.
    The forecast's warnings not already reported are appended to `warnings` (not those about its intervals:
    only its means are read); a forecast that fails is reported there and the rate stands in.
    """
    n = len(product_ids)
    daily = rate_path.copy()
    if forecaster is None or not wanted.any():
        return DemandPath(daily, np.zeros(n, dtype=bool), ["sales_rate"] * n, np.full(n, np.nan))
    try:
        read = read_forecast(_sales_alone(sales), shop_id, product_ids, wanted, periods, sent_as_of,
                             forecaster, warnings, unread="sales_rate", skip=INTERVAL_WARNINGS)
    except SmartShelfError as error:  # the rate still answers: say why the forecast did not
        warnings.append(DataWarning(code="forecast_unused", count=int(wanted.sum()),
                                    product_ids=[p for p, w in zip(product_ids, wanted, strict=True) if w][:20],
                                    message=f"The forecast could not be read ({error}); the stock view uses the "
                                    "recent sales rate instead."))
        return DemandPath(daily, np.zeros(n, dtype=bool), ["sales_rate"] * n, np.full(n, np.nan))
    rows = read.from_forecast
    # the forecast's days, then its mean rate to the rate path's length
    daily[rows] = read.daily[rows].mean(axis=1, keepdims=True)
    daily[rows, :periods] = read.daily[rows]
    return DemandPath(daily, rows, read.methods, read.short_term_rmse)
