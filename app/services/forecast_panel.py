"""Request sales -> a regular `Panel`, with the forecasting data-quality rules.

Rules (reported as warnings):
- frequency: `auto` means weekly when every sales date falls on the same weekday (and there are
  at least two dates), else daily. Weekly periods are the 7 days starting on that weekday.
- gaps: a period inside a product's history with no sales row is a period with zero sales
  (`gaps_filled`).
- returns: negative rows are netted into their period; a period whose net is negative counts
  as zero demand (`negative_periods_clipped`).
- a product's history starts at its first sales row and ends at the latest date in the request.
"""

import numpy as np

from app.models.panel import Panel
from app.schemas.common import DataWarning
from app.schemas.forecast import Frequency
from app.utils.arrays import first_column, grid_sums
from app.utils.sales_frame import SalesColumns, sorted_by_product


def infer_step(days: np.ndarray, frequency: Frequency) -> int:
    if frequency != "auto":
        return 1 if frequency == "daily" else 7
    distinct = np.unique(days)
    return 7 if distinct.size >= 2 and np.unique(distinct % 7).size == 1 else 1


def build_panel(sales: SalesColumns, frequency: Frequency, event_days: set[int]) -> tuple[Panel, list[DataWarning]]:
    """One row per product in `sales`, in product id order, columns from the first to the last period.

    Rows are sorted by product id so that the order in which a caller lists its sales changes
    nothing: the global model sees its training rows (and subsamples them) in the same order.
    """
    sales = sorted_by_product(sales)
    step = infer_step(sales.day, frequency)
    first_day = int(sales.day.min())
    column = (sales.day - first_day) // step
    n_products, n_periods = len(sales.product_ids), int(column.max()) + 1
    net = grid_sums(sales.product, column, n_products, n_periods, sales.qty)
    has_row = grid_sums(sales.product, column, n_products, n_periods) > 0
    start = first_column(sales.product, column, n_products, n_periods)
    inside = np.arange(n_periods)[None, :] >= start[:, None]
    warnings: list[DataWarning] = []
    unit = "days" if step == 1 else "weeks"
    gaps = inside & ~has_row
    if gaps.any():
        warnings.append(DataWarning(
            code="gaps_filled", count=int(gaps.sum()),
            message=f"{int(gaps.sum())} {unit} inside products' histories had no sales row and were counted as "
            "zero sales.",
        ))
    negative = net < 0
    if negative.any():
        warnings.append(DataWarning(
            code="negative_periods_clipped", count=int(negative.sum()),
            message=f"{int(negative.sum())} {unit} had more returns than sales; they count as zero demand.",
            product_ids=[str(p) for p in sales.product_ids[np.flatnonzero(negative.any(axis=1))[:20]]],
        ))
    price = None
    if sales.revenue is not None and np.isfinite(sales.revenue).any():
        sold = np.isfinite(sales.revenue) & (sales.qty > 0)
        revenue = grid_sums(sales.product[sold], column[sold], n_products, n_periods, sales.revenue[sold])
        units = grid_sums(sales.product[sold], column[sold], n_products, n_periods, sales.qty[sold])
        with np.errstate(invalid="ignore", divide="ignore"):
            price = np.where(units > 0, revenue / units, np.nan)
    panel = Panel(
        product_ids=[str(p) for p in sales.product_ids],
        values=np.maximum(net, 0.0),
        start=start,
        first_day=first_day,
        step=step,
        event_days=frozenset(event_days),
        price=price,
    )
    return panel, warnings
