"""What a request body may cost: its size (MAX_BODY_BYTES, 413), its pace (BODY_TIMEOUT_SECONDS,
408) and its media type (JSON or multipart, 415).

Every refusal is raised the first time the route asks for the body, never read whole:
- a declared Content-Length over MAX_BODY_BYTES is refused before any byte is read; a chunked
  body is counted as it streams and refused at the first chunk past the limit;
- a body that stops arriving (a client that sends a long Content-Length and then a few bytes) is
  refused once BODY_TIMEOUT_SECONDS pass without a chunk, like nginx's `client_body_timeout`:
  uvicorn would otherwise hold the connection, and the worker's request, until the client goes;
- a POST/PUT/PATCH body that is neither JSON (`application/json`, `*+json`) nor
  `multipart/form-data` (the CSV uploads) is refused instead of being handed to the JSON parser.
  Routes that take no body never ask for it, so they are exempt without a list of them.
The refusals are `BodyRefused` (an HTTPException, which FastAPI lets through its body reading)
and end in the one JSON error handler, with their own `error` code.
"""

import asyncio
import email.message

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCEPTED_MEDIA_TYPES = ("application/json", "application/*+json", "multipart/form-data")
METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class BodyRefused(HTTPException):
    """The request body cannot be read under the limits; `error` is the JSON body's `error` code."""

    def __init__(self, status_code: int, error: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code, detail=message, headers=headers)
        self.error = error


def accepted_media_type(content_type: str | None) -> bool:
    """True for JSON (`application/json`, `application/<anything>+json`) and `multipart/form-data`.

    Parameters (`; charset=utf-8`, `; boundary=...`) and letter case do not matter.
    """
    if not content_type:
        return False
    parsed = email.message.Message()
    parsed["content-type"] = content_type
    main, sub = parsed.get_content_maintype(), parsed.get_content_subtype()
    return (main == "application" and (sub == "json" or sub.endswith("+json"))) or (
        main == "multipart" and sub == "form-data")


def carries_body(headers: dict[bytes, bytes]) -> bool:
    """A body follows the headers: a non-zero Content-Length or any Transfer-Encoding."""
    declared = headers.get(b"content-length", b"").strip()
    return b"transfer-encoding" in headers or (declared != b"" and declared != b"0")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout_seconds: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds

    def _too_large(self) -> BodyRefused:
        return BodyRefused(413, "payload_too_large",
                           f"request body exceeds MAX_BODY_BYTES={self.max_bytes}; split the request")

    def _too_slow(self) -> BodyRefused:
        # the rest of the body may still be on its way: this connection cannot carry another request
        return BodyRefused(408, "request_timeout", "the request body stopped arriving: nothing came for "
                           f"BODY_TIMEOUT_SECONDS={self.timeout_seconds:g} s", headers={"Connection": "close"})

    @staticmethod
    def _unsupported(content_type: str) -> BodyRefused:
        sent = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
        return BodyRefused(415, "unsupported_media_type", f"{sent}: send application/json (or another "
                           "+json type), or multipart/form-data for a CSV upload")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        too_large = declared is not None and declared.isdigit() and int(declared) > self.max_bytes
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        unsupported = (scope["method"] in METHODS_WITH_BODY and carries_body(headers)
                       and not accepted_media_type(content_type))
        seen = 0
        complete = False  # after the last chunk, receive() waits for the disconnect: never timed

        async def guarded_receive() -> Message:
            nonlocal seen, complete
            if unsupported:
                raise self._unsupported(content_type)
            if too_large:
                raise self._too_large()
            if complete:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.timeout_seconds)
            except TimeoutError:
                raise self._too_slow() from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if seen > self.max_bytes:
                    raise self._too_large()
            return message

        await self.app(scope, guarded_receive, send)
