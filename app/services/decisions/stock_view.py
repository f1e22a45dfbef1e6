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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from app.schemas.inventory import InventoryItem
from app.schemas.reorder import ReorderItem, ReorderRequest
from app.schemas.sales import SalesPayload
from app.services.decisions.forecast_read import FORECAST_DAYS
from app.services.decisions.pricing import NO_DEMAND_UNITS, sells_nothing
from app.utils.dates import day_number, day_numbers, today_utc
from app.utils.sales_frame import SalesColumns, latest_sale_day

NO_LIMIT = 1_000_000  # days: an item without expiry or season end
LEAD_DAYS = ReorderItem.model_fields["lead_time_days"].default  # what /reorder assumes without a lead time
REVIEW_DAYS = ReorderRequest.model_fields["review_days"].default
SERVICE_LEVEL = ReorderRequest.model_fields["service_level"].default
MIN_UNMET_UNITS = 1.0  # less demand than one unit beyond the usable units within the lead time: no stockout
STORABLE_DAYS = 180  # a season-over item expiring sooner cannot be stored for its next season (at-risk, promotions)
YEAR_DAYS = 365  # last year's same calendar days (`last_season_units`)
MIN_LEFTOVER_UNITS = 1.0  # less than one unit left at the sell-by day: the stock sells out (no clearance, no hold)


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
