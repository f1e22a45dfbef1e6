"""POST /api/v1/smart-shelf/anomalies."""

from typing import Annotated

from fastapi import APIRouter, Body, Request

from app.routes.dependencies import SettingsDep, ShopGuardDep, attach_upload, check_row_limit
from app.schemas.anomalies import ANOMALIES_EXAMPLE, AnomaliesRequest, AnomaliesResponse
from app.schemas.sales import sales_examples
from app.services.analytics.anomalies import find_anomalies
from app.utils.openapi import ERROR_RESPONSES, csv_upload
from app.utils.sales_upload import SalesRoute
from app.utils.work_budget import WorkBudget

router = APIRouter(prefix="/api/v1/smart-shelf", tags=["anomalies"], route_class=SalesRoute)


@router.post(
    "/anomalies",
    response_model=AnomaliesResponse,
    summary="Sales spikes and drops, impossible stock, large adjustments, unusual products",
    description=(
        "Each product-day against a model of the product's normal demand (STL trend and weekday pattern for "
        "dense series, level x weekday counts for slow movers, a negative binomial tail), flagged at "
        "`false_alerts_per_year`; days without a sale judged as runs (a stock-out is one drop, `date` to "
        "`end_date`); at most `max_alerts` per product, strongest first, closed days never; running stock from opening "
        "stock and movements (negative stock, adjustments over a share of stock); and an isolation forest over "
        "products' sales profiles. Each anomaly has the observed value, the expected range, a score, the method "
        "and a description. Deterministic."
    ),
    responses=ERROR_RESPONSES,
    openapi_extra=csv_upload(ANOMALIES_EXAMPLE),
)
def post_anomalies(
    request: Annotated[AnomaliesRequest, Body(openapi_examples=sales_examples(ANOMALIES_EXAMPLE))],
    settings: SettingsDep,
    guard: ShopGuardDep,
    http: Request,
) -> AnomaliesResponse:
    """Find anomalies."""
    guard(request.shop_id)
    attach_upload(request, http)
    check_row_limit(settings, request, stock_movements=request.stock_movements,
                    opening_stock=request.opening_stock)
    return find_anomalies(request, WorkBudget(settings))
