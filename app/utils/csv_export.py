"""CSV answers for `Accept: text/csv`: one header row, one row per record, for spreadsheets.

The JSON answer's `warnings` do not fit a table; their codes travel in the
`X-SmartShelf-Warnings` header so nothing is dropped silently.

Ids in these files come from callers, and the files are opened in spreadsheets:
- a text cell starting with `=`, `+`, `-`, `@`, tab or carriage return would be read as a formula
  (`=cmd|' /C calc'!A0`), so it gets a leading `'` (OWASP's CSV-injection rule); numbers are not
  text and stay as they are, so -1.5 is still a number;
- the file name, built from shop and product ids, goes in a header: an ASCII `filename` (anything
  else becomes `_`, so no quote, CR/LF or non-Latin-1 character reaches the header) and the exact
  name percent-encoded in RFC 5987's `filename*`, which browsers prefer.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response

from app.schemas.common import DataWarning
from app.schemas.forecast import ProductForecast
from app.schemas.reorder import ReorderRecommendation, ReorderResponse

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "JSON, or CSV with a header row when the request says `Accept: text/csv`."},
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NOT_PLAIN_ASCII = re.compile(r"[^A-Za-z0-9._-]")
_CONTROL_OR_PATH = re.compile(r"[\x00-\x1f\x7f-\x9f/\\]")
FORECAST_COLUMNS = ["product_id", "date", "predicted_qty", "lower_ci", "upper_ci", "method", "model_version"]
REORDER_COLUMNS = [name for name in ReorderRecommendation.model_fields]


def wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet cell that cannot be a formula: text starting with a formula
    character gets a leading `'`; None is an empty cell; numbers pass unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def content_disposition(filename: str) -> str:
    """`attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>` for any `filename`.

    `forecast-shöp.csv` -> `filename="forecast-sh_p.csv"; filename*=UTF-8''forecast-sh%C3%B6p.csv`.
    Control characters and path separators become `_` in both forms.
    """
    exact = _CONTROL_OR_PATH.sub("_", filename)
    return f"attachment; filename=\"{_NOT_PLAIN_ASCII.sub('_', exact)}\"; filename*=UTF-8''{quote(exact, safe='')}"


def csv_response(columns: Sequence[str], rows: Iterable[Sequence[Any]], filename: str,
                 warnings: Sequence[DataWarning] = ()) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    headers = {"Content-Disposition": content_disposition(filename)}
    if warnings:
        headers["X-SmartShelf-Warnings"] = ",".join(sorted({w.code for w in warnings}))
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def forecast_csv(forecasts: Sequence[ProductForecast], filename: str,
                 warnings: Sequence[DataWarning] = ()) -> Response:
    """One row per product and period."""
    rows = ([f.product_id, p.date.isoformat(), p.predicted_qty, p.lower_ci, p.upper_ci, f.method, f.model_version]
            for f in forecasts for p in f.predictions)
    return csv_response(FORECAST_COLUMNS, rows, filename, warnings)


def reorder_csv(response: ReorderResponse, filename: str) -> Response:
    """One row per recommendation, every field of the JSON answer as a column."""
    rows = ([record[name] for name in REORDER_COLUMNS]
            for record in (r.model_dump(mode="json") for r in response.recommendations))
    return csv_response(REORDER_COLUMNS, rows, filename, response.warnings)
