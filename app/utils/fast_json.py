"""The API's route class: JSON parsed by pydantic-core, CSV uploads, and a Server-Timing header.

- FastAPI decodes bodies with the stdlib `json.loads`; on a 7 MB at-risk payload that is about
  100 ms of a 200 ms request on our 2-core machine, and `pydantic_core.from_json` does the same in
  about half (bench/service_speed.py). Invalid JSON still ends as FastAPI's 422 `json_invalid`, its
  message saying where (line and column) and what (`json_problem`), with a hint for a literal `...`.
- A `multipart/form-data` request is a CSV upload (`app/utils/sales_upload.py`): its `request`
  part is validated like a JSON body and its `sales` file is parsed to columns.
- A body that fails validation gives FastAPI at most the first 100 errors (app/utils/errors.py
  `first_errors`, counted in `detail_total`): FastAPI would build every one as a dict on the event loop,
  300,000 for a 600 KB body of 100,000 `{}` rows, and hold every other request for 1 to 2.5 s.
- A JSON body whose lists fill over ADMISSION_HEAVY_SHARE of MAX_PAYLOAD_ROWS (sales: MAX_SALES_LINES) is heavy
  (app/utils/admission.py) before it is validated: validating 100,000 rows holds the interpreter.
- Every answer carries `Server-Timing: parse;dur=…, validate;dur=…, handler;dur=…` (milliseconds):
  reading and decoding the body, validating it into the request model, and the work itself. It
  is how the benchmarks see where a request's time goes from outside the server.
"""

import inspect
import json
import re
import time
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from functools import wraps
from typing import Any

import pydantic_core
from fastapi import Request, Response
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from app.utils.admission import admit
from app.utils.errors import counting_unlisted_errors, first_errors

# perf_counter marks of the current request: start, parsed, handler_started, handler_done
_marks: ContextVar[dict[str, float] | None] = ContextVar("smartshelf_timing_marks", default=None)


def mark(name: str) -> None:
    marks = _marks.get()
    if marks is not None:
        marks[name] = time.perf_counter()


_WHERE = re.compile(r"(?P<what>.*) at line (?P<line>\d+) column (?P<column>\d+)$")


def json_problem(body: bytes, exc: ValueError) -> tuple[str, int]:
    """What is wrong with a body that is not JSON, in words a caller can act on, and its character offset.

    `{"sales": [ ... ]}` -> ("not valid JSON at line 1, column 13: expected value; the body holds a literal
    `...`, a placeholder of shortened examples: send the whole value", 12).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"not UTF-8 text: byte {bad.start} (0x{body[bad.start]:02x}) cannot be decoded; send JSON as UTF-8", 0
    found = _WHERE.match(str(exc))
    if found is None:
        return f"not valid JSON: {exc}", 0
    line, column = int(found["line"]), int(found["column"])
    lines = text.split("\n")
    offset = sum(len(previous) + 1 for previous in lines[: line - 1]) + max(column - 1, 0)
    message = f"not valid JSON at line {line}, column {column}: {found['what']}"
    if "..." in text:
        message += "; the body holds a literal `...`, a placeholder of shortened examples: send the whole value"
    return message, offset


class FastJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = pydantic_core.from_json(body)
            except ValueError as exc:
                # FastAPI turns JSONDecodeError into its 422 (app/utils/errors.py words it)
                message, offset = json_problem(body, exc)
                raise json.JSONDecodeError(message, body.decode("utf-8", "replace"), offset) from exc
            mark("parsed")
        return self._json


def _timed(call: Callable[..., Any]) -> Callable[..., Any]:
    """The endpoint, marking when it starts and ends (sync endpoints run in a thread that shares the marks)."""
    if inspect.iscoroutinefunction(call):
        @wraps(call)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            mark("handler_started")
            try:
                return await call(*args, **kwargs)
            finally:
                mark("handler_done")
        timed_async._timed = True  # type: ignore[attr-defined]
        return timed_async

    @wraps(call)
    def timed(*args: Any, **kwargs: Any) -> Any:
        mark("handler_started")
        try:
            return call(*args, **kwargs)
        finally:
            mark("handler_done")
    timed._timed = True  # type: ignore[attr-defined]
    return timed


def server_timing(marks: dict[str, float]) -> str:
    start = marks["start"]
    parsed = marks.get("parsed", start)
    started = marks.get("handler_started", parsed)
    done = marks.get("handler_done", started)
    parts = {"parse": parsed - start, "validate": started - parsed, "handler": done - started,
             "total": time.perf_counter() - start}
    return ", ".join(f"{name};dur={seconds * 1000:.2f}" for name, seconds in parts.items())


Validated = tuple[Any, list[dict[str, Any]]]  # FastAPI's (value, errors)


def _validator(adapter: TypeAdapter[Any]) -> Callable[..., Validated]:
    """FastAPI's `ModelField.validate` of a body, its errors from `first_errors`."""
    def validate(value: Any, values: Any = None, *, loc: tuple[int | str, ...] = ()) -> Validated:
        try:
            return adapter.validate_python(value, from_attributes=True), []
        except ValidationError as exc:
            return None, first_errors(exc, loc)
    validate._first_errors = True  # type: ignore[attr-defined]
    return validate


def _list_first_errors(dependant: Dependant) -> None:
    """Make the dependant's body fields report their first errors only (see `_validator`)."""
    for body_field in dependant.body_params:
        if not getattr(body_field.validate, "_first_errors", False):
            # the field's own adapter: `Annotated[model, Body(...)]` as FastAPI validates it
            setattr(body_field, "validate", _validator(body_field._type_adapter))  # noqa: B010


def body_share(body: Any, max_payload_rows: int, max_sales_lines: int) -> tuple[float, int]:
    """How much of the row limits a JSON body's lists fill, and their rows: `sales` of MAX_SALES_LINES, every
    other list (`inventory`, `items`, ...) of MAX_PAYLOAD_ROWS; the shares of the lists are summed."""
    lists = [(key, value) for key, value in body.items() if isinstance(value, list)] if isinstance(body, dict) else []
    share = sum(len(value) / (max_sales_lines if key == "sales" else max_payload_rows) for key, value in lists)
    return share, sum(len(value) for _, value in lists)


async def _admit_rows(request: Request) -> None:
    """A JSON body of many rows is heavy before it is validated: it waits for an admission slot (or is refused).
    (A CSV upload's sales are columns by then, app/utils/sales_upload.py: only its `request` part counts.)"""
    if "json" not in request.headers.get("content-type", "json"):
        return
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return  # FastAPI reads it again and answers its 422
    settings = request.app.state.settings
    share, rows = body_share(body, settings.max_payload_rows, settings.max_sales_lines)
    if share > settings.admission_heavy_share:
        await run_in_threadpool(admit, share, f"{rows:,} rows in the body, of MAX_PAYLOAD_ROWS="
                                              f"{settings.max_payload_rows:,} (sales: MAX_SALES_LINES="
                                              f"{settings.max_sales_lines:,})")


class FastJSONRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # the endpoint itself is wrapped: FastAPI copies routes (and their dependants) when routers
        # are included, and every copy must carry the marks
        if not getattr(endpoint, "_timed", False):
            endpoint = _timed(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # FastAPI builds the handler of a route included in a router from a copy of its state (its dependant
        # too), the "effective context" of that inclusion
        effective = fastapi_routing._effective_route_context_var.get()
        _list_first_errors(effective.dependant if effective is not None and effective.original_route is self
                           else self.dependant)
        handler = super().get_route_handler()

        async def fast_json_handler(request: Request) -> Response:
            marks = {"start": time.perf_counter()}
            token = _marks.set(marks)
            try:
                request = await self.prepare(request)
                response = await self.shortcut(request)
                if response is None:
                    if self.body_field is not None:
                        await _admit_rows(request)
                    with counting_unlisted_errors():
                        response = await handler(request)
            finally:
                _marks.reset(token)
            response.headers["Server-Timing"] = server_timing(marks)
            return response

        return fast_json_handler

    async def prepare(self, request: Request) -> Request:
        """The request FastAPI will read; subclasses turn other body formats into JSON here."""
        return request if isinstance(request, FastJSONRequest) else FastJSONRequest(request.scope, request.receive)

    async def shortcut(self, request: Request) -> Response | None:
        """An answer found without validating the request (subclasses: e.g. a cached answer), or None."""
        return None
