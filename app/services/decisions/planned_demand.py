"""The demand the decisions plan with, one for reorder, at-risk and promotions: each item's demand over its
protection interval (lead time + review) and the daily path it makes (`planned_demand`), and reorder's point on it.

A product silent for at least its interval is planned by what followed its earlier silences (`after_silence`), one
selling again after a silence by the demand it met before it (`woken_level`), the others by the forecast's path
(`forecast_read.demand_path`). The reorder point is the service level's quantile of that demand's distribution
(`reorder_points`: a count family or a normal, dispersion from the product's own history, closed days left out).
"""

from dataclasses import dataclass, fields

import numpy as np

from app.models.demand_distribution import (
    SILENCE_WINDOW,
    WOKEN_SILENCE,
    AfterSilence,
    WakeTables,
    after_silence,
    lead_time_demand,
    lead_time_dispersion,
    sparse_wake_tables,
    woken_level,
)
from app.services.decisions.stock_view import (
    demand_within,
)
from app.utils.opening_days import OpeningDays
from app.utils.sales_frame import SalesColumns, daily_net_units
from app.utils.work_budget import WorkBudget

HISTORY_DAYS = 364  # the days to as_of reorder reads for a silent product's demand and its dispersion


def open_protection_days(origin: int, protection: np.ndarray, opening: OpeningDays) -> np.ndarray:
    """int64[n]: the open days among the `protection` days after `origin` (at least 1)."""
    if not opening.any:
        return protection
    ahead = np.cumsum(~opening.closed(origin + 1 + np.arange(int(protection.max()))))
    return np.maximum(ahead[protection - 1], 1)


def open_week(origin: int, opening: OpeningDays) -> int:
    """The open days of a week lately: those of the 28 days to `origin`, over 4 (at least 1), the `period` the
    lead-time dispersion reads weekdays with. Counted on the days, not on the closed weekdays: a seasonal closure
    detected as dates and the same closure declared as a weekday are the same weeks (review 7: the galette's
    reorder point was 17 with the bakery's winter Wednesdays detected, 27 with them declared)."""
    closed = int(opening.closed(origin - 27 + np.arange(28)).sum()) if opening.any else 0
    return max(round((28 - closed) / 4), 1)


@dataclass(frozen=True)
class PastYear:
    """The HISTORY_DAYS to an origin, open days only (closed days are no demand: their zeros are not errors), kept
    as the request's sales rows in it: the products x days grid is built for the rows that read it (`grid`), the
    selling days (`selling`) tell which rows those are without it."""

    sales: SalesColumns  # the rows of products 0..n - 1 on the year's open days
    n: int
    first_day: int
    open_day: np.ndarray  # bool[HISTORY_DAYS]
    length: int  # open days

    @classmethod
    def of(cls, sales: SalesColumns, n: int, origin: int, opening: OpeningDays) -> "PastYear":
        first_day = origin - HISTORY_DAYS + 1
        days = first_day + np.arange(HISTORY_DAYS)
        open_day = ~opening.closed(days) if opening.any else np.ones(HISTORY_DAYS, dtype=bool)
        offset = sales.day - first_day
        inside = (offset >= 0) & (offset < HISTORY_DAYS) & (sales.product < n)
        inside[inside] = open_day[offset[inside]]
        return cls(sales.take(inside), n, first_day, open_day, int(open_day.sum()))

    def grid(self, rows: np.ndarray) -> np.ndarray:
        """float64[rows, open days]: the net units of the products `rows` per open day (negative days 0)."""
        index = np.full(self.n, -1)
        index[rows] = np.arange(rows.size)
        mine = index[self.sales.product] >= 0
        these = SalesColumns(self.sales.product_ids, index[self.sales.product[mine]], self.sales.day[mine],
                             self.sales.qty[mine], self.sales.row[mine], None)
        return daily_net_units(these, rows.size, self.first_day, HISTORY_DAYS)[:, self.open_day]

    def selling(self) -> tuple[np.ndarray, np.ndarray]:
        """The (product, open day) pairs with net units above 0 (int64[k] each, sorted by product then day): the
        grid's cells above 0, summed in the same order."""
        key = self.sales.product * HISTORY_DAYS + (self.sales.day - self.first_day)
        cells, where = np.unique(key, return_inverse=True)
        selling = cells[np.bincount(where, weights=self.sales.qty, minlength=cells.size) > 0]
        column = np.cumsum(self.open_day) - 1  # the open-day column of each day
        return selling // HISTORY_DAYS, column[selling % HISTORY_DAYS]

    def silence_rows(self, product: np.ndarray, column: np.ndarray, open_protection: np.ndarray) -> np.ndarray:
        """int64: the rows a silence can decide (`protection_demand`), from the selling days: silent for at least
        their protection interval after a sale in the year (`after_silence` may apply), or selling in the last
        SILENCE_WINDOW days after a silence of at least max(interval, WOKEN_SILENCE) (`woken_level` may apply).
        The others (never sold in the year, selling steadily) read the demand path whatever their history."""
        length = self.length
        last_sale = np.full(self.n, -1)
        last_sale[product] = column  # sorted: each product's last
        silent_now = np.where(last_sale >= 0, length - 1 - last_sale, length)
        silent = (silent_now >= open_protection) & (silent_now < length)
        again = np.r_[False, product[1:] == product[:-1]]  # a sale after an earlier one of the same product
        previous = np.r_[-1, column[:-1]]
        quiet = np.maximum(open_protection, WOKEN_SILENCE)[product]
        woke = again & (column >= max(length - SILENCE_WINDOW, 1)) & (column - 1 - previous >= quiet)
        silent[product[woke]] = True
        return np.flatnonzero(silent)


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

    def path(self, daily: np.ndarray, open_protection: np.ndarray, open_day: np.ndarray) -> np.ndarray:
        """float64[n, days]: the daily demand path every stock number reads: `daily` (the forecast's), where a
        silence decides the demand the interval's mean spread over its `open_protection` open days, on the open days
        only (`open_day`: bool[days], day 1 first), closed days 0. One demand for the units on hand and for an
        order: croutons silent for weeks were judged unsellable by the forecast (donate all 30) and reordered by
        what followed their earlier silences (order one more), in the same request. Flat over closed days, it sold
        4 sandwiches expiring on a closed Wednesday (review 6 F4: "sells the 4 units within the 0 open days left")."""
        decided = self.silent.applies | self.woke
        spread = (self.mean / np.maximum(open_protection, 1))[:, None] * open_day[None, :]
        return np.where(decided[:, None], spread, daily)

    def restock(self, daily_rate: np.ndarray) -> np.ndarray:
        """bool[n]: an empty shelf with nothing on order is reordered: reorder's rule at position 0 (a silent
        product only when its reorder point is above 0, the others whenever they have demand)."""
        return np.where(self.silent.applies, self.silent.reorder_point > 0, (daily_rate > 0) | (self.woke & (
            self.mean > 0)))


def protection_demand(history: np.ndarray, open_protection: np.ndarray, protection: np.ndarray,
                      cumulative: np.ndarray, on_hand: np.ndarray, level: float,
                      catalogue: WakeTables | None = None) -> ProtectionDemand:
    """The demand over the `protection` days (int64[n]) as reorder reads it: a product silent for at least its
    interval by what followed its earlier silences (`after_silence` over the open-day `history`, an empty shelf's
    silence possibly a stockout), one selling again after a silence by at least the demand it met before it
    (`woken_level`: the path's level still counts the silence), the others by the demand path `cumulative` (cumsum
    of the daily path). A `history` without days (a caller with no silent product to judge) reads the path for
    every product. `catalogue`: the request's wake tables where `history` holds some of its products only."""
    n = len(on_hand)
    path = demand_within(cumulative, protection)
    if not history.shape[1]:
        return ProtectionDemand(path, AfterSilence(
            applies=np.zeros(n, dtype=bool), mean=np.zeros(n), reorder_point=np.zeros(n),
            expected_shortage=np.zeros(n), origins=np.zeros(n, dtype=np.int64), wake_probability=np.ones(n),
            own_wakes=np.zeros(n), own_silences=np.zeros(n), shop_wake=np.zeros(n)),
            np.zeros(n, dtype=bool))
    silent = after_silence(history, open_protection, level, on_hand <= 0, catalogue=catalogue)
    woke, before = woken_level(history, open_protection)
    woke &= ~silent.applies & (before > path)
    return ProtectionDemand(np.where(silent.applies, silent.mean, np.where(woke, before, path)), silent, woke)


@dataclass(frozen=True)
class PlannedDemand:
    """The demand the decisions plan with: the daily path and reorder's demand over the protection interval."""

    daily: np.ndarray  # float64[n, days]: the path the stock view reads (`ProtectionDemand.path`)
    cumulative: np.ndarray  # float64[n, days]: its running total
    protection: ProtectionDemand
    past: PastYear  # the HISTORY_DAYS to the origin: the grid of any rows (`PastYear.grid`)
    history: np.ndarray  # float64[rows, open days]: the grid of the rows it read (`PastYear.silence_rows`; every
    # row without a budget: reorder's)
    open_protection: np.ndarray  # int64[n]: open days of each protection interval


def planned_demand(sales: SalesColumns, catalogue: SalesColumns, origin: int, opening: OpeningDays,
                   protection: np.ndarray, daily: np.ndarray, on_hand: np.ndarray, level: float,
                   budget: WorkBudget | None, hint: str = "") -> PlannedDemand:
    """Reorder's demand over each item's `protection` days (`protection_demand` over the HISTORY_DAYS to `origin`,
    open days only) and the daily path (`daily`: the forecast's, or a rate's) it makes: one demand for reorder,
    at-risk and promotions, for the units on hand, the units on order and an order.

    With a `budget`, the year's grid is built for the rows a silence can decide (`PastYear.silence_rows`) and
    bounded by them (`hint` says what to send instead): the year changes no other row's demand, and the catalogue's
    rate of waking up is read off every row's selling days (`sparse_wake_tables`). On the service_speed benchmark
    payloads (1,000 items, none of them silent) this call took 6.2 ms for at-risk (+1.2 ms: the caller's second
    cumsum of the path) and 4.4 ms for promotions (a year of zeros: the items have no sales), now 3.4 and 0.4 ms.
    Without one (reorder, which reads every row's year and bounds it itself), every row's.

    An empty shelf's silence is judged by the rate of waking up of every product the request's sales name
    (`catalogue`: `opening_days.catalogue_opening_days`'s), not of the items answered for: the same product, sales
    and day got another order by the other items listed with it (review 9 F1: the bakery's financier, silent two
    days on 2022-01-04 with none on hand, was ordered 3 alone, 1 beside the shop's other 35 items and 0 beside the
    two out-of-season galettes, whose silences never end)."""
    n = on_hand.size
    past = PastYear.of(sales, n, origin, opening)
    open_protection = open_protection_days(origin, protection, opening)
    if budget is None:
        rows = np.arange(n)
    else:
        rows = past.silence_rows(*past.selling(), open_protection)
        budget.check("grid", {"products a silence can decide": rows.size, "days": HISTORY_DAYS}, hint)
    wake = _wake_tables(catalogue, origin, opening) if (on_hand[rows] <= 0).any() else None
    history = past.grid(rows)
    cumulative = np.cumsum(daily, axis=1)
    # the other rows read the path (a history without days)
    demand = protection_demand(np.zeros((n, 0)), open_protection, protection, cumulative, on_hand, level)
    if rows.size:
        found = protection_demand(history, open_protection[rows], protection[rows], cumulative[rows], on_hand[rows],
                                  level, wake)
        demand.mean[rows], demand.woke[rows] = found.mean, found.woke
        for name in (f.name for f in fields(AfterSilence)):
            getattr(demand.silent, name)[rows] = getattr(found.silent, name)
    open_day = ~opening.closed(origin + 1 + np.arange(daily.shape[1])) if opening.any else np.ones(daily.shape[1])
    planned = demand.path(daily, open_protection, open_day)
    decided = np.flatnonzero(demand.silent.applies | demand.woke)  # flat: the others' path is `daily`'s
    cumulative[decided] = np.cumsum(planned[decided], axis=1)
    return PlannedDemand(planned, cumulative, demand, past, history, open_protection)


def _wake_tables(catalogue: SalesColumns, origin: int, opening: OpeningDays) -> WakeTables:
    """The catalogue's rate of waking up after a silence (`sparse_wake_tables`), over its year to `origin`."""
    past = PastYear.of(catalogue, len(catalogue.product_ids), origin, opening)
    return sparse_wake_tables(*past.selling(), past.length)


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
