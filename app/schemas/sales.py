"""Sales as the caller sends them: rows, series, or (on some endpoints) an uploaded CSV.

Every request that carries sales inherits `SalesPayload`: `sales` (one JSON object per product and
date) and `series` (one array of values per product from a start date) may be sent together, and
a CSV upload is attached by the route as a `SalesBlock`. Whatever the form, the service sees the
same thing: one value per product and date, under the same data-quality rules
(`app/utils/sales_frame.py`).

Series values are checked here with numpy rather than element by element by pydantic: a
catalogue of 1.6 million values validates in tens of milliseconds instead of hundreds. Rows are read a column
at a time too (`read_rows`): when every row is a plain one (text ids and dates, float numbers) their columns are
checked at once and kept for the request (`SaleRows`), pydantic checking only the distinct ids and dates; any
other row set is validated by pydantic row by row, whose errors name the row and field.
"""

import re
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from itertools import chain, repeat
from operator import itemgetter
from typing import Annotated, Any, Literal, NotRequired, Self, get_type_hints

import numpy as np
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SkipValidation,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from typing_extensions import TypedDict

from app.schemas.common import FINITE_BOUND, DataWarning, IsoDate, ProductId, SaleRow, StrictModel

MAX_SERIES_VALUES = 3653  # ten years of days: older sales are not used anyway (`old_sales`)


class SaleSeries(TypedDict):
    """A product's sales as one value per period (day, or week when `frequency` is weekly) from `start`.

    `null` means no record for that period, exactly like a missing sales row.
    """

    __pydantic_config__ = ConfigDict(extra="forbid", strict=True, coerce_numbers_to_str=True)  # type: ignore[misc]

    product_id: ProductId
    start: IsoDate
    qty: SkipValidation[list[float | None]]
    revenue: NotRequired[SkipValidation[list[float | None]] | None]


@dataclass(frozen=True)
class SeriesValues:
    """Every series' values, concatenated: series i holds `qty[offsets[i]:offsets[i + 1]]`.

    float64 arrays, NaN = no record; `revenue` is NaN wherever a series sent none.
    """

    qty: np.ndarray
    revenue: np.ndarray
    offsets: np.ndarray  # int64[n_series + 1]

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


NO_SERIES = SeriesValues(np.zeros(0), np.zeros(0), np.zeros(1, dtype=np.int64))


@dataclass(frozen=True)
class SalesBlock:
    """Sales that arrived as columns (CSV lines), one entry per line.

    `product` indexes `product_ids`; `day` is days since 1970-01-01; `revenue` is NaN where the
    line had none. `values` counts the lines, for the request limits.
    """

    product_ids: list[str]
    product: np.ndarray  # int64
    day: np.ndarray  # int64
    qty: np.ndarray  # float64
    revenue: np.ndarray  # float64
    warnings: tuple[DataWarning, ...] = ()  # what reading the file did (columns ignored, ...), for `warnings`

    @property
    def values(self) -> int:
        return int(self.qty.shape[0])


_NUMBER_TYPES = frozenset({int, float, type(None)})
Loc = tuple[str | int, ...]


def _invalid(loc: Loc, message: str, value: Any) -> ValidationError:
    """A validation error at `loc` (e.g. `("series", 3, "qty", 17)`): FastAPI answers 422 naming that field."""
    error = PydanticCustomError("series_value", message)
    return ValidationError.from_exception_data("series", [InitErrorDetails(type=error, loc=loc, input=value)])


def _where(offsets: np.ndarray, flat_index: int) -> tuple[int, int]:
    """(series index, position in it) of a value of the concatenation."""
    series = int(np.searchsorted(offsets, flat_index, side="right")) - 1
    return series, flat_index - int(offsets[series])


def _values(lists: list[Any], field: str, offsets: np.ndarray, root: str = "series",
            indices: list[int] | None = None) -> np.ndarray:
    """The concatenated JSON lists as float64 (NaN for null), checked in one pass over all series.

    A per-series check costs ~15 us of fixed overhead, more than the values of a short series;
    one pass over the concatenation costs ~30 ns per value. Errors name the first bad cell, as
    `root[i].field[j]`, i being `indices[series]` when the lists are some of the entries of `root`.
    """

    def where(flat_index: int) -> tuple[int, int]:
        series, position = _where(offsets, flat_index)
        return (indices[series] if indices is not None else series), position

    flat = list(chain.from_iterable(lists))
    types = set(map(type, flat))
    if not types <= _NUMBER_TYPES:  # bool is not int here: true/false are not numbers
        bad = next(i for i, v in enumerate(flat) if type(v) not in _NUMBER_TYPES)
        series, position = where(bad)
        raise _invalid((root, series, field, position), f"{flat[bad]!r} is not a number or null", flat[bad])
    array = np.array(flat, dtype=np.float64)  # None -> NaN
    # a NaN literal (not JSON, though lenient parsers read it) is a float; only nulls may become NaN
    if float in types and flat.count(None) != int(np.isnan(array).sum()):
        bad = next(i for i, v in enumerate(flat) if v is not None and v != v)
        series, position = where(bad)
        raise _invalid((root, series, field, position), "NaN is not a number; send null for a period without "
                       "a record", None)
    outside = np.abs(array) > FINITE_BOUND
    if outside.any():
        bad = int(np.argmax(outside))
        series, position = where(bad)
        raise _invalid((root, series, field, position), f"{flat[bad]!r} is outside -1e12..1e12", flat[bad])
    return array


def _check_lists(series: list[Any], field: str, root: str = "series", indices: list[int] | None = None,
                 limit: int = MAX_SERIES_VALUES) -> list[Any]:
    lists = []
    for position, entry in enumerate(series):
        index = indices[position] if indices is not None else position
        values = entry.get(field)
        if values is None and field == "revenue":
            values = [None] * len(entry["qty"])
        elif not isinstance(values, list):
            raise _invalid((root, index, field), "must be a list of numbers or nulls", values)
        elif len(values) > limit:
            raise _invalid((root, index, field), f"{len(values)} values; at most {limit} per series "
                           "(ten years of days): send fewer years", len(values))
        elif field == "revenue" and len(values) != len(entry["qty"]):
            raise _invalid((root, index, field), f"{len(values)} values but qty has {len(entry['qty'])}; send "
                           "one revenue per qty value", len(values))
        lists.append(values)
    return lists


def series_values(series: list[SaleSeries]) -> SeriesValues:
    """Check every series' qty and revenue and concatenate them; a ValidationError names the bad cell."""
    if not series:
        return NO_SERIES
    qty_lists = _check_lists(series, "qty")
    offsets = np.zeros(len(series) + 1, dtype=np.int64)
    np.cumsum([len(values) for values in qty_lists], out=offsets[1:])
    qty = _values(qty_lists, "qty", offsets)
    if all(entry.get("revenue") is None for entry in series):
        return SeriesValues(qty, np.full(qty.size, np.nan), offsets)
    revenue = _values(_check_lists(series, "revenue"), "revenue", offsets)
    orphan = np.isnan(qty) & ~np.isnan(revenue)
    if orphan.any():
        index, position = _where(offsets, int(np.argmax(orphan)))
        raise _invalid(("series", index, "revenue", position), "revenue for a period whose qty is null",
                       float(revenue[int(np.argmax(orphan))]))
    return SeriesValues(qty, revenue, offsets)


@dataclass(frozen=True)
class RowValues:
    """Sales rows as columns, read while they were validated. `product` indexes `product_ids` and `date` indexes
    `dates` (each in order of first appearance); `revenue` is NaN where a row has none or null."""

    product_ids: list[str]
    product: np.ndarray  # int64[n_rows]
    dates: list[str]  # as written: a real date is checked when they become day numbers
    date: np.ndarray  # int64[n_rows]
    qty: np.ndarray  # float64[n_rows]
    revenue: np.ndarray  # float64[n_rows]


class SaleRows(list[SaleRow]):
    """Validated sales rows and their columns (`values`), read once while they were checked."""

    def __init__(self, rows: list[SaleRow], values: RowValues) -> None:
        super().__init__(rows)
        self.values = values


_ROW_FIELDS = get_type_hints(SaleRow, include_extras=True)
# a row's own checks of its id and date, for the distinct ones of rows read a column at a time
_ID_CHECK, _DATE_CHECK = (TypeAdapter(_ROW_FIELDS[name], config=ConfigDict(strict=True))
                          for name in ("product_id", "date"))
_REQUIRED_KEYS = len(SaleRow.__required_keys__)


def _coded(values: list[Any]) -> tuple[list[Any], np.ndarray]:
    """The distinct values in order of first appearance, and each value's index among them (int64)."""
    codes: defaultdict[Hashable, int] = defaultdict()
    codes.default_factory = codes.__len__
    coded = np.fromiter(map(codes.__getitem__, values), np.int64, len(values))
    return list(codes), coded


_NO_REVENUE = float("nan")  # a row without revenue: NaN in the column, told apart from a NaN literal by identity


def _finite(array: np.ndarray, nulls: int) -> bool:
    """Every value is finite within +-FINITE_BOUND but the `nulls` NaN that stand for nulls (a NaN literal is no
    null)."""
    sent = ~np.isnan(array)
    return int(sent.sum()) == array.size - nulls and bool((np.abs(array[sent]) <= FINITE_BOUND).all())


def read_rows(rows: Any) -> RowValues | None:
    """The columns of `rows` when every row is a plain valid one, else None (then pydantic validates the rows).

    Plain: a list of objects with exactly `product_id`, `date`, `qty` and optionally `revenue`; ids and dates as
    text (pydantic checks each distinct one, as it checks a row's), `qty` a float, `revenue` a float or null, every
    number finite within +-FINITE_BOUND. An integer (read as a float by pydantic), a numeric id (read as its text)
    or anything invalid is left to pydantic's row by row validation.
    """
    if type(rows) is not list or not set(map(type, rows)) <= {dict}:
        return None
    try:
        ids, dates, qty = (list(map(itemgetter(key), rows)) for key in ("product_id", "date", "qty"))
    except KeyError:
        return None
    revenue = list(map(dict.get, rows, repeat("revenue"), repeat(_NO_REVENUE)))
    without_revenue = revenue.count(_NO_REVENUE)  # by identity: a NaN equals nothing else
    if sum(map(len, rows)) != _REQUIRED_KEYS * len(rows) + len(rows) - without_revenue:  # another key
        return None
    if not set(map(type, qty)) <= {float} or not set(map(type, revenue)) <= {float, type(None)}:
        return None
    qty_values = np.fromiter(qty, np.float64, len(qty))
    revenue_values = np.array(revenue, dtype=np.float64)  # null -> NaN
    if not _finite(qty_values, 0) or not _finite(revenue_values, without_revenue + revenue.count(None)):
        return None
    # ids and dates as text only, checked before they are coded: a list or an object is no key (the fuzzer's
    # unhashable id was a 500)
    if not set(map(type, ids)) <= {str} or not set(map(type, dates)) <= {str}:
        return None
    (product_ids, product), (distinct_dates, date_code) = _coded(ids), _coded(dates)
    try:
        for check, values in ((_ID_CHECK, product_ids), (_DATE_CHECK, distinct_dates)):
            for value in values:
                check.validate_python(value)
    except ValidationError:
        return None
    return RowValues(product_ids, product, distinct_dates, date_code, qty_values, revenue_values)


def _checked_rows(rows: Any, handler: ValidatorFunctionWrapHandler) -> SaleRows:
    """Rows read a column at a time (`read_rows`), or validated by pydantic row by row and then read."""
    values = read_rows(rows)
    if values is None:
        rows = handler(rows)  # raises the ValidationError naming the row and field, or gives plain rows
        values = read_rows(rows)
        assert values is not None, "rows pydantic validated are plain"
    return SaleRows(rows, values)


CsvField = Literal["product_id", "date", "qty", "revenue", "unit_price"]
HeaderName = Annotated[str, Field(min_length=1, max_length=200)]
_NOT_IN_A_SIGN = re.compile(r"[0-9.,+\-\s]")


def _currency_sign(sign: str) -> str:
    if _NOT_IN_A_SIGN.search(sign):
        raise ValueError(f"{sign!r} is not a currency sign: a sign holds no digits, '.', ',', '+', '-' or spaces")
    return sign


CurrencySign = Annotated[str, Field(min_length=1, max_length=8), AfterValidator(_currency_sign)]


class CsvOptions(StrictModel):
    """How to read an uploaded sales CSV: sent in the `request` part beside the file, never without one."""

    columns: dict[CsvField, HeaderName] = Field(
        default_factory=dict,
        description="The file's header name of each of our columns, when it is not ours, e.g. "
        '`{"product_id": "article", "qty": "Quantity", "unit_price": "unit_price"}`. Unnamed fields keep '
        "their own names; other columns of the file are ignored (listed in `warnings`).",
        examples=[{"product_id": "article", "qty": "Quantity", "unit_price": "unit_price", "date": "date"}],
    )
    decimal: Literal[".", ","] = Field(
        default=".",
        description='"," reads decimal commas: "1,5" is 1.5, and "." or a space before three digits is then '
        'a thousands separator only in a value that also holds a comma ("1.234,56" and "1 234,56" are '
        '1234.56, "1.0" is 1.0).',
    )
    currency_signs: list[CurrencySign] = Field(
        default_factory=list, max_length=10,
        description='Signs stripped before or after a number, e.g. `["€"]` reads "0,90 €" and "€0.90" '
        "(with `decimal`). Any text without digits, separators or signs may be listed: €, $, £, EUR, CHF... "
        "Spaces and non-breaking spaces around numbers are always stripped.",
    )

    @field_validator("columns")
    @classmethod
    def _one_column_each(cls, columns: dict[str, str]) -> dict[str, str]:
        named = list(columns.values())
        twice = sorted({name for name in named if named.count(name) > 1})
        if twice:
            raise ValueError(f"the header column {twice[0]!r} is named for two fields; name each column once")
        return columns


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAY_NAMES: tuple[str, ...] = Weekday.__args__  # type: ignore[attr-defined]


class SalesPayload(StrictModel):
    """The sales fields every sales-carrying request shares."""

    sales: Annotated[list[SaleRow], WrapValidator(_checked_rows)] = Field(
        default_factory=list,
        description="Sales rows, one object per product and date (negative qty = returns). May be combined "
        "with `series`.",
    )
    series: list[SaleSeries] = Field(
        default_factory=list, max_length=100_000,
        description="Sales as one array per product: `qty[i]` is the sales of period i counted from `start` "
        "(days; weeks when `frequency` is weekly); null = no record. `revenue`, when sent, has the same "
        "length. About 10x smaller and faster than rows for a whole catalogue.",
    )
    duplicates: Literal["sum", "drop"] = Field(
        default="sum",
        description="Rows (and CSV lines) of one product and date are separate sales and are summed (`sum`, "
        "for point-of-sale lines: two customers, two lines; reported as `lines_aggregated`). `drop` counts rows "
        "identical in product, date, qty and revenue once, for a caller who may send one daily total twice "
        "(reported as `duplicate_rows`).",
    )
    csv: CsvOptions | None = Field(
        default=None,
        description="Only with a CSV upload (`multipart/form-data`): how to read the file (header names, "
        "decimal comma, currency signs). See docs/sales.md.",
    )
    closed_weekdays: list[Weekday] | None = Field(
        default=None, max_length=7,
        description="Weekdays the shop never opens (e.g. [\"saturday\"]). Closed days are no demand: no training "
        "target, a forecast of 0 (listed in `meta.closed_dates`), never an anomaly, out of weekday patterns. "
        "Left out (this or `closed_dates`), it is detected on a catalogue of 20 or more products: days on which no "
        "product sold are closed (`closed_days_detected`); send [] for a shop open every day. A declared closed "
        "day on which the catalogue sold was open: its sales count (`sales_on_closed_days`).",
    )
    closed_dates: list[IsoDate] | None = Field(
        default=None, max_length=3653,
        description="Dates the shop is closed (holidays, closure weeks), past or planned; see `closed_weekdays`.",
    )
    _series_values: SeriesValues = PrivateAttr(default=NO_SERIES)
    _upload: SalesBlock | None = PrivateAttr(default=None)
    _row_cache: dict[str, Any] = PrivateAttr(default_factory=dict)

    @field_validator("closed_weekdays")
    @classmethod
    def _open_some_day(cls, value: list[Weekday] | None) -> list[Weekday] | None:
        if value is not None and len(set(value)) == len(WEEKDAY_NAMES):
            raise ValueError("lists every weekday: a shop closed every day sells nothing to learn from or plan for")
        return value

    @model_validator(mode="after")
    def _validate_series(self) -> Self:
        self._series_values = series_values(self.series)
        return self

    @property
    def series_values(self) -> SeriesValues:
        return self._series_values

    @property
    def row_cache(self) -> dict[str, Any]:
        """What was read from `sales` (app.utils.sales_frame.row_columns), kept so one request reads it once."""
        return self._row_cache

    @property
    def upload(self) -> SalesBlock | None:
        """Sales from an uploaded file, attached by the route."""
        return self._upload

    def attach_upload(self, block: SalesBlock | None) -> Self:
        self._upload = block
        return self

    def series_step(self) -> int:
        """Days between two values of a series: 7 when the request says its data is weekly."""
        return 7 if getattr(self, "frequency", None) == "weekly" else 1

    def sales_values(self) -> int:
        """Sales values sent, counted alike for rows, series cells (nulls included) and CSV lines."""
        cells = int(self._series_values.offsets[-1])
        return len(self.sales) + cells + (self._upload.values if self._upload else 0)

    def has_sales(self) -> bool:
        return self.sales_values() > 0


def rows_to_series(rows: list[dict[str, Any]], step: int = 1) -> list[dict[str, Any]]:
    """Rows (one per product and period) as series, products in order of their first row; `step`
    days between values (7 for weekly data). Swagger's series examples and the tests use it."""
    by_product: dict[str, dict[int, dict[str, Any]]] = {}
    for row in rows:
        by_product.setdefault(row["product_id"], {})[date.fromisoformat(str(row["date"])[:10]).toordinal()] = row
    series = []
    for product_id, days in by_product.items():
        cells = [days.get(day) for day in range(min(days), max(days) + 1, step)]
        entry: dict[str, Any] = {"product_id": product_id, "start": date.fromordinal(min(days)).isoformat(),
                                 "qty": [cell["qty"] if cell else None for cell in cells]}
        if any("revenue" in cell for cell in cells if cell):
            entry["revenue"] = [cell.get("revenue") if cell else None for cell in cells]
        series.append(entry)
    return series


def sales_examples(example: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Swagger examples of an endpoint: its sales as rows, and the same sales as series."""
    as_series = {**{k: v for k, v in example.items() if k != "sales"}, "series": rows_to_series(example["sales"])}
    return {"rows": {"summary": "sales as rows", "value": example},
            "series": {"summary": "the same sales as series (compact: one array per product)", "value": as_series}}


SALES_REQUIRED = ("Sales are required: at least one `sales` row or one `series` value (null included), or a CSV "
                  "file in a `multipart/form-data` upload; a request without any is a 422 naming `sales`.")


def _sales_required(schema: dict[str, Any]) -> None:
    """The JSON body's schema says what the service checks (`check_row_limit(require_sales=True)`): one sales
    row, or one series with a value. A CSV upload is the operation's `multipart/form-data` body instead."""
    schema["description"] = f"{schema['description']} {SALES_REQUIRED}" if "description" in schema else SALES_REQUIRED
    schema["allOf"] = [{"anyOf": [
        {"required": ["sales"], "properties": {"sales": {"minItems": 1}}},
        {"required": ["series"], "properties": {"series": {"contains": {
            "type": "object", "required": ["qty"], "properties": {"qty": {"minItems": 1}}}}}},
    ]}]


class SalesRequiredPayload(SalesPayload):
    """`SalesPayload` for the operations that cannot answer without sales (forecast, training, reorder)."""

    model_config = ConfigDict(json_schema_extra=_sales_required)
