"""Demand drivers the caller knows ahead: prices (past and planned) and promotions.

Prices come per product as series (`start` and one price per period, which may run past the
last sale into the horizon: planned prices) or as rows (`product_id`, `date`, `price`), mixed
freely in one `prices` list. Series are checked with numpy like sales series
(`app.schemas.sales`): a catalogue of prices validates in milliseconds. Everything a caller
sends here is known ahead by definition (a price list, a promotion plan), so the forecast may
read it on any date, the horizon included; prices derived from `revenue / qty` are only known
up to the last sale.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Self

import numpy as np
from pydantic import ConfigDict, Field, PrivateAttr, SkipValidation, model_validator
from typing_extensions import TypedDict

from app.schemas.common import IsoDate, ProductId, StrictModel
from app.schemas.sales import MAX_SERIES_VALUES, _check_lists, _invalid, _values

MAX_PRICE = 1e9
PLANNED_PERIODS = 366  # a price series may run this many periods past ten years of history
EPOCH = date(1970, 1, 1)
PromotionKind = Literal["price_cut", "display", "feature", "bundle"]


class PriceSeries(TypedDict):
    """A product's selling price per period (day, or week when `frequency` is weekly) from `start`;
    null = unknown. May run past the last sales date: the planned prices of the horizon."""

    __pydantic_config__ = ConfigDict(extra="forbid", strict=True, coerce_numbers_to_str=True)  # type: ignore[misc]

    product_id: ProductId
    start: IsoDate
    price: SkipValidation[list[float | None]]


class PriceRow(StrictModel):
    """A product's selling price on one date (past or planned)."""

    product_id: ProductId
    date: IsoDate
    price: float = Field(gt=0, le=MAX_PRICE, allow_inf_nan=False)


class Promotion(StrictModel):
    """A product promotion, past or planned, from `start` to `end` (both included)."""

    product_id: ProductId
    start: IsoDate
    end: IsoDate
    discount_pct: float | None = Field(default=None, gt=0, lt=100, allow_inf_nan=False,
                                       description="Price cut in %, when the promotion is one.")
    kind: PromotionKind | None = Field(default=None, description="`price_cut`, `display`, `feature` or `bundle`.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"`end` ({self.end}) is before `start` ({self.start})")
        return self


@dataclass(frozen=True)
class PriceTable:
    """Every price sent, one entry per product and day: `product` indexes `product_ids`."""

    product_ids: list[str]
    product: np.ndarray  # int64
    day: np.ndarray  # int64, days since 1970-01-01
    price: np.ndarray  # float64 > 0

    @property
    def size(self) -> int:
        return int(self.price.size)


NO_PRICES = PriceTable([], np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))


def price_table(entries: list[PriceSeries | PriceRow], step: int) -> PriceTable:
    """The prices as one table; a ValidationError names the first bad price (`prices[i].price[j]`)."""
    if not entries:
        return NO_PRICES
    series = [(i, e) for i, e in enumerate(entries) if not isinstance(e, PriceRow)]
    rows = [(i, e) for i, e in enumerate(entries) if isinstance(e, PriceRow)]
    names: dict[str, int] = {}
    products, days, prices = [], [], []
    if series:
        indices = [i for i, _ in series]
        lists = _check_lists([e for _, e in series], "price", "prices", indices,
                             limit=MAX_SERIES_VALUES + PLANNED_PERIODS)
        offsets = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum([len(values) for values in lists], out=offsets[1:])
        values = _values(lists, "price", offsets, "prices", indices)
        bad = np.flatnonzero(~np.isnan(values) & ((values <= 0) | (values > MAX_PRICE)))
        if bad.size:
            k = int(np.searchsorted(offsets, bad[0], side="right")) - 1
            raise _invalid(("prices", indices[k], "price", int(bad[0] - offsets[k])),
                           f"a price must be > 0 and <= {MAX_PRICE:g}", float(values[bad[0]]))
        for k, (_, entry) in enumerate(series):
            segment = values[offsets[k]:offsets[k + 1]]
            known = np.flatnonzero(~np.isnan(segment))
            products.append(np.full(known.size, names.setdefault(str(entry["product_id"]), len(names))))
            days.append((entry["start"] - EPOCH).days + known * step)
            prices.append(segment[known])
    for _, row in rows:
        products.append(np.array([names.setdefault(str(row.product_id), len(names))]))
        days.append(np.array([(row.date - EPOCH).days]))
        prices.append(np.array([row.price]))
    return PriceTable(list(names), np.concatenate(products).astype(np.int64), np.concatenate(days).astype(np.int64),
                      np.concatenate(prices).astype(np.float64))


class PricesPayload(StrictModel):
    """The `prices` field of every request that prices or forecasts (at-risk, promotions, and through
    `DriversPayload` forecast, training, batch and reorder)."""

    prices: list[PriceSeries | PriceRow] = Field(
        default_factory=list, max_length=100_000,
        description="Selling prices, past and planned: per product as a series (`start`, `price[i]` for period i, "
        "null = unknown, may run into the horizon) or as rows (`product_id`, `date`, `price`). Without them the "
        "price is `revenue / qty` where revenue is sent, known only up to the last sale.")
    _prices: PriceTable = PrivateAttr(default=NO_PRICES)

    @model_validator(mode="after")
    def _validate_prices(self) -> Self:
        self._prices = price_table(self.prices, 7 if getattr(self, "frequency", None) == "weekly" else 1)
        return self

    @property
    def price_table(self) -> PriceTable:
        return self._prices

    def driver_values(self) -> int:
        """Driver values sent, for the request limits: a price (row or series cell) or a promotion is one."""
        return sum(len(e["price"]) if isinstance(e, dict) else 1 for e in self.prices)


class ProductInfo(StrictModel):
    """What the caller knows of a product beyond its sales: where it sits in the catalogue."""

    product_id: ProductId
    category: str | None = Field(default=None, min_length=1, max_length=128,
                                 description="e.g. `dairy`: price elasticities are pooled within it, events may "
                                 "be scoped to it.")
    department: str | None = Field(default=None, min_length=1, max_length=128,
                                   description="e.g. `fresh food`: without a category, price elasticities pool "
                                   "within it.")


class DriversPayload(PricesPayload):
    """The driver fields of every request that forecasts (forecast, training, batch, reorder)."""

    promotions: list[Promotion] = Field(
        default_factory=list, max_length=100_000,
        description="Product promotions, past and planned (`start`..`end`, optional `discount_pct` and `kind`).")
    products: list[ProductInfo] = Field(
        default_factory=list, max_length=100_000,
        description="Products' `category` and `department` (pooling of price elasticities; event scopes).")

    @model_validator(mode="after")
    def _unique_products(self) -> Self:
        seen: set[str] = set()
        for i, info in enumerate(self.products):
            if str(info.product_id) in seen:
                raise _invalid(("products", i, "product_id"), "listed twice", info.product_id)
            seen.add(str(info.product_id))
        return self

    def category_of(self) -> dict[str, str]:
        """product_id -> category, for the products sent with one."""
        return {str(p.product_id): p.category for p in self.products if p.category is not None}

    def pool_group_of(self) -> dict[str, str]:
        """product_id -> the group its price elasticity pools within: its category, else its department."""
        return {str(p.product_id): group for p in self.products
                if (group := p.category or p.department) is not None}

    def drivers_of(self, products: list[str]) -> dict[str, list[Any]]:
        """The prices and promotions of `products`, as JSON values (a batch chunk stores its own)."""
        wanted = set(products)
        return {"prices": [e if isinstance(e, dict) else e.model_dump(mode="json") for e in self.prices
                           if str(e["product_id"] if isinstance(e, dict) else e.product_id) in wanted],
                "promotions": [p.model_dump(mode="json") for p in self.promotions if str(p.product_id) in wanted],
                "products": [p.model_dump(mode="json", exclude_none=True) for p in self.products]}

    def driver_values(self) -> int:
        return super().driver_values() + len(self.promotions) + len(self.products)
