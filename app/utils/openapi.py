"""OpenAPI documentation of the JSON error body, shared by every router."""

import json
from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    field: str | None = Field(description="Path of the offending field, e.g. `inventory[0].quantity`.")
    msg: str
    type: str


class ErrorBody(BaseModel):
    error: str = Field(description="validation_error, unusable_input, payload_too_large, not_found, "
                       "request_timeout, unsupported_media_type, headers_too_large, ...")
    message: str = Field(description="One sentence naming the field and the problem.")
    detail: list[ErrorDetail] = Field(description="The problems found; a 422 lists the first 100.")
    detail_total: int | None = Field(default=None, description="422: how many problems were found in all.")
    request_id: str | None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Well-formed but unusable input."},
    401: {"model": ErrorBody, "description": "API keys are configured and none or an unknown one was sent."},
    403: {"model": ErrorBody, "description": "The API key may not use this shop."},
    429: {"model": ErrorBody, "description": "Over RATE_LIMIT_PER_MINUTE for this key; see `Retry-After`."},
    408: {"model": ErrorBody, "description": "The request body stopped arriving for BODY_TIMEOUT_SECONDS "
          "(`request_timeout`); the connection is closed."},
    413: {"model": ErrorBody, "description": "More rows than MAX_PAYLOAD_ROWS or a body over the byte limit."},
    415: {"model": ErrorBody, "description": "A body that is neither JSON (`application/json`, `*+json`) nor "
          "`multipart/form-data` (`unsupported_media_type`)."},
    422: {"model": ErrorBody, "description": "Schema error; `detail` names each field."},
    431: {"model": ErrorBody, "description": "Request headers over MAX_HEADER_BYTES (`headers_too_large`)."},
    503: {"model": ErrorBody, "description": "A heavy request (a large share of a work budget) found every "
          "ADMISSION_SLOTS slot taken (`server_busy`); see `Retry-After`."},
}

# operations that read no body and need no key (health, metrics) can still be refused on their headers
HEADERS_TOO_LARGE: dict[int | str, dict[str, Any]] = {431: ERROR_RESPONSES[431]}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "Nothing stored for this id."}}
JOB_STORE_DOWN: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorBody, "description": "The job store (Redis) does not answer; retry shortly."},
}

def csv_upload(request_example: dict[str, Any]) -> dict[str, Any]:
    """An operation's `multipart/form-data` body (a CSV upload), its `request` part shown as `request_example`
    without sales."""
    request = json.dumps({key: value for key, value in request_example.items() if key not in ("sales", "series")})
    return {"requestBody": {"content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["request", "sales"],
        "properties": {
            "request": {"type": "string", "description": "The JSON body of this endpoint without its sales; its "
                        "`csv` field says how to read the file (header names, decimal comma, currency signs).",
                        "example": request},
            "sales": {"type": "string", "format": "binary",
                      "description": "CSV with a header naming product_id, date, qty and optionally revenue or "
                      "unit_price (other names mapped by `csv.columns`, other columns ignored), one line per sale; "
                      "may be gzip-compressed (e.g. sales.csv.gz). Errors name the first bad line and its column."},
        }}}}}}


CSV_UPLOAD = csv_upload({"shop_id": "shop_123", "periods": 14})
