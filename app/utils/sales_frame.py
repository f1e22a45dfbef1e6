"""Sales as sent (rows, series, uploaded CSV) -> columnar arrays, with the data-quality rules
every endpoint shares. A series cell or CSV line is one row here: the rules below do not know
which form a value came in, so every form gives the same answer.

Rules (each reported as a `DataWarning` when it fires; none drops data silently):
- `lines_aggregated`: rows of one product and date are separate sales (two customers, two point-of-sale
  lines) and are summed, identical ones too; the warning counts the rows that shared a product and date.
- `duplicate_rows` (only with `duplicates: "drop"`): rows identical in product, date, qty and revenue are
  one daily total sent twice; the copies are removed, and distinct rows of a product and date are summed.
- `returns_netted`: a negative qty is a return; it is netted against the product's sales of that
  day. Totals stay net; demand estimates (`daily_net_units`) count a negative day as zero.
- `future_sales`: rows dated after `as_of` are not used (they have not happened yet).
- `unknown_products`: rows whose product is not in the request's inventory/items are not used.
- `items_without_sales`: the request's own inventory/items with no sales row left, named with any sales id
  equal to theirs but for case and spaces (a till's `CROISSANT` typed `Croissant`): their demand is unknown,
  not zero.
- `old_sales`: rows more than MAX_HISTORY_DAYS (10 years) before the latest sale are not used; no
  decision here looks further back, and a century-wide date range must not cost a century of days.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import pandas as pd

from app.schemas.common import DataWarning, SaleRow
from app.schemas.sales import RowValues, SaleRows, SalesPayload
from app.utils.arrays import grid_sums
from app.utils.dates import day_numbers, from_day_number, iso_day_numbers
from app.utils.errors import InvalidInputError

_MAX_LISTED = 20
MAX_HISTORY_DAYS = 3653


@dataclass(frozen=True)
class SalesColumns:
    """Sales as parallel arrays; `product` indexes `product_ids`, `row` indexes the request's values
    (its sales rows first, then its series cells and uploaded lines)."""

    product_ids: np.ndarray  # object[n_products]
    product: np.ndarray  # int64[n_rows]
    day: np.ndarray  # int64[n_rows], days since 1970-01-01
    qty: np.ndarray  # float64[n_rows]
    row: np.ndarray  # int64[n_rows], position among the request's values
    revenue: np.ndarray | None  # float64[n_rows], NaN where not sent; None when not asked for

    def take(self, mask: np.ndarray) -> "SalesColumns":
        revenue = None if self.revenue is None else self.revenue[mask]
        return SalesColumns(self.product_ids, self.product[mask], self.day[mask], self.qty[mask], self.row[mask],
                            revenue)

    @property
    def size(self) -> int:
        return int(self.qty.shape[0])


@dataclass(eq=False)
class RowColumns:
    """A request's sales rows as columns, read from the row dicts once per request: at-risk and the forecast it
    reads parse the same payload (`SalesPayload.row_cache`), and reading 90,000 dicts costs more than the rules.
    Validated rows come with their columns (`SaleRows`, read while checked); other lists are read here.
    The rows are not edited after validation (a replaced list is read again; a row edited in place would not be)."""

    product_ids: list[str]  # in order of first appearance
    product: np.ndarray  # int64[n_rows], index into product_ids
    day: np.ndarray  # int64[n_rows]
    qty: np.ndarray  # float64[n_rows]
    rows: Sequence[SaleRow]
    _revenue: np.ndarray | None = None

    def revenue(self) -> np.ndarray:
        """Revenue of every row, NaN where absent (read on first use: most decisions never read it)."""
        if self._revenue is None:
            nan = float("nan")
            self._revenue = np.fromiter((nan if (v := row.get("revenue")) is None else v for row in self.rows),
                                        np.float64, len(self.rows))
        return self._revenue


def _row_values(rows: Sequence[SaleRow]) -> tuple[RowValues, bool]:
    """The columns of rows as validated: those read by the check (`SaleRows`, unless rows were added since),
    revenue included (True), else read here, revenue left to be read on first use (False: its column holds no value
    yet)."""
    if isinstance(rows, SaleRows) and rows.values.qty.shape[0] == len(rows):
        return rows.values, True
    n = len(rows)
    codes: defaultdict[str, int] = defaultdict()
    codes.default_factory = codes.__len__
    product = np.fromiter(map(codes.__getitem__, map(itemgetter("product_id"), rows)), np.int64, n)
    # a few hundred dates for 100,000 rows: coded as the products are (one pass), each parsed once
    dates: defaultdict[str, int] = defaultdict()
    dates.default_factory = dates.__len__
    date_code = np.fromiter(map(dates.__getitem__, map(itemgetter("date"), rows)), np.int64, n)
    qty = np.fromiter(map(itemgetter("qty"), rows), np.float64, n)
    return RowValues(list(codes), product, list(dates), date_code, qty, np.empty(0)), False


def row_columns(payload: SalesPayload) -> RowColumns:
    """The payload's rows as columns, computed once and kept on the payload. Raises InvalidInputError naming
    the first row whose date is not a real date."""
    rows = payload.sales
    cached = payload.row_cache.get("columns")
    if cached is not None and cached.rows is rows and cached.qty.shape[0] == len(rows):
        return cached
    values, with_revenue = _row_values(rows)
    try:
        day = iso_day_numbers(values.dates)[values.date]
    except ValueError as exc:
        message, index = exc.args
        bad = values.dates[index]
        row = next(i for i, r in enumerate(rows) if r["date"] == bad)
        raise InvalidInputError(message, field=f"sales[{row}].date") from None
    columns = RowColumns(values.product_ids, values.product, day, values.qty, rows,
                         values.revenue if with_revenue else None)
    payload.row_cache["columns"] = columns
    return columns


@dataclass(frozen=True)
class _Source:
    """Where a request's values came from, to read revenue lazily: the rows' (read once per request) and
    those of the series cells and CSV lines after them (arrays already)."""

    rows: RowColumns
    tail_revenue: np.ndarray  # float64, revenue of the values after the rows

    def revenue(self, positions: np.ndarray | None = None) -> np.ndarray:
        if positions is None:
            return np.concatenate([self.rows.revenue(), self.tail_revenue])
        n_rows = self.rows.qty.shape[0]
        in_rows = positions < n_rows
        revenue = np.empty(positions.shape[0], dtype=np.float64)
        revenue[in_rows] = self.rows.revenue()[positions[in_rows]]
        revenue[~in_rows] = self.tail_revenue[positions[~in_rows] - n_rows]
        return revenue


def _series_block(payload: SalesPayload, codes: defaultdict[str, int]) -> tuple[np.ndarray, ...]:
    """Product, day, qty and revenue of every non-null series cell (a null is no record)."""
    values = payload.series_values
    lengths = values.lengths
    if not payload.series:
        empty = np.zeros(0)
        return empty.astype(np.int64), empty.astype(np.int64), empty, empty
    starts = day_numbers((s["start"] for s in payload.series), len(payload.series))
    series = np.repeat(np.arange(len(payload.series)), lengths)
    position = np.arange(values.qty.size, dtype=np.int64) - values.offsets[series]
    kept = ~np.isnan(values.qty)
    # a series with no value (all null) sends nothing: its product gets no code
    sent = np.bincount(series[kept], minlength=len(payload.series)) > 0
    series_codes = (codes[s["product_id"]] if has_values else -1 for s, has_values in zip(payload.series, sent,
                                                                                            strict=True))
    product = np.fromiter(series_codes, np.int64, len(payload.series))[series]
    day = starts[series] + payload.series_step() * position
    return product[kept], day[kept], values.qty[kept], values.revenue[kept]


def sales_columns(payload: SalesPayload, product_ids: Sequence[str] | None = None,
                  with_revenue: bool = False) -> tuple[SalesColumns, _Source]:
    """Columns of every value the request carries: rows, then series cells, then uploaded lines.

    With `product_ids` (the request's own products), code i < len(product_ids) is
    `product_ids[i]`, and products sold but not in that list get the codes after it, in order of
    first appearance. Revenue is read only `with_revenue`.
    """
    rows = row_columns(payload)
    # known products keep their index, each new product gets the next code in order of first appearance
    codes: defaultdict[str, int] = defaultdict()
    codes.update((product_id, index) for index, product_id in enumerate(product_ids or ()))
    codes.default_factory = codes.__len__
    row_codes = np.fromiter(map(codes.__getitem__, rows.product_ids), np.int64, len(rows.product_ids))
    product = [row_codes[rows.product]]
    day = [rows.day]
    qty = [rows.qty]
    series_product, series_day, series_qty, series_revenue = _series_block(payload, codes)
    product.append(series_product)
    day.append(series_day)
    qty.append(series_qty)
    tail_revenue = [series_revenue]
    upload = payload.upload
    if upload is not None:
        upload_codes = np.fromiter(map(codes.__getitem__, upload.product_ids), np.int64, len(upload.product_ids))
        product.append(upload_codes[upload.product])
        day.append(upload.day)
        qty.append(upload.qty)
        tail_revenue.append(upload.revenue)
    source = _Source(rows, np.concatenate(tail_revenue))
    total = rows.qty.shape[0] + source.tail_revenue.size
    columns = SalesColumns(
        product_ids=np.asarray(list(codes), dtype=object),
        product=np.concatenate(product),
        day=np.concatenate(day),
        qty=np.concatenate(qty),
        row=np.arange(total, dtype=np.int64),
        revenue=source.revenue() if with_revenue else None,
    )
    return columns, source


def latest_sale_day(payload: SalesPayload) -> int | None:
    """The latest date of all the request's sales (rows, series cells, uploaded lines), whatever their product;
    None when it holds none. Without `as_of` it is the day every answer is made on (docs/sales.md "Today is
    the origin"): the owner who uploads the whole till export and asks about one article is asking on the
    export's last day, not on that article's last sale (a slow seller's weeks-old one, or none for a mistyped
    id)."""
    days = [row_columns(payload).day, _series_block(payload, defaultdict(int))[1]]
    if payload.upload is not None:
        days.append(payload.upload.day)
    latest = [int(part.max()) for part in days if part.size]
    return max(latest) if latest else None


def sorted_by_product(sales: SalesColumns) -> SalesColumns:
    """The same columns with product codes renumbered in product id order."""
    order = np.argsort(sales.product_ids.astype(str), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return SalesColumns(sales.product_ids[order], rank[sales.product], sales.day, sales.qty, sales.row, sales.revenue)


def first_seen(sales: SalesColumns) -> list[str]:
    """Products with at least one value, in order of their first value."""
    codes, first = np.unique(sales.product, return_index=True)
    return [str(sales.product_ids[code]) for code in codes[np.argsort(first, kind="stable")]]


def _listed(product_ids: np.ndarray, codes: np.ndarray) -> list[str]:
    return [str(p) for p in product_ids[np.unique(codes)[:_MAX_LISTED]]]


def _product_day_keys(sales: SalesColumns) -> np.ndarray:
    """int64[n_rows]: one number per (product, day), equal for the rows of one product and day."""
    return sales.product * (int(sales.day.max()) - int(sales.day.min()) + 1) + (sales.day - sales.day.min())


def drop_duplicate_rows(source: _Source, sales: SalesColumns) -> tuple[SalesColumns, DataWarning | None]:
    """Remove rows identical in every field to an earlier row.

    Most payloads have one row per product and day, so rows are first keyed by (product, day)
    with a hash check; only rows sharing a key are compared on qty and revenue.
    """
    if sales.size < 2:
        return sales, None
    key = _product_day_keys(sales)
    shared = pd.Index(key).duplicated(keep=False)
    if not shared.any():
        return sales, None
    candidates = np.flatnonzero(shared)
    revenue = source.revenue(sales.row[candidates]) if sales.revenue is None else sales.revenue[candidates]
    revenue_key = np.where(np.isnan(revenue), -np.inf, revenue)
    qty = sales.qty[candidates]
    order = np.lexsort((revenue_key, qty, key[candidates]))
    same = (
        (np.diff(key[candidates][order]) == 0)
        & (np.diff(qty[order]) == 0)
        & (revenue_key[order][1:] == revenue_key[order][:-1])
    )
    if not same.any():
        return sales, None
    duplicate = np.zeros(sales.size, dtype=bool)
    duplicate[candidates[order[1:][same]]] = True
    count = int(duplicate.sum())
    warning = DataWarning(
        code="duplicate_rows",
        message=f"{count} sales rows repeated an earlier row exactly (same product, date, qty, revenue) "
        "and were counted once.",
        count=count,
        product_ids=_listed(sales.product_ids, sales.product[duplicate]),
    )
    return sales.take(~duplicate), warning


def aggregated_lines(sales: SalesColumns) -> DataWarning | None:
    """`lines_aggregated`: how many rows shared their product and date with another row (they are summed)."""
    if sales.size < 2:
        return None
    key = _product_day_keys(sales)
    shared = pd.Index(key).duplicated(keep=False)
    count = int(shared.sum())
    if not count:
        return None
    groups = int(pd.Index(key[shared]).nunique())
    return DataWarning(
        code="lines_aggregated",
        message=f"{count} sales rows shared their product and date with another row; they were summed into "
        f"{groups} daily totals (send \"duplicates\": \"drop\" if a repeated row is the same total sent twice).",
        count=count,
        product_ids=_listed(sales.product_ids, sales.product[shared]),
    )


def returns_warning(sales: SalesColumns) -> DataWarning | None:
    returns = sales.qty < 0
    count = int(returns.sum())
    if not count:
        return None
    return DataWarning(
        code="returns_netted",
        message=f"{count} sales rows had negative qty; they were treated as returns and netted "
        "against the same product's sales of that day.",
        count=count,
        product_ids=_listed(sales.product_ids, sales.product[returns]),
    )


def _drop(sales: SalesColumns, rows: np.ndarray, code: str, message: str) -> tuple[SalesColumns, DataWarning | None]:
    """Remove the `rows` mask, reported as `code`; `message` follows the row count."""
    count = int(rows.sum())
    if not count:
        return sales, None
    warning = DataWarning(code=code, message=f"{count} sales rows {message}", count=count,
                          product_ids=_listed(sales.product_ids, sales.product[rows]))
    return sales.take(~rows), warning


def drop_future_rows(sales: SalesColumns, as_of_day: int) -> tuple[SalesColumns, DataWarning | None]:
    return _drop(sales, sales.day > as_of_day, "future_sales", "were dated after as_of and were not used.")


def drop_old_rows(sales: SalesColumns) -> tuple[SalesColumns, DataWarning | None]:
    if sales.size == 0:
        return sales, None
    return _drop(sales, sales.day < int(sales.day.max()) - MAX_HISTORY_DAYS + 1, "old_sales",
                 f"were more than {MAX_HISTORY_DAYS} days (10 years) older than the latest sale and were not used.")


def drop_unknown_products(
    sales: SalesColumns, n_known: int, source: str
) -> tuple[SalesColumns, DataWarning | None]:
    """Remove rows for products outside the request's own `source` list (codes >= n_known)."""
    return _drop(sales, sales.product >= n_known, "unknown_products",
                 f"were for products not in {source}: they get no answer, but their sales still train the "
                 "request's shared forecast models and tell the shop's closed days.")


def items_without_sales(sales: SalesColumns, product_ids: Sequence[str], sent: SalesColumns, source: str,
                        as_of_day: int | None = None) -> DataWarning | None:
    """`items_without_sales`: the `product_ids` (the request's own `source` list, codes < their count) with no row
    in `sales` (`without_sales`)."""
    n = len(product_ids)
    has_rows = np.bincount(sales.product[sales.product < n], minlength=n)[:n] > 0
    missing = [p for p, has in zip(product_ids, has_rows, strict=True) if not has]
    return without_sales(missing, sent, source, as_of_day) if missing else None


UNKNOWN_DEMAND = "Their demand is unknown, not zero (their avg_daily_sales is read where sent)"


def without_sales(missing: Sequence[str], sent: SalesColumns, source: str, as_of_day: int | None,
                  consequence: str = UNKNOWN_DEMAND) -> DataWarning:
    """`items_without_sales` for the `missing` ids of the request's `source` list, and what follows for them
    (`consequence`). Each is named with what `sent` (the sales as sent, lines after `as_of` included) says of it:
    a new article whose sales all lie after `as_of` with its first day (there is no id to fix: it was not sold
    yet), else the sales' ids equal to it but for case and spaces (a till's `CROISSANT` typed `Croissant`)."""
    first = first_sale_days(sent, missing)
    new = {p for p, day in first.items() if as_of_day is not None and day > as_of_day}
    alike: dict[str, list[str]] = {}
    for sold in sent.product_ids[np.flatnonzero(np.bincount(sent.product, minlength=len(sent.product_ids)))]:
        alike.setdefault(_loose(str(sold)), []).append(str(sold))
    named = []
    for product_id in missing[:_MAX_LISTED]:
        near = [sold for sold in alike.get(_loose(product_id), []) if sold != product_id]
        named.append(repr(product_id) + (
            f" (its sales start after as_of, on {from_day_number(first[product_id])})" if product_id in new
            else f" (the sales have {near[0]!r})" if near else ""))
    more = f" and {len(missing) - len(named)} more" if len(missing) > len(named) else ""
    noun = "item" if source == "items" else f"{source} item"  # promotions' `items`: not "1 items item"
    count = f"1 {noun} has" if len(missing) == 1 else f"{len(missing)} {noun}s have"
    where = "up to as_of" if new else "in the request"
    check = ": a product_id must match the sales' exactly." if len(new) < len(missing) else "."
    return DataWarning(
        code="items_without_sales", count=len(missing), product_ids=list(missing[:_MAX_LISTED]),
        message=f"{count} no sales {where}: {', '.join(named)}{more}. {consequence}{check}")


def first_sale_days(sent: SalesColumns, product_ids: Sequence[str]) -> dict[str, int]:
    """The first sale day of each of `product_ids` that `sent` has rows of (the others are left out)."""
    codes = {str(product_id): code for code, product_id in enumerate(sent.product_ids)}
    asked = {product_id: codes[product_id] for product_id in product_ids if product_id in codes}
    if not asked:
        return {}
    rows = np.isin(sent.product, np.fromiter(asked.values(), np.int64, len(asked)))
    none = np.iinfo(np.int64).max  # a code without rows (an inventory id the sales do not hold)
    first = np.full(len(sent.product_ids), none)
    np.minimum.at(first, sent.product[rows], sent.day[rows])
    return {product_id: int(first[code]) for product_id, code in asked.items() if first[code] != none}


def _loose(product_id: str) -> str:
    """An id as a person reads it: case and runs of spaces ignored."""
    return " ".join(product_id.split()).casefold()


def daily_net_units(sales: SalesColumns, n_products: int, first_day: int, n_days: int) -> np.ndarray:
    """Net units per product and day -> float64[n_products, n_days], negative days clipped to 0.

    Rows outside [first_day, first_day + n_days) are ignored.
    """
    offset = sales.day - first_day
    inside = (offset >= 0) & (offset < n_days) & (sales.product < n_products)
    grid = grid_sums(sales.product[inside], offset[inside], n_products, n_days, sales.qty[inside])
    return np.clip(grid, 0.0, None)


def clean_sales(
    payload: SalesPayload,
    product_ids: Sequence[str] | None = None,
    as_of_day: int | None = None,
    source: str = "",
    with_revenue: bool = False,
) -> tuple[SalesColumns, list[DataWarning]]:
    """Apply every rule in this module's docstring.

    With `product_ids`, codes index that list and other products' rows are dropped (reported);
    without, every product sold gets its own code.
    """
    sales, origin = sales_columns(payload, product_ids, with_revenue)
    warnings: list[DataWarning] = list(payload.upload.warnings) if payload.upload is not None else []
    if payload.duplicates == "drop":
        sales, warning = drop_duplicate_rows(origin, sales)
        warnings += [warning] if warning else []
    sent = sales  # every product the sales name, before the rules below drop rows
    if product_ids is not None:
        sales, warning = drop_unknown_products(sales, len(product_ids), source)
        warnings += [warning] if warning else []
    if as_of_day is not None:
        sales, warning = drop_future_rows(sales, as_of_day)
        warnings += [warning] if warning else []
    sales, warning = drop_old_rows(sales)
    warnings += [warning] if warning else []
    for warning in (aggregated_lines(sales), returns_warning(sales)):
        warnings += [warning] if warning else []
    if product_ids is not None:
        warning = items_without_sales(sales, product_ids, sent, source, as_of_day)
        warnings += [warning] if warning else []
    return sales, warnings
