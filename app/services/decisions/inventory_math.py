"""Textbook inventory formulas (continuous review, normal lead-time demand), vectorised.

Reorder sets its reorder point from the lead-time demand's own distribution
(`app.models.demand_distribution`); the normal safety stock here is the textbook reference the tests
compare with stockpyl and the inventory benchmark's previous-policy baseline.

- EOQ = sqrt(2 D S / H): D annual demand (units), S cost per order, H holding cost per unit-year.
- Lead-time demand: mean mu_L = sum of the daily forecasts over the lead time L; standard
  deviation sigma_L = sigma_daily x sqrt(L) (independent daily forecast errors).
- Safety stock = z(service level) x sigma_L, z the standard normal quantile: the probability of
  no stockout in a replenishment cycle (cycle service level).
- Reorder point = mu_L + safety stock.
- Review undershoot: stock is checked once per review period, so when an order is triggered
  the position is already below the reorder point by a uniform share of one review period's
  demand d_R: on average d_R / 2 (added to mu_L) with variance d_R^2 / 12 (added to sigma_L^2).
stockpyl's `economic_order_quantity` and `r_q_eoqss_approximation` implement the same
equations; tests compare the two on a grid.
"""

from statistics import NormalDist

import numpy as np

EOQ_MAX_YEARS = 10


def eoq(annual_demand: np.ndarray, ordering_cost: float, holding_cost_per_unit_year: np.ndarray) -> np.ndarray:
    """Economic order quantity, at most ten years of demand; 0 where there is no demand or no
    holding cost: the order is then sized by the reorder point alone.

    The textbook lot can rightly exceed a year of demand (a slow seller with a costly order), so
    the cap only stops a near-zero unit cost, which makes the formula explode, from ordering
    centuries of stock.
    """
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        quantity = np.minimum(np.sqrt(2 * annual_demand * ordering_cost / holding_cost_per_unit_year),
                              EOQ_MAX_YEARS * annual_demand)
    return np.where((annual_demand > 0) & (holding_cost_per_unit_year > 0) & np.isfinite(quantity), quantity, 0.0)


def z_score(service_level: float) -> float:
    return NormalDist().inv_cdf(service_level)


def safety_stock(daily_sd: np.ndarray, lead_time_days: np.ndarray, service_level: float) -> np.ndarray:
    return z_score(service_level) * daily_sd * np.sqrt(lead_time_days)


def undershoot(daily_rate: np.ndarray, review_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of how far below the reorder point the position is when an order triggers."""
    demand = daily_rate * review_days
    return demand / 2, demand**2 / 12


def round_order(quantity: np.ndarray, minimum: np.ndarray, pack: np.ndarray) -> np.ndarray:
    """Up to at least `minimum`, then up to a whole number of packs; 0 stays 0."""
    raised = np.maximum(quantity, minimum)
    packs = np.ceil(raised / pack - 1e-9)  # pack >= 0.001 (schema)
    return np.where(quantity > 0, packs * pack, 0.0)
