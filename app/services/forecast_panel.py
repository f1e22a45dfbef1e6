"""The forecasting data-quality rules, as warnings (the panel itself is built in `app.models.panel`).

- frequency: `auto` means weekly when every sales date falls on the same weekday (and there are
  at least two dates), else daily. Weekly periods are the 7 days starting on that weekday.
- gaps: a period inside a product's history with no sales row is a period with zero sales
  (`gaps_filled`).
- returns: negative rows are netted into their period; a period whose net is negative counts
  as zero demand (`negative_periods_clipped`).
"""

from app.models.panel import PanelRepairs
from app.schemas.common import DataWarning


def repair_warnings(repairs: PanelRepairs, step: int) -> list[DataWarning]:
    """The `gaps_filled` and `negative_periods_clipped` warnings of a built panel."""
    unit = "days" if step == 1 else "weeks"
    warnings: list[DataWarning] = []
    if repairs.gaps:
        warnings.append(DataWarning(
            code="gaps_filled", count=repairs.gaps,
            message=f"{repairs.gaps} {unit} inside products' histories had no sales row and were counted as "
            "zero sales.",
        ))
    if repairs.negative:
        warnings.append(DataWarning(
            code="negative_periods_clipped", count=repairs.negative,
            message=f"{repairs.negative} {unit} had more returns than sales; they count as zero demand.",
            product_ids=repairs.negative_products,
        ))
    return warnings
