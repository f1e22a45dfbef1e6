"""POST /insights: request and response models (the public contract)."""

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import DataWarning, IsoDate, ShopId, StrictModel
from app.schemas.sales import MAX_SERIES_VALUES, SalesPayload

MAX_PERIODS = MAX_SERIES_VALUES  # periods one answer holds: ten years of days

Granularity = Literal["daily", "weekly", "monthly"]


class DateRange(StrictModel):
    start: IsoDate
    end: IsoDate


class InsightsRequest(SalesPayload):
    shop_id: ShopId
    range: DateRange | None = Field(
        default=None, description=f"Inclusive; default: first to last sale. At most {MAX_PERIODS:,} periods of "
        "the granularity (ten years of days; 3,653 weeks or months): a longer range is a 422 on range.")
    granularity: Granularity = "daily"
    top_k: int = Field(default=10, ge=1, le=1000)


class SeriesPoint(BaseModel):
    date: dt.date = Field(description="First day of the period (Monday for ISO weeks).")
    total_sales: float = Field(description="Net units sold in the period.")
    total_revenue: float
    moving_avg_7: float = Field(description="Mean daily net units over the 7 days ending on the period's last day "
                                "in the range (at daily grain: the mean total_sales of this and the 6 previous days).")
    moving_avg_30: float = Field(description="Mean daily net units over the 30 days ending on the period's last "
                                 "day in the range.")
    partial: bool = Field(description="The range cuts this week or month: it holds only the days inside the range "
                          "and is left out of trends.")


class TopItem(BaseModel):
    product_id: str
    total_qty: float
    total_revenue: float
    share_of_units: float = Field(description="Share of all units in the range, 0..1.")
    trend: Literal["increasing", "decreasing", "stable"]
    trend_slope: float = Field(description="Least-squares slope in units per period.")
    change_pct: float | None = Field(
        description="For an increasing or decreasing trend, the trend line's change from the range's first complete "
        "period to its last, % of the first (the line floored at 0: a fall is at most -100 %; a line rising from 0: "
        "% of the period mean); for one that no longer holds (its last four weeks left the line or stopped moving "
        "its way), the mean of the last four weeks' periods against the first four weeks' instead. For a `stable` "
        "trend (no significant line) never a line's change: the last four weeks' periods against the first four "
        "weeks' (monthly: the last complete month against the first), null when the range holds too few complete "
        "periods for that (under six weeks, 30 days or three months) or the first ones sold nothing.")


class Seasonality(BaseModel):
    peak_day: str
    peak_month: str
    weekday_index: dict[str, float] = Field(
        description="Mean daily units per weekday / overall mean daily units (1.0 = average)."
    )
    months_observed: int


class InsightsMeta(BaseModel):
    shop_id: str
    start: dt.date
    end: dt.date
    granularity: Granularity
    periods: int
    partial_periods: int = Field(description="Periods the range cuts (first and last at most).")
    total_products: int


class InsightsResponse(BaseModel):
    series: list[SeriesPoint]
    top_items: list[TopItem]
    seasonality: Seasonality
    recommendations: list[str]
    meta: InsightsMeta
    warnings: list[DataWarning] = Field(default_factory=list)


INSIGHTS_EXAMPLE = {
    "shop_id": "shop_123",
    "sales": [
        {"product_id": "p001", "date": "2025-11-01", "qty": 10, "revenue": 50.0},
        {"product_id": "p001", "date": "2025-11-02", "qty": 12, "revenue": 60.0},
        {"product_id": "p001", "date": "2025-11-08", "qty": 15, "revenue": 75.0},
        {"product_id": "p001", "date": "2025-11-09", "qty": 18, "revenue": 90.0},
        {"product_id": "p002", "date": "2025-11-03", "qty": 6, "revenue": 12.0},
        {"product_id": "p002", "date": "2025-11-10", "qty": 4, "revenue": 8.0},
        {"product_id": "p002", "date": "2025-11-14", "qty": 2, "revenue": 4.0},
    ],
    "range": {"start": "2025-11-01", "end": "2025-11-15"},
    "granularity": "daily",
    "top_k": 10,
}
