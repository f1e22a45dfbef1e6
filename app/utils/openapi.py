"""OpenAPI documentation of the JSON error body, shared by every router."""

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
    detail: list[ErrorDetail]
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
}

# operations that read no body and need no key (health, metrics) can still be refused on their headers
HEADERS_TOO_LARGE: dict[int | str, dict[str, Any]] = {431: ERROR_RESPONSES[431]}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "Nothing stored for this id."}}
JOB_STORE_DOWN: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorBody, "description": "The job store (Redis) does not answer; retry shortly."},
}

CSV_UPLOAD: dict[str, Any] = {"requestBody": {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["request", "sales"],
    "properties": {
        "request": {"type": "string", "description": "The JSON body of this endpoint without its sales.",
                    "example": '{"shop_id": "shop_123", "periods": 14}'},
        "sales": {"type": "string", "format": "binary",
                  "description": "CSV with a header product_id,date,qty[,revenue], one line per sales row; "
                  "may be gzip-compressed (e.g. sales.csv.gz). Errors name the line and column."},
    }}}}}}
