"""An uploaded sales CSV -> a `SalesBlock`, with errors that name the line and column.

The file has a header `product_id,date,qty[,revenue]` (any order) and one line per sales row,
exactly like a JSON sales row: the same product and date may appear on several lines (summed,
or counted once when identical). It may be gzip-compressed (detected from its first bytes).
pandas' C reader does the parsing; product ids stay text and are factorised in order of
first appearance, and dates are read as categories, so each distinct date is parsed once however
many lines carry it.

Errors are `CsvError` (HTTP 422) such as `sales.csv line 1204, column qty: "abc" is not a number`.
Lines count from 1 at the header, as an editor shows them.
"""

import csv
import io
import re
import zlib
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from app.schemas.sales import SalesBlock
from app.utils.dates import day_number
from app.utils.errors import InvalidInputError, SmartShelfError

REQUIRED = ("product_id", "date", "qty")
OPTIONAL = ("revenue",)
MAX_ID_LENGTH = 128
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


class CsvError(InvalidInputError):
    """An uploaded CSV that cannot be read (HTTP 422), naming the line and column."""

    error = "invalid_csv"


class UploadTooLargeError(SmartShelfError):
    status_code = 413
    error = "payload_too_large"


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


def _day(text: str) -> int:
    """An ISO date, or an ISO datetime with a zone (its written date counts), as a day number."""
    if _DATE.fullmatch(text):
        return day_number(date.fromisoformat(text))
    value = datetime.fromisoformat(text) if _DATE.match(text) else None
    if value is None or value.tzinfo is None:
        raise ValueError(text)
    return day_number(value)


def _header(text: bytes, name: str) -> dict[str, str]:
    """{column name: the name as pandas reads it}: quoted names are unquoted, and spaces after a
    comma skipped (`skipinitialspace`), but a space before one is kept by pandas."""
    first = text.split(b"\n", 1)[0].decode("utf-8-sig", "replace").strip().strip("\r")
    as_read = next(csv.reader([first], skipinitialspace=True), [])
    columns = [column.strip() for column in as_read]
    missing = [column for column in REQUIRED if column not in columns]
    unknown = [column for column in columns if column not in REQUIRED + OPTIONAL]
    if missing or unknown or len(set(columns)) != len(columns):
        raise CsvError(f"{name} line 1: the header must name the columns product_id,date,qty and optionally "
                       f"revenue, each once; found {first!r}", field="sales")
    return dict(zip(columns, as_read, strict=True))


def _numbers(text: bytes, column: str, as_read: str, name: str, required: bool) -> np.ndarray:
    """Re-read one column as text to find its first bad value (only called when parsing failed)."""
    raw = pd.read_csv(io.BytesIO(text), usecols=[as_read], dtype=str, keep_default_na=False,
                      skip_blank_lines=False, skipinitialspace=True, encoding="utf-8-sig")[as_read]
    stripped = raw.str.strip()
    numbers = pd.to_numeric(stripped.where(stripped != ""), errors="coerce")
    bad = numbers.isna() & ((stripped != "") | required)
    if bad.any():
        line = int(np.argmax(bad.to_numpy())) + 2
        value = raw.iloc[line - 2]
        problem = "is empty" if not value.strip() else f"{value!r} is not a number"
        raise CsvError(f"{name} line {line}, column {column}: {problem}", field="sales")
    return numbers.to_numpy(dtype=np.float64)


def _check_numbers(values: np.ndarray, column: str, name: str, required: bool) -> None:
    bad = ~np.isfinite(values) if required else np.isinf(values)
    bad |= np.abs(np.nan_to_num(values)) > 1e12
    if bad.any():
        line = int(np.argmax(bad)) + 2
        problem = "is empty" if np.isnan(values[line - 2]) else f"{values[line - 2]!r} is not a finite number " \
                  "within -1e12..1e12"
        raise CsvError(f"{name} line {line}, column {column}: {problem}", field="sales")


def read_sales_csv(data: bytes, name: str, max_bytes: int, max_lines: tuple[int, str]) -> SalesBlock:
    """Parse an uploaded sales CSV (plain or gzip) into a block, or raise `CsvError` / 413.

    `max_lines` is (the most data lines the endpoint takes, the setting's name): counted on the
    bytes before the reader starts, so an oversize file costs a byte count, not a parse.
    """
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, name, max_bytes)
    elif len(data) > max_bytes:
        raise UploadTooLargeError(f"{name} is over MAX_CSV_BYTES={max_bytes} bytes; split the upload",
                                  field="sales")
    limit, setting = max_lines
    lines = data.count(b"\n") + (not data.endswith(b"\n")) - 1  # less the header
    if lines > limit:
        raise UploadTooLargeError(f"{name} has {lines} lines, over {setting}={limit}; split the upload",
                                  field="sales")
    if not data.strip():
        raise CsvError(f"{name} is empty: send a header line product_id,date,qty[,revenue] and one line per sale",
                       field="sales")
    columns = _header(data, name)
    # ids stay text ("00042" is not 42), and only an empty cell is missing ("NA" may be an id)
    dtypes: dict[str, Any] = {"product_id": str, "date": "category", "qty": "float64", "revenue": "float64"}

    def read(wanted: list[str]) -> pd.DataFrame:
        # every column is read unless a subset is asked for: with `usecols` pandas ignores extra fields
        subset = [columns[c] for c in wanted] if len(wanted) < len(columns) else None
        frame = pd.read_csv(io.BytesIO(data), usecols=subset,
                            dtype={columns[c]: dtypes[c] for c in wanted}, skip_blank_lines=False,
                            encoding="utf-8-sig", skipinitialspace=True, keep_default_na=False,
                            na_values={columns[c]: [""] for c in wanted})
        return frame.rename(columns={columns[c]: c for c in wanted})

    try:
        frame = read(list(columns))
    except pd.errors.ParserError as exc:
        found = _FIELDS.search(str(exc))
        if found is None:
            raise CsvError(f"{name}: {exc}", field="sales") from exc
        expected, line, saw = found.groups()
        raise CsvError(f"{name} line {line}: {saw} fields, but the header has {expected}", field="sales") from exc
    except ValueError:  # a value that is not a number: find which line
        frame = read(["product_id", "date"])
        for column in ("qty", "revenue"):
            if column in columns:
                frame[column] = _numbers(data, column, columns[column], name, column == "qty")
    blank = frame.isna().all(axis=1).to_numpy()
    return _block(frame, blank, name)


def _block(frame: pd.DataFrame, blank: np.ndarray, name: str) -> SalesBlock:
    """Columns of the non-blank lines; every value checked, errors naming the line."""
    # codes in order of first appearance, as rows would have them
    product_codes, product_ids = pd.factorize(frame["product_id"])
    missing_id = (product_codes < 0) & ~blank
    if missing_id.any():
        raise CsvError(f"{name} line {int(np.argmax(missing_id)) + 2}, column product_id: is empty", field="sales")
    long_ids = [i for i, p in enumerate(product_ids) if len(str(p)) > MAX_ID_LENGTH]
    if long_ids:
        line = int(np.argmax(product_codes == long_ids[0])) + 2
        raise CsvError(f"{name} line {line}, column product_id: longer than {MAX_ID_LENGTH} characters",
                       field="sales")
    dates = frame["date"].cat
    date_codes = dates.codes.to_numpy()
    day_of_code = np.empty(len(dates.categories), dtype=np.int64)
    for code, text in enumerate(dates.categories):
        try:
            day_of_code[code] = _day(str(text).strip())
        except ValueError:
            line = int(np.argmax(date_codes == code)) + 2
            raise CsvError(f"{name} line {line}, column date: {str(text)!r} is not an ISO date (2025-11-20) or a "
                           "datetime with a zone", field="sales") from None
    if ((date_codes < 0) & ~blank).any():
        raise CsvError(f"{name} line {int(np.argmax((date_codes < 0) & ~blank)) + 2}, column date: is empty",
                       field="sales")
    kept = ~blank
    qty = frame["qty"].to_numpy(dtype=np.float64)
    _check_numbers(np.where(kept, qty, 0.0), "qty", name, required=True)
    revenue = frame["revenue"].to_numpy(dtype=np.float64) if "revenue" in frame else np.full(len(frame), np.nan)
    _check_numbers(revenue, "revenue", name, required=False)
    return SalesBlock([str(p) for p in product_ids], product_codes.astype(np.int64)[kept],
                      day_of_code[date_codes[kept]], qty[kept], revenue[kept])
