"""Types shared by every endpoint's request and response models."""

import re
from datetime import date, datetime
from typing import Annotated, Any, NotRequired

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from typing_extensions import TypedDict

# An ISO date, or an ISO datetime with or without seconds and zone (a till writes `2010-12-01 08:26:00`: the
# shop's own calendar); the calendar date written in it counts. Nothing else: "20251120" or 0 would otherwise
# be read as Unix seconds (1970).
ISO_DATE_PATTERN = (r"^\d{4}-\d{2}-\d{2}(?:[Tt ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?"
                    r"(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)?)?$")
_ISO_DATE = re.compile(ISO_DATE_PATTERN)
DATE_DESCRIPTION = ("ISO date (`2025-11-20`) or ISO datetime, with or without a zone (`2025-11-20T00:00:00Z`, "
                    "`2025-11-20 08:26:00`); a datetime counts as the calendar date written in it.")
DATE_SCHEMA = WithJsonSchema({"anyOf": [{"type": "string", "format": "date"},
                                        {"type": "string", "format": "date-time"}], "description": DATE_DESCRIPTION})


def _written_date(value: Any) -> date:
    """The calendar date written in an ISO date or datetime string (date objects pass through)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be an ISO date (2025-11-20) or an ISO datetime (2025-11-20T00:00:00Z, "
                         "2025-11-20 08:26:00)")
    return date.fromisoformat(value[:10])


IsoDate = Annotated[date, BeforeValidator(_written_date), DATE_SCHEMA]
# ids may arrive as JSON numbers (a POS's item number): they are read as their text
_ID_SCHEMA = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 128}, {"type": "number"}],
              "description": "Text, or a number (read as its text)."}
ShopId = Annotated[str, Field(min_length=1, max_length=128, strict=False),
                   WithJsonSchema({**_ID_SCHEMA, "examples": ["shop_123"]})]
ProductId = Annotated[str, Field(min_length=1, max_length=128, strict=False),
                      WithJsonSchema({**_ID_SCHEMA, "examples": ["p001"]})]
# Bounded so that sums and products of request numbers stay finite in float64 (1e12 units or
# currency units per row is far beyond any shop); NaN and Infinity are not JSON numbers anyway.
AS_OF_DESCRIPTION = (
    "The last day the sales cover, as of its close: yesterday with a morning export of the till, today after "
    "closing. Sales after it are ignored (`future_sales`), every product's history runs to it, and forecasts and "
    "decisions start the day after (stock expiring the day after `as_of` still sells that day). Default: the "
    "latest date in the sales.")
FINITE_BOUND = 1e12
FiniteFloat = Annotated[float, Field(allow_inf_nan=False, ge=-FINITE_BOUND, le=FINITE_BOUND)]
NonNegative = Annotated[float, Field(ge=0, le=FINITE_BOUND, allow_inf_nan=False)]


class SaleRow(TypedDict):
    """One sales row: units of a product sold on a date (negative qty = returns).

    A TypedDict rather than a model: sales arrive by the hundred thousand, and validating
    them into dicts is about five times cheaper than into model instances.
    """

    __pydantic_config__ = ConfigDict(coerce_numbers_to_str=True, extra="forbid", strict=True)  # type: ignore[misc]

    product_id: ProductId
    # checked by pattern here (in Rust) and turned into days by numpy, a column at a time
    date: Annotated[str, Field(pattern=ISO_DATE_PATTERN), DATE_SCHEMA]
    qty: FiniteFloat
    revenue: NotRequired[FiniteFloat | None]


class StrictModel(BaseModel):
    """Request models reject unknown fields, so a misspelt field is an error, not ignored, and read
    numbers strictly: "5" is not a number and true is not 1 (ids excepted, see ProductId)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, strict=True)


class DataWarning(BaseModel):
    """A data-quality rule that was applied to the caller's input."""

    code: str = Field(description="Stable machine-readable name of the rule.")
    message: str = Field(description="What was found and what was done about it.")
    count: int = Field(description="How many rows (or products) the rule touched.")
    product_ids: list[str] = Field(
        default_factory=list, description="Up to 20 of the products concerned."
    )
