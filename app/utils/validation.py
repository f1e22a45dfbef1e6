"""Checks on request content that the schemas cannot state on their own."""

from collections.abc import Sequence

from app.utils.errors import SmartShelfError


def check_unique(values: Sequence[str], collection: str, key: str = "product_id") -> None:
    """Raise a 400 naming the first repeated `key` in `collection` (one row per product or event)."""
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in seen:
            raise SmartShelfError(
                f"duplicate {key} {value!r} (first at {collection}[{seen[value]}]); send one row each",
                field=f"{collection}[{index}].{key}",
            )
        seen[value] = index
