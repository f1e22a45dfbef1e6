"""POST /promotions: request and response models (the public contract)."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from app.schemas.common import AS_OF_DESCRIPTION, DataWarning, IsoDate, NonNegative, ShopId, StrictModel
from app.schemas.drivers import PricesPayload
from app.schemas.forecast import ForecastEvent, without_categories
from app.schemas.inventory import InventoryItem
from app.schemas.sales import SalesPayload


class PromotionItem(InventoryItem):
    """An item to clear by its sell-by day: the earlier of `expiry_date` and `season_end`, as at-risk and reorder
    read it. The same inventory row as theirs is accepted as it is: an item with neither date (shelf-stable) or
    nothing on hand is listed `unmatched` with the reason ("no sell-by day: nothing to clear before a date")."""

    expiry_date: IsoDate | None = Field(default=None, description="Last day the stock may be sold; a seasonal item "
                                        "may send `season_end` instead (the earlier of the two is its sell-by day). "
                                        "Without either the item has no sell-by day and gets no promotion "
                                        "(`unmatched`).")
    quantity: NonNegative = Field(description="Units to clear.")


class CalendarEvent(ForecastEvent):
    """A day of the shop's calendar. A promotion can pair with one ahead (not on a day the shop is closed, declared
    or detected; one scoped with `product_ids` pairs with those items only), and the forecast of what sells by each
    item's sell-by day reads them all, past and ahead, as /forecast reads its `calendar_events`: the same events
    sent to /reorder and /at-risk give the same forecast and the same units left."""

    id: str = Field(min_length=1, max_length=128)


class Preferences(StrictModel):
    discount_max_pct: float | None = Field(
        default=None, gt=0, le=90, description="Largest discount; default DEFAULT_MAX_DISCOUNT_PCT."
    )
    min_margin_pct: float = Field(
        default=10.0, ge=0, lt=100, description="Keep (price - cost) / price at or above this when cost is known."
    )
    max_events_per_item: int = Field(default=1, ge=1, le=10, description="Best events listed per item.")
    lead_days: int = Field(default=2, ge=0, le=30, description="Start the promotion this many open days before the "
                           "event (days the shop is closed are skipped; not before the day after `as_of`); it ends "
                           "on the event's day.")


class PromotionsRequest(SalesPayload, PricesPayload):
    shop_id: ShopId
    items: list[PromotionItem]
    calendar_events: list[CalendarEvent] = Field(default_factory=list)
    preferences: Preferences = Field(default_factory=Preferences)
    as_of: IsoDate | None = Field(default=None, description=AS_OF_DESCRIPTION)

    @field_validator("calendar_events")
    @classmethod
    def _no_categories(cls, events: list[CalendarEvent]) -> list[CalendarEvent]:
        return without_categories(events, "/promotions")


class PromotionOutcome(BaseModel):
    """What the stock brings by its expiry or season end, at the item's base rate (and lift)."""

    units_sold: float
    units_left: float = Field(description="Units left unsold at expiry or season end (written off).")
    revenue: float
    margin: float | None = Field(description="revenue - cost x quantity: the unsold units' cost is lost either way; "
                                 "null without cost.")


class Promotion(BaseModel):
    event_id: str
    event_title: str
    event_date: date
    product_id: str
    product_name: str
    rank: int = Field(description="1 = best event for this product.")
    suggested_discount_pct: float
    promo_copy: str
    start_date: date
    end_date: date
    expected_clear_days: int | None = Field(
        description="The day after `as_of` (1 = the next day) on which the last unit sells with this promotion (full "
        "price before it, the lifted rate during it); at most the days to the sell-by day. Null when units are left "
        "at the sell-by day (`with_promotion.units_left` > 0) or the sales rate is unknown: the stock does not clear.")
    projected_sales_lift: float = Field(description="Expected % increase in unit sales.")
    price_elasticity: float | None = Field(
        default=None, description="The item's price elasticity when learned from the request's sales with revenue.")
    elasticity_source: Literal["learned", "constant"] = Field(
        default="constant", description="`learned`: the lift comes from `price_elasticity`; `constant`: from "
        "PROMOTION_ELASTICITY_MULTIPLIER (no revenue sent, or the item's prices cannot tell).")
    without_promotion: PromotionOutcome | None = Field(
        description="At full price; null when the item's sales rate is unknown.")
    with_promotion: PromotionOutcome | None = Field(
        description="With this promotion (full price before and after it); null when the rate is unknown.")
    audience_fit: float = Field(ge=0, le=1)
    confidence: Literal["high", "medium", "low"]
    reasoning: str


class UnmatchedItem(BaseModel):
    product_id: str
    product_name: str
    reason: str


class PromotionsMeta(BaseModel):
    shop_id: str
    promotions_generated: int
    items_received: int
    items_unmatched: int
    as_of: date


class PromotionsResponse(BaseModel):
    promotions: list[Promotion]
    unmatched: list[UnmatchedItem] = Field(description="Items with no usable event, and why.")
    meta: PromotionsMeta
    warnings: list[DataWarning] = Field(default_factory=list)


PROMOTIONS_EXAMPLE = {
    "shop_id": "shop_123",
    "as_of": "2025-11-15",
    "items": [
        {"product_id": "p001", "name": "Fresh Berries", "expiry_date": "2025-11-20", "quantity": 30,
         "price": 5.99, "cost": 2.50, "categories": ["produce", "fresh"]},
        {"product_id": "p002", "name": "Energy Drink", "expiry_date": "2025-11-25T00:00:00Z",
         "quantity": 48, "price": 2.49, "cost": 1.20, "categories": ["beverages"]},
    ],
    "calendar_events": [
        {"id": "evt_001", "date": "2025-11-18", "title": "Weekend Sale", "audience": "families"},
        {"id": "evt_002", "date": "2025-11-21", "title": "Exam Week", "audience": "students"},
    ],
    "sales": [
        {"product_id": "p001", "date": "2025-11-08", "qty": 4},
        {"product_id": "p001", "date": "2025-11-09", "qty": 5},
        {"product_id": "p001", "date": "2025-11-10", "qty": 3},
        {"product_id": "p001", "date": "2025-11-11", "qty": 4},
        {"product_id": "p001", "date": "2025-11-12", "qty": 5},
        {"product_id": "p001", "date": "2025-11-13", "qty": 4},
        {"product_id": "p001", "date": "2025-11-14", "qty": 3},
        {"product_id": "p002", "date": "2025-11-01", "qty": 2},
        {"product_id": "p002", "date": "2025-11-07", "qty": 3},
        {"product_id": "p002", "date": "2025-11-14", "qty": 4},
    ],
    "preferences": {"discount_max_pct": 40.0, "min_margin_pct": 10.0},
}
