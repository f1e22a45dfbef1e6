"""A panel of regular sales series: one row per product, one column per day or week.

Columns are periods `first_day + c * step` (step 1 = daily, 7 = weekly). Every row ends at the
panel's last column; `start[i]` is row i's first observed column, and values before it are 0
and never read as history. `build_panel` is the one place a panel is made from sales columns.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.models.drivers import Drivers
from app.utils.arrays import first_column, grid_ratio, grid_sums, prefix_sums
from app.utils.sales_frame import SalesColumns, sorted_by_product

SEASON_LENGTH = {1: 7, 7: 52}
CLOSED_FILL_WINDOW = 28  # open periods around a closed one whose mean stands in for it


@dataclass(frozen=True)
class Panel:
    product_ids: list[str]
    values: np.ndarray  # float64[n, T], net units per period, >= 0
    start: np.ndarray  # int64[n]
    first_day: int  # day number (days since 1970-01-01) of column 0
    step: int  # 1 = daily, 7 = weekly
    event_days: frozenset[int] = field(default_factory=frozenset)  # days with a caller's calendar event
    price: np.ndarray | None = None  # float64[n, T] unit price, NaN where unknown
    drivers: Drivers | None = None  # the caller's known-ahead prices, promotions and typed events
    imputed: np.ndarray | None = None  # bool[n, T]: closed days filled with the open-day level (no sale known)

    @property
    def n_products(self) -> int:
        return self.values.shape[0]

    @property
    def n_periods(self) -> int:
        return self.values.shape[1]

    @property
    def season_length(self) -> int:
        return SEASON_LENGTH[self.step]

    @property
    def observed(self) -> np.ndarray:
        """Observed periods per product -> int64[n]."""
        return self.n_periods - self.start

    def days(self, first_column: int, count: int) -> np.ndarray:
        """Day numbers of columns first_column .. first_column + count - 1 (may run past the end)."""
        return self.first_day + (first_column + np.arange(count)) * self.step

    def head(self, columns: int) -> "Panel":
        """The panel as it was before column `columns` (a backtest origin)."""
        return Panel(
            self.product_ids,
            self.values[:, :columns],
            np.minimum(self.start, columns),
            self.first_day,
            self.step,
            self.event_days,
            None if self.price is None else self.price[:, :columns],
            self.drivers,  # known ahead: a backtest origin knows the plan as a forecast does
            None if self.imputed is None else self.imputed[:, :columns],
        )

    def take(self, rows: np.ndarray) -> "Panel":
        """The panel of the given rows only (same columns)."""
        return Panel(
            [self.product_ids[r] for r in rows],
            self.values[rows],
            self.start[rows],
            self.first_day,
            self.step,
            self.event_days,
            None if self.price is None else self.price[rows],
            None if self.drivers is None else self.drivers.take(rows),
            None if self.imputed is None else self.imputed[rows],
        )

    def observed_mask(self) -> np.ndarray:
        """bool[n, T]: True where the column is inside the product's history."""
        return np.arange(self.n_periods)[None, :] >= self.start[:, None]


def infer_step(days: np.ndarray, frequency: str) -> int:
    """1 (daily) or 7 (weekly): `auto` means weekly when every date falls on the same weekday
    (and there are at least two dates); `daily`/`weekly` as named."""
    if frequency != "auto":
        return 1 if frequency == "daily" else 7
    distinct = np.unique(days)
    return 7 if distinct.size >= 2 and np.unique(distinct % 7).size == 1 else 1


@dataclass(frozen=True)
class PanelRepairs:
    """What `build_panel` had to repair, for the caller's warnings."""

    gaps: int  # periods between a product's first and last sales rows without a row, counted as zero sales
    negative: int  # periods whose net units were negative, counted as zero demand
    negative_products: list[str]  # up to 20 products with such a period, in product order
    unusable_prices: int = 0  # periods whose revenue / units was not a positive price (free items, refunds)
    unusable_price_products: list[str] = field(default_factory=list)  # up to 20 such products
    extended: int = 0  # products whose last sales row is before the origin: their history runs on to it
    extended_products: list[str] = field(default_factory=list)  # up to 20 of them, in product order
    origin_day: int = 0  # the panel's last day, the forecasts' origin
    silent_until: int = 0  # the last open period's day: `extended` products' zero sales run to it
    all_silent_after: int | None = None  # every product extended: the day of the catalogue's last row
    closed_filled: int = 0  # closed days without sales, filled with the product's open-day level


def history_periods(days: np.ndarray, frequency: str, origin_day: int | None = None) -> tuple[int, int]:
    """(step, periods from the first day to the origin): the panel's width, known before it is built.
    The origin is `origin_day` when given and later than the last day, else the last day."""
    step = infer_step(days, frequency)
    last = int(days.max()) if origin_day is None else max(int(days.max()), origin_day)
    return step, (last - int(days.min())) // step + 1


def build_panel(sales: SalesColumns, frequency: str, event_days: set[int],
                origin_day: int | None = None,
                closed: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[Panel, PanelRepairs]:
    """One row per product in `sales`, in product id order, columns from the first period to the origin's:
    `origin_day` when later than the last sale (today, as the caller says or the shop model knows), else the
    last sale's. Every product's history runs to the origin: the periods after its last sales row are zero
    sales (`extended`), so every forecast starts the period after the origin.

    Rules: a period inside a product's history with no sales row has zero sales; returns are
    netted into their period and a negative net is zero demand; a product's history starts at
    its first sales row and ends at the origin. A closed day (`closed`, a mask of day numbers; in weekly data a
    week closed on each of its seven days up to its date, e.g. the weeks after a stale export's end) without
    sales is no demand, so its zero is replaced by the product's mean over the open periods around it
    (`_fill_closed`, marked in `imputed`): the models neither learn the closure as a slump nor spread demand over
    it, the shop model's trees take no training target there and no backtest scores one. Rows are
    sorted by product id so that the order in which a caller lists its sales changes nothing: the global model sees its
    training rows (and subsamples them) in the same order.
    """
    sales = sorted_by_product(sales)
    step = infer_step(sales.day, frequency)
    first_day = int(sales.day.min())
    column = (sales.day - first_day) // step
    n_products = len(sales.product_ids)
    last_day = int(sales.day.max()) if origin_day is None else max(int(sales.day.max()), origin_day)
    n_periods = (last_day - first_day) // step + 1
    net = grid_sums(sales.product, column, n_products, n_periods, sales.qty)
    has_row = grid_sums(sales.product, column, n_products, n_periods) > 0
    start = first_column(sales.product, column, n_products, n_periods)
    last = np.full(n_products, -1, dtype=np.int64)
    np.maximum.at(last, sales.product, column)
    inside = (np.arange(n_periods)[None, :] >= start[:, None]) & (np.arange(n_periods)[None, :] <= last[:, None])
    negative = net < 0
    price = None
    unusable = np.zeros((n_products, n_periods), dtype=bool)
    if sales.revenue is not None and np.isfinite(sales.revenue).any():
        sold = np.isfinite(sales.revenue) & (sales.qty > 0)
        price = grid_ratio(sales.product[sold], column[sold], n_products, n_periods, sales.revenue[sold],
                           sales.qty[sold])
        unusable = np.isfinite(price) & ~(price > 0)  # units sold for nothing or less: no price to learn from
        price = np.where(unusable, np.nan, price)
    values = np.maximum(net, 0.0)
    filled = 0
    imputed = None
    shut = np.zeros(n_periods, dtype=bool)  # closed periods: a day, or a week closed on all its seven days
    if closed is not None:
        days = first_day + np.arange(n_periods) * step
        shut = np.logical_and.reduce([closed(days - k) for k in range(step)])
        if shut.any():
            values, imputed = _fill_closed(values, start, shut, has_row & (net > 0))
            filled = int(imputed.sum())
    # silent before the origin: no row after the last open period (a closed day without a row is no silence)
    open_columns = np.flatnonzero(~shut)
    extended = (last >= 0) & (last < (open_columns[-1] if open_columns.size else n_periods - 1))
    panel = Panel(
        product_ids=[str(p) for p in sales.product_ids],
        values=values,
        start=start,
        first_day=first_day,
        step=step,
        event_days=frozenset(event_days),
        price=price,
        imputed=imputed if filled else None,
    )
    repairs = PanelRepairs(
        gaps=int((inside & ~has_row & ~shut[None, :]).sum()), negative=int(negative.sum()),
        negative_products=[str(p) for p in sales.product_ids[np.flatnonzero(negative.any(axis=1))[:20]]],
        unusable_prices=int(unusable.sum()),
        unusable_price_products=[str(p) for p in sales.product_ids[np.flatnonzero(unusable.any(axis=1))[:20]]],
        extended=int(extended.sum()),
        extended_products=[str(p) for p in sales.product_ids[np.flatnonzero(extended)[:20]]],
        origin_day=first_day + (n_periods - 1) * step, closed_filled=filled,
        silent_until=first_day + int(open_columns[-1] if open_columns.size else n_periods - 1) * step,
        all_silent_after=first_day + int(last.max()) * step if extended.size and extended.all() else None)
    return panel, repairs


def _fill_closed(values: np.ndarray, start: np.ndarray, closed: np.ndarray,
                 sold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """values [n, T] with each closed column (closed: bool[T]) inside a product's history where it sold
    nothing (sold: bool[n, T]) replaced by the product's mean over its open columns in the
    CLOSED_FILL_WINDOW before it (else after it; else 0); and the mask of replaced cells. The closed columns
    after the last open one (the days between an old export's end and as_of) all take the mean over the last
    CLOSED_FILL_WINDOW open columns: the level before them all along, not less and less of it, nor 0 once
    the window holds no open day."""
    length = values.shape[1]
    columns = np.arange(length)
    inside = columns[None, :] >= start[:, None]
    weight = (inside & ~closed[None, :]).astype(np.float64)
    total, count = prefix_sums(values * weight), prefix_sums(weight)
    lo, hi = np.maximum(columns - CLOSED_FILL_WINDOW, 0), columns
    open_columns = np.flatnonzero(~closed)
    if open_columns.size:
        lo = np.where(columns > open_columns[-1], open_columns[max(open_columns.size - CLOSED_FILL_WINDOW, 0)], lo)
    after_lo, after_hi = np.minimum(columns + 1, length), np.minimum(columns + 1 + CLOSED_FILL_WINDOW, length)
    before_count, after_count = count[:, hi] - count[:, lo], count[:, after_hi] - count[:, after_lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        before = (total[:, hi] - total[:, lo]) / before_count
        after = (total[:, after_hi] - total[:, after_lo]) / after_count
    level = np.where(before_count > 0, before, np.where(after_count > 0, after, 0.0))
    fill = closed[None, :] & inside & ~sold
    return np.where(fill, level, values), fill
