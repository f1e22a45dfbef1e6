"""A forecast's history: the spec's sales as columns (data rules), then the panel the models read.

Two steps of the forecast path (`app.services.forecasting.pipeline`): `sales_columns` applies the sales
rules of `app.utils.sales_frame` (reported in `warnings`); `history_panel` checks the work budget before
anything is built, builds the products x periods panel (`app.models.panel`), lays the caller's drivers on
it (`drivers.py`) and names the products to answer for. The panel's own data rules:

- frequency: `auto` means weekly when every sales date falls on the same weekday (and there are
  at least two dates), else daily. Weekly periods are the 7 days starting on that weekday.
- gaps: a period between a product's first and last sales rows with no row is a period with zero
  sales (`gaps_filled`).
- origin: every product's history runs to the origin (`as_of`, else the later of the latest sale and the
  shop model's training end); the periods after a product's last row are zero sales (`history_extended`).
- returns: negative rows are netted into their period; a period whose net is negative counts
  as zero demand (`negative_periods_clipped`).
"""

from app.models.panel import Panel, PanelRepairs, build_panel, history_periods
from app.schemas.common import DataWarning
from app.services.forecasting.drivers import attach_drivers
from app.services.forecasting.spec import ForecastSpec, choice_spec, requested_products
from app.utils import sales_frame
from app.utils.dates import LAST_DAY, from_day_number
from app.utils.errors import SmartShelfError
from app.utils.opening_days import OPEN_EVERY_DAY, OpeningDays
from app.utils.sales_frame import SalesColumns, clean_sales, first_seen
from app.utils.work_budget import WorkBudget


def sales_columns(spec: ForecastSpec) -> tuple[SalesColumns, list[DataWarning]]:
    """The spec's sales (rows, series and upload) as columns after the data rules, and their warnings;
    400 when none is left (every row after `as_of`)."""
    sales, warnings = clean_sales(spec.sales, as_of_day=spec.as_of_day, with_revenue=True)
    if sales.size == 0:
        raise SmartShelfError("no sales rows left to learn from (all were after as_of)", field="sales")
    return sales, warnings


def history_panel(spec: ForecastSpec, sales: SalesColumns, budget: WorkBudget, origin_day: int | None = None,
                  opening: OpeningDays = OPEN_EVERY_DAY) -> tuple[Panel, list[str], list[DataWarning]]:
    """The panel (drivers laid on it), the products to answer for, and the panel's data-rule warnings.

    Every product's history runs to the origin: `as_of` when the spec has one, else `origin_day` (the
    shop model's training end) when later than the latest sale, else the latest sale; forecasts start the
    period after it. Closed days (`opening`, daily data) without sales are no demand: the product's open-day
    level stands in for them (app/models/panel.py). The panel's size, the answer's and the last forecast date
    are checked before the panel is built.
    """
    origin = spec.as_of_day if spec.as_of_day is not None else origin_day
    step, periods = history_periods(sales.day, spec.frequency, origin)
    first = int(sales.day.min())
    last = first + (periods - 1) * step
    budget.check("train", {"products": len(sales.product_ids), "periods of history": periods},
                 "split the products over several requests, send less history, or use POST /forecast/batch")
    answered = len(sales.product_ids) if spec.product_ids is None else len(spec.product_ids)
    made = choice_spec(spec, step).periods  # the per-request models make at least 28 days, cut to `periods`
    budget.check("answer", {"products": answered, "periods made": made},
                 "ask for fewer products or periods per request, or use POST /forecast/batch")
    if last - first + spec.periods * step > LAST_DAY - first:
        raise SmartShelfError(f"{spec.periods} periods after {from_day_number(last)} run past 9999-12-31",
                              field="periods")
    panel, repairs = build_panel(sales, "daily" if step == 1 else "weekly", set(spec.event_days), origin,
                                 opening.closed if opening.any else None)
    panel, unused = attach_drivers(spec.sales, spec.event_types, panel, spec.periods, budget)
    wanted, new = answered_products(spec, sales)
    return panel, wanted, new + repair_warnings(repairs, panel.step) + unused


NO_FORECAST = "They get no forecast (a forecast learns from a product's own sales up to as_of)"


def answered_products(spec: ForecastSpec, sales: SalesColumns) -> tuple[list[str], list[DataWarning]]:
    """The products to answer for (`requested_products`) and the `items_without_sales` warning naming those asked
    whose sales all lie after `as_of` (`sales` holds the rows up to it): new articles, with the day their sales
    start. They are left out and the others forecast, as at-risk, reorder and promotions answer for the rest of
    an inventory and call such an item's demand unknown; asking a week's forecast for the counter's articles
    must not fail for all of them because one was not sold yet on `as_of`."""
    sold, as_of = first_seen(sales), spec.as_of_day
    known = set(sold)
    missing = [] if spec.product_ids is None else [
        product_id for product_id in dict.fromkeys(spec.product_ids) if product_id not in known]
    if not missing:
        return requested_products(spec, sold), []
    sent, _ = sales_frame.sales_columns(spec.sales)  # the lines after as_of too: only when one is missing
    later = {product_id: day for product_id, day in sales_frame.first_sale_days(sent, missing).items()
             if as_of is not None and day > as_of}
    wanted = requested_products(spec, sold, later)  # 400 when no product asked has sales
    return wanted, [sales_frame.without_sales(missing, sent, "requested", as_of, NO_FORECAST)]


def repair_warnings(repairs: PanelRepairs, step: int) -> list[DataWarning]:
    """The `gaps_filled`, `negative_periods_clipped`, `history_extended` and `price_unusable` warnings of a
    built panel."""
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
    if repairs.extended:
        # every product silent from one day: an export that ended there reads the same as a shop that sold nothing
        ended = "" if repairs.all_silent_after is None else (
            f" No product has a row after {from_day_number(repairs.all_silent_after)}: if the sales sent end there "
            f"(an export downloaded earlier), send as_of {from_day_number(repairs.all_silent_after)}, or these "
            f"{unit} lower every forecast; days the shop was shut go in closed_dates.")
        warnings.append(DataWarning(
            code="history_extended", count=repairs.extended,
            message=f"{repairs.extended} products had no sales row in their last {unit} up to "
            f"{from_day_number(repairs.silent_until)}: those {unit} count as zero sales, and their "
            f"forecasts start after {from_day_number(repairs.origin_day)} like every other product's.{ended}",
            product_ids=repairs.extended_products,
        ))
    if repairs.unusable_prices:
        warnings.append(DataWarning(
            code="price_unusable", count=repairs.unusable_prices,
            message=f"{repairs.unusable_prices} {unit} sold units for no revenue or less (free items, refunds): "
            "their revenue / units is no price, so price features skip them; the units still count as sales.",
            product_ids=repairs.unusable_price_products,
        ))
    return warnings
