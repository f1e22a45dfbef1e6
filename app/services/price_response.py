"""How each item's sales respond to its price, learned from the request's own sales with revenue.

At-risk and promotions size discounts with it (`app.services.pricing`): the elasticity of
`app.models.elasticity`, learned over the last year of the request's sales (price = revenue / qty
on each day with a sale), pooled across the request's items. An item keeps a learned value only
when its 90% interval lies below zero (demand clearly falls as the price rises); otherwise, and
when no revenue was sent, the constant PROMOTION_ELASTICITY_MULTIPLIER answers, and the answer
says which was used.
"""

import numpy as np

from app.models.elasticity import estimate
from app.utils.arrays import grid_ratio
from app.utils.sales_frame import SalesColumns, daily_net_units

MAX_DAYS = 365
MIN_DAYS = 56  # under this much history per item (within the grid budget) nothing is learned
LEARNED, CONSTANT = "learned", "constant"


def learned_elasticities(sales: SalesColumns, n_items: int, as_of_day: int, max_cells: int) -> np.ndarray:
    """float64[n_items]: each item's learned elasticity, NaN where the constant rule must answer."""
    nothing = np.full(n_items, np.nan)
    if sales.revenue is None or n_items == 0 or not np.isfinite(sales.revenue).any():
        return nothing
    days = min(MAX_DAYS, max_cells // n_items, int(as_of_day - sales.day.min()) + 1)
    if days < MIN_DAYS:
        return nothing
    first = as_of_day - days + 1
    units = daily_net_units(sales, n_items, first, days)
    offset = sales.day - first
    priced = ((offset >= 0) & (offset < days) & (sales.product < n_items) & (sales.qty > 0)
              & np.isfinite(sales.revenue) & (sales.revenue > 0))
    price = grid_ratio(sales.product[priced], offset[priced], n_items, days, sales.revenue[priced],
                       sales.qty[priced])
    started = units > 0
    begin = np.where(started.any(axis=1), started.argmax(axis=1), days)
    found = estimate(units, price, begin, 1)
    return np.where(found.high < 0, found.value, np.nan)

