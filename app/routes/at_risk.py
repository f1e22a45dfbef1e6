"""POST /api/v1/smart-shelf/at-risk."""

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Request

from app.routes.dependencies import CacheDep, SettingsDep, ShopGuardDep, SigningKeyDep, attach_upload, check_row_limit
from app.schemas.at_risk import AT_RISK_EXAMPLE, AtRiskRequest, AtRiskResponse
from app.schemas.sales import sales_examples
from app.services.decisions.at_risk import find_at_risk
from app.services.decisions.forecast_read import (
    shop_forecaster,
)
from app.services.decisions.price_response import shop_prior
from app.utils.openapi import ERROR_RESPONSES, csv_upload
from app.utils.sales_upload import SalesRoute

router = APIRouter(prefix="/api/v1/smart-shelf", tags=["at-risk"], route_class=SalesRoute)


@router.post(
    "/at-risk",
    response_model=AtRiskResponse,
    summary="Products at risk: low stock, near expiry, slow moving, unsellable before expiry",
    description=(
        "Scores every inventory item from its stock, expiry date or season end, recent sales and (for stock "
        "that must sell by a day ahead) the forecast /forecast and /reorder make, and returns the "
        "flagged ones sorted by risk score (0..1) with the reasons, the numbers behind them and one "
        "recommended action (restock, discount, bundle, clearance, remove or monitor) with a discount "
        "range, a timing and a reasoning sentence. Products that are fine are not listed; "
        "`meta.total_products` counts all. Send `as_of` to fix 'today'."
    ),
    responses=ERROR_RESPONSES,
    openapi_extra=csv_upload(AT_RISK_EXAMPLE),
)
def post_at_risk(
    request: Annotated[AtRiskRequest, Body(openapi_examples=sales_examples(AT_RISK_EXAMPLE))],
    settings: SettingsDep,
    guard: ShopGuardDep,
    signing_key: SigningKeyDep,
    cache: CacheDep,
    http: Request,
) -> AtRiskResponse:
    """Flag products at risk."""
    guard(request.shop_id)
    attach_upload(request, http)
    check_row_limit(settings, request, inventory=request.inventory, calendar_events=request.calendar_events)
    return find_at_risk(request, settings, partial(shop_prior, request.shop_id, settings, signing_key),
                        shop_forecaster(settings, cache, signing_key))
