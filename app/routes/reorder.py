"""POST /api/v1/smart-shelf/reorder."""

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from app.routes.dependencies import CacheDep, SettingsDep, ShopGuardDep, SigningKeyDep, attach_upload, check_row_limit
from app.schemas.reorder import REORDER_EXAMPLE, ReorderRequest, ReorderResponse
from app.schemas.sales import sales_examples
from app.services.decisions.reorder import recommend_orders
from app.utils.csv_export import CSV_RESPONSE, reorder_csv, wants_csv
from app.utils.openapi import ERROR_RESPONSES, csv_upload
from app.utils.sales_upload import SalesRoute

router = APIRouter(prefix="/api/v1/smart-shelf", tags=["reorder"], route_class=SalesRoute)


@router.post(
    "/reorder",
    response_model=ReorderResponse,
    summary="When to reorder and how much: reorder point, safety stock, EOQ, stockout date, ABC/XYZ",
    description=(
        "Forecasts each product's demand over its lead time (cached forecasts are reused), sets the "
        "safety stock for `service_level` from the forecast's backtest error, and recommends an order "
        "(EOQ lots rounded to minimum order and pack size) when on hand + on order is at or below the "
        "reorder point. Sorted by urgency, then revenue at risk; `abc_classes` filters the answer. "
        "`Accept: text/csv` gives one row per product."
    ),
    responses={**ERROR_RESPONSES, **CSV_RESPONSE},
    openapi_extra=csv_upload(REORDER_EXAMPLE),
)
def post_reorder(
    request: Annotated[ReorderRequest, Body(openapi_examples=sales_examples(REORDER_EXAMPLE))],
    settings: SettingsDep,
    guard: ShopGuardDep,
    cache: CacheDep,
    signing_key: SigningKeyDep,
    http: Request,
) -> ReorderResponse | Response:
    """Recommend orders."""
    guard(request.shop_id)
    attach_upload(request, http)
    check_row_limit(settings, request, require_sales=True, inventory=request.inventory,
                    calendar_events=request.calendar_events)
    response = recommend_orders(request, settings, cache, signing_key)
    return reorder_csv(response, f"reorder-{request.shop_id}.csv") if wants_csv(http) else response
