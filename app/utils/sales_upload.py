"""CSV upload: a `multipart/form-data` request becomes the JSON request plus a sales block.

The form has a `request` part (the endpoint's JSON body without its sales; a text field or a
JSON file) and a `sales` file part (CSV, optionally gzip, see `app/utils/sales_csv.py`). The
route hands FastAPI the `request` JSON to validate as usual and keeps the parsed CSV on
`request.state.sales_upload`; the handler attaches it to the validated model with
`uploaded_sales(http)`. JSON bodies pass through untouched.

The `request` part's `csv` options (`CsvOptions`: column names, decimal comma, currency signs) are
needed to read the file, before FastAPI validates the rest: they are validated here with the same
model, a bad one answering 422 naming the field (`csv.decimal`).
"""

from typing import Any

import pydantic_core
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.schemas.sales import CsvOptions, SalesBlock
from app.utils.fast_json import FastJSONRequest, FastJSONRoute, json_problem, mark
from app.utils.sales_csv import read_sales_csv


def _missing(part: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "missing", "loc": ("body", part), "msg": message, "input": None}])


def csv_options(body: Any) -> CsvOptions | None:
    """The `csv` options of a `request` part, validated as the request model will (422 naming the field)."""
    sent = body.get("csv") if isinstance(body, dict) else None
    if sent is None:
        return None
    try:
        return CsvOptions.model_validate(sent)
    except ValidationError as exc:
        raise RequestValidationError([{**error, "loc": ("body", "csv", *error["loc"])}
                                      for error in exc.errors(include_url=False)]) from None


async def multipart_as_json(request: Request, max_csv_bytes: int, max_part_bytes: int,
                            max_lines: tuple[int, str]) -> FastJSONRequest:
    """The form's `request` part as a JSON request, with its `sales` CSV parsed onto `state.sales_upload`."""
    form = await request.form(max_files=2, max_fields=2, max_part_size=max_part_bytes)
    try:
        part = form.get("request")
        sales = form.get("sales")
        if part is None:
            raise _missing("request", "a CSV upload needs a `request` part: the JSON body without its sales")
        if not isinstance(sales, UploadFile):
            raise _missing("sales", "a CSV upload needs a `sales` file part (CSV with a header "
                                    "product_id,date,qty[,revenue|unit_price], optionally gzip)")
        raw = await part.read() if isinstance(part, UploadFile) else part.encode()
        try:
            body: Any = pydantic_core.from_json(raw)
        except ValueError as exc:
            raise RequestValidationError([{"type": "json_invalid", "loc": ("body", "request"), "input": None,
                                           "msg": f"the `request` part is {json_problem(raw, exc)[0]}"}]) from exc
        options = csv_options(body)
        name = sales.filename or "sales.csv"
        block: SalesBlock = await run_in_threadpool(read_sales_csv, await sales.read(), name, max_csv_bytes,
                                                    max_lines, options)
    finally:
        await form.close()
    scope = dict(request.scope)
    scope["headers"] = [(k, v) for k, v in request.scope["headers"] if k != b"content-type"] + [
        (b"content-type", b"application/json")]
    scope["state"] = {**request.scope.get("state", {}), "sales_upload": block}
    as_json = FastJSONRequest(scope, request.receive)
    as_json._body = b"{}"  # FastAPI reads a body only when one was sent
    as_json._json = body
    mark("parsed")
    return as_json


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


def uploaded_sales(request: Request) -> SalesBlock | None:
    """The CSV parsed from this request's `sales` part, if it came as an upload."""
    block: SalesBlock | None = getattr(request.state, "sales_upload", None)
    return block


class SalesRoute(FastJSONRoute):
    """Routes whose sales may also come as a CSV upload (multipart/form-data), at most
    MAX_SALES_LINES lines (`line_limit` names the setting)."""

    line_limit = "max_sales_lines"

    async def prepare(self, request: Request) -> Request:
        if is_multipart(request):
            settings = request.app.state.settings
            max_lines = (getattr(settings, self.line_limit), self.line_limit.upper())
            return await multipart_as_json(request, settings.max_csv_bytes, settings.max_body_bytes, max_lines)
        return await super().prepare(request)


class BatchSalesRoute(SalesRoute):
    """Batch routes: uploads of up to BATCH_MAX_ROWS lines."""

    line_limit = "batch_max_rows"
