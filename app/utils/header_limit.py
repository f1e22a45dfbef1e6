"""MAX_HEADER_BYTES: refuse oversized request headers with a JSON 431 before anything else runs.

uvicorn hands the app header blocks far larger than any caller needs (100 KB went through both its
httptools and h11 parsers), and every middleware after this one reads headers. So the limit is
kept here, first after the request id: no key is hashed, no rate-limit counter touched and no route
run for such a request, and the refusal is in the API's error format (and logged).
"""

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.utils.access import API_CSP, SECURITY_HEADERS
from app.utils.errors import error_body


def header_bytes(headers: list[tuple[bytes, bytes]]) -> int:
    """Size of the header block as sent: `name: value` plus CRLF per line."""
    return sum(len(name) + len(value) + 4 for name, value in headers)


class HeaderLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        size = header_bytes(scope.get("headers") or [])
        if size <= self.max_bytes:
            await self.app(scope, receive, send)
            return
        message = f"request headers are {size} bytes, over MAX_HEADER_BYTES={self.max_bytes}"
        response = JSONResponse(error_body("headers_too_large", message, []), status_code=431,
                                headers={"Connection": "close"})
        response.raw_headers.extend([*SECURITY_HEADERS, API_CSP])
        await response(scope, receive, send)
