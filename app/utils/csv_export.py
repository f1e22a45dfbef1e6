"""CSV answers for `Accept: text/csv`: one header row, one row per record, for spreadsheets.

The JSON answer's `warnings` do not fit a table; their codes travel in the
`X-SmartShelf-Warnings` header so nothing is dropped silently.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request, Response

from app.schemas.common import DataWarning

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "JSON, or CSV with a header row when the request says `Accept: text/csv`."},
}


def wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


def csv_response(columns: Sequence[str], rows: Iterable[Sequence[Any]], filename: str,
                 warnings: Sequence[DataWarning] = ()) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if warnings:
        headers["X-SmartShelf-Warnings"] = ",".join(sorted({w.code for w in warnings}))
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
