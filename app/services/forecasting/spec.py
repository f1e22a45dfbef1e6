"""A forecast's own input: the plain options and validated sales every forecasting path starts from.

HTTP requests become a `ForecastSpec` through `spec_of`; services that forecast for their own purposes
(reorder, batch chunks, shop-model training) build one directly from their already validated sales.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace

from app.models.drivers import BENEFIT_DAY, event_type
from app.schemas.forecast import ForecastEvent, ForecastRequest, Frequency, ModelName
from app.schemas.sales import SalesPayload
from app.utils.dates import day_number, from_day_number
from app.utils.errors import SmartShelfError


@dataclass(frozen=True)
class ForecastSpec:
    """What the forecast pipeline needs, as plain values: its internal entry point.

    HTTP requests become one through `spec_of`; services that forecast for their own purposes
    (reorder) build one directly from their already validated sales. `product_ids` None means
    every product sold; `product_id_first` says the first of them came as `product_id` (it names
    the field in a 400). `event_days` are days since 1970-01-01, sorted, as sent (the result
    keys digest them so). The sales' series step follows the payload (`SalesPayload.series_step`).
    """

    shop_id: str
    sales: SalesPayload
    product_ids: tuple[str, ...] | None = None
    periods: int = 14
    model: ModelName = "auto"
    confidence_interval: float = 0.95
    frequency: Frequency = "auto"
    event_days: tuple[int, ...] = ()
    event_types: tuple[tuple[int, str], ...] = ()  # (day, type) of the typed events, benefit days included
    as_of_day: int | None = None
    product_id_first: bool = False


CHOICE_DAYS = 28  # the shortest horizon the per-request models are chosen and made for (the decisions' horizon)


def choice_spec(spec: ForecastSpec, step: int) -> ForecastSpec:
    """The spec the per-request models are chosen, made and cached for: at least CHOICE_DAYS ahead (4 weeks
    for weekly sales), whatever `periods` asks. A forecast of up to 28 days is then the first days of one
    answer, the one /reorder, /at-risk and /promotions read: tomorrow's forecast does not change with the
    horizon asked, and a 14-day forecast after a /reorder of the same sales is a cache hit. A longer horizon
    is chosen for its own length."""
    return replace(spec, periods=max(spec.periods, -(-CHOICE_DAYS // step)))


def spec_of(request: ForecastRequest) -> ForecastSpec:
    """The forecast a validated request asks for (its sales are the request's own)."""
    named = request.product_id is not None or request.product_ids is not None
    wanted = ([request.product_id] if request.product_id else []) + list(request.product_ids or [])
    event_days, event_types = event_fields(request.calendar_events)
    return ForecastSpec(
        shop_id=request.shop_id, sales=request, product_ids=tuple(wanted) if named else None,
        periods=request.periods, model=request.model, confidence_interval=request.confidence_interval,
        frequency=request.frequency, event_days=event_days, event_types=event_types,
        as_of_day=day_number(request.as_of) if request.as_of else None, product_id_first=bool(request.product_id))


def event_fields(events: list[ForecastEvent]) -> tuple[tuple[int, ...], tuple[tuple[int, str], ...]]:
    """A spec's `event_days` (every unscoped event but benefit days, which come too often to mark "an event
    is near") and `event_types` (the typed unscoped events)."""
    shared = [e for e in events if not e.scoped]  # scoped events reach only their products (drivers.py)
    return (tuple(sorted(day_number(e.date) for e in shared if event_type(e.type) != BENEFIT_DAY)),
            tuple(sorted((day_number(e.date), e.type) for e in shared if e.type)))


def requested_products(spec: ForecastSpec, sold: list[str], later: Mapping[str, int] | None = None) -> list[str]:
    """The products to answer for, in request order: those of `sold`. A product without sales up to `as_of` (a
    new article whose sales all lie after it, `later`: its first sale day, or an id the sales do not hold) has
    no history to learn from, and is left out (the caller names it in `items_without_sales`, as at-risk, reorder
    and promotions do: one new or mistyped article must not sink the others' forecasts); 400 naming the first
    when no product asked has any."""
    if spec.product_ids is None:
        return sold
    known, later = set(sold), later or {}
    products = [product_id for product_id in dict.fromkeys(spec.product_ids) if product_id in known]
    if products or not spec.product_ids:  # none asked: an empty answer, as before this rule
        return products
    first = spec.product_ids[0]
    if first in later:
        raise SmartShelfError(f"no sales of product {first!r} up to as_of: its sales start after as_of, on "
                              f"{from_day_number(later[first])}, and a forecast learns from the sales up to as_of "
                              "(send a later as_of)", field=_product_field(spec, 0))
    raise SmartShelfError(f"no sales history for product {first!r} in `sales`", field=_product_field(spec, 0))


def sold_products(spec: ForecastSpec, sold: list[str]) -> list[str]:
    """The products of a batch, which is accepted whole or not at all: `requested_products`, and a 400 naming
    the first product asked that the sales do not hold (a one-request forecast leaves it out and says so; a
    job's chunks would drop it where no warning reaches the caller)."""
    known = set(sold)
    for index, product_id in enumerate(spec.product_ids or ()):
        if product_id not in known:
            raise SmartShelfError(f"no sales history for product {product_id!r} in `sales`",
                                  field=_product_field(spec, index))
    return requested_products(spec, sold)


def _product_field(spec: ForecastSpec, index: int) -> str:
    """The request field of `spec.product_ids[index]` (`product_id` or `product_ids[i]`), for a 400."""
    if spec.product_id_first and index == 0:
        return "product_id"
    return f"product_ids[{index - (1 if spec.product_id_first else 0)}]"
