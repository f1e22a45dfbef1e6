"""Domain errors and the one place that turns errors into the JSON error body.

Services raise `SmartShelfError` subclasses (never HTTPException); `install_error_handlers`
maps them, request-validation errors and unexpected exceptions to
`{"error", "message", "detail": [{"field", "msg", "type"}], "request_id"}`.

A 422 lists at most MAX_DETAIL entries (the first ones, in the order of the body) and says how many
there were in `detail_total` and in its message: a 600 KB body of 100,000 `{}` rows has 300,000 errors,
and listing them all was a 33 MB answer built on the event loop. `first_errors` takes only those entries
from pydantic (the route class validates bodies with it, app/utils/fast_json.py): turning all 300,000 into
Python dicts cost 1 to 2.5 s of the event loop, most of it the garbage collector walking the heap.
"""

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.utils.request_context import current_request_id

log = structlog.get_logger(__name__)
MAX_DETAIL = 100  # entries listed in a 422's `detail`; `detail_total` counts them all
# errors of the current request left out by first_errors (counting_unlisted_errors)
_unlisted: ContextVar[int] = ContextVar("smartshelf_unlisted_errors", default=0)


class SmartShelfError(Exception):
    """Well-formed input that cannot be answered (HTTP 400)."""

    status_code = 400
    error = "unusable_input"

    headers: dict[str, str] | None = None  # e.g. Retry-After of a 503

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInputError(SmartShelfError):
    """A value the schema could not check on its own, e.g. a date that does not exist (HTTP 422)."""

    status_code = 422
    error = "validation_error"


class PayloadTooLargeError(SmartShelfError):
    """The request carries more rows than MAX_PAYLOAD_ROWS (HTTP 413)."""

    status_code = 413
    error = "payload_too_large"


class NotFoundError(SmartShelfError):
    """The thing asked for does not exist (HTTP 404)."""

    status_code = 404
    error = "not_found"


class ConflictError(SmartShelfError):
    """The thing asked for exists but cannot be used as it is, e.g. a stored model refused (HTTP 409)."""

    status_code = 409
    error = "conflict"


def field_path(loc: Sequence[int | str]) -> str:
    """`("body", "inventory", 0, "quantity")` -> `"inventory[0].quantity"`."""
    path = ""
    for part in loc:
        if part == "body" and not path:
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def error_body(error: str, message: str, detail: list[dict[str, Any]]) -> dict[str, Any]:
    return {"error": error, "message": message, "detail": detail, "request_id": current_request_id()}


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SmartShelfError)
    detail = [{"field": exc.field, "msg": exc.message, "type": exc.error}] if exc.field else []
    message = f"{exc.field}: {exc.message}" if exc.field else exc.message
    return JSONResponse(error_body(exc.error, message, detail), status_code=exc.status_code, headers=exc.headers)


def _entry(err: Any) -> dict[str, Any]:
    """One error of a 422's `detail`. A body that is not JSON is FastAPI's `json_invalid` at ("body",
    character offset), its words in `ctx.error` (app/utils/fast_json.py `json_problem`): the field is the body."""
    loc = list(err["loc"])
    if err["type"] == "json_invalid" and len(loc) == 2 and isinstance(loc[1], int):
        return {"field": "body", "loc": loc, "msg": err.get("ctx", {}).get("error", err["msg"]), "type": err["type"]}
    return {"field": field_path(loc), "loc": loc, "msg": err["msg"], "type": err["type"]}


def first_errors(exc: ValidationError, loc: tuple[int | str, ...]) -> list[dict[str, Any]]:
    """FastAPI's errors of a failed validation (`loc` in front of each), at most MAX_DETAIL of them.

    The others are counted for this request's `detail_total` (`counting_unlisted_errors`), never listed. With
    more than MAX_DETAIL, the entries carry no `input` or `ctx` (a 422 lists neither) and the garbage collector
    is paused while pydantic builds them: a collection each few hundred new dicts would walk the whole heap.
    """
    total = exc.error_count()
    if total <= MAX_DETAIL:
        errors = exc.errors(include_url=False)
    else:
        collecting = gc.isenabled()
        gc.disable()
        try:
            errors = exc.errors(include_url=False, include_input=False, include_context=False)[:MAX_DETAIL]
        finally:
            if collecting:
                gc.enable()
        _unlisted.set(_unlisted.get() + total - MAX_DETAIL)
    return [{**err, "loc": (*loc, *err["loc"])} for err in errors]


@contextmanager
def counting_unlisted_errors() -> Iterator[None]:
    """Around a request's handling: a RequestValidationError raised within carries, as `unlisted`, how many
    errors `first_errors` left out (its 422 counts them in `detail_total`)."""
    token = _unlisted.set(0)
    try:
        yield
    except RequestValidationError as exc:
        exc.unlisted = _unlisted.get()  # type: ignore[attr-defined]
        raise
    finally:
        _unlisted.reset(token)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    total = len(errors) + getattr(exc, "unlisted", 0)
    detail = [_entry(err) for err in errors[:MAX_DETAIL]]
    first = detail[0] if detail else {"field": "body", "msg": "invalid request"}
    more = f" (and {total - 1:,} more)" if total > 1 else ""
    listed = f"; the first {MAX_DETAIL} are listed" if total > MAX_DETAIL else ""
    message = f"{first['field']}: {first['msg']}{more}{listed}"
    return JSONResponse({**error_body("validation_error", message, detail), "detail_total": total},
                        status_code=422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail)
    error = getattr(exc, "error", "http_error")  # refusals raised by middleware carry their own code
    return JSONResponse(error_body(error, message, []), status_code=exc.status_code, headers=exc.headers)


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", error_type=type(exc).__name__)
    return JSONResponse(
        error_body("internal_error", "internal error; quote the request_id when reporting it", []),
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error handlers on `app`."""
    app.add_exception_handler(SmartShelfError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
