"""POST /anomalies: request and response models."""

import datetime as dt
from typing import Literal, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from app.schemas.common import DataWarning, FiniteFloat, IsoDate, NonNegative, ProductId, ShopId, StrictModel
from app.schemas.forecast import ForecastEvent, without_categories
from app.schemas.sales import SalesPayload

AnomalyType = Literal["spike", "drop", "negative_stock", "large_adjustment", "unusual_product"]


class StockMovement(StrictModel):
    product_id: ProductId
    date: IsoDate
    type: Literal["receipt", "sale", "adjustment"]
    qty: FiniteFloat = Field(description="receipt and sale: units (>= 0); adjustment: signed units.")

    @model_validator(mode="after")
    def _sign(self) -> Self:
        if self.type != "adjustment" and self.qty < 0:
            raise ValueError(f"a {self.type} moves {-self.qty:g} units in its own direction: send qty >= 0, or "
                             "a negative quantity as an adjustment")
        return self


class OpeningStock(StrictModel):
    product_id: ProductId
    quantity: NonNegative


class AnomaliesRequest(SalesPayload):
    shop_id: ShopId
    stock_movements: list[StockMovement] = Field(default_factory=list)
    opening_stock: list[OpeningStock] = Field(default_factory=list, description="Stock before the first movement.")
    false_alerts_per_year: float = Field(
        default=1.0, gt=0, le=36.5,
        description="Sensitivity: a day is a spike (drop) when its units are at or beyond the upper (lower) "
        "tail probability false_alerts_per_year / 365 / 2 of the product's normal demand, i.e. a product whose "
        "demand follows its model gets this many false alerts in a year of open days. Lower: fewer, stronger "
        "alerts.")
    z_threshold: float | None = Field(
        default=None, ge=2, le=10,
        description="Deprecated (was a robust z-score): when sent, the sensitivity is the two-sided normal tail of "
        "this z (3.5: 0.17 false alerts per product-year). Send false_alerts_per_year instead.")
    max_alerts: int = Field(default=5, ge=1, le=366,
                            description="Spikes and drops listed per product, strongest first; the rest are "
                            "counted in meta.not_shown.")
    adjustment_threshold_pct: float = Field(
        default=20, gt=0, le=100, description="Adjustments larger than this % of the stock before them."
    )
    calendar_events: list[ForecastEvent] = Field(
        default_factory=list, max_length=10_000,
        description="Known holidays and events (as /forecast takes them): their days are not judged, for the "
        "event's `product_ids` where it names them, else for every product (a bank holiday's rush or a fair's "
        "closure is the event's, not news), nor learned as normal demand; warning `event_days_not_judged` "
        "counts them. `categories` is not read here (no products list): scope an event with `product_ids`.")

    @model_validator(mode="after")
    def _one_sensitivity(self) -> Self:
        if self.z_threshold is not None and "false_alerts_per_year" in self.model_fields_set:
            raise ValueError("send false_alerts_per_year or the deprecated z_threshold, not both")
        return self

    @field_validator("calendar_events")
    @classmethod
    def _no_categories(cls, events: list[ForecastEvent]) -> list[ForecastEvent]:
        return without_categories(events, "/anomalies")


class Anomaly(BaseModel):
    product_id: str
    date: dt.date | None
    end_date: dt.date | None = Field(
        default=None, description="Spike / drop: the last day it covers; after `date` for a drop that is a run of "
        "open days without a sale (closed days inside it are not counted), `date` itself for one day.")
    type: AnomalyType
    observed: float
    expected_low: float | None
    expected_high: float | None
    score: float = Field(description="Spike / drop: -log10 of the day's tail probability under the product's "
                         "normal demand (4 = once in 10,000 days); stock rules: the size of the break; "
                         "unusual_product: the isolation-forest outlier score. Higher = stranger.")
    method: Literal["stl", "counts", "stock_rule", "isolation_forest"] = Field(
        description="stl: a dense product's STL trend and weekday pattern; counts: a slow mover's level and "
                    "weekday pattern; both with a negative binomial tail.")
    description: str


class AnomaliesMeta(BaseModel):
    shop_id: str
    products: int
    sales_days: int
    product_days: int = Field(description="Open days scored, summed over products (from each one's first sale).")
    anomalies: int = Field(description="Anomalies listed.")
    flagged: int = Field(description="Spikes and drops found, listed or not (a run of days without a sale is one).")
    flagged_days: int = Field(description="Open product-days inside those spikes and drops.")
    not_shown: int = Field(description="Spikes and drops beyond max_alerts of their product, not listed.")
    not_shown_by_product: dict[str, int] = Field(description="Those, per product (only products with some).")


class AnomaliesResponse(BaseModel):
    anomalies: list[Anomaly]
    meta: AnomaliesMeta
    warnings: list[DataWarning] = Field(default_factory=list)


ANOMALIES_EXAMPLE = {
    "shop_id": "shop_123",
    "sales": [
        {"product_id": "p001", "date": (dt.date(2025, 9, 1) + dt.timedelta(days=k)).isoformat(),
         "qty": 60.0 if k == 50 else float(10 + (k * 7919) % 5)}
        for k in range(70)
    ],
    "opening_stock": [{"product_id": "p001", "quantity": 40}],
    "stock_movements": [
        {"product_id": "p001", "date": "2025-10-01", "type": "receipt", "qty": 100},
        {"product_id": "p001", "date": "2025-10-03", "type": "adjustment", "qty": -60},
        {"product_id": "p001", "date": "2025-10-05", "type": "sale", "qty": 120},
    ],
}
