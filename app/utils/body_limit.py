"""MAX_BODY_BYTES: refuse larger request bodies with the JSON 413, without reading them whole.

A declared Content-Length over the limit is answered before any byte is read; a chunked body is
counted as it streams and refused at the first chunk past the limit. The refusal is an
HTTPException, which FastAPI passes to the one JSON error handler.
"""

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> HTTPException:
        return HTTPException(413, detail=f"request body exceeds MAX_BODY_BYTES={self.max_bytes}; split the request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        too_large = declared is not None and declared.isdigit() and int(declared) > self.max_bytes
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen
            if too_large:
                raise self._too_large()
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise self._too_large()
            return message

        await self.app(scope, counted_receive, send)
