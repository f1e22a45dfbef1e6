"""structlog set-up and the request-id / access-log ASGI middleware.

Logs carry ids, counts and timings only: never product names or payload contents. Ids and paths
come from callers, so one event must stay one line whatever they hold: `/forecast/s1/p%0b...` is
a path with a vertical tab, which `str.splitlines` and many log shippers take for a line break,
and an escape sequence (ESC [1A) moves a terminal's cursor. JSON lines escape every control
character by construction; the console format shows a text value holding one as its Python repr
(quoted, each control character escaped), never raw.
"""

import logging
import re
import sys
import time
import uuid
from collections.abc import MutableMapping
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.utils.metrics import observe_request
from app.utils.request_context import set_request_id

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
log = structlog.get_logger("smartshelf.access")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class _Escaped:
    """A text value the console renderer shows by its repr: quoted, every control character escaped."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return repr(self.text)


def escape_control_characters(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor (console format): no control character of a text value reaches the line.

    The console renderer quotes text only when it holds a space, `=`, a quote, a tab or CR/LF, so a
    vertical tab, U+2028 or an escape sequence would otherwise be written as is. `exception`, our
    own traceback, stays multi-line.
    """
    for key, value in event_dict.items():
        if isinstance(value, str) and key != "exception" and _CONTROL.search(value):
            event_dict[key] = repr(value)[1:-1] if key == "event" else _Escaped(value)
    return event_dict


def configure_logging(log_format: str, log_level: str) -> None:
    """Route structlog (and stdlib logging) to stdout as JSON lines or console text."""
    level = logging.getLevelName(log_level.upper())
    if not isinstance(level, int):
        level = logging.INFO
    renderers: list[structlog.types.Processor] = (
        [structlog.processors.JSONRenderer()]
        if log_format == "json"
        else [escape_control_characters, structlog.dev.ConsoleRenderer(colors=False)]
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            *renderers,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level, stream=sys.stdout, format="%(message)s", force=True)


class RequestContextMiddleware:
    """Take the request id from `X-Request-ID` (or make one), echo it, log one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = sent if _VALID_REQUEST_ID.match(sent) else uuid.uuid4().hex
        set_request_id(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            observe_request(getattr(route, "path", "unmatched"), scope["method"], status,
                            time.perf_counter() - started)
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.unbind_contextvars("request_id")
