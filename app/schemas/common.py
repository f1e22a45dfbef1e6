"""Types shared by every endpoint's request and response models."""

from datetime import date, datetime
from typing import Annotated, NotRequired

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

IsoDate = Annotated[
    date | datetime,
    Field(
        description=(
            "ISO date (`2025-11-20`) or ISO datetime with a zone (`2025-11-20T00:00:00Z`); "
            "a datetime counts as the calendar date written in it."
        )
    ),
]
ShopId = Annotated[str, Field(min_length=1, max_length=128, examples=["shop_123"])]
ProductId = Annotated[str, Field(min_length=1, max_length=128, examples=["p001"])]
# Bounded so that sums and products of request numbers stay finite in float64 (1e12 units or
# currency units per row is far beyond any shop); NaN and Infinity are not JSON numbers anyway.
FINITE_BOUND = 1e12
FiniteFloat = Annotated[float, Field(allow_inf_nan=False, ge=-FINITE_BOUND, le=FINITE_BOUND)]
NonNegative = Annotated[float, Field(ge=0, le=FINITE_BOUND, allow_inf_nan=False)]


class SaleRow(TypedDict):
    """One sales row: units of a product sold on a date (negative qty = returns).

    A TypedDict rather than a model: sales arrive by the hundred thousand, and validating
    them into dicts is about five times cheaper than into model instances.
    """

    __pydantic_config__ = ConfigDict(coerce_numbers_to_str=True, extra="forbid")  # type: ignore[misc]

    product_id: ProductId
    date: IsoDate
    qty: FiniteFloat
    revenue: NotRequired[FiniteFloat | None]


class StrictModel(BaseModel):
    """Request models reject unknown fields, so a misspelt field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class DataWarning(BaseModel):
    """A data-quality rule that was applied to the caller's input."""

    code: str = Field(description="Stable machine-readable name of the rule.")
    message: str = Field(description="What was found and what was done about it.")
    count: int = Field(description="How many rows (or products) the rule touched.")
    product_ids: list[str] = Field(
        default_factory=list, description="Up to 20 of the products concerned."
    )
