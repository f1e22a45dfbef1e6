"""POST /api/v1/smart-shelf/insights."""

from typing import Annotated

from fastapi import APIRouter, Body, Request

from app.routes.dependencies import SettingsDep, ShopGuardDep, attach_upload, check_row_limit
from app.schemas.insights import INSIGHTS_EXAMPLE, InsightsRequest, InsightsResponse
from app.schemas.sales import sales_examples
from app.services.analytics.insights import summarise_sales
from app.utils.openapi import ERROR_RESPONSES, csv_upload
from app.utils.sales_upload import SalesRoute
from app.utils.work_budget import WorkBudget

router = APIRouter(prefix="/api/v1/smart-shelf", tags=["insights"], route_class=SalesRoute)


@router.post(
    "/insights",
    response_model=InsightsResponse,
    summary="Sales series, top products with trends, seasonality and recommendations",
    description=(
        "Aggregates net units and revenue by day, ISO week or month over `range` (at most 3,653 days; every "
        "period listed, empty ones as 0, those the range cuts marked `partial`) with the mean daily units over "
        "the last 7 and 30 days; ranks the `top_k` products by units with a least-squares trend over the "
        "complete periods; finds the peak weekday and month over open days; and writes recommendations from "
        "those numbers."
    ),
    responses=ERROR_RESPONSES,
    openapi_extra=csv_upload(INSIGHTS_EXAMPLE),
)
def post_insights(
    request: Annotated[InsightsRequest, Body(openapi_examples=sales_examples(INSIGHTS_EXAMPLE))],
    settings: SettingsDep,
    guard: ShopGuardDep,
    http: Request,
) -> InsightsResponse:
    """Summarise sales."""
    guard(request.shop_id)
    attach_upload(request, http)
    check_row_limit(settings, request)
    return summarise_sales(request, WorkBudget(settings))
