"""POST /api/v1/smart-shelf/forecast."""

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from app.routes.dependencies import (
    CacheDep,
    SettingsDep,
    ShopGuardDep,
    SigningKeyDep,
    attach_upload,
    check_row_limit,
    get_shop_guard,
)
from app.schemas.forecast import FORECAST_EXAMPLE, ForecastRequest, ForecastResponse, ProductForecast
from app.schemas.sales import sales_examples
from app.services.analytics.plot import forecast_svg
from app.services.forecasting.answer_cache import answer_by_body, body_key, remember_answer
from app.services.forecasting.latest import forecast_history, latest_forecast
from app.services.forecasting.monitoring import shop_accuracy
from app.services.forecasting.pipeline import forecast
from app.services.forecasting.shop_models import shop_model_stamp
from app.services.forecasting.spec import spec_of
from app.utils.csv_export import CSV_RESPONSE, forecast_csv, wants_csv
from app.utils.openapi import CSV_UPLOAD, ERROR_RESPONSES, NOT_FOUND
from app.utils.sales_upload import SalesRoute, uploaded_sales


class ForecastRoute(SalesRoute):
    """POST /forecast: a request repeated byte for byte is answered from the cache before it is decoded."""

    async def shortcut(self, request: Request) -> Response | None:
        if "POST" not in (self.methods or ()) or wants_csv(request) or uploaded_sales(request) is not None:
            return None
        key = body_key(await request.body())
        request.state.body_key = key
        state = request.app.state
        found = answer_by_body(state.cache, key, partial(shop_model_stamp, settings=state.settings,
                                                         signing_key=state.signing_key))
        if found is None:
            return None
        shop_id, answer = found
        get_shop_guard(request)(shop_id)
        return Response(answer, media_type="application/json")


router = APIRouter(prefix="/api/v1/smart-shelf", tags=["forecast"], route_class=ForecastRoute)


@router.post(
    "/forecast",
    response_model=ForecastResponse,
    summary="Demand forecasts per product with intervals, chosen by backtest",
    description=(
        "Forecasts `periods` days (or weeks) for one product (`product_id`), a list (`product_ids`) "
        "or every product in `sales`. With `model: auto` each product gets the family (seasonal "
        "naive, moving average, linear, Holt-Winters, intermittent TSB, global boosted trees) or "
        "the mean of two or three with the lowest error in a rolling-origin backtest on its own history; "
        "intervals come from the backtest's out-of-sample errors. Each forecast lists the candidates' "
        "backtest scores, its drivers in plain words and the data rules applied. The same request "
        "again is answered from the cache (`meta.cache`: hit); a product whose earlier forecast "
        "now has actual sales carries `realized_accuracy`. With `Accept: text/csv` the answer is one "
        "row per product and period. Sales come as `sales` rows, as `series` (one array per product, "
        "the compact form for a catalogue) or as a CSV upload (`multipart/form-data`: a `request` part "
        "with this JSON without sales, and a `sales` file, optionally gzip). A request repeated byte "
        "for byte is answered from the cache without being decoded."
    ),
    responses={**ERROR_RESPONSES, **CSV_RESPONSE},
    openapi_extra=CSV_UPLOAD,
)
def post_forecast(
    request: Annotated[ForecastRequest, Body(openapi_examples=sales_examples(FORECAST_EXAMPLE))],
    settings: SettingsDep,
    guard: ShopGuardDep,
    cache: CacheDep,
    signing_key: SigningKeyDep,
    http: Request,
) -> ForecastResponse | Response:
    """Forecast demand."""
    guard(request.shop_id)
    attach_upload(request, http)
    check_row_limit(settings, request, require_sales=True, calendar_events=request.calendar_events,
                    product_ids=request.product_ids or [])
    stamp = shop_model_stamp(request.shop_id, settings, signing_key)  # before: a training meanwhile is a miss
    response = forecast(spec_of(request), settings, cache, signing_key)
    if wants_csv(http):
        return forecast_csv(response.forecasts, f"forecast-{request.shop_id}.csv", response.warnings)
    if key := getattr(http.state, "body_key", None):
        remember_answer(cache, key, response, stamp, settings)
    return response


# the plot's route comes first: the latest forecast's `{product_id:path}` would also match ".../plot"
@router.get(
    "/forecast/{shop_id}/{product_id:path}/plot",
    summary="A picture of the latest stored forecast (SVG): history, forecast, interval band, method",
    description="Draws the newest stored forecast of the product with the recent history it was made from. "
    "Open it in a browser or put it in a report. 404 when no forecast is stored. A product id may hold a `/` "
    "(`PAIN S/SEL` as `PAIN%20S%2FSEL`).",
    response_class=Response,
    responses={**ERROR_RESPONSES, **NOT_FOUND, 200: {"content": {"image/svg+xml": {}}, "description": "An SVG image."}},
)
def get_forecast_plot(shop_id: str, product_id: str, settings: SettingsDep, cache: CacheDep,
                      guard: ShopGuardDep) -> Response:
    """Forecast plot."""
    guard(shop_id)
    stored = latest_forecast(shop_id, product_id, settings, cache)
    svg = forecast_svg(stored, forecast_history(shop_id, product_id, settings))
    return Response(svg, media_type="image/svg+xml")


@router.get(
    "/forecast/{shop_id}/{product_id:path}",
    response_model=ProductForecast,
    summary="The latest stored forecast of a product, without training",
    description="Reads the newest forecast made for this shop and product (cache, then disk). 404 when none. "
    "`Accept: text/csv` gives one row per period. A product id may hold a `/` (`PAIN S/SEL` as `PAIN%20S%2FSEL`).",
    responses={**ERROR_RESPONSES, **NOT_FOUND, **CSV_RESPONSE},
)
def get_latest_forecast(shop_id: str, product_id: str, settings: SettingsDep, cache: CacheDep, guard: ShopGuardDep,
                        http: Request) -> ProductForecast | Response:
    """Latest stored forecast."""
    guard(shop_id)
    stored = latest_forecast(shop_id, product_id, settings, cache)
    if wants_csv(http):
        return forecast_csv([stored], f"forecast-{shop_id}-{product_id}.csv")
    return stored


@router.get(
    "/accuracy/{shop_id}",
    summary="Realized accuracy per product and model family",
    description="How past forecasts did once their dates had actual sales in later requests "
    "(MAE, MAPE, bias, interval coverage, MASE vs the backtest's promise, drift). 404 when none yet.",
    responses={**ERROR_RESPONSES, **NOT_FOUND},
)
def get_accuracy(shop_id: str, settings: SettingsDep, guard: ShopGuardDep) -> dict[str, Any]:
    """Realized accuracy summary."""
    guard(shop_id)
    return shop_accuracy(shop_id, settings)
