"""POST /at-risk: request and response models (the public contract)."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from app.schemas.common import (
    AS_OF_DESCRIPTION,
    DataWarning,
    IsoDate,
    NonNegative,
    ShopId,
    StrictModel,
)
from app.schemas.drivers import PricesPayload
from app.schemas.forecast import ForecastEvent, ForecastEventsPayload, without_categories
from app.schemas.inventory import InventoryItem
from app.schemas.sales import SalesPayload

RiskReason = Literal["out_of_stock", "season_over", "low_stock", "stockout_risk", "near_expiry", "expired",
                     "slow_moving", "unsellable_before_expiry"]
ActionType = Literal["restock", "discount", "bundle", "clearance", "remove", "monitor"]


class Thresholds(StrictModel):
    low_stock: NonNegative = Field(default=10, description="Flag when quantity <= this.")
    expiry_days: int = Field(default=7, ge=0, le=3650, description="Flag expiry within this many days.")
    slow_moving_window: int = Field(default=30, ge=1, le=730, description="Days of sales to average.")
    slow_moving_threshold: NonNegative = Field(
        default=0.5, description=("Flag when the daily demand is below this: the forecast's where one is read, "
                                  "else the average daily sales over `slow_moving_window`.")
    )


class AtRiskRequest(SalesPayload, PricesPayload, ForecastEventsPayload):
    shop_id: ShopId
    inventory: list[InventoryItem]
    thresholds: Thresholds = Field(default_factory=Thresholds)
    as_of: IsoDate | None = Field(default=None, description=AS_OF_DESCRIPTION)

    @field_validator("calendar_events")
    @classmethod
    def _no_categories(cls, events: list[ForecastEvent]) -> list[ForecastEvent]:
        return without_categories(events, "/at-risk")


class RecommendedAction(BaseModel):
    action_type: ActionType
    discount_range: tuple[float, float] | None = Field(
        description="The suggested discount in percent as (low, high), both the one number the reasoning names "
        "(and /promotions suggests); null when no discount is advised."
    )
    promotion_timing: str
    reasoning: str
    price_elasticity: float | None = Field(
        default=None, description="The markdown's item price elasticity, when learned from the request's sales with "
        "`prices` or revenue (null: the constant rule sized it, or no markdown is advised).")
    elasticity_source: Literal["learned", "constant"] | None = Field(
        default=None, description="What sized the markdown: `learned` (`price_elasticity`) or `constant` "
        "(PROMOTION_ELASTICITY_MULTIPLIER); null when no markdown is advised.")


class AtRiskItem(BaseModel):
    product_id: str
    sku: str
    name: str
    reasons: list[RiskReason]
    score: float = Field(ge=0, le=1)
    current_quantity: float
    days_to_expiry: int | None
    avg_daily_sales: float = Field(
        description="The item's `avg_daily_sales` as sent, else its recent sales rate: units per open day over "
        "`slow_moving_window`. Every signal (slow_moving, turnover_rate and the stock numbers) reads it only "
        "without `forecast_method`; with one they read the forecast's daily demand."
    )
    forecast_method: str | None = Field(
        default=None, description="The forecast's method when the stock numbers (out_of_stock, stockout_risk, "
        "days_of_supply, stockout_date, expected_unsold_units) come from the item's forecast, the same as /reorder's; "
        "null when they come from `avg_daily_sales` (items without sales, or where the forecast could not be read: "
        "warning forecast_unused).")
    days_of_supply: float | None = Field(
        description="The days the usable units (those that sell before expiry or season end) last along the "
        "item's daily demand path: the forecast's day by day (a busy Saturday uses more than a quiet Tuesday), past "
        "its days at its mean rate, else `avg_daily_sales` on open days; to 0.1 day, the same number as /reorder's "
        "`days_of_supply`; null when nothing sells.")
    expected_unsold_units: float | None = Field(
        description="Units left at expiry or season end by the item's forecast (reorder's `at_risk_quantity`); "
        "null without an expiry date or season end."
    )
    stockout_date: date | None = Field(
        description="When the usable units run out: by the forecast's daily path (as /reorder's "
        "`predicted_stockout_date`), else at `avg_daily_sales`; null if nothing sells.")
    value_tied_up: float | None = Field(description="quantity x cost; null without cost.")
    turnover_rate: float | None = Field(description="Yearly sales / stock on hand at the item's daily demand (the "
                                        "forecast's with `forecast_method`, else `avg_daily_sales`).")
    recommended_action: RecommendedAction


class AtRiskMeta(BaseModel):
    shop_id: str
    total_products: int
    flagged_count: int
    as_of: date


class SlowMover(BaseModel):
    product_id: str
    value_tied_up: float | None
    turnover_rate: float
    days_of_supply: float | None


class AtRiskResponse(BaseModel):
    at_risk: list[AtRiskItem]
    slow_movers: list[SlowMover] = Field(
        default_factory=list, description="Slow movers by value tied up (quantity x cost), largest first."
    )
    meta: AtRiskMeta
    warnings: list[DataWarning] = Field(default_factory=list)


AT_RISK_EXAMPLE = {
    "shop_id": "shop_123",
    "as_of": "2025-11-15",
    "inventory": [
        {"product_id": "p001", "sku": "SKU001", "name": "Fresh Milk", "quantity": 5,
         "expiry_date": "2025-11-20T00:00:00Z", "price": 3.99, "cost": 2.10},
        {"product_id": "p002", "sku": "SKU002", "name": "Greek Yogurt", "quantity": 60,
         "expiry_date": "2025-11-19", "price": 1.49, "cost": 0.70},
        {"product_id": "p003", "sku": "SKU003", "name": "Sparkling Water", "quantity": 80,
         "price": 0.99, "cost": 0.35},
    ],
    "sales": [
        {"product_id": "p001", "date": "2025-11-10", "qty": 2.0, "revenue": 7.98},
        {"product_id": "p001", "date": "2025-11-12", "qty": 3.0, "revenue": 11.97},
        {"product_id": "p001", "date": "2025-11-14", "qty": 4.0, "revenue": 15.96},
        {"product_id": "p002", "date": "2025-11-13", "qty": 3.0, "revenue": 4.47},
        {"product_id": "p002", "date": "2025-11-14", "qty": 2.0, "revenue": 2.98},
        {"product_id": "p003", "date": "2025-11-01", "qty": 4.0, "revenue": 3.96},
    ],
    "thresholds": {"low_stock": 10, "expiry_days": 7, "slow_moving_window": 30,
                   "slow_moving_threshold": 0.5},
}
