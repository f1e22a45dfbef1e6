"""POST /forecast: request and response models (the public contract)."""

import datetime as dt
from collections.abc import Sequence
from typing import Literal, TypeVar

from pydantic import BaseModel, Field

from app.schemas.common import AS_OF_DESCRIPTION, DataWarning, IsoDate, ProductId, ShopId, StrictModel
from app.schemas.drivers import DriversPayload
from app.schemas.sales import SalesRequiredPayload

ModelName = Literal["auto", "seasonal_naive", "moving_average", "linear", "holt_winters", "intermittent", "boosted",
                    "weekday_profile", "calendar_profile"]
Frequency = Literal["auto", "daily", "weekly"]


class ForecastEvent(StrictModel):
    id: str = Field(default="", max_length=128)
    date: IsoDate
    title: str = Field(default="", max_length=256)
    type: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="`holiday`, `sporting`, `cultural`, `religious`, `national`, `benefit_day` (e.g. the days "
        "food-benefit payments arrive), `promotion`, or free text (grouped as `other`). Typed events give the "
        "shop model one signal per type; benefit days are not counted as events in the days to/since an event.")
    product_ids: list[ProductId] | None = Field(
        default=None, max_length=10_000,
        description="Only these products feel the event (a product of `sales` or `products`); with `categories`, "
        "the products in either. Unscoped events concern every product.")
    categories: list[str] | None = Field(
        default=None, max_length=1_000,
        description="Only the products of these categories (as `products[].category` names them) feel the event.")
    audience: str = Field(
        default="", max_length=128,
        description="Who the event draws, e.g. families, students, seniors, all: /promotions pairs items with it; "
        "the forecast reads the day, type and scope only. Accepted everywhere, so one calendar goes to every "
        "endpoint.")

    @property
    def scoped(self) -> bool:
        return self.product_ids is not None or self.categories is not None


class ForecastEventsPayload(BaseModel):
    """The shop's calendar events as the forecast reads them: /forecast, /reorder and /at-risk (/promotions takes
    the same events, each with an `id`, `CalendarEvent`): the same events give the same forecast on each."""

    calendar_events: list[ForecastEvent] = Field(
        default_factory=list,
        description="Known past and future events (holidays, promotions, a fair): the forecast learns and plans "
        "with them (/forecast, and the forecast /reorder, /at-risk and /promotions size the stock with: send the "
        "same events to each for one answer).")


Events = TypeVar("Events", bound=Sequence[ForecastEvent])


def without_categories(events: Events, endpoint: str) -> Events:
    """`events` as they are, or a ValueError naming the first event scoped by `categories`, which `endpoint`
    cannot read (it has no products list to give products a category)."""
    for index, event in enumerate(events):
        if event.categories is not None:
            raise ValueError(f"[{index}].categories: {endpoint} cannot read categories (it has no products list): "
                             "scope the event with product_ids")
    return events


class ForecastRequest(SalesRequiredPayload, DriversPayload, ForecastEventsPayload):
    shop_id: ShopId
    product_id: ProductId | None = Field(default=None, description="One product to forecast.")
    product_ids: list[ProductId] | None = Field(
        default=None, max_length=100_000, description="Several products; with neither field, every product in `sales`."
    )
    periods: int = Field(default=14, ge=1, le=365, description="Periods ahead (days or weeks).")
    model: ModelName = Field(default="auto", description="`auto` picks per product by backtest.")
    confidence_interval: float = Field(default=0.95, ge=0.5, le=0.995, description="Interval coverage, e.g. 0.8.")
    frequency: Frequency = Field(default="auto", description="`auto`: weekly when every date falls on one weekday.")
    as_of: IsoDate | None = Field(default=None, description=AS_OF_DESCRIPTION)


class Prediction(BaseModel):
    date: dt.date
    predicted_qty: float = Field(description="Units of the period; the product's quantities keep 4 significant "
                                 "digits of its largest forecast, at least 3 decimals.")
    lower_ci: float
    upper_ci: float


class BacktestScore(BaseModel):
    mase: float | None = Field(description="Mean absolute error / in-sample seasonal naive error.")
    rmse: float | None
    bias: float | None = Field(description="Mean of forecast - actual; positive = over-forecast.")
    mape: float | None = Field(description="In %, over periods with sales; null when none.")
    smape: float | None


class RealizedAccuracy(BaseModel):
    """How the last stored forecast for this product did against the sales sent since."""

    model_version: str
    method: str
    periods: int = Field(description="Forecast periods that now have actual sales in the request.")
    mae: float
    mape: float | None = Field(description="In %, over periods with sales; null when none.")
    bias: float = Field(description="Mean of forecast - actual.")
    coverage: float = Field(description="Share of actuals inside the stored interval, 0..1.")
    mase: float = Field(description="MAE / the product's seasonal naive scale.")
    expected_mase: float | None = Field(description="The backtest MASE the stored forecast promised.")
    drift: bool = Field(description="mase > expected_mase + max(expected_mase x DRIFT_MARGIN, 0.25): the model was "
                        "retrained.")


class PriceElasticityEstimate(BaseModel):
    value: float = Field(description="% change of units per 1% change of price (e.g. -1.8).")
    low: float = Field(description="90% interval.")
    high: float
    own_share: float = Field(description="0..1: how much of `value` comes from this product's own price changes "
                             "(the rest is the shop's).")


class ProductForecast(BaseModel):
    product_id: str
    predictions: list[Prediction]
    method: str = Field(description="Chosen family, or `a+b` / `a+b+c` for the mean of two or three families.")
    model_version: str = Field(description="method, code version and a fingerprint of the history and parameters.")
    trained_at: str = Field(description="UTC ISO-8601.")
    rmse: float | None = Field(description="Backtest RMSE of the chosen method.")
    mase: float | None = Field(description="Backtest MASE of the chosen method.")
    short_term_rmse: float | None = Field(
        default=None, description="Backtest RMSE of the chosen method over its first 7 periods (safety stock uses it)."
    )
    backtest: dict[str, BacktestScore] = Field(description="Backtest scores of every candidate.")
    drivers: list[str] = Field(description="What drives this forecast, in plain words.")
    history_periods: int
    realized_accuracy: RealizedAccuracy | None = None
    price_elasticity: PriceElasticityEstimate | None = Field(
        default=None, description="Shop-model forecasts with known prices: the product's price elasticity.")
    warnings: list[DataWarning] = Field(default_factory=list)


class ShopModelRef(BaseModel):
    """Names the shop model that served a forecast (GET /models/{shop_id} shows its card)."""

    model_version: str
    trained_at: str
    training_last_date: str


class ForecastMeta(BaseModel):
    shop_id: str
    total_products: int
    periods: int
    frequency: Literal["daily", "weekly"]
    confidence_interval: float
    model: str
    backtest_origins: int
    backtest_horizon: int
    cache: Literal["hit", "disk", "miss", "off"] = Field(
        default="off", description="hit: from the cache; disk: stored model re-predicted; miss: trained now."
    )
    shop_model: ShopModelRef | None = Field(
        default=None, description="The shop model that served these forecasts; null when models were fitted on this "
        "request's products (then a `shop_model_unused` warning says why).")
    closed_dates: list[dt.date] = Field(
        default_factory=list, description="Dates of the horizon the shop is closed (its `closed_weekdays` and "
        "`closed_dates`, as sent, remembered by the shop model or detected): no demand, forecast 0.")


class ForecastResponse(BaseModel):
    forecasts: list[ProductForecast]
    meta: ForecastMeta
    warnings: list[DataWarning] = Field(default_factory=list)


FORECAST_EXAMPLE = {
    "shop_id": "shop_123",
    "product_id": "p001",
    "sales": [
        {"product_id": "p001", "date": (dt.date(2025, 8, 1) + dt.timedelta(days=k)).isoformat(),
         "qty": float([12, 10, 11, 13, 18, 24, 21][k % 7] + (k // 30))}
        for k in range(105)
    ],
    "periods": 14,
    "model": "auto",
    "confidence_interval": 0.95,
}
