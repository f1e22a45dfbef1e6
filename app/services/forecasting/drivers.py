"""The caller's drivers (prices, promotions, typed events) laid on a forecast's panel.

`attach_drivers` gives the panel a `Drivers` covering its history and `periods` more columns
(the horizon), or none when the request sent no driver (today's behaviour). Whatever it could
not place is said in a `driver_unused` warning: prices or promotions of products without sales
in the request, and dates before the history or past the horizon, scoped events none of whose
products sold here. An event with `product_ids` or `categories` counts only for those products
(as its type, `other` without one); `products[].category` lands on the panel's rows (pooling).
"""

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.models.drivers import KEY_SPAN, OTHER, Drivers, event_type, scoped_keys
from app.models.panel import Panel
from app.schemas.common import DataWarning
from app.schemas.drivers import DriversPayload
from app.schemas.forecast import ForecastEvent
from app.utils.arrays import grid_ratio
from app.utils.dates import day_number
from app.utils.errors import InvalidInputError
from app.utils.work_budget import WorkBudget

PROMOTION_MARK = 1e-3  # a promotion without a discount: on, with no depth


def _columns(panel: Panel, days: np.ndarray) -> np.ndarray:
    return (days - panel.first_day) // panel.step


def check_event_scopes(events: Sequence[ForecastEvent], known: set[str], categories: set[str]) -> None:
    """422 naming the first scope entry that names a product outside `known` or a category outside
    `categories` (the request's products: its sales, `products` and a decision's `inventory`, and the categories
    of its `products`)."""
    for i, event in enumerate(events):
        for j, product_id in enumerate(event.product_ids or []):
            if str(product_id) not in known:
                raise InvalidInputError(f"product {product_id!r} is not a product of this request (neither in the "
                                        "sales nor in `products` or `inventory`)",
                                        field=f"calendar_events[{i}].product_ids[{j}]")
        for j, category in enumerate(event.categories or []):
            if category not in categories:
                raise InvalidInputError(f"category {category!r} is not the category of any of `products`",
                                        field=f"calendar_events[{i}].categories[{j}]")


@dataclass(frozen=True)
class Scopes:
    """A panel's rows by product id and by category, to resolve event scopes."""

    index: dict[str, int]
    by_category: dict[str, list[int]]

    @classmethod
    def of(cls, product_ids: Sequence[str], category: np.ndarray | None) -> "Scopes":
        by_category: dict[str, list[int]] = {}
        for row, name in enumerate(category.tolist() if category is not None else []):
            if name is not None:
                by_category.setdefault(name, []).append(row)
        return cls({product_id: row for row, product_id in enumerate(product_ids)}, by_category)

    def rows(self, event: ForecastEvent) -> np.ndarray | None:
        """The rows a scoped event reaches (sorted int64), None when unscoped."""
        if not event.scoped:
            return None
        rows = {self.index[p] for p in map(str, event.product_ids or []) if p in self.index}
        for name in event.categories or []:
            rows.update(self.by_category.get(name, []))
        return np.array(sorted(rows), dtype=np.int64)


def _scoped_events(events: Sequence[ForecastEvent], scopes: Scopes,
                   budget: WorkBudget) -> tuple[dict[str, np.ndarray], int]:
    """Scoped events as per-type sorted `scoped_keys` of their rows in the panel, and how many concern no
    product of the panel (a product listed in `products` without sales here). The (event, product)
    pairs count against MAX_PAIRS as they are found."""
    keys: dict[str, list[np.ndarray]] = {}
    missed = pairs = 0
    for event in events:
        picked = scopes.rows(event)
        if picked is None:
            continue
        pairs += picked.size
        budget.check("pairs", {"scoped event-product pairs": pairs},
                     "scope fewer events to whole categories, or send fewer products per request")
        if not picked.size:
            missed += 1
            continue
        kind = event_type(event.type) or OTHER
        keys.setdefault(kind, []).append(scoped_keys(picked, np.full(picked.size, day_number(event.date))))
    return {kind: np.unique(np.concatenate(parts)) for kind, parts in sorted(keys.items())}, missed


def attach_drivers(payload: object, typed_events: tuple[tuple[int, str], ...], panel: Panel, periods: int,
                   budget: WorkBudget) -> tuple[Panel, list[DataWarning]]:
    """`panel` with the request's drivers (or as it is without any) and what could not be used.

    A scope naming a product outside the request (neither sold here nor in `products`) or an unknown
    category is a 422 (`check_event_scopes`)."""
    prices = payload.price_table if isinstance(payload, DriversPayload) else None
    promotions = payload.promotions if isinstance(payload, DriversPayload) else []
    listed = payload.category_of() if isinstance(payload, DriversPayload) else {}
    events: list[ForecastEvent] = list(getattr(payload, "calendar_events", None) or [])
    if isinstance(payload, DriversPayload):  # a decision's inventory items are the request's products too
        stocked = {str(item.product_id) for item in getattr(payload, "inventory", None) or []}
        check_event_scopes(events, set(panel.product_ids) | {str(p.product_id) for p in payload.products} | stocked,
                           set(listed.values()))
    category = (np.array([listed.get(p) for p in panel.product_ids], dtype=object)
                if any(p in listed for p in panel.product_ids) else None)
    grouped = payload.pool_group_of() if isinstance(payload, DriversPayload) else {}
    group = (np.array([grouped.get(p) for p in panel.product_ids], dtype=object)
             if any(p in grouped for p in panel.product_ids) else None)
    scopes = Scopes.of(panel.product_ids, category)
    scoped, missed = _scoped_events(events, scopes, budget)
    if ((prices is None or prices.size == 0) and not promotions and not typed_events and not scoped
            and group is None):
        return panel, _missed(missed)
    width = panel.n_periods + periods
    index = scopes.index
    unused: dict[str, int] = {"no_sales": 0, "outside": 0}
    price_grid = None
    if prices is not None and prices.size:
        rows = np.array([index.get(p, -1) for p in prices.product_ids], dtype=np.int64)[prices.product]
        columns = _columns(panel, prices.day)
        known = rows >= 0
        inside = known & (columns >= 0) & (columns < width)
        unused["no_sales"] += int((~known).sum())
        unused["outside"] += int((known & ~inside).sum())
        if inside.any():
            price_grid = grid_ratio(rows[inside], columns[inside], panel.n_products, width, prices.price[inside])
    promotion_grid = None
    if promotions:
        promotion_grid = np.zeros((panel.n_products, width))
        for promotion in promotions:
            row = index.get(str(promotion.product_id))
            if row is None:
                unused["no_sales"] += 1
                continue
            lo = max(_columns(panel, np.array(day_number(promotion.start))).item(), 0)
            hi = min(_columns(panel, np.array(day_number(promotion.end))).item(), width - 1)
            if hi < lo:
                unused["outside"] += 1
                continue
            depth = promotion.discount_pct / 100 if promotion.discount_pct else PROMOTION_MARK
            promotion_grid[row, lo:hi + 1] = np.maximum(promotion_grid[row, lo:hi + 1], depth)
    typed: dict[str, list[int]] = {}
    for day, name in typed_events:
        kind = event_type(name)
        if kind is not None:
            typed.setdefault(kind, []).append(day)
    drivers = Drivers(price_grid, promotion_grid,
                      {kind: np.array(sorted(set(days)), dtype=np.int64) for kind, days in sorted(typed.items())},
                      scoped, category, group)
    warnings = _missed(missed)
    if unused["no_sales"]:
        warnings.append(DataWarning(code="driver_unused", count=unused["no_sales"],
                                    message="prices or promotions of products without sales in this request were "
                                    "not used"))
    if unused["outside"]:
        warnings.append(DataWarning(code="driver_unused", count=unused["outside"],
                                    message="prices or promotions dated before the history or after the horizon "
                                    "were not used"))
    return dataclasses.replace(panel, drivers=drivers), warnings


def _missed(count: int) -> list[DataWarning]:
    if not count:
        return []
    return [DataWarning(code="driver_unused", count=count,
                        message="scoped calendar events whose products have no sales in this request were not used")]


def drivers_digest(panel: Panel, row: int | None = None) -> bytes:
    """What the panel's drivers (of one row, or all) contribute to a result key or a model version."""
    drivers = panel.drivers
    if drivers is None:
        return b""
    digest = hashlib.sha256()
    for grid in (drivers.price, drivers.promotion):
        if grid is not None:
            digest.update((grid if row is None else grid[row]).tobytes())
        digest.update(b"|")
    for kind, days in drivers.typed_days.items():
        digest.update(kind.encode() + days.tobytes())
    for kind, keys in drivers.scoped.items():  # keys are sorted: a row's are one slice
        own = keys if row is None else keys[np.searchsorted(keys, row * KEY_SPAN):
                                            np.searchsorted(keys, (row + 1) * KEY_SPAN)] % KEY_SPAN
        digest.update(b"scoped " + kind.encode() + own.tobytes())
    for names in (drivers.category, drivers.group):
        if names is not None:
            digest.update(repr(names.tolist() if row is None else names[row]).encode())
    return digest.digest()
