"""Promotion planning: pair each item that must clear before expiry with the best calendar event.

For item i and event j (eligible when as_of < event date <= sell-by day and the shop is open on the event's day:
as_of is the last day the sales cover, so a promotion starts the day after at the earliest, and an event on as_of
is over before it could start; the sell-by day, the earlier of `expiry_date` and `season_end`, is the last day the
stock may be sold, so an event on it is its last chance; closed days are at-risk's: `closed_weekdays` /
`closed_dates`, else detected on every product the request sent, `app/utils/opening_days.py`):
- an item with units on hand and no sell-by day (shelf-stable: neither date) has nothing to clear before a date:
  unmatched, as at-risk and reorder take the same inventory row as it is.
- rank score = 0.6 * audience_fit + 0.4 * (1 - days to event / days to expiry): a good audience
  and an early date (more selling time) win; ties go to the earlier event.
- the promotion runs from `lead_days` open days before the event (not before the day after as_of) to the sell-by
  day, at most PROMOTION_DAYS (a fortnight) from the event's day: it starts on an open day, clears a perishable up
  to its last selling day, and a one-day event is no markdown of every day up to a sell-by day months away.
- days to the sell-by day are counted in open days in the wording ("must sell within 1 open day"), and a
  constant rate sells on open days only (the forecast is 0 on closed days), as at-risk counts them.
- demand: the item's forecast daily path (`forecast_read.demand_path`: the forecast /forecast and /reorder make,
  a cache hit after /reorder of the same sales; reorder's demand where a silence decides it,
  `planned_demand.planned_demand`) for items with sales; the forecast wins over a caller's
  `avg_daily_sales`, which is the constant rate v only where no forecast is read (no sales in the rate window,
  a forecast that failed; `stock_view.stated_rates`, the rule of all three decisions), else the recent sales
  rate. Without either (no sales), the demand is unknown and the item gets no promotion (unmatched: check the id
  against the sales', warning `items_without_sales`, or send avg_daily_sales; at-risk says the same). The rate
  shown is the path's over the open days to the sell-by day, the days whose demand leaves the units unsold beside it
  (a 28-day mean would not give them).
- eligible only where at least one unit is left at the sell-by day at full price by that demand
  (`stock_view`: the same units left as reorder's `at_risk_quantity` and at-risk's `expected_unsold_units`), and
  where some demand is known up to it: with none (`pricing.sells_nothing`) no discount can clear the stock, and
  the item is unmatched saying so (donate or write off), as at-risk says.
- discount: the smallest multiple of 5 % that sells the quantity within the promotion at its days' demand x
  (1 - discount / 100) ** elasticity with the item's elasticity learned from the request's
  sales with its `prices` or revenue (`price_response.py`), else v * (1 + multiplier * discount / 100)
  (PROMOTION_ELASTICITY_MULTIPLIER); at least 5 %, at most `discount_max_pct` and the margin
  floor (price after discount >= cost / (1 - min_margin_pct / 100)); where even that cap would not clear the
  stock nor earn more than full price, the step that earns the most (`pricing.best_markdown`).
- expected clear-out: the day after as_of on which the last unit sells with the promotion (full price before it,
  the lifted demand during it, units sold in day order as `outcomes` counts them); none when units are left at the
  sell-by day.
- confidence: high when the stock clears in time and the audience fits (>= 0.5); low when the stock will not
  clear in time; medium otherwise.
"""

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from app.config import Settings
from app.schemas.common import DataWarning
from app.schemas.promotions import (
    CalendarEvent,
    PromotionItem,
    PromotionsRequest,
    PromotionsResponse,
)
from app.services.decisions.audience import audience_fit
from app.services.decisions.demand_source import Source, demand_source
from app.services.decisions.forecast_read import (
    Forecaster,
    demand_path,
)
from app.services.decisions.planned_demand import (
    planned_demand,
)
from app.services.decisions.price_response import CONSTANT, LEARNED, PriorSource, learned_elasticities
from app.services.decisions.pricing import (
    best_markdown,
    discount_to_clear,
    lift_pct,
    margin_cap,
    markdown_pays,
    sells_nothing,
)
from app.services.decisions.stock_view import (
    MIN_LEFTOVER_UNITS,
    NO_LIMIT,
    REVIEW_DAYS,
    SERVICE_LEVEL,
    STORABLE_DAYS,
    YEAR_DAYS,
    days_to,
    demand_within,
    forecast_days,
    last_season_units,
    lead_times,
    origin_day,
    season_ahead,
    stated_rates,
    stock_view,
)
from app.services.forecasting.drivers import check_event_scopes
from app.utils.arrays import first_column, rounded
from app.utils.dates import as_date, day_number, from_day_number
from app.utils.opening_days import catalogue_opening_days
from app.utils.sales_frame import SalesColumns, clean_sales, daily_net_units
from app.utils.validation import check_unique
from app.utils.wording import days_text, unit_count
from app.utils.work_budget import WorkBudget

RATE_WINDOW_DAYS = 28
MIN_RATE_DAYS = 7
PROMOTION_DAYS = 14  # a promotion's days from its event's day at most (a fortnight), the sell-by day first
STEP_PCT = 5.0
W_FIT, W_TIMING = 0.6, 0.4


def _base_rates(request: PromotionsRequest, sales: SalesColumns, as_of_day: int, max_cells: int,
                prior: PriorSource | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[DataWarning]]:
    """Units/day per item where no forecast is read (a stated `avg_daily_sales`, else the recent sales rate over
    the rate's window, 0 for an item whose sales are all older; NaN without sales), learned price elasticities
    (NaN: the constant rule), whether the item sold at all in the request (bool[n]: its forecast can be read, the
    rule of at-risk and reorder) and the warnings of the elasticities."""
    items = request.items
    product_ids = [item.product_id for item in items]
    beta, warnings = learned_elasticities(sales, product_ids, as_of_day, max_cells, request.price_table, prior)
    first_day = as_of_day - RATE_WINDOW_DAYS + 1
    units = daily_net_units(sales, len(items), first_day, RATE_WINDOW_DAYS)
    in_window = (sales.day >= first_day) & (sales.product < len(items))
    first_sale = first_column(sales.product[in_window], sales.day[in_window], len(items), as_of_day + 1)
    sold = np.bincount(sales.product, minlength=len(items))[:len(items)] > 0
    days = np.maximum(as_of_day - first_sale + 1, MIN_RATE_DAYS)
    from_sales = np.where(sold, units.sum(axis=1) / days, np.nan)
    given = stated_rates(items)
    return np.where(np.isnan(given), from_sales, given), beta, sold, warnings


def plan_promotions(request: PromotionsRequest, settings: Settings, prior: PriorSource | None = None,
                    forecaster: Forecaster | None = None) -> PromotionsResponse:
    """Best events per item with discount, timing, expected clear-out and confidence; lifts from
    elasticities pooled towards the shop model's (`prior`) when the shop has one; what sells by expiry from
    the `forecaster`'s forecast (the recent rate without one)."""
    items, events, prefs = request.items, request.calendar_events, request.preferences
    check_unique([item.product_id for item in items], "items")
    check_unique([event.id for event in events], "calendar_events", key="id")
    item_ids = [item.product_id for item in items]
    WorkBudget(settings).check("pairs", {"items": len(items), "events": len(events)},
                               "send fewer items or only the events before the items' expiry dates")
    multiplier = settings.promotion_elasticity_multiplier
    max_discount = prefs.discount_max_pct or settings.default_max_discount_pct

    sent_as_of = day_number(request.as_of) if request.as_of else None
    sales, warnings = clean_sales(request, [item.product_id for item in items], sent_as_of, "items",
                                  with_revenue=True)
    as_of_day = origin_day(request.as_of, request)  # reorder's origin: as_of, else the request's latest sale
    as_of = from_day_number(as_of_day)
    # an event scoped to a product the request does not hold is a 422, as on /forecast, /reorder and /at-risk
    check_event_scopes(events, {str(p) for p in sales.product_ids} | set(item_ids), set())
    # at-risk's closed days
    opening, found, catalogue = catalogue_opening_days(request, sales, len(items), sent_as_of)
    warnings += found
    rate, beta, sold, unused = _base_rates(request, sales, as_of_day, settings.max_grid_cells, prior)
    warnings += unused
    price = np.array([item.price for item in items], dtype=np.float64)
    cost = np.array([np.nan if item.cost is None else item.cost for item in items], dtype=np.float64)
    # the one view of the stock: what sells by expiry or season end by the forecast (where it is not read: a
    # caller's avg_daily_sales, else the recent rate), what is left
    sell_by = np.minimum(days_to(items, "expiry_date", as_of_day), days_to(items, "season_end", as_of_day))
    on_hand = np.array([item.quantity for item in items], dtype=np.float64)
    dated = sell_by < NO_LIMIT  # an item with no sell-by day has nothing to clear before a date
    wanted = sold & (on_hand > 0) & (sell_by > 0) & dated
    horizon = forecast_days(items)  # reorder's horizon for these items: one forecast, one cache entry
    # a rate sells on open days only, as at-risk reads it (the forecast is 0 on closed days)
    open_day = ~opening.closed(as_of_day + 1 + np.arange(horizon))
    rate_path = np.nan_to_num(rate, nan=0.0)[:, None] * open_day[None, :]
    path = demand_path(request, request.shop_id, [item.product_id for item in items], wanted, rate_path, horizon,
                       sent_as_of, forecaster, warnings)
    # reorder's demand where a silence decides it (`planned_demand.planned_demand`): the stock on hand is judged with
    # the demand reorder orders with, as at-risk judges it
    planned = planned_demand(sales, catalogue, as_of_day, opening, np.maximum(lead_times(items) + REVIEW_DAYS, 1),
                             path.daily, on_hand, SERVICE_LEVEL, WorkBudget(settings), "send fewer items per request")
    decided = planned.protection.silent.applies | planned.protection.woke
    cumulative = planned.cumulative
    known = ~np.isnan(rate) | path.from_forecast | decided
    view = stock_view(items, as_of_day, cumulative)
    quantity = view.quantity
    leftover = np.where(known, view.at_risk, quantity)
    # no demand up to the sell-by day by a known rate: no discount can clear the stock (at-risk's rule)
    sells = demand_within(cumulative, np.maximum(sell_by, 0))
    # the demand's rate over the open days to the sell-by day: the days that make the units left quoted beside it
    open_to_sell_by = opening.open_days_between(as_of_day + 1, as_of_day + np.clip(sell_by, 0, NO_LIMIT))
    to_sell_by = np.where(open_to_sell_by > 0, sells / np.maximum(open_to_sell_by, 1),
                          planned.daily[:, :horizon].mean(axis=1))
    rate = np.where(path.from_forecast | decided, to_sell_by, rate)
    no_demand = known & sells_nothing(sells)
    # a seasonal item whose season's sales are ahead: no markdown on a forecast that sees only the off-season
    last_season = last_season_units(sales, view, as_of_day)
    ahead = known & (leftover >= MIN_LEFTOVER_UNITS) & season_ahead(last_season, sells)
    expiry = as_of_day + sell_by
    event_day = np.array([day_number(event.date) for event in events], dtype=np.int64)

    cap = np.minimum(max_discount, margin_cap(price, cost, prefs.min_margin_pct))
    cap = np.floor(cap / STEP_PCT) * STEP_PCT
    # an event on as_of is over: its sales are in, and a promotion starts tomorrow at the earliest; one on the
    # sell-by day is the stock's last selling day (review 3 F6: it was refused)
    # the shop shut on the event's day: no promotion there (review 5 F8: a closed Wednesday's market was chosen)
    event_open = ~opening.closed(event_day)
    eligible = (event_day[None, :] > as_of_day) & (event_day[None, :] <= expiry[:, None]) & event_open[None, :]
    eligible &= ((quantity > 0) & dated & (cap >= STEP_PCT) & (leftover >= MIN_LEFTOVER_UNITS) & known
                 & ~no_demand & ~ahead)[:, None]
    for j, calendar_event in enumerate(events):  # an event scoped to some products pairs with those items only
        if calendar_event.product_ids is not None:
            eligible[:, j] &= np.isin(item_ids, [str(p) for p in calendar_event.product_ids])
    fit = audience_fit([item.categories for item in items], [(e.title, e.audience) for e in events])
    span = np.maximum(sell_by, 1)[:, None]
    rank_score = (event_day - as_of_day)[None, :] / span  # W_FIT * fit + W_TIMING * timing, in one array
    np.subtract(1.0, rank_score, out=rank_score)  # timing: 1 - days to the event / days to the sell-by day
    rank_score *= W_TIMING
    rank_score += W_FIT * fit
    rank_score[~eligible] = -np.inf
    top = _best_events(rank_score, event_day, prefs.max_events_per_item)
    chosen_i, chosen_rank = np.nonzero(np.take_along_axis(eligible, top, axis=1))
    chosen_j = top[chosen_i, chosen_rank]

    # `lead_days` open days before the event, from tomorrow at the earliest (today's sales are in), to the sell-by
    # day, at most a fortnight from the event's day: a one-day event is no two-month markdown (review 5 F8: croutons
    # 40% off to their expiry 60 days away), and perishables are cleared up to their last selling day
    event = event_day[chosen_j]
    end = np.minimum(expiry[chosen_i], event + PROMOTION_DAYS - 1)
    start = opening.nth_open_day(as_of_day, np.maximum(opening.open_days_between(as_of_day + 1, event)
                                                       - prefs.lead_days, 1), event)
    q, b = quantity[chosen_i], beta[chosen_i]
    days_of = _demand_days(cumulative[chosen_i], sell_by[chosen_i], start - as_of_day, end - as_of_day)
    window = days_of.during
    # sized to sell the leftover on top of what the promotion's days sell anyway (the window as one period)
    needed = discount_to_clear(window + leftover[chosen_i], window, np.ones(len(chosen_i)), b, multiplier)
    discount = best_markdown(needed, cap[chosen_i], window + leftover[chosen_i], window, b, multiplier, STEP_PCT)
    lift = lift_pct(discount, b, multiplier)
    without, with_promotion = outcomes(q, days_of, 1 + lift / 100, price[chosen_i], cost[chosen_i], discount)
    clears = with_promotion.units_left <= 1e-9
    clear_days = _clear_days(cumulative[chosen_i], q, sell_by[chosen_i], start - as_of_day, end - as_of_day,
                             1 + lift / 100, clears)
    pays = markdown_pays(without.revenue, with_promotion.revenue)
    pair_fit = fit[chosen_i, chosen_j]
    confidence = np.where(
        ~clears, "low", np.where(pair_fit >= 0.5, "high", "medium")
    )

    # one promotion per paying pair, written as plain values read from Python lists and validated once with the
    # answer: a pydantic model built per promotion and per outcome was two thirds of the service time
    chosen_of, event_of, rank_of = chosen_i.tolist(), chosen_j.tolist(), chosen_rank.tolist()
    rate_of, leftover_of = rate.tolist(), leftover.tolist()
    sell_by_of, open_of = sell_by.tolist(), open_to_sell_by.tolist()
    forecast_of = path.from_forecast.tolist()
    silent_of, woke_of = planned.protection.silent.applies.tolist(), planned.protection.woke.tolist()

    def source_of(i: int) -> Source | None:  # where the demand comes from: a silence's rate is reorder's
        return demand_source(path.methods[i] if forecast_of[i] else None, silent_of[i], woke_of[i])

    paid = pays.tolist()
    paying = [k for k in range(len(chosen_of)) if paid[k]]
    # the item to clear soonest first, its events best first
    paying.sort(key=lambda k: (sell_by_of[chosen_of[k]], item_ids[chosen_of[k]], rank_of[k]))
    start_of, end_of = start.tolist(), end.tolist()
    dates = {day: from_day_number(day) for day in {*(start_of[k] for k in paying), *(end_of[k] for k in paying)}}
    discount_of, clear_days_of, lift_of = discount.tolist(), clear_days.tolist(), lift.tolist()
    fit_of, confidence_of, beta_of, clears_of = pair_fit.tolist(), confidence.tolist(), b.tolist(), clears.tolist()
    shown = list(zip(rounded(lift, 1), rounded(pair_fit, 3), rounded(b, 3), strict=True))
    without_of, with_promotion_of = without.rows(), with_promotion.rows()
    event_text = [(as_date(event.date), event.title or event.id) for event in events]
    promotions = [
        _promotion(
            items[i], events[j], event_text[j], rank=rank_of[k] + 1, discount=discount_of[k],
            start=dates[start_of[k]], end=dates[end_of[k]],
            clear_days=None if math.isnan(clear_days_of[k]) else int(clear_days_of[k]), lift=lift_of[k],
            fit=fit_of[k], confidence=confidence_of[k],
            elasticity=None if math.isnan(beta_of[k]) else beta_of[k],
            rate=rate_of[i], days=sell_by_of[i], open_days=open_of[i], clears=clears_of[k], source=source_of(i),
            without=without_of[k], with_promotion=with_promotion_of[k], shown=shown[k],
        )
        for k, i, j in ((k, chosen_of[k], event_of[k]) for k in paying)
    ]
    matched = {chosen_of[k] for k in paying}
    no_pay = {i: k for k, i in enumerate(chosen_of) if not paid[k]}
    unmatched = [
        {"product_id": item.product_id, "product_name": item.name,
         "reason": _no_pay_reason(discount_of[no_pay[i]], without_of[no_pay[i]], with_promotion_of[no_pay[i]])
         if i in no_pay
         else _season_ahead_reason(float(last_season[i]), float(sells[i]), leftover_of[i], sell_by_of[i], as_of_day)
         if ahead[i]
         else _unmatched_reason(item, sell_by_of[i], _days_left(sell_by_of[i], open_of[i]), float(cap[i]),
                                prefs.min_margin_pct, event_day, event_open, as_of_day, leftover_of[i], rate_of[i],
                                source_of(i), bool(no_demand[i]), open_of[i])}
        for i, item in enumerate(items)
        if i not in matched
    ]
    return PromotionsResponse.model_validate({
        "promotions": promotions,
        "unmatched": unmatched,
        "meta": {"shop_id": request.shop_id, "promotions_generated": len(promotions), "items_received": len(items),
                 "items_unmatched": len(unmatched), "as_of": as_of},
        "warnings": warnings,
    })


def _best_events(rank_score: np.ndarray, event_day: np.ndarray, count: int) -> np.ndarray:
    """int64[n_items, min(count, n_events)]: each item's events by `rank_score` (float64[n_items, n_events]), best
    first, ties to the earlier `event_day`, then to the event sent first. The best one alone (the default) is found
    without sorting every item's events."""
    if count > 1 or rank_score.shape[1] == 0:
        order = np.lexsort((np.broadcast_to(event_day, rank_score.shape), -rank_score), axis=1)
        return order[:, :count]
    best = rank_score == rank_score.max(axis=1, keepdims=True)
    return np.argmin(np.where(best, event_day[None, :], np.iinfo(np.int64).max), axis=1)[:, None]


Outcome = dict[str, float | None]  # one promotion's outcome as the answer writes it (`PromotionOutcome`'s fields)


@dataclass(frozen=True)
class Outcomes:
    """Per promotion (float64[k]): units sold and left by the sell-by day, revenue and margin."""

    units_sold: np.ndarray
    units_left: np.ndarray
    revenue: np.ndarray
    margin: np.ndarray  # NaN without cost

    def rows(self) -> list[Outcome]:
        """Each promotion's outcome as the answer writes it (`PromotionOutcome`'s fields, rounded to cents)."""
        margins = rounded(self.margin, 2)
        return [{"units_sold": sold, "units_left": left, "revenue": revenue,
                 "margin": None if math.isnan(margin) else margin}
                for sold, left, revenue, margin in zip(rounded(self.units_sold, 2), rounded(self.units_left, 2),
                                                       rounded(self.revenue, 2), margins, strict=True)]


@dataclass(frozen=True)
class DemandDays:
    """Per promotion (float64[k]): the full-price demand before, during and after its days, to the sell-by day."""

    before: np.ndarray
    during: np.ndarray
    after: np.ndarray


def _demand_days(cumulative: np.ndarray, sell_by: np.ndarray, first: np.ndarray, last: np.ndarray) -> DemandDays:
    """The demand path `cumulative` (float64[k, days]) split at a promotion on days `first`..`last` after as_of
    (inclusive), up to `sell_by` days."""
    days = np.maximum(sell_by, 0)
    promo_first, promo_last = np.clip(first, 1, None), np.minimum(last, days)
    up_to_start = demand_within(cumulative, np.clip(promo_first - 1, 0, days))
    up_to_end = demand_within(cumulative, np.maximum(promo_last, promo_first - 1))
    return DemandDays(before=up_to_start, during=np.maximum(up_to_end - up_to_start, 0.0),
                      after=np.maximum(demand_within(cumulative, days) - up_to_end, 0.0))


def _clear_days(cumulative: np.ndarray, quantity: np.ndarray, sell_by: np.ndarray, first: np.ndarray,
                last: np.ndarray, lift_factor: np.ndarray, clears: np.ndarray) -> np.ndarray:
    """float64[k]: the day after as_of on which the `quantity` is sold out with a promotion on days `first`..`last`
    (its demand x `lift_factor`, full price on the other days of the path `cumulative`, float64[k, days]); NaN where
    it does not clear by the `sell_by` day (`clears` False): the stock never sells out, whatever the rate."""
    def sold_by(day: np.ndarray) -> np.ndarray:
        start = np.clip(first - 1, 0, None)
        promoted = demand_within(cumulative, np.clip(day, start, last)) - demand_within(cumulative, start)
        return demand_within(cumulative, day) + (lift_factor - 1) * promoted

    # bisect the days (sold_by grows with them): never cleared by `low`, cleared by `high`
    low, high = np.zeros_like(sell_by), np.where(clears, np.maximum(sell_by, 1), 0)
    while np.any(high - low > 1):
        middle = (low + high) // 2
        done = sold_by(middle) >= quantity - 1e-9
        low, high = np.where(done, low, middle), np.where(done, middle, high)
    return np.where(clears, high, np.nan).astype(np.float64)


def outcomes(quantity: np.ndarray, demand: DemandDays, lift_factor: np.ndarray, price: np.ndarray,
             cost: np.ndarray, discount_pct: np.ndarray) -> tuple[Outcomes, Outcomes]:
    """Without and with a promotion (its days' demand x `lift_factor` at `discount_pct` off; full price on the
    other days up to the sell-by day). Units sell in day order; margins count the cost of every unit on hand."""
    before = np.minimum(quantity, demand.before)
    during = np.minimum(quantity - before, demand.during * lift_factor)
    after = np.minimum(quantity - before - during, demand.after)
    plain_sold = np.minimum(quantity, demand.before + demand.during + demand.after)
    promo_sold = before + during + after
    stock_cost = quantity * cost
    plain_revenue = plain_sold * price
    promo_revenue = (before + after) * price + during * price * (1 - discount_pct / 100)
    return (Outcomes(plain_sold, quantity - plain_sold, plain_revenue, plain_revenue - stock_cost),
            Outcomes(promo_sold, quantity - promo_sold, promo_revenue, promo_revenue - stock_cost))


def _promotion(item: PromotionItem, event: CalendarEvent, event_text: tuple[date, str], *, rank: int,
               discount: float, start: date, end: date, clear_days: int | None, lift: float, fit: float,
               confidence: str, rate: float, days: int, open_days: int, clears: bool, elasticity: float | None,
               source: Source | None, without: Outcome, with_promotion: Outcome,
               shown: tuple[float, float, float]) -> dict[str, object]:
    """One promotion as the answer writes it (`Promotion`'s fields); `event_text` is the event's date and title,
    `shown` the lift, fit and elasticity rounded as the answer shows them."""
    event_date, title = event_text
    closed_days = f" (the shop is closed on {days - open_days} of the {days} days)" if open_days < days else ""
    days_left = _days_left(days, open_days)
    name = item.name or item.product_id
    by = _by(source, rate, days_left)
    unsold = without["units_left"]
    left = (f"at full price {by} it leaves {unit_count(f'{unsold:g}')} unsold; {discount:g}% off "
            f"lifts sales {lift:.0f}%")
    outcome = (f"revenue {with_promotion['revenue']:g} with it against {without['revenue']:g} without"
               + (f", margin {with_promotion['margin']:g} against {without['margin']:g}"
                  if with_promotion["margin"] is not None and without["margin"] is not None else ""))
    outlook = (f"{left} and should clear them ({outcome})" if clears else
               f"{left}, still leaving about {with_promotion['units_left']:g} ({outcome})")
    return {
        "event_id": event.id,
        "event_title": event.title,
        "event_date": event_date,
        "product_id": item.product_id,
        "product_name": item.name,
        "rank": rank,
        "suggested_discount_pct": discount,
        "promo_copy": f"{title} Special: {discount:.0f}% off {name}! Limited time offer.",
        "start_date": start,
        "end_date": end,
        "expected_clear_days": clear_days,
        "projected_sales_lift": shown[0],
        "without_promotion": without,
        "with_promotion": with_promotion,
        "audience_fit": shown[1],
        "confidence": confidence,
        "price_elasticity": None if elasticity is None else shown[2],
        "elasticity_source": CONSTANT if elasticity is None else LEARNED,
        "reasoning": (f"Pair {name} with {title}: {unit_count(f'{item.quantity:g}')} must sell within "
                      f"{days_left}{closed_days}; "
                      f"audience fit {fit:.2f}; {outlook}; "
                      + (f"lift from its price elasticity {elasticity:.1f}, learned from its sales and prices."
                         if elasticity is not None else "lift from the constant rule (its prices cannot tell).")),
    }


def _by(source: Source | None, rate: float, days_left: str | None = None) -> str:
    """The demand a reason quotes and where it comes from (`demand_source`): "by its forecast (linear, 0.21/day
    over the 60 days left)", "by what followed its earlier silences as long (0.21/day ...; reorder's demand)", else
    the rate alone: "at 0.21/day"."""
    if source is None:
        return f"at {rate:.2f}/day"
    per_day = f"{rate:.2f}/day" + (f" over the {days_left} left" if days_left else "")
    return f"by {source.name} (" + (f"{source.note}, {per_day}" if source.forecast else
                                    f"{per_day}; {source.note}") + ")"


def _no_pay_reason(discount: float, without: Outcome, with_promotion: Outcome) -> str:
    return (f"a promotion would not pay: {discount:g}% off brings revenue {with_promotion['revenue']:g} against "
            f"{without['revenue']:g} at full price (it discounts units that sell anyway)")


def _season_ahead_reason(sold: float, sells: float, leftover: float, days_left: int, as_of_day: int) -> str:
    first = from_day_number(as_of_day + 1 - YEAR_DAYS)
    last = from_day_number(as_of_day + min(days_left, YEAR_DAYS) - YEAR_DAYS)
    return (f"its season's sales are still ahead: the same days last year ({first.isoformat()} to "
            f"{last.isoformat()}) sold {sold:.1f} units, where its forecast from today's off-season sells "
            f"{sells:.1f} and would leave {leftover:.1f}; how many will be left is uncertain: no markdown yet, "
            "plan one once the season's sales start (see at-risk)")


def _days_left(days: int, open_days: int) -> str:
    """The days up to the sell-by day as the owner counts them: the days the shop is open (review 5 F8: "must sell
    within 2 days" counted a closed Wednesday)."""
    return days_text(days) if open_days == days else f"{open_days} open day{'' if open_days == 1 else 's'}"


def _unmatched_reason(item: PromotionItem, days_to_expiry: int, days_left: str, cap: float, min_margin: float,
                      event_day: np.ndarray, event_open: np.ndarray, as_of_day: int, leftover: float, rate: float,
                      source: Source | None, no_demand: bool, open_days: int) -> str:
    if item.quantity <= 0:  # a sold-out item, with or without a sell-by day
        return "nothing on hand (quantity 0): nothing to promote"
    if item.expiry_date is None and item.season_end is None:  # shelf-stable: at-risk and reorder take it as sent
        return ("no sell-by day (no expiry_date or season_end): nothing to clear before a date; send expiry_date to "
                "plan a promotion for it")
    season_ended = days_to_expiry <= 0 and item.season_end is not None and (
        item.expiry_date is None or day_number(item.season_end) <= day_number(item.expiry_date))
    if days_to_expiry <= 0 and not season_ended:
        return "expires today: no time left for a promotion" if days_to_expiry == 0 else (
            f"expired {days_text(-days_to_expiry)} ago: remove it from sale")
    if math.isnan(rate):  # at-risk's order: expired, then unknown demand, then a season that ended
        return ("no sales of this product_id in the request and no avg_daily_sales: its demand is unknown, so no "
                "promotion on a guess; check that the id matches the sales' exactly (warning items_without_sales)")
    if season_ended:  # at-risk's rule: what expires before STORABLE_DAYS cannot wait for the next season
        keeps = item.expiry_date is None or day_number(item.expiry_date) - as_of_day >= STORABLE_DAYS
        return "its season ends today: no time left for a promotion" if days_to_expiry == 0 else (
            f"its season ended {days_text(-days_to_expiry)} ago: "
            + ("store it for next season if it keeps (see at-risk)" if keeps else
               "it expires before the next season: clear it or record the write-off (see at-risk)"))
    by = _by(source, rate)
    if no_demand and open_days == 0:  # its demand is the shop's closed days, not the item's (review 6 N6)
        return (f"the shop is closed until its last selling day, {days_text(days_to_expiry)} away (no open day "
                f"before it): the {unit_count(f'{item.quantity:g}')} expire unsold while it is closed, so no discount "
                "can sell them: donate them or record the write-off (see at-risk)")
    if no_demand:
        return (f"no demand: {by} none of the {unit_count(f'{item.quantity:g}')} sells within the "
                f"{days_left} left, "
                "so no discount can clear them (a markdown lifts demand, and there is none): donate them or record "
                "the write-off (see at-risk)")
    if leftover < MIN_LEFTOVER_UNITS:
        return (f"sells out at full price: {by} it sells the {unit_count(f'{item.quantity:g}')} on hand within the "
                f"{days_left} left; no discount needed")
    if cap < STEP_PCT:
        cost = f" and cost {item.cost:g}" if item.cost is not None else ""
        return (f"no discount room: price {item.price:g}{cost} with a {min_margin:g}% "
                f"minimum margin allow less than {STEP_PCT:g}% off")
    upcoming = event_day[event_day > as_of_day]
    if upcoming.size == 0:
        return "no calendar event after as_of (a promotion starts the day after it at the earliest)"
    reachable = (event_day > as_of_day) & (event_day <= as_of_day + days_to_expiry)
    if reachable.any():  # every other rule passed: the events in time are all on days the shop is closed
        shown = ", ".join(from_day_number(int(d)).isoformat() for d in np.unique(event_day[reachable & ~event_open]))
        return (f"the calendar events up to its last selling day, {days_text(days_to_expiry)} away, fall on days the "
                f"shop is closed ({shown}): a promotion needs the shop open")
    return (f"no calendar event up to its last selling day, {days_text(days_to_expiry)} away "
            f"(the next event is {days_text(int(upcoming.min()) - as_of_day)} away)")
