"""POST /api/v1/smart-shelf/promotions."""

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Request

from app.routes.dependencies import CacheDep, SettingsDep, ShopGuardDep, SigningKeyDep, attach_upload, check_row_limit
from app.schemas.promotions import PROMOTIONS_EXAMPLE, PromotionsRequest, PromotionsResponse
from app.schemas.sales import sales_examples
from app.services.decisions.forecast_read import (
    shop_forecaster,
)
from app.services.decisions.price_response import shop_prior
from app.services.decisions.promotions import plan_promotions
from app.utils.openapi import ERROR_RESPONSES, csv_upload
from app.utils.sales_upload import SalesRoute

router = APIRouter(prefix="/api/v1/smart-shelf", tags=["promotions"], route_class=SalesRoute)


@router.post(
    "/promotions",
    response_model=PromotionsResponse,
    summary="Pair items that must clear before expiry with calendar events",
    description=(
        "For each item, ranks the calendar events between `as_of` and its sell-by day (the earlier of "
        "`expiry_date` and `season_end`) on days the shop is open by audience fit and timing, and suggests a "
        "discount (within `discount_max_pct` and the margin floor when `cost` is known), a start day (`lead_days` "
        "open days before the event) and an end day (the event's), the expected days to clear at the discounted rate "
        "(demand from the forecast of the item's `sales`, the one /forecast and /reorder make, or a sent "
        "`avg_daily_sales`; lifted by the item's learned price elasticity or PROMOTION_ELASTICITY_MULTIPLIER % "
        "per discount point), the projected lift, a confidence and a promo copy line. Only stock left over "
        "at expiry at full price is promoted; items with no usable event, and items with no sell-by day "
        "(shelf-stable: nothing to clear before a date), are listed in `unmatched` with the reason."
    ),
    responses=ERROR_RESPONSES,
    openapi_extra=csv_upload(PROMOTIONS_EXAMPLE),
)
def post_promotions(
    request: Annotated[PromotionsRequest, Body(openapi_examples=sales_examples(PROMOTIONS_EXAMPLE))],
    settings: SettingsDep,
    guard: ShopGuardDep,
    signing_key: SigningKeyDep,
    cache: CacheDep,
    http: Request,
) -> PromotionsResponse:
    """Plan promotions."""
    guard(request.shop_id)
    attach_upload(request, http)
    check_row_limit(settings, request, items=request.items, calendar_events=request.calendar_events)
    return plan_promotions(request, settings, partial(shop_prior, request.shop_id, settings, signing_key),
                           shop_forecaster(settings, cache, signing_key))
