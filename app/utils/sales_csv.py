"""An uploaded sales CSV -> a `SalesBlock`, with errors that name the line and column.

The file has a header naming `product_id`, `date`, `qty` and optionally `revenue` or `unit_price`
(any order; `CsvOptions.columns` maps other header names, e.g. a POS's `article` and `Quantity`),
fields separated by commas, or by semicolons or tabs when the header holds more of those (a spreadsheet
saving CSV where the decimal mark is a comma), and one line per sale: the same product and date may
appear on several lines (summed, or counted once when identical). Other columns (a POS's index, time,
ticket number) are ignored and listed in a warning (`csv_columns_ignored`). `unit_price` makes each
line's revenue qty x unit_price (`revenue_from_unit_price`). It may be gzip-compressed (detected from its first bytes).

pandas' C reader does the parsing; product ids stay text and are factorised in order of first
appearance. Dates, and numbers that need more than a plain float parse (a decimal comma, a
currency sign: `CsvOptions`), are read as categories, so each distinct text is converted once,
vectorized, however many lines carry it. Dates are ISO dates or ISO datetimes, with a zone or
without (`2010-12-01 08:26:00`, `2021-01-02T08:38`): the calendar date written counts.

Errors are `CsvError` (HTTP 422) such as `sales.csv line 1204, column qty: "abc" is not a number`,
naming the first line with a bad value whatever the column. Lines count from 1 at the header, as
an editor shows them.
"""

import codecs
import csv
import io
import json
import re
import warnings
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from app.schemas.common import FINITE_BOUND, DataWarning
from app.schemas.sales import CsvOptions, SalesBlock
from app.utils.errors import InvalidInputError, SmartShelfError

REQUIRED = ("product_id", "date", "qty")
FIELDS = (*REQUIRED, "revenue", "unit_price")
NUMBERS = ("qty", "revenue", "unit_price")
SEPARATORS = (",", ";", "\t")  # a field separator of the header line (`_separator`)
MAX_ID_LENGTH = 128
# an ISO date, or a datetime with or without seconds, fraction and zone; the date written counts
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Tt ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d{1,9})?)?"
                   r"(?:[Zz]|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?)?")
_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_SPACES = " \t\u00a0\u202f"  # space, tab, no-break space, narrow no-break space (French thousands)
_NUMBER_CHARS = set("0123456789.,+-eE" + _SPACES)


class CsvError(InvalidInputError):
    """An uploaded CSV that cannot be read (HTTP 422), naming the line and column."""

    error = "invalid_csv"


class UploadTooLargeError(SmartShelfError):
    status_code = 413
    error = "payload_too_large"


@dataclass(frozen=True)
class _Layout:
    """Which column of the file holds each of our fields.

    `header`: the file's column names as written; `position`: our field -> its column index;
    pandas reads the columns under the names c0, c1, ... so odd or repeated header names never matter.
    """

    header: list[str]
    position: dict[str, int]
    separator: str = ","

    def label(self, field: str) -> str:
        """How an error names a column: its header name, with ours when they differ ("Quantity (qty)")."""
        written = self.header[self.position[field]]
        return field if written == field else f"{written} ({field})"

    def ignored(self) -> list[str]:
        used = set(self.position.values())
        return [name or f"(unnamed column {i + 1})" for i, name in enumerate(self.header) if i not in used]


def _gunzip(data: bytes, name: str, max_bytes: int) -> bytes:
    """Every member of a gzip file (`cat a.gz b.gz` is one file), at most `max_bytes` in all; a file
    cut short is an error, not its first part."""
    parts: list[bytes] = []
    size = 0
    while data:
        inflater = zlib.decompressobj(wbits=31)
        try:
            text = inflater.decompress(data, max_bytes - size + 1)
        except zlib.error as exc:
            raise CsvError(f"{name}: not a valid gzip file ({exc})", field="sales") from exc
        size += len(text)
        if size > max_bytes or inflater.unconsumed_tail:
            raise UploadTooLargeError(f"{name} is over MAX_CSV_BYTES={max_bytes} bytes uncompressed; split the "
                                      "upload", field="sales")
        if not inflater.eof:
            raise CsvError(f"{name}: the gzip file is cut short (send it whole)", field="sales")
        parts.append(text)
        data = inflater.unused_data
    return b"".join(parts)


def _check_utf8(data: bytes, name: str) -> None:
    """422 naming the encoding problem: UTF-16 or UTF-32 text (a byte order mark, or NUL bytes), or bytes that
    are not UTF-8, with the line of the first one. UTF-8 with or without a byte order mark passes. Decoded in
    chunks, so checking a large upload holds no second copy of it."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        kind = "UTF-32" if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")) else "UTF-16"
        raise CsvError(f"{name}: {kind} text (or a binary file), not UTF-8; export or save the file as UTF-8 "
                       "(\"CSV UTF-8\" in a spreadsheet's Save As)", field="sales")
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = 1 << 20
    for start in range(0, len(data), chunk):
        held = len(decoder.getstate()[0])  # the previous chunk's unfinished character, decoded with this one
        try:
            decoder.decode(data[start:start + chunk], final=start + chunk >= len(data))
        except UnicodeDecodeError as exc:
            at = min(max(start - held + exc.start, 0), len(data) - 1)
            line = data.count(b"\n", 0, at) + 1
            raise CsvError(f"{name} line {line}: not UTF-8 text (byte 0x{data[at]:02x}); export or save the file as "
                           "UTF-8", field="sales") from exc
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise CsvError(f"{name} line {line}: a NUL byte, which is not in text; export or save the file as UTF-8 "
                       "text", field="sales")


def _layout(data: bytes, name: str, columns: Mapping[str, str]) -> _Layout:
    """The header's columns and where our fields are: `columns` (from `csv.columns`) first, then our own
    names; quoted names are unquoted and spaces around names skipped."""
    end = re.search(rb"[\r\n]", data)
    first = data[: end.start() if end else len(data)].decode("utf-8-sig", "replace")
    separator = _separator(first)
    header = [column.strip() for column in next(csv.reader([first], delimiter=separator, skipinitialspace=True), [])]
    shown = ", ".join(repr(column) for column in header)
    position: dict[str, int] = {}
    for field in FIELDS:
        wanted = columns.get(field, field)
        found = [i for i, column in enumerate(header) if column == wanted]
        if field in columns and not found:
            raise CsvError(f"{name} line 1: csv.columns.{field} names the column {wanted!r}, but the header has "
                           f"none; it has {shown}", field="csv.columns." + field)
        if len(found) > 1:
            raise CsvError(f"{name} line 1: the header names the column {wanted!r} {len(found)} times; name it "
                           "once", field="sales")
        if found and (field in columns or found[0] not in position.values()):
            position[field] = found[0]
    missing = [field for field in REQUIRED if field not in position]
    if missing:
        raise CsvError(f"{name} line 1: no column {', '.join(missing)} in the header ({shown}); the header must "
                       "name product_id, date, qty and optionally revenue or unit_price, or the request part maps "
                       'its own names: "csv": {"columns": {"product_id": "article", "qty": "Quantity"}}',
                       field="sales")
    if "revenue" in position:
        position.pop("unit_price", None)  # a line's revenue as sent wins over qty x unit_price
    return _Layout(header, position, separator)


def _separator(header: str) -> str:
    """The header line's field separator: the comma, unless it holds more semicolons (a spreadsheet saving CSV
    where the decimal mark is a comma, as French or German Excel does) or tabs."""
    bare = re.sub(r'"[^"]*"', "", header)  # a quoted name may hold any sign
    return max(SEPARATORS, key=lambda sign: (bare.count(sign), sign == ","))


def read_sales_csv(data: bytes, name: str, max_bytes: int, max_lines: tuple[int, str],
                   options: CsvOptions | None = None) -> SalesBlock:
    """Parse an uploaded sales CSV (plain or gzip) into a block, or raise `CsvError` / 413.

    `max_lines` is (the most data lines the endpoint takes, the setting's name): counted on the
    bytes before the reader starts, so an oversize file costs a byte count, not a parse.
    `options` (the request's `csv`) name the columns and say how numbers are written.
    """
    options = options or CsvOptions()
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, name, max_bytes)
    elif len(data) > max_bytes:
        raise UploadTooLargeError(f"{name} is over MAX_CSV_BYTES={max_bytes} bytes; split the upload",
                                  field="sales")
    limit, setting = max_lines
    ends = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")  # LF, CRLF or a lone CR ends a line
    lines = ends + (not data.endswith((b"\n", b"\r"))) - 1  # less the header
    if lines > limit:
        raise UploadTooLargeError(f"{name} has {lines} lines, over {setting}={limit}; split the upload",
                                  field="sales")
    if b"\n" not in data and b"\r" in data:  # CR-only line ends (classic Mac OS, some tills): read as LF
        data = data.replace(b"\r", b"\n")
    _check_utf8(data, name)
    if not data.strip():
        raise CsvError(f"{name} is empty: send a header line product_id,date,qty[,revenue] and one line per sale",
                       field="sales")
    layout = _layout(data, name, {str(field): header for field, header in options.columns.items()})
    as_text = options.decimal != "." or bool(options.currency_signs)
    try:
        try:
            frame = _read(data, layout, numbers_as_text=as_text)
        except ValueError as exc:  # a number the plain float parse cannot read: read them as text
            if isinstance(exc, UnicodeDecodeError) or as_text:
                raise
            frame = _read(data, layout, numbers_as_text=True)
    except pd.errors.ParserError as exc:
        found = _FIELDS.search(str(exc))
        if found is None:
            raise CsvError(f"{name}: {exc}", field="sales") from exc
        expected, line, saw = found.groups()
        raise CsvError(f"{name} line {line}: {saw} fields, but the header has {expected} (a number with a "
                       "decimal comma must be in quotes)", field="sales") from exc
    except pd.errors.ParserWarning as exc:  # the first line has more fields than the header
        second = data.split(b"\n", 2)[1].decode("utf-8", "replace").strip("\r")
        fields = len(next(csv.reader([second], delimiter=layout.separator, skipinitialspace=True), []))
        raise CsvError(f"{name} line 2: {fields} fields, but the header has {len(layout.header)} (a number with a "
                       "decimal comma must be in quotes)", field="sales") from exc
    except UnicodeDecodeError as exc:
        raise CsvError(f"{name}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); export or save the file "
                       "as UTF-8", field="sales") from exc
    return _block(frame, layout, options, name)


def _read(data: bytes, layout: _Layout, numbers_as_text: bool) -> pd.DataFrame:
    """Every column of the file (so a line with too many fields is an error, not silently cut), ours typed.

    Ids stay text ("00042" is not 42) and only an empty cell is missing ("NA" may be an id).
    """
    names = [f"c{i}" for i in range(len(layout.header))]
    dtypes: dict[str, Any] = dict.fromkeys(names, str)
    for field, i in layout.position.items():
        dtypes[names[i]] = ("category" if field == "date" or (field in NUMBERS and numbers_as_text)
                            else "float64" if field in NUMBERS else str)
    with warnings.catch_warnings():
        # index_col=False: a first line longer than the header is an error, not an index column nor cut short
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return pd.read_csv(io.BytesIO(data), sep=layout.separator, header=0, names=names, index_col=False, dtype=dtypes,
                           skip_blank_lines=False, encoding="utf-8-sig", skipinitialspace=True, keep_default_na=False,
                           na_values={column: [""] for column in names})


@dataclass
class _Problems:
    """The first bad line of each check; the error names the earliest of all."""

    name: str
    found: list[tuple[int, str]]

    def add(self, bad: np.ndarray, column: str, words: Any) -> None:
        """`bad`: one bool per line; `words(index)` says what is wrong with that line's value."""
        if bad.any():
            index = int(np.argmax(bad))
            self.found.append((index, f"{self.name} line {index + 2}, column {column}: {words(index)}"))

    def raise_first(self) -> None:
        if self.found:
            raise CsvError(min(self.found, key=lambda problem: problem[0])[1], field="sales")


def _dates(categories: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """(day number, bad) of each distinct date text; vectorized over the categories."""
    text = pd.Series(categories, dtype=object).astype(str).str.strip()
    good = text.str.fullmatch(_DATE.pattern).to_numpy(dtype=bool).copy()
    days = np.zeros(len(text), dtype=np.int64)
    written = text.str.slice(0, 10).to_numpy(dtype=object)[good]
    try:
        days[good] = np.array(written, dtype="datetime64[D]").astype(np.int64)
    except ValueError:  # a date that is not in the calendar (2025-02-30): find which, once per distinct text
        valid = np.array([_is_date(value) for value in written], dtype=bool)
        good[np.flatnonzero(good)[~valid]] = False
        days[good] = np.array(written[valid], dtype="datetime64[D]").astype(np.int64)
    return days, ~good


def _is_date(text: str) -> bool:
    try:
        np.datetime64(text, "D")
    except ValueError:
        return False
    return True


def _numbers(categories: pd.Index, options: CsvOptions) -> np.ndarray:
    """Each distinct number text as float64 (NaN when it is not a number); vectorized over the categories.

    Spaces around the number and `options.currency_signs` before or after it are stripped. With
    `decimal` ",", a value holding a comma has it as its decimal point, and "." or a space between
    digits in it are thousands separators ("1.234,56", "1 234,56"); a value without a comma is read
    as written ("1.0" is 1.0).
    """
    text = pd.Series(categories, dtype=object).astype(str).str.strip(_SPACES)
    if options.currency_signs:
        signs = "|".join(re.escape(sign) for sign in sorted(options.currency_signs, key=len, reverse=True))
        text = (text.str.replace(rf"^([+-]?)[{_SPACES}]*(?:{signs})[{_SPACES}]*", r"\1", regex=True)
                .str.replace(rf"[{_SPACES}]*(?:{signs})$", "", regex=True))
    if options.decimal == ",":
        comma = text.str.contains(",", regex=False)
        text = text.where(~comma, text.str.replace(rf"(?<=\d)[.{_SPACES}](?=\d{{3}}(?!\d))", "", regex=True)
                          .str.replace(",", ".", regex=False))
    values = pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(dtype=np.float64)
    return values


def _hint(value: str, options: CsvOptions) -> str:
    """Why a number text may have failed to read, and the `csv` options that read it."""
    suggested: dict[str, Any] = {}
    if "," in value and options.decimal == ".":
        suggested["decimal"] = ","
    signs = sorted({c for c in value if c not in _NUMBER_CHARS and not c.isalnum()} - set(options.currency_signs))
    if signs:
        suggested["currency_signs"] = [*options.currency_signs, *signs]
    if not suggested:
        return ""
    words = " and ".join(("a decimal comma" if key == "decimal" else "a currency sign") for key in suggested)
    return f" ({words}? the request part can say \"csv\": {json.dumps(suggested, ensure_ascii=False)})"


def _number_column(frame: pd.DataFrame, field: str, layout: _Layout, options: CsvOptions, blank: np.ndarray,
                   problems: _Problems) -> np.ndarray:
    """One number column as float64 (NaN = empty), its bad values added to `problems`."""
    column = frame[field]
    label = layout.label(field)
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        categories = column.cat.categories
        converted = _numbers(categories, options)
        values = np.append(converted, np.nan)[codes]  # code -1 (empty) -> NaN
        unreadable = np.isnan(converted)[codes] & (codes >= 0)

        def words(index: int) -> str:
            value = str(categories[codes[index]])
            return f"{value!r} is not a number{_hint(value, options)}"

        problems.add(unreadable, label, words)
    else:
        values = column.to_numpy(dtype=np.float64)
    if field == "qty":
        problems.add(np.isnan(values) & ~blank, label, lambda _: "is empty")
    outside = np.isinf(values) | (np.abs(np.nan_to_num(values)) > FINITE_BOUND)
    problems.add(outside, label, lambda i: f"{values[i]:g} is not a finite number within -1e12..1e12")
    return values


def _block(frame: pd.DataFrame, layout: _Layout, options: CsvOptions, name: str) -> SalesBlock:
    """Columns of the non-blank lines; every value checked, the first bad line named."""
    blank = frame.isna().all(axis=1).to_numpy()
    frame = frame.rename(columns={f"c{i}": field for field, i in layout.position.items()})
    problems = _Problems(name, [])
    # codes in order of first appearance, as rows would have them
    product_codes, product_ids = pd.factorize(frame["product_id"])
    label = layout.label("product_id")
    problems.add((product_codes < 0) & ~blank, label, lambda _: "is empty")
    too_long = np.asarray(pd.Index(product_ids).str.len() > MAX_ID_LENGTH, dtype=bool)
    problems.add(np.append(too_long, False)[product_codes], label,
                 lambda _: f"longer than {MAX_ID_LENGTH} characters")
    dates = frame["date"].cat
    date_codes = dates.codes.to_numpy()
    day_of_code, bad_date = _dates(dates.categories)
    label = layout.label("date")
    problems.add(np.append(bad_date, False)[date_codes], label,
                 lambda i: f"{str(dates.categories[date_codes[i]])!r} is not an ISO date (2025-11-20) or datetime "
                 "(2025-11-20 08:26:00, 2025-11-20T08:26:00Z): export dates year first")
    problems.add((date_codes < 0) & ~blank, label, lambda _: "is empty")
    numbers = {field: _number_column(frame, field, layout, options, blank, problems)
               for field in NUMBERS if field in layout.position}
    qty = numbers["qty"]
    warnings: list[DataWarning] = []
    if "unit_price" in numbers:
        revenue = qty * numbers["unit_price"]
        problems.add(np.abs(np.nan_to_num(revenue)) > FINITE_BOUND, layout.label("unit_price"),
                     lambda i: f"qty x unit_price = {revenue[i]:g} is outside -1e12..1e12")
        priced = int((~np.isnan(revenue) & ~blank).sum())
        warnings.append(DataWarning(
            code="revenue_from_unit_price", count=priced,
            message=f"{name}: revenue was computed as qty x unit_price on {priced} lines (column "
            f"{layout.header[layout.position['unit_price']]!r}); lines without a price have no revenue."))
    else:
        revenue = numbers.get("revenue", np.full(len(frame), np.nan))
    problems.raise_first()
    ignored = layout.ignored()
    if ignored:
        used = ", ".join(f"{field}={layout.header[i]!r}" for field, i in layout.position.items())
        warnings.insert(0, DataWarning(
            code="csv_columns_ignored", count=len(ignored),
            message=f"{name}: {len(ignored)} columns not read: {', '.join(repr(c) for c in ignored)}; the sales "
            f"were read from {used}."))
    kept = ~blank
    return SalesBlock([str(p) for p in product_ids], product_codes.astype(np.int64)[kept],
                      day_of_code[date_codes[kept]], qty[kept], revenue[kept], tuple(warnings))
