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
    AfterSilence,
    after_silence,
    lead_time_demand,
    lead_time_dispersion,
    woken_level,
)
from app.services.decisions.stock_view import (
    demand_within,
)
from app.utils.opening_days import OpeningDays
from app.utils.sales_frame import SalesColumns, daily_net_units

HISTORY_DAYS = 364  # the days to as_of reorder reads for a silent product's demand and its dispersion


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
    open_day = ~opening.closed(origin + 1 + np.arange(daily.shape[1])) if opening.any else np.ones(daily.shape[1])
    return PlannedDemand(demand.path(daily, open_protection, open_day), demand, open_past, open_protection)


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
