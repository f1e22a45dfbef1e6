"""POST /reorder: request and response models."""

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import AS_OF_DESCRIPTION, DataWarning, IsoDate, NonNegative, ShopId, StrictModel
from app.schemas.drivers import DriversPayload
from app.schemas.forecast import ForecastEventsPayload
from app.schemas.inventory import InventoryItem
from app.schemas.sales import SalesRequiredPayload

AbcClass = Literal["A", "B", "C"]
XyzClass = Literal["X", "Y", "Z"]


class ReorderItem(InventoryItem):
    cost: NonNegative = Field(description="Unit cost (holding cost and value tied up).")
    lead_time_days: int = Field(default=7, ge=0, le=365)


class AbcThresholds(StrictModel):
    a: float = Field(default=0.80, gt=0, lt=1, description="Cumulative revenue share of class A.")
    b: float = Field(default=0.95, gt=0, lt=1, description="Cumulative revenue share of classes A and B.")


class ReorderRequest(SalesRequiredPayload, DriversPayload, ForecastEventsPayload):
    shop_id: ShopId
    inventory: list[ReorderItem] = Field(min_length=1)
    service_level: float = Field(default=0.95, ge=0.5, le=0.999, description="Target cycle service level.")
    ordering_cost: float | None = Field(default=None, ge=0, le=1e9, allow_inf_nan=False,
                                        description="Cost per order; default ORDERING_COST.")
    holding_cost_rate: float | None = Field(
        default=None, gt=0, le=5, description="Yearly holding cost as a share of unit cost; default HOLDING_COST_RATE."
    )
    review_days: int = Field(default=1, ge=1, le=90, description="Days between stock reviews.")
    abc_thresholds: AbcThresholds = Field(default_factory=AbcThresholds)
    abc_classes: list[AbcClass] | None = Field(default=None, description="Only return these ABC classes.")
    as_of: IsoDate | None = Field(default=None, description=AS_OF_DESCRIPTION)


class ReorderRecommendation(BaseModel):
    product_id: str
    name: str
    supplier: str | None
    abc_class: AbcClass
    xyz_class: XyzClass
    urgency: Literal["critical", "high", "medium", "low"]
    current_quantity: float
    usable_quantity: float | None = Field(description="Units on hand that sell before their expiry or season end at "
                                          "the forecast (expired units count 0); null where the demand is unknown "
                                          "(no sales and no avg_daily_sales: warning items_without_sales).")
    at_risk_quantity: float | None = Field(description="Units on hand the forecast leaves unsold at expiry or season "
                                           "end: not cover (at-risk and promotions clear them); null where the demand "
                                           "is unknown (at-risk's expected_unsold_units is null there too).")
    inventory_position: float | None = Field(description="Usable units + on order; null where the demand is unknown.")
    lead_time_days: int
    expected_lead_time_demand: float
    safety_stock: float = Field(description="reorder_point - expected_lead_time_demand.")
    reorder_point: float = Field(description=(
        "Order at or below it: the point that covers the demand over lead time + review (`demand_distribution`) in "
        "`service_level` of replenishment cycles, a review finding the position up to one review's demand above "
        "it. That overshoot puts it under the plain quantile, and for smooth demand with a long review or a very "
        "skewed count it can be under the mean (a negative `safety_stock`)."))
    demand_distribution: Literal["normal", "poisson", "negative_binomial", "after_silence"] = Field(
        description="The lead-time demand's family: `negative_binomial` (or `poisson`) for whole-unit demand whose "
        "lead-time count is skewed (slow movers), `normal` where it is smooth, `after_silence` for a product "
        "with no sale over the last protection interval or more: the empirical totals that followed its earlier "
        "silences as long (docs/decisions.md).")
    expected_fill_rate: float = Field(description="Share of demand served from stock with this reorder point and "
                                      "lot: 1 - expected units short per cycle / lot; for an order capped at what "
                                      "sells within the shelf life or season, at most the share of the protection "
                                      "interval's mean demand that the position with the order covers.")
    eoq: float = Field(description="The economic order quantity. Lots are at most the forecast demand over the "
                       "item's cover days (lead time + review, lead time + shelf life, at least 28): the reasoning "
                       "says when that bound sized the order.")
    recommended_order_qty: float = Field(description="0 when the position is above the reorder point.")
    days_of_supply: float | None
    predicted_stockout_date: dt.date | None = Field(description="When on-hand stock runs out at the forecast.")
    revenue_at_risk: float = Field(description=(
        "Forecast revenue lost over the protection interval (lead time + review days) if nothing is ordered "
        "now: the demand the usable units and the units on order do not cover, at `price`."))
    forecast_method: str
    reasoning: str


class ReorderMeta(BaseModel):
    shop_id: str
    total_products: int
    to_order: int
    service_level: float
    forecast_cache: str


class ReorderResponse(BaseModel):
    recommendations: list[ReorderRecommendation]
    meta: ReorderMeta
    warnings: list[DataWarning] = Field(default_factory=list)


REORDER_EXAMPLE = {
    "shop_id": "shop_123",
    "inventory": [
        {"product_id": "p001", "name": "Fresh Milk", "quantity": 18, "price": 3.99, "cost": 2.10,
         "lead_time_days": 3, "supplier": "Dairy Co", "min_order_qty": 24, "pack_size": 12, "shelf_life_days": 10},
        {"product_id": "p002", "name": "Coffee Beans", "quantity": 140, "price": 12.5, "cost": 7.0,
         "lead_time_days": 10, "supplier": "Roasters Ltd", "pack_size": 6},
    ],
    "sales": [
        {"product_id": pid, "date": (dt.date(2025, 9, 1) + dt.timedelta(days=k)).isoformat(),
         "qty": float(base + (k * 7919) % 11 - 5 + 4 * (k % 7 == 5)),
         "revenue": round((base + (k * 7919) % 11 - 5 + 4 * (k % 7 == 5)) * price, 2)}
        for pid, base, price in (("p001", 10, 3.99), ("p002", 6, 12.5))
        for k in range(75)
    ],
    "service_level": 0.95,
}
