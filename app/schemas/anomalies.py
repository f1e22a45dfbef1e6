"""POST /anomalies: request and response models."""

import datetime as dt
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from app.schemas.common import DataWarning, FiniteFloat, IsoDate, NonNegative, ProductId, ShopId, StrictModel
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
    z_threshold: float = Field(default=3.5, ge=2, le=10, description="Robust z-score that counts as an anomaly.")
    adjustment_threshold_pct: float = Field(
        default=20, gt=0, le=100, description="Adjustments larger than this % of the stock before them."
    )


class Anomaly(BaseModel):
    product_id: str
    date: dt.date | None
    type: AnomalyType
    observed: float
    expected_low: float | None
    expected_high: float | None
    score: float = Field(description="Robust z-score, or the isolation-forest outlier score (higher = stranger).")
    method: Literal["robust_z", "stock_rule", "isolation_forest"]
    description: str


class AnomaliesMeta(BaseModel):
    shop_id: str
    products: int
    sales_days: int
    anomalies: int


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
