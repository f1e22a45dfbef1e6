"""Markdown maths shared by at-risk and promotions.

Demand model, per item: with a learned price elasticity `beta` (d log units / d log price, from the
item's own sales and prices, pooled towards the shop: `app.models.elasticity`), a discount of d %
multiplies unit sales by (1 - d/100) ** beta; where the data cannot tell (`beta` NaN), a discount
of d % lifts unit sales by `multiplier * d` % (the PROMOTION_ELASTICITY_MULTIPLIER setting), linear
and uncapped apart from the discount limits.
"""

import numpy as np

NO_DEMAND_UNITS = 0.005  # a demand to the sell-by day below this shows as 0.00 units: nothing sells


def lift_pct(discount_pct: np.ndarray, beta: np.ndarray, multiplier: float) -> np.ndarray:
    """Expected % increase in unit sales at `discount_pct`."""
    with np.errstate(invalid="ignore", over="ignore"):
        learned = ((1.0 - np.asarray(discount_pct) / 100.0) ** beta - 1.0) * 100.0
    return np.where(np.isfinite(beta), learned, np.asarray(discount_pct) * multiplier)


def discount_to_clear(quantity: np.ndarray, daily_units: np.ndarray, days: np.ndarray, beta: np.ndarray,
                      multiplier: float) -> np.ndarray:
    """Discount (%) that sells `quantity` within `days` at `daily_units` base demand.

    Returns 0 where the base rate already clears the stock, +inf where nothing sells, no days
    are left, or (learned) the item's demand does not respond to price: no finite discount
    clears it under the model.
    """
    capacity = daily_units * np.maximum(days, 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        needed_lift = np.maximum(quantity / capacity - 1.0, 0.0)
        learned = np.where(beta < 0, (1.0 - (1.0 + needed_lift) ** (1.0 / beta)) * 100.0,
                           np.where(needed_lift > 0, np.inf, 0.0))
    needed = np.where(np.isfinite(beta), learned, needed_lift * 100.0 / multiplier)
    needed = np.where(capacity > 0, needed, np.inf)
    return np.where(quantity <= 0, 0.0, needed)


def sells_nothing(units: np.ndarray) -> np.ndarray:
    """bool: a demand of `units` up to the sell-by day is none (0.00 as the answers show it): no discount can
    clear the stock, since a markdown lifts a demand there is not; at-risk and promotions both say so."""
    return np.asarray(units) < NO_DEMAND_UNITS


def markdown_pays(full_price_revenue: np.ndarray, markdown_revenue: np.ndarray) -> np.ndarray:
    """bool: a markdown pays only where it earns more than full price over the same days (the units left at the
    sell-by day earn nothing either way); one that earns less discounts units that sell anyway. Promotions' rule
    for a promotion, and at-risk's for its markdown, so the two never disagree on one item."""
    return np.asarray(markdown_revenue) > np.asarray(full_price_revenue) + 1e-9


def margin_cap(price: np.ndarray, cost: np.ndarray, min_margin_pct: float) -> np.ndarray:
    """Largest discount (%) keeping (discounted price - cost) / discounted price >= min margin.

    NaN cost (unknown) -> no cap (100). Negative result -> 0 (even full price misses the floor).
    """
    floor_price = cost / (1.0 - min_margin_pct / 100.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cap = (1.0 - floor_price / price) * 100.0
    cap = np.where(price > 0, cap, 0.0)
    return np.where(np.isnan(cost), 100.0, np.clip(cap, 0.0, 100.0))


def markdown_pct(needed_pct: np.ndarray, cap_pct: np.ndarray, step_pct: float = 5.0) -> np.ndarray:
    """The one discount (%) at-risk and promotions both suggest: the discount that clears the stock
    (`needed_pct`) rounded up to whole `step_pct` steps, at least one step; `cap_pct` where the cap is
    lower (it will not clear everything) or nothing clears (+inf)."""
    stepped = np.where(np.isfinite(needed_pct), np.maximum(np.ceil(np.asarray(needed_pct) / step_pct - 1e-9), 1.0)
                       * step_pct, np.inf)
    return np.minimum(stepped, cap_pct)


def best_markdown(needed_pct: np.ndarray, cap_pct: np.ndarray, quantity: np.ndarray, base_units: np.ndarray,
                  beta: np.ndarray, multiplier: float, step_pct: float = 5.0) -> np.ndarray:
    """`markdown_pct`, except where even the cap neither clears the stock nor earns more than full price: there the
    step up to the cap whose revenue, (1 - d) x min(`quantity`, `base_units` x (1 + lift(d))), is highest, the
    units left being worth nothing either way. At 50 % off by the constant rule a bakery's kouign amann earned
    exactly what full price did and its promotion was refused as not paying; 25 % earns the most."""
    chosen = markdown_pct(needed_pct, cap_pct, step_pct)
    cap = np.asarray(cap_pct, dtype=np.float64)
    if cap.size == 0 or cap.max() < step_pct:
        return chosen
    units = np.asarray(quantity, dtype=np.float64)[:, None]
    base = np.asarray(base_units, dtype=np.float64)[:, None]

    def revenue(discount: np.ndarray) -> np.ndarray:
        lifted = base * (1 + lift_pct(discount, np.asarray(beta)[:, None], multiplier) / 100)
        return (1 - discount / 100) * np.minimum(units, lifted)

    full_price = np.minimum(units, base)[:, 0]
    at_cap = revenue(cap[:, None])[:, 0]
    losing = ~(np.asarray(needed_pct) <= cap) & ~(at_cap > full_price * (1 + 1e-9))
    if not losing.any():
        return chosen
    grid = np.minimum(np.arange(1, int(np.ceil(cap.max() / step_pct)) + 1)[None, :] * step_pct, cap[:, None])
    best = grid[np.arange(cap.size), np.argmax(revenue(grid), axis=1)]
    return np.where(losing & (cap >= step_pct), best, chosen)
