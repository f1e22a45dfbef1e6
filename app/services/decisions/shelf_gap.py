"""The stockout before an order placed now can arrive: when the shelf empties, the sales lost until an order placed
now (after the lead time) could refill it, and what can still save them. No order placed now prevents it; reorder
and at-risk both say so, in the same words, so an item is never `critical` with nothing to order, nor told to
restock today where reorder orders nothing."""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from app.services.decisions.pricing import NO_DEMAND_UNITS
from app.services.decisions.stock_view import (
    MIN_UNMET_UNITS,
    StockView,
    demand_within,
    runs_short,
)
from app.utils.wording import days_text, unit_count, units_text


@dataclass(frozen=True)
class ShelfGap:
    """The days before an order placed now can arrive and the stockout on them (float64[n] unless said)."""

    days: np.ndarray  # int64[n]: the lead time, or the days to the season's end when it ends first
    demand: np.ndarray  # units over those days as reorder plans them (the planned path's, `planned_demand`)
    empties: np.ndarray  # bool[n]: the usable units run short within them (`stock_view.runs_short`)
    lost: np.ndarray  # units of that demand the usable units do not meet where the shelf empties, else 0

    def arrives_empty(self, position: np.ndarray) -> np.ndarray:
        """bool[n]: the inventory `position` (usable + on order) falls short of the same demand by a unit or more
        too: an order placed now arrives to an empty shelf whenever the units on order come, so each day it waits
        loses sales (reorder's `critical`)."""
        return self.empties & (self.demand - position >= MIN_UNMET_UNITS)


def shelf_gap(view: StockView, cumulative: np.ndarray, lead: np.ndarray, days_left: np.ndarray) -> ShelfGap:
    """The stockout before an order placed now arrives, after `lead` days (int64[n]), of the `view`'s usable units,
    the shelf empty after `days_left` days (`stock_view.until_empty`), at the demand reorder plans with (the planned
    path `cumulative`, a silence's demand on the open days where it decides it: `planned_demand`). Units on order do
    not shorten it: the service does not know when they arrive and takes the lead time, as for an order placed now
    (`stock_view.selling_window`). Nothing sells after the season's end: a season ending first ends the gap."""
    days = np.maximum(np.minimum(lead, view.days_to_season_end), 0)
    within = demand_within(cumulative, days)
    empties = runs_short(days_left, days, within, view.usable)
    return ShelfGap(days=days, demand=within, empties=empties,
                    lost=np.where(empties, np.maximum(within - view.usable, 0.0), 0.0))


def gap_words(*, usable: float, days_left: float, empty_on: date | None, lead: int, arrival: date | None,
              season_end: int | None, on_order: float, lost: float) -> str:
    """The stockout no order placed now prevents, as a sentence: when the shelf empties (`days_left`, the date
    `empty_on`), that an order placed now is for sale only after the `lead` days (from the day after `arrival`) or
    after the season's end (`season_end` days ahead, None: not before the arrival), that the units `on_order` are
    counted from then, the units `lost` by then and the only lever left: an earlier delivery."""
    if usable < NO_DEMAND_UNITS:
        shelf = "The shelf is empty"
    else:
        shelf = (f"The {unit_count(units_text(usable), 'usable')} run out in about {days_text(days_left)}"
                 + (f" ({empty_on.isoformat()})" if empty_on is not None else ""))
    if season_end is not None:
        when = (f"{shelf} and its season ends in {days_text(season_end)}, before an order placed now could arrive "
                f"({lead}-day lead time)")
        until = "to the season's end"
    else:
        # the lead time's days are the ones lost: an order placed now is for sale the day after them (review 6
        # F14: "arrives on 2022-01-05 ... 20.9 units lost by then" was 5 January's own demand, read as tomorrow)
        on = f" from {(arrival + timedelta(days=1)).isoformat()}" if arrival is not None else ""
        when = f"{shelf}, and an order placed now is on the shelf{on}, after the {lead}-day lead time"
        until = "by then"
    # the service takes the units on order to arrive after the lead time, as an order placed now
    counted = (f"; if the {unit_count(f'{on_order:g}')} on order also arrive only then (their delivery date is not "
               "sent), " if on_order > 0 and season_end is None else ": ")
    lever = ("an earlier delivery saves them (ask the supplier to deliver the units on order sooner, or buy an "
             "express delivery)" if on_order > 0 else "an express delivery saves them")
    return (f"{when}{counted}about {unit_count(units_text(round(lost, 1)))} of sales are lost {until} whatever is "
            f"ordered now; only {lever}.")
