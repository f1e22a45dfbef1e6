"""Markdown maths shared by at-risk and promotions.

Demand model: a discount of d % lifts unit sales by `elasticity * d` % (the
PROMOTION_ELASTICITY_MULTIPLIER setting), linear and uncapped apart from the discount limits.
"""

import numpy as np


def discount_to_clear(
    quantity: np.ndarray, daily_units: np.ndarray, days: np.ndarray, elasticity: float
) -> np.ndarray:
    """Discount (%) that sells `quantity` within `days` at `daily_units` base demand.

    Returns 0 where the base rate already clears the stock, +inf where nothing sells or no
    days are left (no finite discount clears it under the model).
    """
    capacity = daily_units * np.maximum(days, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        needed_lift = quantity / capacity - 1.0
    needed = np.where(capacity > 0, np.maximum(needed_lift, 0.0) * 100.0 / elasticity, np.inf)
    return np.where(quantity <= 0, 0.0, needed)


def margin_cap(price: np.ndarray, cost: np.ndarray, min_margin_pct: float) -> np.ndarray:
    """Largest discount (%) keeping (discounted price - cost) / discounted price >= min margin.

    NaN cost (unknown) -> no cap (100). Negative result -> 0 (even full price misses the floor).
    """
    floor_price = cost / (1.0 - min_margin_pct / 100.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cap = (1.0 - floor_price / price) * 100.0
    cap = np.where(price > 0, cap, 0.0)
    return np.where(np.isnan(cost), 100.0, np.clip(cap, 0.0, 100.0))


def lift_pct(discount_pct: np.ndarray, elasticity: float) -> np.ndarray:
    """Expected % increase in unit sales at `discount_pct`."""
    return discount_pct * elasticity
