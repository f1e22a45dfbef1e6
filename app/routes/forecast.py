"""POST /api/v1/smart-shelf/forecast."""

from typing import Annotated

from fastapi import APIRouter, Body

from app.routes.dependencies import SettingsDep, check_row_limit
from app.schemas.forecast import FORECAST_EXAMPLE, ForecastRequest, ForecastResponse
from app.services.forecast import forecast_products
from app.utils.fast_json import FastJSONRoute
from app.utils.openapi import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/smart-shelf", tags=["forecast"], route_class=FastJSONRoute)


@router.post(
    "/forecast",
    response_model=ForecastResponse,
    summary="Demand forecasts per product with intervals, chosen by backtest",
    description=(
        "Forecasts `periods` days (or weeks) for one product (`product_id`), a list (`product_ids`) "
        "or every product in `sales`. With `model: auto` each product gets the family (seasonal "
        "naive, moving average, linear, Holt-Winters, intermittent TSB, global boosted trees) or "
        "pair of families with the lowest MASE in a rolling-origin backtest on its own history; "
        "intervals come from the backtest's out-of-sample errors. Each forecast lists the candidates' "
        "backtest scores, its drivers in plain words and the data rules applied."
    ),
    responses=ERROR_RESPONSES,
)
def post_forecast(
    request: Annotated[ForecastRequest, Body(openapi_examples={"product": {"value": FORECAST_EXAMPLE}})],
    settings: SettingsDep,
) -> ForecastResponse:
    """Forecast demand."""
    check_row_limit(settings, sales=request.sales, calendar_events=request.calendar_events,
                    product_ids=request.product_ids or [])
    return forecast_products(request)
