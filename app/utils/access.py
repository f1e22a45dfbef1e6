"""API keys scoped to shops, rate limits and security headers, before any body is read.

API_KEYS holds SHA-256 hashes of the keys (never the keys): `[{"name": "node-backend",
"sha256": "<hex>", "shops": ["shop_1"]}]`, `"shops": ["*"]` for every shop. A request sends its key
as `X-API-Key` (or `Authorization: Bearer <key>`). With keys configured: no key or an unknown key
-> 401; the route then checks the request's `shop_id` against the key's shops (403, see
`ShopGuard`). With none configured the service is open (logged at start-up). /health and the docs
stay open; /metrics takes any known key (it names no shop, but its job counts cost a job-store read).
Logs name the key, never the key itself.
"""

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.utils.errors import SmartShelfError, error_body
from app.utils.rate_limit import RateLimiter

OPEN_PATHS = ("/health", "/docs", "/redoc", "/openapi.json", "/static/")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
DOCS_CSP = (b"content-security-policy", b"default-src 'self'; script-src 'self' 'unsafe-inline'; "
            b"style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")


class ForbiddenError(SmartShelfError):
    """The API key may not use this shop (HTTP 403)."""

    status_code = 403
    error = "forbidden"


@dataclass(frozen=True)
class Principal:
    """The caller behind an API key."""

    name: str
    shops: frozenset[str]

    def allows(self, shop_id: str | None) -> bool:
        return "*" in self.shops or shop_id in self.shops

    @property
    def all_shops(self) -> bool:
        return "*" in self.shops


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def presented_key(headers: Headers) -> str | None:
    key = headers.get("x-api-key")
    if key:
        return key
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class AccessMiddleware:
    """401 / 429 before the route reads anything; security headers on every answer."""

    def __init__(self, app: ASGIApp, keys: dict[str, Principal], limiter: RateLimiter) -> None:
        self.app = app
        self.keys = keys  # sha256 hex -> principal
        self.limiter = limiter

    def _principal(self, key: str) -> Principal | None:
        digest = hash_key(key)
        found = None
        for stored, principal in self.keys.items():  # compare every hash, in constant time each
            if hmac.compare_digest(stored, digest):
                found = principal
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        docs = path.startswith(("/docs", "/redoc", "/static/"))
        headers = [*SECURITY_HEADERS, DOCS_CSP if docs else API_CSP]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        if path.startswith(OPEN_PATHS) or scope["method"] == "OPTIONS":  # CORS preflights carry no key
            await self.app(scope, receive, send_with_headers)
            return
        refusal = self._check(scope)
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _check(self, scope: Scope) -> JSONResponse | None:
        principal = None
        if self.keys:
            key = presented_key(Headers(scope=scope))
            if key is None:
                return _refuse(401, "missing_api_key", "send your API key in the X-API-Key header", "X-API-Key")
            principal = self._principal(key)
            if principal is None:
                return _refuse(401, "invalid_api_key", "the API key is not known", "X-API-Key")
            scope.setdefault("state", {})["principal"] = principal
        client = scope.get("client") or ("unknown", 0)
        identity = f"key:{principal.name}" if principal else f"ip:{client[0]}"
        wait = self.limiter.hit(identity)
        if wait is not None:
            response = _refuse(429, "rate_limited", f"more than {self.limiter.per_minute} requests this minute; "
                               f"retry in {int(wait) + 1} s", None)
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        return None


def _refuse(status: int, error: str, message: str, field: str | None) -> JSONResponse:
    detail: list[dict[str, Any]] = [{"field": field, "msg": message, "type": error}] if field else []
    headers = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'} if status == 401 else None
    return JSONResponse(error_body(error, message, detail), status_code=status, headers=headers)
