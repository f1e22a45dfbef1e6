"""How each item's sales respond to its price, learned from the request's own sales and prices.

At-risk and promotions size discounts with it (`app.services.decisions.pricing`): the elasticity of
`app.models.elasticity`, learned over the last year of the request's sales, with each day's price
the caller's `prices` where sent, else revenue / qty on the days with a sale, pooled across the
request's items, or, when the shop has a trained shop model with an elasticity, towards what it
learned from the whole catalogue (its category's value where it knows the item's category, else
the shop's): a request of one item then needs its own prices only. An item keeps a learned value
only when its 90% interval lies below zero (demand clearly falls as the price rises); otherwise,
and without any price, the constant PROMOTION_ELASTICITY_MULTIPLIER answers, and the answer says
which was used.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from app.config import Settings
from app.models.elasticity import Elasticities, estimate, shrink
from app.schemas.common import DataWarning
from app.schemas.drivers import PriceTable
from app.services.forecasting.shop_models import loaded_model
from app.utils.arrays import grid_ratio
from app.utils.sales_frame import SalesColumns, daily_net_units

MAX_DAYS = 365
MIN_DAYS = 56  # under this much history per item (within the grid budget) nothing is learned
LEARNED, CONSTANT = "learned", "constant"


@dataclass(frozen=True)
class ShopPrior:
    """What the shop's model learned of its catalogue's price response."""

    elasticities: Elasticities
    groups: dict[str, str]  # product id -> its pooling group (category, else department), as training was told


def shop_prior(shop_id: str, settings: Settings, signing_key: str) -> ShopPrior | None:
    """The shop's daily shop model's elasticities, or None (no model, or it learned no elasticity)."""
    loaded = loaded_model(shop_id, 1, settings, signing_key)
    if loaded is None or loaded[0].elasticity_ is None or not np.isfinite(loaded[0].elasticity_.shop):
        return None
    return ShopPrior(loaded[0].elasticity_, loaded[0].pool_groups_)


PriorSource = Callable[[], ShopPrior | None]  # the shop's prior, loaded only when there is something to learn


def learned_elasticities(sales: SalesColumns, product_ids: Sequence[str], as_of_day: int, max_cells: int,
                         prices: PriceTable, prior: PriorSource | None = None) -> tuple[np.ndarray, list[DataWarning]]:
    """float64[n_items]: each item's learned elasticity, NaN where the constant rule must answer; and a
    `driver_unused` warning for the caller's prices it could not read (other products, other dates).
    With the shop's prior (`prior()`, asked only once prices are there to learn from), each item pools
    towards it instead of towards the request's other items."""
    n_items = len(product_ids)
    nothing = np.full(n_items, np.nan)
    has_revenue = sales.revenue is not None and bool(np.isfinite(sales.revenue).any())
    if n_items == 0 or (not has_revenue and prices.size == 0) or sales.size == 0:
        return nothing, _unused(prices.size)
    days = min(MAX_DAYS, max_cells // n_items, int(as_of_day - sales.day.min()) + 1)
    if days < MIN_DAYS:
        return nothing, _unused(prices.size)
    first = as_of_day - days + 1
    units = daily_net_units(sales, n_items, first, days)
    price = np.full((n_items, days), np.nan)
    if sales.revenue is not None and has_revenue:
        offset = sales.day - first
        priced = ((offset >= 0) & (offset < days) & (sales.product < n_items) & (sales.qty > 0)
                  & np.isfinite(sales.revenue) & (sales.revenue > 0))
        price = grid_ratio(sales.product[priced], offset[priced], n_items, days, sales.revenue[priced],
                           sales.qty[priced])
    used = 0
    if prices.size:
        index = {product_id: row for row, product_id in enumerate(product_ids)}
        rows = np.array([index.get(p, -1) for p in prices.product_ids], dtype=np.int64)[prices.product]
        offset = prices.day - first
        inside = (rows >= 0) & (offset >= 0) & (offset < days)
        used = int(inside.sum())
        caller = grid_ratio(rows[inside], offset[inside], n_items, days, prices.price[inside])
        price = np.where(np.isfinite(caller), caller, price)
    started = units > 0
    begin = np.where(started.any(axis=1), started.argmax(axis=1), days)
    shop = prior() if prior is not None else None
    if shop is None:
        found = estimate(units, price, begin, 1)
    else:
        groups = np.array([shop.groups.get(p) for p in product_ids], dtype=object)
        found = shrink(estimate(units, price, begin, 1, pool=False), shop.elasticities, groups)
    return np.where(found.high < 0, found.value, np.nan), _unused(prices.size - used)


def _unused(count: int) -> list[DataWarning]:
    if not count:
        return []
    return [DataWarning(code="driver_unused", count=count,
                        message=f"prices of products not in this request, dated outside the sales it learns from (up "
                        f"to {MAX_DAYS} days up to as_of), or sent with under {MIN_DAYS} days of sales, were not used")]
