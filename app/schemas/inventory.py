"""One inventory row for every endpoint that reads stock: at-risk, reorder and promotions.

A backend keeps one shape per product and sends it anywhere; each endpoint reads the fields it
needs and requires only those (reorder: `cost`; promotions: `expiry_date` or `season_end`). Fields an endpoint
does not use are accepted and play no part in its answer.
"""

from pydantic import Field

from app.schemas.common import IsoDate, NonNegative, ProductId, StrictModel


class InventoryItem(StrictModel):
    product_id: ProductId
    sku: str = Field(default="", max_length=128)
    name: str = Field(default="", max_length=512)
    quantity: NonNegative = Field(description="Units on hand.")
    price: NonNegative = Field(description="Shelf price per unit.")
    cost: NonNegative | None = Field(default=None, description="Unit cost, when known.")
    expiry_date: IsoDate | None = Field(default=None, description="Last day the stock may be sold.")
    season_end: IsoDate | None = Field(
        default=None, description="Seasonal items: last day of the selling season (Easter, Christmas). Stock "
        "left after it is at risk, not cover; orders never exceed what sells before it.")
    lead_time_days: int | None = Field(
        default=None, ge=0, le=365, description="Supplier lead time in days (at-risk: stockout_risk looks this far "
        "ahead, at least 7; reorder: default 7).")
    on_order: NonNegative = Field(default=0, description="Units ordered and not yet received.")
    supplier: str | None = Field(default=None, max_length=256)
    min_order_qty: NonNegative = Field(default=0)
    # bounded so that whole packs stay meaningful: 1e-12 rounded orders to fractions of a unit
    pack_size: float = Field(default=1, ge=0.001, le=1e6, allow_inf_nan=False)
    shelf_life_days: int | None = Field(
        default=None, ge=1, le=3650, description="Perishables: never order more than sells in this many days.")
    categories: list[str] = Field(default_factory=list, max_length=50)
    avg_daily_sales: NonNegative | None = Field(
        default=None, description="Units/day, the fallback of /reorder, /at-risk and /promotions alike: the forecast "
        "of the item's `sales` wins wherever it is read; this rate is used where it is not (no sales, a forecast that "
        "could not be read: warning forecast_unused). Default: the recent "
        "sales rate (at-risk, promotions); reorder orders nothing without sales or this rate.")
