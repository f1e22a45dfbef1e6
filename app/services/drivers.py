"""The caller's drivers (prices, promotions, typed events) laid on a forecast's panel.

`attach_drivers` gives the panel a `Drivers` covering its history and `periods` more columns
(the horizon), or none when the request sent no driver (today's behaviour). Whatever it could
not place is said in a `driver_unused` warning: prices or promotions of products without sales
in the request, and dates before the history or past the horizon.
"""

import dataclasses
import hashlib

import numpy as np

from app.models.drivers import Drivers, event_type
from app.models.panel import Panel
from app.schemas.common import DataWarning
from app.schemas.drivers import DriversPayload
from app.utils.arrays import grid_ratio
from app.utils.dates import day_number

PROMOTION_MARK = 1e-3  # a promotion without a discount: on, with no depth


def _columns(panel: Panel, days: np.ndarray) -> np.ndarray:
    return (days - panel.first_day) // panel.step


def attach_drivers(payload: object, typed_events: tuple[tuple[int, str], ...], panel: Panel,
                   periods: int) -> tuple[Panel, list[DataWarning]]:
    """`panel` with the request's drivers (or as it is without any) and what could not be used."""
    prices = payload.price_table if isinstance(payload, DriversPayload) else None
    promotions = payload.promotions if isinstance(payload, DriversPayload) else []
    if (prices is None or prices.size == 0) and not promotions and not typed_events:
        return panel, []
    width = panel.n_periods + periods
    index = {product_id: row for row, product_id in enumerate(panel.product_ids)}
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
                      {kind: np.array(sorted(set(days)), dtype=np.int64) for kind, days in sorted(typed.items())})
    warnings = []
    if unused["no_sales"]:
        warnings.append(DataWarning(code="driver_unused", count=unused["no_sales"],
                                    message="prices or promotions of products without sales in this request were "
                                    "not used"))
    if unused["outside"]:
        warnings.append(DataWarning(code="driver_unused", count=unused["outside"],
                                    message="prices or promotions dated before the history or after the horizon "
                                    "were not used"))
    return dataclasses.replace(panel, drivers=drivers), warnings


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
    return digest.digest()
