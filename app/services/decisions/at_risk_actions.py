"""At-risk's one action per flagged item and its reasoning, in priority order: remove, write off what expires while
the shop is closed, restock an empty shelf, clear what its season left, write off what nothing buys, markdown,
bundle, restock, monitor. Every number a sentence quotes is one `find_at_risk` (at_risk.py) computed: the demand
path's units to the sell-by day, reorder's rule and point, the one markdown (`pricing.best_markdown`)."""

import math

import numpy as np

from app.schemas.at_risk import ActionType, RecommendedAction
from app.services.decisions.demand_source import demand_source
from app.services.decisions.price_response import CONSTANT, LEARNED
from app.services.decisions.pricing import sells_nothing
from app.services.decisions.stock_view import (
    REVIEW_DAYS,
    SERVICE_LEVEL,
    STORABLE_DAYS,
    YEAR_DAYS,
)
from app.utils.dates import from_day_number
from app.utils.wording import days_text, unit_count, units_text

MIN_DISCOUNT_PCT = 5.0


def _units(value: float) -> str:
    """A number of units with its noun, as the reasoning writes it: '1 unit', '2.5 units'."""
    return unit_count(units_text(value))


def _on_order_fills(cover: float) -> str:
    """Why reorder orders no more for units on order that exceed what sells within their shelf life."""
    return (f"they already bring more than sells within their shelf life after they arrive (about "
            f"{_units(round(cover, 1))}), so reorder orders no more")


def _assumed(protection: int, lead_sent: bool) -> str:
    """The reorder settings at-risk judges by, as a sentence: the item's lead time, reorder's defaults for what
    at-risk is not sent (a review and a service level are /reorder's request fields, not at-risk's)."""
    lead = protection - REVIEW_DAYS
    whose = f"the item's {lead}-day lead time" if lead_sent else f"reorder's default {lead}-day lead time (none sent)"
    return (f" Judged with {whose} and reorder's default {REVIEW_DAYS}-day review and {SERVICE_LEVEL:.0%} service "
            "level; a /reorder with others may answer otherwise.")


def _reorder_note(usable: float, lead_demand: float, protection: int, lead_sent: bool, after_silence: bool,
                  woke: bool) -> str:
    """What reorder does with an item whose stock is at risk, and why (its rule, `reorder.py`, with the demand
    it reads: `planned_demand.protection_demand`), and with which settings."""
    source = ("the demand that followed its earlier silences" if after_silence
              else "the demand it met before its silence" if woke else "the forecast demand")
    demand = f"{source} over {days_text(protection)} of lead time and review ({units_text(round(lead_demand, 1))})"
    if lead_demand > usable:
        return (f" Reorder does not hold orders back for them: {demand} exceeds the {_units(round(usable, 1))} "
                "selling in time, so new stock is for after these are gone." + _assumed(protection, lead_sent))
    return (f" Reorder orders none while {demand} stays within the {_units(round(usable, 1))} selling in "
            "time." + _assumed(protection, lead_sent))


def by_source(forecast_method: str | None, after_silence: bool, woke: bool) -> str:
    """Where an item's demand in the reasoning comes from (`demand_source`): what followed its earlier silences
    or the demand it met before its silence (reorder's, where a silence decides it; /forecast gives neither),
    its forecast, else the rate just quoted."""
    source = demand_source(forecast_method, after_silence, woke)
    return f"by {source.name} ({source.note})" if source else "at that rate"


def recommended_action(
    *,
    quantity: float,
    velocity: float,
    demand: float,
    open_rate: float,
    rate_given: bool,
    to_expiry: int | None,
    unsold: float,
    usable: float,
    lead_demand: float,
    protection: int,
    lead_sent: bool,
    after_silence: bool,
    woke: bool,
    on_order: float,
    reorder_point: float,
    on_order_cover: float,
    order_room: bool,
    reorders: bool,
    by: str,
    needed_discount: float,
    discount: float,
    markdown_pays: bool,
    revenues: tuple[float, float],
    no_demand: bool,
    last_season: tuple[float, float, str] | None,
    expired: bool,
    unknown: bool,
    near_expiry: bool,
    slow: bool,
    low_stock: bool,
    shortfall: tuple[float, float, int] | None,
    supply_days: float,
    out_of_stock: bool,
    days_to_season_end: int | None,
    open_to_sell_by: float,
    sells_by: float,
    to_expiry_demand: float,
    low_stock_threshold: float | None,  # the threshold where the item's reasons hold low_stock
    slow_threshold: float,
    window: int,
    max_discount: float,
    cost_capped: bool,
    elasticity: float,
    gap: str,
) -> RecommendedAction:
    """The one action for a flagged product, in priority order: remove, write off units whose sell-by day comes
    before the shop opens again (`open_to_sell_by` 0: no open day up to it, and none `usable`), restock an empty
    shelf, clear what its season left, markdown (where it pays: `revenues` at full price and with it), bundle,
    restock (a stockout's
    `shortfall`: units unmet, the demand and days of the selling window it is judged in). `gap` is reorder's
    stockout before an order placed now arrives, in its words (`shelf_gap.gap_words`; "" where the shelf lasts
    until then): a restock says it as reorder does."""
    gap_note = f" {gap}" if gap else ""
    rate = (f"selling {velocity:.2f}/day as sent (avg_daily_sales)" if rate_given
            else f"selling {velocity:.2f}/day over the last {window} days")
    # the demand every signal reads: the forecast's where it is read, else that rate
    pace = rate if by == "at that rate" else f"{rate}, {demand:.2f}/day {by}"
    at_rate = " at that rate" if pace == rate else ""  # what the units left are judged by, where pace does not say
    if expired:
        still = (f" It still sells {demand:.2f}/day {by} and has no usable units: restock it (reorder counts the "
                 "expired units as 0)." if demand > 0 else "")
        return RecommendedAction(
            action_type="remove",
            discount_range=None,
            promotion_timing="now",
            reasoning=f"Expired {days_text(-(to_expiry or 0))} ago with {_units(quantity)} on hand: "
            f"take them off sale and record the write-off.{still}",
        )
    if unknown:  # flagged by its expiry alone (near expiry: an expired item is removed above)
        check = ("Check that the id matches the sales' exactly (warning `items_without_sales`), or send its "
                 "avg_daily_sales.")
        return RecommendedAction(
            action_type="monitor", discount_range=None,
            promotion_timing=f"check before expiry in {days_text(to_expiry or 0)}",
            reasoning=f"No sales of this product_id in the request: its demand is unknown, so whether the "
            f"{_units(quantity)} sell before expiry in {days_text(to_expiry or 0)} cannot be judged (no markdown or "
            f"write-off on a guess). {check}")
    sell_by = None if to_expiry is None else to_expiry
    if days_to_season_end is not None and (sell_by is None or days_to_season_end < sell_by):
        sell_by = days_to_season_end
    ends = "expiry" if sell_by == to_expiry else "the season's end"
    if sell_by is not None and sell_by > 0 and open_to_sell_by == 0 and quantity > 0 and usable <= 0:
        # closed every day to the sell-by day: the units expire unsold while the shop is shut (review 6 N6: 60
        # baguettes expiring on a closed Wednesday read "Restock today", and reorder and promotions sent the owner
        # here to clear them). Only where the demand path sells none of them by then, as the units left say (a
        # silence's demand too: it sells on open days only, `ProtectionDemand.path`)
        return RecommendedAction(
            action_type="clearance", discount_range=None, promotion_timing="now",
            reasoning=f"Closed until {ends}: the shop is closed on every day up to {ends} in {days_text(sell_by)}, "
            f"so the {_units(quantity)} on hand expire unsold while it is closed and no discount can sell them: donate "
            f"them today or record the write-off. Its demand when it opens again, {open_rate:.2f}/day {by}, is for "
            "new stock (reorder sizes the order).")
    if out_of_stock:
        # the forecast's mean over its days, not the next day's (review 9 F6: a boule's 6.6 a day over January's
        # next weeks, beside its 3.5 for the next open day)
        loses = (f"Out of stock: no usable units, {rate}: each day without stock loses about "
                 f"{_units(round(demand, 1))} of sales on average {by}")
        if on_order > 0 and not reorders and on_order_cover < on_order:
            return RecommendedAction(
                action_type="restock",
                discount_range=None,
                promotion_timing="when the units on order arrive",
                reasoning=f"{loses} until the {_units(on_order)} on order "
                f"{'arrives' if units_text(on_order) == '1' else 'arrive'}: {_on_order_fills(on_order_cover)}; the "
                f"rest of them will expire unsold.{gap_note}" + _assumed(protection, lead_sent),
            )
        if on_order > 0 and not reorders:
            return RecommendedAction(
                action_type="restock",
                discount_range=None,
                promotion_timing="when the units on order arrive",
                reasoning=f"{loses} until the {_units(on_order)} on order "
                f"{'arrives' if units_text(on_order) == '1' else 'arrive'}: stock is on its way.{gap_note} "
                f"Reorder orders no more: they lift the position above its reorder point "
                f"{units_text(round(reorder_point, 1))}; order again only if they will not arrive within the lead "
                "time." + _assumed(protection, lead_sent),
            )
        waiting = (f" The {_units(on_order)} on order {'does' if units_text(on_order) == '1' else 'do'} not reach "
                   f"its reorder point {units_text(round(reorder_point, 1))}." + _assumed(protection, lead_sent)
                   if on_order > 0 else "")
        return RecommendedAction(
            action_type="restock",
            discount_range=None,
            promotion_timing="today",
            reasoning=f"{loses}. Restock today (reorder sizes the order).{gap_note}{waiting}",
        )
    last_day = ("no time is left for a markdown (a promotion starts tomorrow at the earliest, as promotions says): "
                "sell what you can today at full price, then")
    if to_expiry == 0 and quantity > 0:
        # its last day for sale: units on the shelf, not an empty shelf (review 6 F3: 226 baguettes expiring on
        # as_of read "Out of stock ... Restock today"); tomorrow's shelf is reorder's
        tomorrow = (f" Its demand from tomorrow, {open_rate:.2f}/day {by} (open days), is for new stock (reorder sizes "
                    "the order)." if demand > 0 else "")
        return RecommendedAction(
            action_type="clearance", discount_range=None, promotion_timing="today",
            reasoning=f"Expires today: the {_units(quantity)} on hand must sell today, so {last_day} donate what "
            f"is left at closing or record the write-off.{tomorrow}")
    if days_to_season_end == 0:
        # the season's last day for sale is today (review 6 F10: "Clear them at 40% off before they expire" where
        # promotions said "no time left for a promotion"): nothing sells after it, whatever the expiry
        keeps = to_expiry is None or to_expiry >= STORABLE_DAYS
        return RecommendedAction(
            action_type="clearance", discount_range=None, promotion_timing="today",
            reasoning=f"Its season ends today with {_units(quantity)} on hand: today is its last day for sale, so "
            f"{last_day} " + ("store what is left for next season if it keeps" if keeps else
                              "donate what is left at closing or record the write-off")
            + "; no reorder until the season comes back.")
    if days_to_season_end is not None and days_to_season_end <= 0:
        ended = f"{days_text(-days_to_season_end)} ago"  # a season ending today returned above
        if to_expiry is not None and to_expiry < STORABLE_DAYS:  # it expires before any next season
            expires = f"expiry in {days_text(to_expiry)}" if to_expiry else "expiry today"
            left = max(quantity - to_expiry_demand, 0.0)
            sells_then = f"about {_units(round(to_expiry_demand, 1))} would sell before {expires} {by}"
            if sells_nothing(np.array([to_expiry_demand]))[0]:
                return _undiscounted(
                    "clearance", to_expiry,
                    f"Its season ended {ended} with {_units(quantity)} on hand and {sells_then}: no discount can clear "
                    "them (a markdown lifts demand, and there is hardly any): donate them or record the write-off.")
            return RecommendedAction(
                action_type="clearance",
                discount_range=(max_discount, max_discount) if max_discount >= MIN_DISCOUNT_PCT else None,
                promotion_timing=f"within {days_text(to_expiry)}" if to_expiry else "today",
                reasoning=f"Its season ended {ended} with {_units(quantity)} on hand: {sells_then} at full price, "
                f"which would leave {_units(round(left, 1))}. Clear them"
                + (f" at {max_discount:g}% off" if max_discount >= MIN_DISCOUNT_PCT else "")
                + " before they expire and record the write-off of what is left; no reorder until the season "
                "comes back.")
        return RecommendedAction(
            action_type="clearance",
            discount_range=(max_discount, max_discount) if max_discount >= MIN_DISCOUNT_PCT else None,
            promotion_timing="now",
            reasoning=f"Its season ended {ended} with {_units(quantity)} on hand: at full price they "
            "will not sell before the next season. Clear them"
            + (f" at {max_discount:g}% off" if max_discount >= MIN_DISCOUNT_PCT else "")
            + " or store them for next season if they keep; no reorder until the season comes back.",
        )
    days = f"{days_text(sell_by)} until {ends}" if sell_by else f"{ends} is today"
    if sell_by and by != "at that rate" and open_to_sell_by > 0:
        # the units that make the leftover and their rate over the same open days, as promotions quotes it (review
        # 6 F9: "5.60/day by its forecast, a demand of about 18.6 units in the 2 days": the 28-day mean beside them)
        over = days_text(sell_by) if open_to_sell_by == sell_by else (
            f"{open_to_sell_by:g} open day{'' if open_to_sell_by == 1 else 's'}")
        about = f", a demand of about {_units(round(sells_by, 1))}" if round(sells_by, 1) > 0 else ""
        pace = f"{rate}, {sells_by / open_to_sell_by:.2f}/day {by} over the {over} to {ends}{about}"
    if sell_by is not None and unsold > 0 and last_season is not None:
        sold, sells, days_then = last_season
        return RecommendedAction(
            action_type="monitor", discount_range=None,
            promotion_timing=f"check again as its season's sales start, before {ends} in {days_text(sell_by)}",
            reasoning=f"Seasonal, its season's sales still ahead: {_units(quantity)} in stock, {days}. "
            f"{pace[0].upper()}{pace[1:]}: about {_units(round(sells, 1))} before {ends}, which would leave "
            f"{units_text(round(unsold, 1))}; but the same days last year ({days_then}) sold "
            f"{_units(round(sold, 1))}, which a forecast from today's off-season cannot see. How many will "
            "be left is uncertain: no write-off or markdown yet; check again once the season's sales start.")
    if sell_by is not None and unsold > 0 and no_demand:
        return _undiscounted(
            "clearance", sell_by,
            f"No demand: {_units(quantity)} in stock, {days}, {pace}: none is expected to sell "
            f"before {ends}, so no discount can clear them (a markdown lifts demand, and there is none): donate them "
            "or record the write-off." + _reorder_note(usable, lead_demand, protection, lead_sent, after_silence, woke))
    if sell_by is not None and unsold > 0 and max_discount < MIN_DISCOUNT_PCT:
        return _undiscounted(
            "bundle", sell_by,
            f"At risk: about {units_text(round(unsold, 1))} of {_units(quantity)} would be left at "
            f"{ends}{at_rate}, {pace}, but even a {MIN_DISCOUNT_PCT:g}% markdown would sell below cost: bundle them "
            "with a fast seller or feature them instead.")
    if sell_by is not None and unsold > 0 and not markdown_pays:
        full_price, marked_down = revenues
        return RecommendedAction(
            action_type="monitor", discount_range=None,
            promotion_timing=f"check again before {ends} in {days_text(sell_by)}" if sell_by else "today",
            reasoning=f"{'Critical' if unsold >= 0.5 * quantity else 'At'} risk: {_units(quantity)} in stock, "
            f"{days}, {pace}: about {_units(round(unsold, 1))} would be left at {ends}{at_rate}; but a markdown "
            f"from tomorrow to {ends} would not pay: {discount:g}% off brings revenue {round(marked_down, 2):g} "
            f"against {round(full_price, 2):g} at full price over those {days_text(sell_by)} (it discounts units "
            f"that sell anyway). Sell them at full price and record the write-off of what is left at {ends}"
            + ("; a shorter promotion timed on an event may still pay (see promotions)." if sell_by > 1 else ".")
            + _reorder_note(usable, lead_demand, protection, lead_sent, after_silence, woke))
    if sell_by is not None and unsold > 0:
        clears = math.isfinite(needed_discount) and needed_discount <= max_discount
        deep = sell_by <= 2 or discount >= 0.75 * max_discount
        clear_note = (
            f"a {discount:g}% markdown should clear them" if clears
            else f"even {discount:g}% off, the most allowed, is unlikely to clear them all" if discount >= max_discount
            else f"no cut up to {max_discount:g}% clears them all, and {discount:g}% off earns the most (at "
            f"{max_discount:g}% they would earn no more than at full price)"
        ) + (f" (discounts stop at {max_discount:g}%, where the price meets the unit cost)" if cost_capped else "")
        learned = math.isfinite(elasticity)
        return RecommendedAction(
            action_type="clearance" if deep else "discount",
            discount_range=(discount, discount),
            promotion_timing=f"within {days_text(sell_by)}" if sell_by else "today",
            reasoning=f"{'Critical' if unsold >= 0.5 * quantity else 'At'} risk: {_units(quantity)} in stock, {days}, "
            f"{pace}: about {_units(round(unsold, 1))} would be left at {ends}{at_rate}; {clear_note}, "
            + (f"with its price elasticity {elasticity:.1f} learned from its sales and prices."
               if learned else "by the constant rule (its prices cannot tell its own response).")
            + _reorder_note(usable, lead_demand, protection, lead_sent, after_silence, woke),
            price_elasticity=round(elasticity, 3) if learned else None,
            elasticity_source=LEARNED if learned else CONSTANT,
        )
    if slow and not low_stock and sell_by is not None:
        return RecommendedAction(
            action_type="monitor",
            discount_range=None,
            promotion_timing=f"check again before {ends} in {days_text(sell_by)}",
            reasoning=f"Slow mover: {_units(quantity)} on hand, {pace} (threshold {slow_threshold:g}/day), "
            f"but at that demand they sell before {ends} in {days_text(sell_by)}: no markdown or bundle needed.",
        )
    if slow and not low_stock:
        supply = f"{days_text(supply_days)} of supply" if math.isfinite(supply_days) else "no sales at all"
        return RecommendedAction(
            action_type="bundle",
            discount_range=None,
            promotion_timing="next promotion cycle",
            reasoning=f"Slow mover: {_units(quantity)} on hand, {pace} "
            f"(threshold {slow_threshold:g}/day), {supply}: bundle it with a fast seller or feature it. Nothing "
            "expires, so a discount would only give away margin; send its expiry date or season end if it has one.",
        )
    if low_stock:
        finite = math.isfinite(supply_days)
        supply = f"about {days_text(supply_days)} of supply" if finite else "no usable units"
        if on_order > 0 and not order_room:  # what is on order already fills what sells: reorder orders none
            return RecommendedAction(
                action_type="monitor", discount_range=None, promotion_timing="when the units on order arrive",
                reasoning=f"Runs out soon: {_units(quantity)} left, {pace}, {supply}; the {_units(on_order)} on "
                f"order: {_on_order_fills(on_order_cover)}: an order now would only add units that expire unsold."
                + gap_note + _assumed(protection, lead_sent))
        if on_order > 0 and not reorders:  # the units on order lift the position above reorder's point
            return RecommendedAction(
                action_type="restock", discount_range=None, promotion_timing="when the units on order arrive",
                reasoning=f"Runs out soon: {_units(quantity)} left, {pace}, {supply}.{gap_note} Reorder orders no "
                f"more: the {_units(on_order)} on order lift the position above its reorder point "
                f"{units_text(round(reorder_point, 1))}." + _assumed(protection, lead_sent))
        if gap and not reorders and not order_room:  # no order placed now sells: it arrives after the season
            return RecommendedAction(
                action_type="restock", discount_range=None, promotion_timing="today, by an express delivery only",
                reasoning=f"Runs out soon: {_units(quantity)} left, {pace}, {supply}.{gap_note} Reorder orders none: "
                "an order placed now would arrive too late to sell." + _assumed(protection, lead_sent))
        timing = "today" if not finite or supply_days <= 2 else f"within {days_text(int(supply_days) - 1)}"
        if quantity <= 0:
            timing = "today"
        caution = " Sales are slow, so order a small quantity." if slow else ""
        # reorder's answer to the same stock: no order while the position is above its point (review 8: "restock
        # within 2 days" beside reorder's "No order yet" said nothing of it)
        not_yet = "" if reorders or math.isnan(reorder_point) else (
            f" Reorder orders none yet: the position, {_units(usable + on_order_cover)}, is above its reorder point "
            f"{units_text(round(reorder_point, 1))}; it orders when the position falls to it.")
        return RecommendedAction(
            action_type="restock",
            discount_range=None,
            promotion_timing=timing,
            reasoning=(f"Low stock: {_units(quantity)} left (threshold {low_stock_threshold:g}), "
                       if low_stock_threshold is not None else f"Runs out soon: {_units(quantity)} left, ")
            + f"{pace}, {supply}{_unmet(shortfall)}.{caution}{not_yet}{gap_note}",
        )
    return RecommendedAction(
        action_type="monitor",
        discount_range=None,
        promotion_timing=f"check again before expiry in {days_text(to_expiry or 0)}",
        reasoning=f"Near expiry in {days_text(to_expiry or 0)}, but {pace}: the {_units(quantity)} should sell out "
        "first; no markdown needed yet.",
    )


def _unmet(shortfall: tuple[float, float, int] | None) -> str:
    """The demand a stockout leaves unmet within the selling window it is judged in, as a clause."""
    if shortfall is None:
        return ""
    unmet, wanted, days = shortfall
    return (f": about {_units(round(unmet, 1))} of the {units_text(round(wanted, 1))} wanted in the next "
            f"{days_text(days)} go unmet ({unmet / wanted:.0%})")


def last_year_days(as_of_day: int, to_season_end: int, to_expiry: float) -> str:
    """The same days a year before, as `last_season_units` reads them: after as_of to the sell-by day."""
    sell_by = to_season_end if math.isnan(to_expiry) else min(to_season_end, int(to_expiry))
    first = from_day_number(as_of_day + 1 - YEAR_DAYS)
    last = from_day_number(as_of_day + min(sell_by, YEAR_DAYS) - YEAR_DAYS)
    return f"{first.isoformat()} to {last.isoformat()}"


def _undiscounted(action_type: ActionType, sell_by: int, reasoning: str) -> RecommendedAction:
    """An action without a discount, to take before the item's sell-by day (`sell_by` days ahead)."""
    return RecommendedAction(action_type=action_type, discount_range=None,
                             promotion_timing=f"within {days_text(sell_by)}" if sell_by else "today",
                             reasoning=reasoning)
