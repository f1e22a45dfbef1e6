"""Reorder recommendations: when to reorder, how much, and why, per product.

Stock: the one view of `stock_view` with the forecast as the demand path: usable units (those the
forecast sells before their expiry or season end; expired units count 0) + on order is the inventory
position, the units on order counting only up to what sells within their shelf life and season after they
arrive (`stock_view.on_order_cover`: the service does not know when they arrive and takes the lead time); the
units that will expire unsold are at risk, not cover, and hold the order back until the demand over the
protection interval exceeds the usable units.

Demand comes from the forecast engine (`forecast_read.read_forecast`, the one place the decisions read it, through
the forecast cache, so a repeated request reuses its forecasts; every service level reads one forecast; an item
without sales and with a sent `avg_daily_sales` gets that constant rate, `stock_view.stated_rates`):
mu_L = forecast units over the protection interval, lead time +
review days: an order placed at one review is on the shelf after the lead time, and the next order can only
come one review later, so the position at the last review that did not order (just above the reorder point)
must cover both (Silver, Pyke & Peterson's (R, s, Q) / (R, s, S) protection interval; a reorder point from
this interval bounds the undershoot below it, which is not added again). Its distribution
(`app.models.demand_distribution`): variance = max(days x the chosen model's 7-day backtest RMSE^2 (or the sd
of the last 28 open days when it has none), mu_L + phi mu_L^2, phi the item's own lead-time dispersion: that
of the better of a trailing mean and a same-weekday mean), days counting the open days of the protection
interval and the errors taken over open days only: closed days
(`closed_weekdays` / `closed_dates`, else detected, `app.utils.opening_days`) are no demand, and their zeros
would make a steady bread look lumpy; negative binomial / Poisson for skewed whole-unit counts, normal where
smooth. The reorder point is its service-level quantile. An order is recommended when the position <= reorder
point: enough lots to lift the position above the reorder point (the EOQ, `inventory_math`, at most the forecast
demand over the item's cover days, `stock_view.lot_bound`: lead time + review, lead time + shelf life, at least 28,
so a perishable sent without a shelf life is not sized months ahead), never more than the
forecast sells from the order's arrival within the shelf life and the rest of the season, less the usable units
left then and the units on order (`stock_view.order_cap`: an order never adds units that would expire unsold),
rounded up to the minimum order and whole packs.

Urgency says what to do now, and agrees with the order: critical = an order now that arrives to an empty shelf
(the usable units and those on order fall a unit or more short of the demand before an order placed now can
arrive, `shelf_gap.ShelfGap.arrives_empty`: each day it waits loses sales); high = an order now; medium = no order
now, but the shelf empties before any order placed now arrives (`shelf_gap`: units on order, taken at the lead
time, included; a season ending first), or held back (at or below the reorder point, but the stock to sell or
clear first covers the protection interval), or within one lead time of demand above a reorder point above 0;
low otherwise (nothing sells: no forecast demand, a season over; a reorder point of 0 with nothing to order). A
stockout no order placed now prevents is said in the reasoning: when the shelf empties, the units lost until an
order could arrive, that units on order are counted from then, and that only an earlier delivery saves them.
Sorted by days of stock left beyond the lead time, then revenue at risk.
ABC: classes by cumulative share of revenue (A up to `a`, B up to `b`); XYZ: coefficient of
variation of weekly units over the last 13 weeks (X < 0.5 <= Y < 1 <= Z).
"""

import math
from types import SimpleNamespace

import numpy as np

from app.config import Settings
from app.models.demand_distribution import WAKE_PRIOR_ORIGINS, WOKEN_SILENCE, silence_days
from app.schemas.reorder import (
    ReorderMeta,
    ReorderRecommendation,
    ReorderRequest,
    ReorderResponse,
)
from app.services.decisions.forecast_read import (
    FORECAST_DAYS,
    read_forecast,
    shop_forecaster,
)
from app.services.decisions.inventory_math import eoq, round_order
from app.services.decisions.planned_demand import (
    daily_error,
    open_week,
    orders,
    planned_demand,
    reorder_points,
)
from app.services.decisions.shelf_gap import ShelfGap, gap_words, shelf_gap
from app.services.decisions.stock_view import (
    MIN_UNMET_UNITS,
    NO_LIMIT,
    cover_days,
    demand_within,
    forecast_days,
    last_season_units,
    lot_bound,
    on_order_cover,
    order_cap,
    origin_day,
    season_ahead,
    selling_window,
    shelf_lives,
    stated_rates,
    stock_view,
    supply_days,
    until_empty,
    whole_units,
)
from app.utils.cache import Cache
from app.utils.dates import date_after, day_number
from app.utils.opening_days import catalogue_opening_days
from app.utils.sales_frame import clean_sales
from app.utils.validation import check_unique
from app.utils.wording import days_text, unit_count, units_text
from app.utils.work_budget import WorkBudget

WEEKS_FOR_XYZ = 13


def abc_classes(revenue: np.ndarray, a: float, b: float) -> np.ndarray:
    """'A'/'B'/'C' by cumulative revenue share; the product that crosses a threshold is in the class below it."""
    order = np.argsort(-revenue, kind="stable")
    total = revenue.sum()
    before = (np.cumsum(revenue[order]) - revenue[order]) / total if total > 0 else np.ones(len(revenue))
    ranked = np.where(before < a, "A", np.where(before < b, "B", "C"))
    out = np.empty(len(revenue), dtype="<U1")
    out[order] = ranked
    return out


def xyz_classes(daily: np.ndarray) -> np.ndarray:
    """'X'/'Y'/'Z' by the coefficient of variation of weekly units (daily: [n, days])."""
    weeks = daily[:, -WEEKS_FOR_XYZ * 7:]
    usable = weeks.shape[1] // 7 * 7
    weekly = weeks[:, weeks.shape[1] - usable:].reshape(daily.shape[0], -1, 7).sum(axis=2)
    mean = weekly.mean(axis=1) if weekly.size else np.zeros(daily.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.where(mean > 0, weekly.std(axis=1) / mean, np.inf)
    return np.where(cv < 0.5, "X", np.where(cv < 1.0, "Y", "Z"))


def recommend_orders(request: ReorderRequest, settings: Settings, cache: Cache, signing_key: str) -> ReorderResponse:
    """Reorder point, safety stock, EOQ and the order to place now, per inventory item."""
    items = request.inventory
    product_ids = [item.product_id for item in items]
    check_unique(product_ids, "inventory")
    n = len(items)
    WorkBudget(settings).check("grid", {"products": n, "days": 365 + 364},
                               "send fewer inventory rows per request")
    lead = np.array([item.lead_time_days for item in items], dtype=np.int64)
    protection = np.maximum(lead + request.review_days, 1)
    as_of_day = day_number(request.as_of) if request.as_of else None
    sales, warnings = clean_sales(request, product_ids, as_of_day, "inventory", with_revenue=True)
    sold = np.bincount(sales.product, minlength=len(sales.product_ids))[:n] > 0
    origin = origin_day(request.as_of, request)  # as_of, else the latest date of all the request's sales
    shelf_life = shelf_lives(items)
    horizon = forecast_days(items, request.review_days)

    # the products with sales; zeros and "none" for the others
    read = read_forecast(request, request.shop_id, product_ids, sold, horizon, as_of_day,
                         shop_forecaster(settings, cache, signing_key), warnings)
    forecast, daily_sd, methods = read.daily, read.short_term_rmse, read.methods
    # a stated avg_daily_sales only where no forecast is read (stock_view.stated_rates): a constant rate
    given = stated_rates(items)
    stated = ~read.from_forecast & ~np.isnan(given)
    forecast[stated] = given[stated, None]
    methods = ["avg_daily_sales" if s else m for s, m in zip(stated, methods, strict=True)]
    known = sold | stated  # a demand to judge the stock by
    opening, detected, catalogue = catalogue_opening_days(request, sales, n, as_of_day)
    warnings += [w for w in detected if w.code not in {seen.code for seen in warnings}]
    # with nothing on the shelf a silence may be a stockout: no stock, no sale (demand_distribution.after_silence);
    # where a silence decides the demand, the stock on hand is judged with it too (`ProtectionDemand.path`)
    planned = planned_demand(sales, catalogue, origin, opening, protection, forecast,
                             np.array([item.quantity for item in items], dtype=np.float64), request.service_level,
                             None)  # every row's year: reorder reads it for every row (its budget is checked above)
    demand, open_past, open_protection = planned.protection, planned.history, planned.open_protection
    daily_sd = daily_error(daily_sd, open_past)
    forecast, cumulative = planned.daily, planned.cumulative
    view = stock_view(items, origin, cumulative)
    silent, lead_demand = demand.silent, demand.mean
    silent_days = silence_days(open_past)  # in open days: a closed day or an export's unknown tail is no silence
    daily_rate = demand.daily_rate(forecast.mean(axis=1), protection)
    cost = np.array([item.cost for item in items])
    price = np.array([item.price for item in items])
    ordering_cost = settings.ordering_cost if request.ordering_cost is None else request.ordering_cost
    rate = settings.holding_cost_rate if request.holding_cost_rate is None else request.holding_cost_rate
    lot = eoq(daily_rate * 365, ordering_cost, rate * cost)
    cover = cover_days(items, request.review_days)
    lot_size, bounded = lot_bound(lot, daily_rate, cover)
    whole = whole_units(sales, n) & (np.floor(view.quantity) == view.quantity)
    fill_lot = np.maximum(lot_size, daily_rate * request.review_days)
    # the position at the last review that does not order is above the reorder point by up to a review's demand
    point = reorder_points(demand, open_past, open_protection, daily_sd, whole, request.service_level, fill_lot,
                           daily_rate * request.review_days, period=open_week(origin, opening))
    reorder_point, family, fill_rate = point.point, point.family, point.fill_rate
    safety = reorder_point - lead_demand
    on_hand = view.quantity
    on_order = np.array([item.on_order for item in items])
    # units on order sell in the same window as a new order: beyond what sells there they expire, no cover
    window = selling_window(view, cumulative, lead, shelf_life)
    covering = on_order_cover(window, on_order)
    position = view.usable + covering
    below = orders(position, reorder_point, daily_rate, silent.applies)
    # stock at risk of expiring unsold is cleared first: no order until the lead time's demand exceeds what sells
    held_back = below & (view.at_risk > 0) & (lead_demand <= view.usable)
    lots = np.floor((reorder_point - position) / lot_size) + 1
    raw_order = np.where(below & ~held_back, lots * lot_size, 0.0)
    cap = order_cap(window, on_order)
    capped = cap < raw_order
    raw_order = np.where(capped, cap, raw_order)
    order = round_order(raw_order, np.array([i.min_order_qty for i in items]), np.array([i.pack_size for i in items]))
    # the fill rate of the order recommended: lots lifting the position above the reorder point fill `lot_fill`; an
    # order capped at what sells in the shelf life or season may not, and fills at most the share of the protection
    # interval's mean demand that the position after it covers (E[min(D, S)] <= min(E[D], S))
    lot_fill = fill_rate
    with np.errstate(divide="ignore", invalid="ignore"):
        covered = np.where(lead_demand > 0, (position + order) / lead_demand, 1.0)
    fill_rate = np.where(capped, np.minimum(lot_fill, covered), lot_fill)

    # a season still ahead (at-risk's rule): the units the forecast leaves at its end are no certain clearance
    last_season = last_season_units(sales, view, origin)
    ahead = season_ahead(last_season, demand_within(cumulative, np.minimum(view.days_to_sell_by, NO_LIMIT - 1)))
    # days of supply, stockout date and "last about N days": one number along the demand path the usable units
    # come from (the forecast's; a silence's flat demand where it decides)
    supply = supply_days(cumulative, view.usable, view.days_to_sell_by)
    # for urgency and order: an empty shelf that sells runs out today, stock nothing sells never
    days_left = until_empty(supply, view.usable, daily_rate)
    lost_units = np.maximum(lead_demand - position, 0.0)  # if nothing is ordered now: what usable + on order miss
    revenue_at_risk = lost_units * price
    # a season over or a shelf life that sells nothing: no order to get near (units on order filling the window do
    # not refill the shelf before they arrive)
    sellable = (daily_rate > 0) & (window > 0)
    # the stockout before an order placed now arrives (at-risk's stockout rule over the lead time, at the demand
    # planned: a silent or woken product's is not the forecast path's zeros): no order placed now prevents it
    gap = shelf_gap(view, cumulative, lead, days_left)
    # the urgency says what to do now: critical = order now, and it arrives to an empty shelf (usable + on order
    # run short before it can), so each day it waits loses sales; high = order now; medium = no order now, but the
    # shelf empties before any order placed now arrives (only an earlier delivery helps), or the order is held back
    # for stock to sell or clear first, or the position is within a lead time's demand of a reorder point above 0
    # (an out-of-season item's point of 0 has nothing to get near), either while a unit or more sells over the
    # interval (a summer cake's 4 January, 4 cakes to clear and nothing selling, and a slow tart selling 0.2 in
    # its 2 days were medium beside "no order"); low otherwise
    ordering = order > 0
    selling = lead_demand >= MIN_UNMET_UNITS
    urgency = np.select(
        [ordering & gap.arrives_empty(position), ordering, gap.empties | (held_back & selling),
         sellable & selling & (position <= reorder_point + daily_rate * lead) & (reorder_point > 0)],
        ["critical", "high", "medium", "medium"], "low")

    assert sales.revenue is not None
    row_revenue = np.where(np.isnan(sales.revenue), sales.qty * price[sales.product], sales.revenue)
    revenue = np.bincount(sales.product, weights=row_revenue, minlength=n)
    abc = abc_classes(revenue, request.abc_thresholds.a, request.abc_thresholds.b)
    xyz = xyz_classes(open_past)  # closed days' zeros are no variation
    keep = np.ones(n, dtype=bool) if request.abc_classes is None else np.isin(abc, request.abc_classes)
    order_of = np.lexsort((-revenue_at_risk, np.where(np.isfinite(days_left), days_left - lead, 1e9)))
    each = _PerItem(
        numbers=dict(on_hand=on_hand, usable=view.usable, at_risk=view.at_risk, position=position,
                     lead_demand=lead_demand, safety=safety, reorder_point=reorder_point, lot=lot, lot_size=lot_size,
                     fill_rate=fill_rate, lot_fill=lot_fill, order=order, raw_order=raw_order, supply=supply,
                     revenue_at_risk=revenue_at_risk, on_order=on_order, covering=covering,
                     wake=silent.wake_probability, own_wakes=silent.own_wakes, own_silences=silent.own_silences,
                     shop_wake=silent.shop_wake, last_season=last_season, daily_rate=daily_rate),
        days=dict(lead=lead, protection=protection, cover=cover, silent_days=silent_days,
                  season_end=view.days_to_season_end, sell_by=view.days_to_sell_by),
        flags=dict(expired=view.expired, known=known, bounded=bounded, woke=demand.woke, capped=capped,
                   held_back=held_back, ahead=ahead, keep=keep),
        words=dict(abc=abc, xyz=xyz, urgency=urgency, family=family))
    recommendations = [
        ReorderRecommendation(
            product_id=items[i].product_id, name=items[i].name, supplier=items[i].supplier, abc_class=each.abc[i],
            xyz_class=each.xyz[i], urgency=each.urgency[i], current_quantity=each.on_hand[i],
            # an unknown demand (no sales, no avg_daily_sales) tells neither what sells in time nor what is left
            usable_quantity=_known(each.usable[i], each.known[i]),
            at_risk_quantity=_known(each.at_risk[i], each.known[i]),
            inventory_position=_known(each.position[i], each.known[i]), lead_time_days=each.lead[i],
            expected_lead_time_demand=round(each.lead_demand[i], 2), safety_stock=round(each.safety[i], 2),
            reorder_point=round(each.reorder_point[i], 2), eoq=round(each.lot[i], 2),
            demand_distribution=each.family[i],
            expected_fill_rate=round(each.fill_rate[i], 4),
            recommended_order_qty=each.order[i],
            days_of_supply=round(each.supply[i], 1) if math.isfinite(each.supply[i]) else None,
            predicted_stockout_date=date_after(origin, each.supply[i]),
            revenue_at_risk=round(each.revenue_at_risk[i], 2), forecast_method=methods[i],
            reasoning=_reasoning(
                items[i].name or items[i].product_id, order=each.order[i], raw=each.raw_order[i],
                on_hand=each.on_hand[i], usable=each.usable[i], at_risk=each.at_risk[i],
                expired=each.expired[i], position=each.position[i], on_order=each.on_order[i],
                covering=each.covering[i],
                reorder_point=each.reorder_point[i],
                lead_demand=each.lead_demand[i], days=each.protection[i], lot=each.lot[i],
                lot_size=each.lot_size[i],
                bounded=_lot_days(each.cover[i], each.lot[i], each.lead[i], request.review_days,
                                  items[i].shelf_life_days) if each.bounded[i] else None,
                level=request.service_level, family=each.family[i], silence=each.silent_days[i],
                wake=(each.wake[i], each.own_wakes[i], each.own_silences[i], each.shop_wake[i]), woke=each.woke[i],
                fill_rate=each.fill_rate[i], lot_fill=each.lot_fill[i], days_left=each.supply[i],
                has_sales=each.known[i],
                capped=each.capped[i], held_back=each.held_back[i], urgency=each.urgency[i],
                life=items[i].shelf_life_days,
                season_binds=each.season_end[i] < each.lead[i] + (items[i].shelf_life_days or NO_LIMIT),
                season_first=each.season_end[i] == each.sell_by[i] < NO_LIMIT,
                last_season=each.last_season[i] if each.ahead[i] else None)
            + _gap_reasoning(i, gap, each.urgency[i], usable=each.usable[i], days_left=each.supply[i],
                             origin=origin, lead=each.lead[i], season_end=each.season_end[i],
                             on_order=each.on_order[i], daily_rate=each.daily_rate[i]),
        )
        for i in order_of.tolist() if each.keep[i]
    ]
    return ReorderResponse(
        recommendations=recommendations,
        meta=ReorderMeta(shop_id=request.shop_id, total_products=n, to_order=int((order > 0).sum()),
                         service_level=request.service_level, forecast_cache=read.cache),
        warnings=warnings,
    )


class _PerItem(SimpleNamespace):
    """Per-item arrays as lists of Python floats, ints, bools and strs, for a loop over the items: a list item
    costs a tenth of a numpy scalar (1,000 items: numpy indexing took about half of the answer's loop)."""

    def __init__(self, numbers: dict[str, np.ndarray], days: dict[str, np.ndarray], flags: dict[str, np.ndarray],
                 words: dict[str, np.ndarray]) -> None:
        super().__init__(**{name: values.astype(kind).tolist() for group, kind in
                            ((numbers, np.float64), (days, np.int64), (flags, bool), (words, str))
                            for name, values in group.items()})


def _known(value: float, known: bool) -> float | None:
    """A stock figure rounded to 2 decimals where the item's demand is known, else None."""
    return round(float(value), 2) if known else None


def _reasoning(name: str, *, order: float, raw: float, on_hand: float, usable: float, at_risk: float, expired: bool,
               position: float, on_order: float, covering: float, reorder_point: float,
               lead_demand: float, days: int, lot: float, lot_size: float, bounded: str | None, level: float,
               family: str, silence: int, wake: tuple[float, float, float, float], woke: bool, fill_rate: float,
               lot_fill: float, days_left: float,
               has_sales: bool, capped: bool, held_back: bool, urgency: str, life: int | None, season_binds: bool,
               season_first: bool, last_season: float | None) -> str:
    if not has_sales:
        return (f"{name}: no sales of this product_id in the request, so its demand is unknown and nothing is "
                "ordered; check that the id matches the sales' exactly (warning items_without_sales), or send its "
                "avg_daily_sales.")
    one = units_text(usable) == "1"
    cover = (f"{'lasts' if one else 'last'} about {days_text(days_left)}" if np.isfinite(days_left) else
             f"{'sells' if one else 'sell'} nothing over the forecast's days" if usable > 0 else "")
    stock = f"{unit_count(units_text(usable), 'usable')} {cover}" if cover else "no usable units"
    if at_risk > 0:
        left = "are expired and count 0" if expired else (
            "will be left at the end of the season" if season_first else "will expire unsold")
        clear = "(clear them, see at-risk)" if last_season is None else (
            f"by its forecast, which sees only the off-season: the same days last year sold {units_text(last_season)} "
            "(see at-risk)")
        stock = f"{units_text(at_risk)} of the {on_hand:g} on hand {left} {clear}; " + stock

    def within(whose: str) -> str:  # the window an order (or the units on order) sells in after arriving
        if season_binds or life is None:
            return f"from {whose} arrival to the season's end"
        return f"within {whose} {life}-day shelf life after {'they arrive' if whose == 'their' else 'it arrives'}"

    # units on order count up to what sells in their window after they arrive (stock_view.on_order_cover)
    part = units_text(covering) != units_text(on_order)
    counted = f"{units_text(covering)} of the {on_order:g}" if part else f"{on_order:g}"
    position_words = f"position {units_text(position)}" + (
        f" ({units_text(usable)} usable + {counted} on order)" if on_order > 0 else "")
    where = (position_words[:-1] + f": the rest would not sell {within('their')})" if part
             else position_words)
    family_words = {"normal": "normal (smooth demand)", "poisson": "Poisson count",
                    "negative_binomial": "negative-binomial count (skewed demand, more spread than a Poisson count)",
                    "after_silence": f"no sale in the last {silence} days: " + (
                        f"with none on hand that may be a stockout; a {wake[0]:.1%} chance it sells again within "
                        f"these days ({_wake_words(*wake[1:])}), at the demand it met while it sold"
                        if on_hand <= 0 else "what followed its earlier silences as long")}[family]
    if woke:
        family_words += (f"; it sells again after {WOKEN_SILENCE} or more silent days, which the forecast's recent "
                         "level still counts: the mean is the demand it met before the silence")
    fill = (f"expected fill rate at most {fill_rate:.1%} (the share of the {days}-day mean demand the position "
            f"with the capped order covers; lots reaching the reorder point would fill {lot_fill:.1%})"
            if capped and fill_rate < lot_fill else f"expected fill rate {fill_rate:.1%}")
    basis = (f"reorder point {reorder_point:.1f} = {_point_words(level, days)} "
             f"(mean {lead_demand:.1f}, {family_words}), {fill}")
    if order > 0:
        limit = f"what sells {within('its')}" + (
            f", less the {units_text(covering)} on order" if covering > 0 else "")
        lots = (f"lots of {lot_size:.0f}, the forecast demand over {bounded}" if bounded is not None
                else f"EOQ lots of {lot:.0f}")
        # the cap in whole units as the order rounds it (145.3 sells: "capped at 146", "Order 146")
        sizing = f"capped at {math.ceil(raw - 1e-9):g}, {limit}" if capped else f"{raw:.0f} in {lots}"
        return (f"Order {unit_count(f'{order:g}')} of {name} now ({sizing}, before minimum/pack rounding): "
                f"{where} is at or below the {basis}; {stock}.")
    if held_back:  # the demand named as the basis names it: a silence's or a return's is not the forecast's
        due = " (urgency medium: no order is due before the next review)" if urgency == "medium" else ""
        return (f"No order for {name}: {stock}, and the demand over the next {days_text(days)} "
                f"({lead_demand:.1f}) does not exceed the usable units: sell or clear the stock first, then "
                f"order{due}; {basis}.")
    if capped and covering > 0:
        expiring = (f"; {units_text(on_order - covering)} of them will expire unsold, and an order would only add "
                    "to those" if part else ", and an order would expire unsold")
        return (f"No order for {name}: the {unit_count(f'{on_order:g}')} on order already bring "
                f"{'more than' if part else 'what'} the forecast sells {within('their')} "
                f"({unit_count(units_text(covering))}){expiring}; {position_words} is at or below the {basis}; "
                f"{stock}.")
    if capped:  # nothing an order brings would sell: its fill rate is no number to quote (review 6 F10: "at most
        # 0.0%" beside a season that ended)
        window = within("an order's")
        point = f"reorder point {reorder_point:.1f} = {_point_words(level, days)}"
        return (f"No order for {name}: the forecast sells nothing more {window}; {stock}; {point} "
                f"(mean {lead_demand:.1f}, {family_words}), but no order would sell.")
    if reorder_point <= 0 and position <= reorder_point:
        return f"No order for {name}: nothing is expected to sell over the next {days_text(days)}; {basis}; {stock}."
    if usable <= 0 < on_order:
        return (f"No order yet for {name}: the shelf is empty, but {unit_count(f'{on_order:g}')} "
                f"{'is on its' if f'{on_order:g}' == '1' else 'are on their'} way: {where} is "
                f"above the {basis}. Order again only if they will not arrive within the lead time.")
    return f"No order yet for {name}: {where} is above the {basis}; {stock}."


def _gap_reasoning(i: int, gap: ShelfGap, urgency: str, *, usable: float, days_left: float, origin: int, lead: int,
                   season_end: int, on_order: float, daily_rate: float) -> str:
    """Item `i`'s stockout before an order placed now arrives (`shelf_gap`), appended to its reasoning, and what it
    makes of the urgency: critical where the order placed now arrives to an empty shelf, medium where nothing is
    to be ordered; "" where the shelf lasts until an order could arrive."""
    if not gap.empties[i]:
        return ""
    words = gap_words(usable=usable, days_left=days_left, empty_on=date_after(origin, days_left), lead=lead,
                      arrival=date_after(origin, lead), season_end=season_end if season_end < lead else None,
                      on_order=on_order, lost=float(gap.lost[i]))
    if urgency == "critical":
        with_them = ", the units on order included," if on_order > 0 else ","
        return (f" {words} Urgency critical: the order arrives to an empty shelf{with_them} so each day it waits "
                f"loses about {unit_count(units_text(round(daily_rate, 1)))} of sales more.")
    if urgency == "medium":
        return f" {words} Urgency medium: nothing to order now."
    return f" {words}"


def _point_words(level: float, days: int) -> str:
    """What a reorder point is (`demand_distribution.lead_time_demand`): not the plain quantile, which a review's
    overshoot lowers, and which a very skewed count puts under the mean (review 9 F3: a galette's point 5.0 for a
    mean of 6.5 was called "the 95% quantile")."""
    return (f"the point that covers the {days}-day demand in {level:.0%} of replenishment cycles, a review finding "
            "the position up to one review's demand above it")


def _wake_words(own_wakes: float, own_silences: float, shop_wake: float) -> str:
    """Where an empty shelf's chance of selling again comes from (`demand_distribution.after_silence`)."""
    shop = f"the shop's products' silences as long ended in time {shop_wake:.1%} of the time"
    if own_silences <= 0:
        return shop
    return (f"its own silences as long over the year ended in time {own_wakes:g} times of {own_silences:g}; {shop}, "
            f"counted as {WAKE_PRIOR_ORIGINS} of its own")


def _lot_days(cover: int, lot: float, lead: int, review: int, life: int | None) -> str:
    """The days a lot bounded at `cover` days (`stock_view.cover_days`) holds and what bounds them, for the
    reasoning: what capped the EOQ `lot`, never a request for a field that was sent."""
    why = ("a year's demand" if cover >= 365 else
           f"the demand over the {lead}-day lead time and {life}-day shelf life" if life is not None and
           cover == lead + life else
           f"the demand over the {lead}-day lead time and {review}-day review" if cover == max(lead + review, 1) else
           f"the forecast's {FORECAST_DAYS} days of demand")
    hint = "; send shelf_life_days for a perishable" if life is None else ""
    return f"{days_text(cover)} (the EOQ, {lot:.0f}, is more: a lot holds at most {why}{hint})"
