"""At-risk detection: which products need action now, why, and what to do.

Signals per product (all as of `as_of`: reorder's origin, `stock_view.origin_day`; v = the item's
`avg_daily_sales` as sent, else its average daily net units over the open days of the last
`slow_moving_window` days up to and including the last open day (`as_of`, or the export's last trading day when
the days after it up to `as_of` are closed: a stale export), days without sales counting as zero; d = its daily
demand: the forecast's (`forecast_read.demand_path`, the same forecast and view of the stock as reorder and
promotions) for items with sales, else v; where a silence decides
reorder's demand, that demand for the stock on hand too (`planned_demand.planned_demand`); the
forecast wins over a sent avg_daily_sales wherever it is read). Days count open days where v is read: closed days
(`closed_weekdays` / `closed_dates`, else detected on every product the request sent when they are 20 or more,
`app/utils/opening_days.py`, as the forecast detects them) are no demand, so they neither dilute v nor use up stock:

- out_of_stock:            an empty shelf (none on hand, or all expired) that reorder would restock
                           (`planned_demand.ProtectionDemand.restock` with reorder's defaults: d > 0; a product silent
                           over its protection interval: a reorder point above 0, d then its demand after the silence
                           per day) with demand an order placed now sells within its selling window
                           (`stock_view.selling_window`: lead time to shelf life or season end; a Saturday cake that
                           keeps 2 days is not restocked on Sunday, reorder orders none): the highest risk (score 1,
                           listed first, the fastest seller first). Units on hand are never out of stock: those
                           nothing buys before their sell-by day are a write-off (review 6 F3: 4 fraisiers read
                           "Restock today" while reorder and promotions said clear or donate them), those expiring
                           today are today's to sell, the rest written off at closing.
                           With units `on_order` it stays out of stock today; the reasoning says whether reorder
                           orders more: its rule (`planned_demand.orders`) at the position they make against its
                           reorder point (`planned_demand.reorder_points`), with reorder's defaults (1-day review, 95%;
                           at-risk has neither field) and the item's lead time, named in the reasoning
- season_over:             units on hand of an item whose `season_end` is on or before as_of (judged against
                           its season: cleared or stored, never bundled)
- low_stock:               usable units <= low_stock, none left over at the sell-by day, some demand over the
                           horizon (stock left unsold or that nothing buys is never low) and reorder would order at
                           the position they make with the units on order (`planned_demand.orders` at its reorder point,
                           reorder's defaults as for out_of_stock): an out-of-season item selling 0.01/day (reorder
                           point 0, no order, urgency low) is not low
- near_expiry:             quantity > 0 and 0 <= days_to_expiry <= expiry_days, or for an item whose
                           `shelf_life_days` is no longer, <= shelf_life_days - 1 (once a day old: bread baked
                           daily is not near expiry all its life)
- expired:                 days_to_expiry < 0 and quantity > 0
- slow_moving:             quantity > 0 and d < slow_moving_threshold (every signal reads d: an item its forecast
                           sells out is never a slow mover; turnover_rate = d x 365 / quantity); never an item of
                           unknown demand (no sales row, no avg_daily_sales: nothing sold may be an id to correct),
                           which is judged by its expiry alone (`items_without_sales` says so): its turnover_rate is
                           null and no slow_movers entry lists it
- unsellable_before_expiry: units left at expiry or season end by d's path
- stockout_risk:           within the units' selling window, max(7, lead_time_days) days or up to their sell-by
                           day when it comes first (bread baked daily: tomorrow; after it, the next bake), the demand
                           (along the forecast's path, else at v) exceeds the usable units by at least one unit and
                           by more than 5% of it (`stock_view.runs_short`: 330 baguettes for a forecast 331.3 is on
                           track, 60 a stockout; a stockout needs demand the stock cannot meet: units
                           left unsold at expiry, a season over or no demand are none), never beside
                           unsellable_before_expiry (stock that runs out only because it expires is a clearance;
                           the next delivery is reorder's question); days of supply and the
                           stockout date along d's path (`stock_view.supply_days`, reorder's function: calendar days,
                           a closed day uses no stock), none without usable units or where nothing sells. The one
                           stockout rule (`stock_view.runs_short`); its action is reorder's decision at usable + on
                           order (`planned_demand.orders`): restock where reorder orders, else why not (the units on
                           order lift the position above its point; an order would arrive after the season), and
                           the stockout before an order placed now could arrive in reorder's words
                           (`shelf_gap.gap_words`)

Score (noisy-OR of signal strengths s in [0, 1], weights w):
    score = 1 - (1 - 0.8 s_low)(1 - 0.9 s_expiry)(1 - 0.8 s_unsold)(1 - 0.5 s_slow)(1 - 0.7 s_stockout)
    s_low    = 1 - quantity / (low_stock + 1)                 when low_stock
    s_expiry = 1 - days_to_expiry / (near days + 1)          when near_expiry (near days as above)
    s_unsold = expected_unsold_units / quantity
    s_slow   = 1 - d / slow_moving_threshold                  when slow_moving
    s_stockout = the share of the selling window's demand the usable units leave unmet      when stockout_risk
An expired or out-of-stock product scores 1.

Markdowns: one number, the discount that lifts the forecast demand up to the sell-by day to the stock on hand;
none where that demand is none (`pricing.sells_nothing`: a markdown lifts a demand there is not; donate or write
off, as promotions says), nor where it earns less than full price (`pricing.markdown_pays` on promotions'
`outcomes`, promotions' own rule: a markdown from tomorrow to the sell-by day that discounts units selling anyway)
(`app.services.decisions.pricing`), sized with the item's price elasticity learned from the request's sales
with `prices` or revenue (`app.services.decisions.price_response`) where it is clearly negative, else the
constant rule; the action says which.
"""

import math
from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np

from app.config import Settings
from app.schemas.at_risk import (
    AtRiskItem,
    AtRiskMeta,
    AtRiskRequest,
    AtRiskResponse,
    SlowMover,
)
from app.schemas.common import DataWarning
from app.schemas.inventory import InventoryItem
from app.services.decisions.at_risk_actions import by_source, last_year_days, recommended_action
from app.services.decisions.forecast_read import (
    FORECAST_DAYS,
    Forecaster,
    demand_path,
)
from app.services.decisions.planned_demand import (
    HISTORY_DAYS,
    ProtectionDemand,
    daily_error,
    open_week,
    orders,
    planned_demand,
    reorder_points,
)
from app.services.decisions.price_response import PriorSource, learned_elasticities
from app.services.decisions.pricing import (
    best_markdown,
    discount_to_clear,
    lift_pct,
    margin_cap,
    markdown_pays,
    sells_nothing,
)
from app.services.decisions.promotions import DemandDays, outcomes
from app.services.decisions.shelf_gap import gap_words, shelf_gap
from app.services.decisions.stock_view import (
    NO_LIMIT,
    REVIEW_DAYS,
    SERVICE_LEVEL,
    days_to,
    demand_within,
    forecast_days,
    last_season_units,
    lead_times,
    on_order_cover,
    order_cap,
    origin_day,
    runs_short,
    season_ahead,
    selling_window,
    shelf_lives,
    stated_rates,
    stock_view,
    supply_days,
    until_empty,
    whole_units,
)
from app.services.forecasting.drivers import check_event_scopes
from app.utils.dates import HORIZON_DAYS, LAST_DAY, date_after, day_number, from_day_number
from app.utils.opening_days import OpeningDays, catalogue_opening_days
from app.utils.sales_frame import clean_sales, daily_net_units
from app.utils.validation import check_unique
from app.utils.work_budget import WorkBudget

W_LOW, W_EXPIRY, W_UNSOLD, W_SLOW, W_STOCKOUT = 0.8, 0.9, 0.8, 0.5, 0.7
STOCKOUT_DAYS = 7
PATH_DAYS = 366  # the demand path's days; the stock view extends it at its mean rate beyond


def _expiry_days(inventory: Sequence[InventoryItem], as_of_day: int) -> np.ndarray:
    """Days to expiry per item, NaN where no expiry date was sent."""
    return np.array(
        [np.nan if item.expiry_date is None else day_number(item.expiry_date) - as_of_day for item in inventory],
        dtype=np.float64,
    )


def _open_days_ahead(opening: OpeningDays, as_of_day: int) -> np.ndarray:
    """int64[HORIZON_DAYS]: entry k is the number of open days among the k + 1 days after `as_of_day`."""
    days = as_of_day + 1 + np.arange(min(HORIZON_DAYS, max(LAST_DAY - as_of_day, 0)))
    return np.cumsum(~opening.closed(days)) if opening.any else np.arange(1, days.size + 1)


def _open_within(open_ahead: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Open days among the next `days` calendar days (float64 per item; 0 for 0 days)."""
    ahead = np.clip(np.asarray(days, dtype=np.int64), 0, open_ahead.size)
    return np.where(ahead > 0, open_ahead[np.maximum(ahead - 1, 0)], 0).astype(np.float64)


def _last_open_day(opening: OpeningDays, as_of_day: int, first_day: int) -> int:
    """The latest open day up to `as_of_day` (from `first_day` on; `as_of_day` when none): the recent rate's window
    ends there, so days after an export's end (closed: no product sold) do not make every product look idle."""
    days = as_of_day - np.arange(max(as_of_day - first_day + 1, 1))
    open_days = ~opening.closed(days) if opening.any else np.ones(days.size, dtype=bool)
    return int(days[np.argmax(open_days)]) if open_days.any() else as_of_day


def _forecast_items(sold: np.ndarray, first: np.ndarray, product_ids: Sequence[str], settings: Settings,
                    warnings: list[DataWarning]) -> np.ndarray:
    """bool[n]: the items whose demand is reorder's forecast. Every item with sales (`sold`): what sells by a sell-by
    day, whether an empty shelf still sells, and when stock runs out (stockout_risk, low_stock and reorder's decision
    read the same days). Where the forecast cannot answer them all (MAX_ANSWER_VALUES, FORECAST_DAYS each), the
    items `first` (stock that must sell by a day, an empty shelf), whose answer it changes most, and the others
    keep the recent rate, said in a `forecast_unused` warning (at 30,000 items with sales the forecast refused
    them all, the perishables included, which it had answered alone)."""
    if int(sold.sum()) * FORECAST_DAYS <= settings.max_answer_values:
        return sold
    rate = sold & ~first
    warnings.append(DataWarning(
        code="forecast_unused", count=int(rate.sum()), product_ids=[p for p, r in zip(product_ids, rate, strict=True)
                                                                    if r][:20],
        message=f"{int(sold.sum())} items with sales x {FORECAST_DAYS} forecast days exceed MAX_ANSWER_VALUES="
        f"{settings.max_answer_values}: the forecast is read for the items with a sell-by day or an empty shelf, "
        "and these items with stock and no sell-by day use the recent sales rate (send fewer items per request "
        "for the forecast's stockout dates on all of them)."))
    return first


def find_at_risk(request: AtRiskRequest, settings: Settings, prior: PriorSource | None = None,
                 forecaster: Forecaster | None = None) -> AtRiskResponse:
    """Score every inventory item and return the flagged ones, highest score first; markdowns sized with
    elasticities pooled towards the shop model's (`prior`) when the shop has one; the units that sell before
    expiry or season end by the `forecaster`'s forecast (the recent rate without one)."""
    inventory = request.inventory
    thresholds = request.thresholds
    product_ids = [item.product_id for item in inventory]
    check_unique(product_ids, "inventory")
    n = len(inventory)

    sent_as_of = day_number(request.as_of) if request.as_of else None
    sales, warnings = clean_sales(request, product_ids, sent_as_of, "inventory", with_revenue=True)
    as_of_day = origin_day(request.as_of, request)  # reorder's origin: as_of, else the request's latest sale
    as_of = from_day_number(as_of_day)
    window = thresholds.slow_moving_window
    WorkBudget(settings).check("grid", {"products": n, "days": window},
                               "send fewer inventory rows per request, or a shorter slow_moving_window")
    # an event scoped to a product the request does not hold is a 422, as on /forecast and /reorder
    check_event_scopes(request.calendar_events, {str(p) for p in sales.product_ids} | set(product_ids), set())
    opening, found, catalogue = catalogue_opening_days(request, sales, n, sent_as_of)  # judged on every product sent
    warnings += found
    end = _last_open_day(opening, as_of_day, int(sales.day.min()) if sales.size else as_of_day)
    units = daily_net_units(sales, n, end - window + 1, window)
    open_in_window = int((~opening.closed(end - window + 1 + np.arange(window))).sum())
    recent = units.sum(axis=1) / max(open_in_window, 1)
    # a caller's avg_daily_sales is the rate where the forecast is not read (forecast_read.demand_path's rule)
    given = stated_rates(inventory)
    velocity = np.where(np.isnan(given), recent, given)
    open_ahead = _open_days_ahead(opening, as_of_day)  # [k]: open days among the k + 1 days after as_of

    quantity = np.fromiter((item.quantity for item in inventory), np.float64, n)
    to_expiry = _expiry_days(inventory, as_of_day)
    has_expiry = ~np.isnan(to_expiry)
    has_stock = quantity > 0

    expired = has_expiry & (to_expiry < 0) & has_stock
    # near expiry within the last `expiry_days`, or once a day old for a life shorter than that (shelf life - 1
    # days left or fewer): bread baked daily (shelf_life_days 1-3) spends its whole life within 7 days of expiry,
    # and the bakery's 31-item inventory was near_expiry on 29-30 items every day (review 6 F11)
    near_days = np.minimum(thresholds.expiry_days, np.maximum(shelf_lives(inventory) - 1, 0.0))  # NaN: none sent
    near_days = np.where(np.isnan(near_days), thresholds.expiry_days, near_days)
    near_expiry = has_expiry & (to_expiry >= 0) & (to_expiry <= near_days) & has_stock
    empty = ~has_stock | expired  # an empty shelf: no units on hand but expired ones
    horizon = forecast_days(inventory)  # reorder's horizon for these items: one forecast, one cache entry
    path_days = max(min(open_ahead.size, PATH_DAYS), horizon)
    open_day = np.diff(open_ahead[:path_days], prepend=0) if open_ahead.size >= path_days else np.ones(path_days)
    sold = np.bincount(sales.product, minlength=n)[:n] > 0
    sell_by_days = np.minimum(days_to(inventory, "expiry_date", as_of_day), days_to(inventory, "season_end", as_of_day))
    wanted = _forecast_items(sold, sold & (~has_stock | (sell_by_days < NO_LIMIT)), product_ids, settings, warnings)
    path = demand_path(request, request.shop_id, product_ids, wanted, velocity[:, None] * open_day[None, :],
                       horizon, sent_as_of, forecaster, warnings)
    # reorder's demand over its protection interval with its defaults (a silent product's by what followed its
    # earlier silences): the stock on hand is judged with it, and an empty shelf is out of stock exactly where
    # reorder would restock it
    protection = np.maximum(lead_times(inventory) + REVIEW_DAYS, 1)
    budget = WorkBudget(settings)
    planned = planned_demand(sales, catalogue, as_of_day, opening, protection, path.daily, quantity, SERVICE_LEVEL,
                             budget, "send fewer inventory rows per request")
    reorder_demand, open_protection = planned.protection, planned.open_protection
    decided = reorder_demand.silent.applies | reorder_demand.woke
    cumulative = planned.cumulative
    view = stock_view(inventory, as_of_day, cumulative)
    has_sell_by = view.days_to_sell_by < NO_LIMIT
    unsold = np.where(has_sell_by, view.at_risk, np.nan)
    unsellable = has_stock & ~expired & (unsold > 0)
    season_over = has_stock & view.season_over & ~expired
    # daily demand: the planned path's mean over its days where it was read (reorder's rate: the forecast's, a
    # silence's), else the rate (open days)
    demand = np.where(path.from_forecast | decided, planned.daily[:, :horizon].mean(axis=1), velocity)
    # the same per open day, for "its demand when it opens again" (review 7: the baguette's 24.64/day averaged the
    # closed Wednesdays in, where /forecast says 28.7 on every open day)
    open_rate = np.where(path.from_forecast | decided,
                         planned.daily[:, :horizon].sum(axis=1) / max(float(open_day[:horizon].sum()), 1.0), velocity)
    silent = reorder_demand.silent.applies  # its demand is what followed its earlier silences
    # an empty shelf (no units on hand but expired ones) that reorder restocks, with demand an order placed now can
    # sell within its selling window (lead time to shelf life or season end): units on hand nobody buys before
    # their sell-by day are a write-off, not an empty shelf (review 6 F3: 4 fraisiers its forecast sells none of
    # in their 2 days read "Restock today"), and a summer cake's Saturday is no reason to restock on Sunday a cake
    # that keeps 2 days (reorder orders none)
    lead_time = lead_times(inventory)
    selling = selling_window(view, cumulative, lead_time, shelf_lives(inventory))
    out_of_stock = empty & reorder_demand.restock(demand) & ~season_over & ~sells_nothing(selling)
    # low stock: few usable units that demand will use up, never stock left over at its sell-by day or unsold,
    # and only where reorder would order at the position they make (below): not an out-of-season cake whose
    # 0.01/day leaves its reorder point at 0
    low_stock = (view.usable <= thresholds.low_stock) & (view.at_risk <= 0) & ~season_over & ~sells_nothing(
        demand_within(cumulative, np.full(n, horizon)))
    # every signal reads the same demand: a slow mover by the forecast where it is read, as its stock numbers
    slow = has_stock & (demand < thresholds.slow_moving_threshold)
    lead = np.array([STOCKOUT_DAYS if item.lead_time_days is None else max(STOCKOUT_DAYS, item.lead_time_days)
                     for item in inventory], dtype=np.float64)
    # how long the usable units last: along the demand path (the forecast's where read, else the rate on open
    # days), reorder's function; none without usable units or without demand (no days of supply, no stockout date)
    supply = supply_days(cumulative, view.usable, view.days_to_sell_by)
    days_left = np.where(np.isfinite(supply), supply, np.inf)
    # the units on hand serve until their sell-by day at most: a perishable's stockout is judged within its own
    # selling window (bread baked daily: tomorrow) against that window's demand; after it, the next bake's
    selling_days = np.minimum(lead, np.clip(view.days_to_sell_by, 0, None)).astype(np.int64)
    selling_demand = demand_within(cumulative, selling_days)
    unmet = np.maximum(selling_demand - view.usable, 0.0)
    unmet_share = np.divide(unmet, selling_demand, out=np.zeros(n), where=selling_demand > 0)
    # the one stockout rule (reorder's, `runs_short`); stock that runs out only because it expires unsold is a
    # clearance, not a stockout (the next bake is reorder's)
    stockout = has_stock & ~expired & ~season_over & ~unsellable & runs_short(
        days_left, selling_days, selling_demand, view.usable)
    # reorder's stockout before an order placed now arrives (its lead time): what at-risk says of it, reorder says
    gap = shelf_gap(view, cumulative, lead_time, until_empty(supply, view.usable, demand))
    # an empty shelf with units on order: reorder's rule at the position they make (reorder's point)
    on_order = np.fromiter((item.on_order for item in inventory), np.float64, n)
    waiting = np.flatnonzero(out_of_stock & (on_order > 0))
    reorder_point = np.full(n, np.nan)  # reorder's point where the action quotes it: waiting shelves, stockouts
    # reorder's position: the units on order count up to what sells within their shelf life after they arrive, and
    # no order adds units that would expire unsold (`room`)
    covering = on_order_cover(selling, on_order)
    room = order_cap(selling, on_order) > 0
    reorders = out_of_stock.copy()
    # reorder's rule where it decides: an empty shelf with units on order, low stock and a stockout (at usable + on
    # order): where reorder orders none (the units on order lift the position above its point, or no order could
    # arrive in time to sell), at-risk does not say to restock today either
    ruled = np.flatnonzero((out_of_stock & (on_order > 0)) | low_stock | stockout)
    if ruled.size:
        # their year's open days: the dispersion of their lead-time demand and the spread of their last 28 days
        budget.check("grid", {"products reorder rules": ruled.size, "days": HISTORY_DAYS},
                     "send fewer inventory rows per request")
        point = np.full(n, np.nan)
        point[ruled] = _reorder_point(ruled, reorder_demand, planned.past.grid(ruled), open_protection,
                                      path.short_term_rmse,
                                      demand, whole_units(sales, n) & (np.floor(quantity) == quantity),
                                      open_week(as_of_day, opening))
        reorder_point[waiting] = point[waiting]
        reorders[waiting] = orders(covering[waiting], point[waiting], demand[waiting], silent[waiting]) & room[waiting]
        low = np.flatnonzero(low_stock)
        low_stock[low] = orders(view.usable[low] + covering[low], point[low], demand[low], silent[low]) & room[low]
        reorders[low] = low_stock[low]
        short = np.flatnonzero(stockout)
        reorders[short] = orders(view.usable[short] + covering[short], point[short], demand[short],
                                 silent[short]) & room[short]
        reorder_point[short] = point[short]

    # no sales row and no avg_daily_sales: the demand is unknown (`items_without_sales` names the id), not zero:
    # no signal that reads demand (write-off, markdown, restock, slow mover: nothing sold in the request may be dead
    # stock or an id that does not match the sales'), as reorder and promotions: the stock's own dates only
    unknown = ~sold & np.isnan(given)
    for signal in (unsellable, season_over, stockout, low_stock, out_of_stock, slow):
        signal &= ~unknown
    unsold = np.where(unknown, np.nan, unsold)
    warnings = [_unknown_words(w) if w.code == "items_without_sales" and unknown.any() else w for w in warnings]
    cost = np.array([np.nan if item.cost is None else item.cost for item in inventory], dtype=np.float64)

    s_low = np.where(low_stock, 1 - quantity / (thresholds.low_stock + 1), 0.0)
    s_expiry = np.where(near_expiry, 1 - to_expiry / (near_days + 1), 0.0)
    s_unsold = np.where(unsellable | season_over, unsold / np.where(has_stock, quantity, 1.0), 0.0)
    threshold = max(thresholds.slow_moving_threshold, 1e-12)
    s_slow = np.where(slow, 1 - demand / threshold, 0.0)
    s_stockout = np.where(stockout, unmet_share, 0.0)
    score = 1 - (1 - W_LOW * s_low) * (1 - W_EXPIRY * s_expiry) * (1 - W_UNSOLD * s_unsold) * (
        1 - W_SLOW * s_slow) * (1 - W_STOCKOUT * s_stockout)
    score = np.where(expired | out_of_stock, 1.0, np.clip(score, 0.0, 1.0))

    flagged_mask = low_stock | near_expiry | expired | slow | unsellable | stockout | out_of_stock | season_over
    flagged = np.flatnonzero(flagged_mask)
    # an empty shelf that sells comes first, then by score, then by the demand it is losing
    flagged = flagged[np.lexsort((np.asarray(product_ids, dtype=object)[flagged], -demand[flagged] * out_of_stock[
        flagged], -score[flagged], ~out_of_stock[flagged]))]

    # never below cost: the deepest discount keeps the discounted price at or above the unit cost
    price = np.array([item.price for item in inventory], dtype=np.float64)
    above_cost = np.floor(margin_cap(price, cost, 0.0) * 10) / 10
    max_discount = np.minimum(settings.default_max_discount_pct, above_cost)
    beta, unused = learned_elasticities(sales, product_ids, as_of_day, settings.max_grid_cells,
                                        request.price_table, prior)
    warnings += unused
    sell_days = _open_within(open_ahead, np.clip(view.days_to_sell_by, 0, open_ahead.size))
    # the demand up to the sell-by day as one period: the discount lifts it to the quantity
    sells = demand_within(cumulative, np.minimum(view.days_to_sell_by, NO_LIMIT - 1))
    # a seasonal item whose season's sales are ahead (last year's same days sold more than the path does): the
    # units the path leaves are no certain write-off or markdown
    last_season = last_season_units(sales, view, as_of_day)
    ahead = season_ahead(last_season, sells) & unsellable
    multiplier = settings.promotion_elasticity_multiplier
    needed = discount_to_clear(quantity, sells, (sell_days > 0).astype(np.float64), beta, multiplier)
    markdown = best_markdown(needed, max_discount, quantity, sells, beta, multiplier)
    # promotions' rule: a markdown from tomorrow to the sell-by day must earn more than full price (the units left
    # earn nothing either way); one that earns less discounts units that sell anyway (the macaron: 5% off brought
    # 85.5 against 87), so none
    nothing = np.zeros(n)
    full_price, marked_down = outcomes(quantity, DemandDays(before=nothing, during=sells, after=nothing),
                                       1 + lift_pct(markdown, beta, multiplier) / 100, price, cost, markdown)
    pays = markdown_pays(full_price.revenue, marked_down.revenue)
    # reorder's rule for stock at risk, with its defaults: an order once the protection interval's demand
    # exceeds the usable units
    lead_demand = reorder_demand.mean
    # the flagged items' values as Python lists: indexing numpy arrays element by element costs more
    row = SimpleNamespace(**{name: values.tolist() for name, values in {
        "above_cost": above_cost, "beta": beta, "cost": cost, "unmet": unmet,
        "selling_days": selling_days, "selling_demand": selling_demand, "sell_days": sell_days,
        "days_to_season_end": view.days_to_season_end, "demand": demand, "open_rate": open_rate, "expired": expired,
        "from_forecast": path.from_forecast, "given": given, "lead_demand": lead_demand, "low_stock": low_stock,
        "max_discount": max_discount, "near_expiry": near_expiry, "needed": needed,
        "markdown": markdown, "pays": pays, "full_price_revenue": full_price.revenue,
        "markdown_revenue": marked_down.revenue,
        "no_demand": sells_nothing(sells),
        "ahead": ahead, "last_season": last_season, "sells": sells,
        "on_order": on_order, "covering": covering, "room": room,
        "out_of_stock": out_of_stock, "protection": protection, "quantity": quantity, "reorders": reorders,
        "score": score, "season_over": season_over, "silent": silent, "woke": reorder_demand.woke, "slow": slow,
        "stockout": stockout, "supply": supply, "to_expiry": to_expiry, "unknown": unknown,
        "to_expiry_demand": demand_within(cumulative, np.clip(np.nan_to_num(to_expiry), 0, NO_LIMIT - 1)
                                          .astype(np.int64)),
        "unsellable": unsellable, "unsold": unsold,
        "usable": view.usable, "velocity": velocity, "reorder_point": reorder_point, "lead_time": lead_time,
        "gap_empties": gap.empties, "gap_lost": gap.lost}.items()})
    items = [
        AtRiskItem(
            product_id=inventory[i].product_id,
            sku=inventory[i].sku,
            name=inventory[i].name,
            reasons=[
                reason
                for reason, on in (
                    ("out_of_stock", row.out_of_stock[i]),
                    ("expired", row.expired[i]),
                    ("season_over", row.season_over[i]),
                    ("low_stock", row.low_stock[i]),
                    ("stockout_risk", row.stockout[i]),
                    ("near_expiry", row.near_expiry[i]),
                    ("unsellable_before_expiry", row.unsellable[i]),
                    ("slow_moving", row.slow[i]),
                )
                if on
            ],
            score=round(float(row.score[i]), 4),
            current_quantity=float(row.quantity[i]),
            days_to_expiry=None if math.isnan(row.to_expiry[i]) else int(row.to_expiry[i]),
            avg_daily_sales=round(float(row.velocity[i]), 4),
            forecast_method=path.methods[i] if row.from_forecast[i] else None,
            days_of_supply=round(float(row.supply[i]), 1) if math.isfinite(row.supply[i]) else None,
            expected_unsold_units=None if math.isnan(row.unsold[i]) else round(float(row.unsold[i]), 2),
            stockout_date=date_after(as_of_day, float(row.supply[i])),
            value_tied_up=None if math.isnan(row.cost[i]) else round(float(row.quantity[i] * row.cost[i]), 2),
            turnover_rate=round(float(row.demand[i] * 365 / row.quantity[i]), 2)
            if row.quantity[i] > 0 and not row.unknown[i] else None,
            recommended_action=recommended_action(
                quantity=float(row.quantity[i]),
                velocity=float(row.velocity[i]),
                demand=float(row.demand[i]),
                open_rate=float(row.open_rate[i]),
                rate_given=not math.isnan(row.given[i]),
                to_expiry=None if math.isnan(row.to_expiry[i]) else int(row.to_expiry[i]),
                unsold=0.0 if math.isnan(row.unsold[i]) else float(row.unsold[i]),
                usable=float(row.usable[i]),
                lead_demand=float(row.lead_demand[i]),
                protection=int(row.protection[i]),
                lead_sent=inventory[i].lead_time_days is not None,
                after_silence=bool(row.silent[i]),
                woke=bool(row.woke[i]),
                on_order=float(row.on_order[i]),
                reorder_point=float(row.reorder_point[i]),
                on_order_cover=float(row.covering[i]),
                order_room=bool(row.room[i]),
                reorders=bool(row.reorders[i]),
                by=by_source(path.methods[i] if row.from_forecast[i] else None, bool(row.silent[i]),
                             bool(row.woke[i])),
                out_of_stock=bool(row.out_of_stock[i]),
                days_to_season_end=int(row.days_to_season_end[i]) if row.days_to_season_end[i] < NO_LIMIT else None,
                open_to_sell_by=float(row.sell_days[i]),
                sells_by=float(row.sells[i]),
                to_expiry_demand=float(row.to_expiry_demand[i]),
                needed_discount=float(row.needed[i]),
                discount=float(row.markdown[i]),
                markdown_pays=bool(row.pays[i]),
                revenues=(float(row.full_price_revenue[i]), float(row.markdown_revenue[i])),
                no_demand=bool(row.no_demand[i]),
                last_season=(float(row.last_season[i]), float(row.sells[i]),
                             last_year_days(as_of_day, int(row.days_to_season_end[i]), to_expiry[i]))
                if row.ahead[i] else None,
                expired=bool(row.expired[i]),
                unknown=bool(row.unknown[i]),
                near_expiry=bool(row.near_expiry[i]),
                slow=bool(row.slow[i]),
                low_stock=bool(row.low_stock[i] or row.stockout[i]),
                shortfall=(float(row.unmet[i]), float(row.selling_demand[i]), int(row.selling_days[i]))
                if row.stockout[i] else None,
                supply_days=float(row.supply[i]),
                low_stock_threshold=thresholds.low_stock if row.low_stock[i] else None,
                slow_threshold=thresholds.slow_moving_threshold,
                window=window,
                max_discount=float(row.max_discount[i]),
                cost_capped=bool(row.above_cost[i] < settings.default_max_discount_pct),
                elasticity=float(row.beta[i]),
                gap=gap_words(usable=float(row.usable[i]), days_left=float(row.supply[i]),
                              empty_on=date_after(as_of_day, float(row.supply[i])), lead=int(row.lead_time[i]),
                              arrival=date_after(as_of_day, float(row.lead_time[i])),
                              season_end=int(row.days_to_season_end[i])
                              if row.days_to_season_end[i] < row.lead_time[i] else None,
                              on_order=float(row.on_order[i]), lost=float(row.gap_lost[i]))
                if row.gap_empties[i] else "",
            ),
        )
        for i in flagged.tolist()
    ]
    slow_ids = np.flatnonzero(slow)
    tied_up = np.nan_to_num(quantity[slow_ids] * cost[slow_ids], nan=-1.0)
    slow_movers = [
        SlowMover(product_id=inventory[i].product_id,
                  value_tied_up=None if math.isnan(cost[i]) else round(float(quantity[i] * cost[i]), 2),
                  turnover_rate=round(float(demand[i] * 365 / quantity[i]), 2),
                  days_of_supply=round(float(supply[i]), 1) if math.isfinite(supply[i]) else None)
        for i in slow_ids[np.lexsort((np.asarray(product_ids, dtype=object)[slow_ids], -tied_up))]
    ]
    return AtRiskResponse(
        at_risk=items,
        slow_movers=slow_movers,
        meta=AtRiskMeta(shop_id=request.shop_id, total_products=n, flagged_count=len(items), as_of=as_of),
        warnings=warnings,
    )


def _unknown_words(warning: DataWarning) -> DataWarning:
    """`items_without_sales` with what at-risk does with the items of unknown demand (no avg_daily_sales sent)."""
    said = (" At-risk judges those without avg_daily_sales by their expiry dates alone: no slow mover (nothing sold "
            "in the request may be dead stock or an id to correct), stockout, markdown or write-off on a guess.")
    return warning.model_copy(update={"message": warning.message + said})


def _reorder_point(rows: np.ndarray, demand: ProtectionDemand, open_past: np.ndarray, open_protection: np.ndarray,
                   rmse: np.ndarray, daily_rate: np.ndarray, whole: np.ndarray, period: int) -> np.ndarray:
    """Reorder's reorder point of the items `rows` (their year's open days `open_past`, float64[rows, open days])
    with its defaults (`planned_demand.reorder_points`): the daily error is the forecast's 7-day backtest error,
    else the spread of the last 28 open days, as reorder's."""
    daily_sd = daily_error(rmse[rows], open_past)
    review_demand = daily_rate[rows] * REVIEW_DAYS
    return reorder_points(demand.take(rows), open_past, open_protection[rows], daily_sd, whole[rows],
                          SERVICE_LEVEL, np.maximum(review_demand, 1.0), review_demand,
                          period=period).point
