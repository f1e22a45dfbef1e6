"""The calling backend, as the scheduled jobs see it (contract: docs/backend.md).

- `GET  {BACKEND_API_URL}/smart-shelf/shops`: the shops and products to serve;
- `POST {BACKEND_API_URL}/smart-shelf/sales/query` with `{shop_id, product_ids, since, until}`:
  their sales (a POST, as a chunk's product list can outgrow a URL);
- `POST {BACKEND_API_URL}/smart-shelf/forecast-batches`: one chunk of forecasts, with
  `Idempotency-Key` and `X-SmartShelf-Signature: sha256=<HMAC-SHA256 of the body>`.

Every call retries network errors, timeouts, 5xx and 429 (honouring `Retry-After`) with
exponential backoff and full jitter, up to BACKEND_MAX_ATTEMPTS; any other 4xx fails at once,
as repeating it cannot help. A repeated push key answered 409 counts as delivered.
`BackendClient` implements `app.services.jobs.backend_contract.Backend`; failures raise its `BackendError`.
"""

import hashlib
import hmac
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2 as httpx
import structlog

from app.config import Settings
from app.services.jobs.backend_contract import BackendError

log = structlog.get_logger(__name__)
SIGNATURE_HEADER = "X-SmartShelf-Signature"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: `sha256=` + hex HMAC-SHA256(secret, body)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class BackendClient:
    """Pulls shops and sales, pushes signed batches; see the module docstring for the rules."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        if not settings.backend_api_url:
            raise ValueError("BACKEND_API_URL is not set: the scheduled jobs have no backend to serve")
        self.base = settings.backend_api_url.rstrip("/")
        self.secret = settings.backend_webhook_secret
        self.max_attempts = settings.backend_max_attempts
        self.base_delay = settings.backend_retry_base_seconds
        self.max_delay = settings.backend_retry_max_seconds
        self._sleep = sleep
        self._client = httpx.Client(timeout=settings.backend_timeout_seconds)

    def close(self) -> None:
        self._client.close()

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        return min(self.max_delay, retry_after) if retry_after is not None else backoff

    def _call(self, method: str, path: str, delivered: tuple[int, ...] = (), **kwargs: Any) -> httpx.Response:
        url = f"{self.base}{path}"
        for attempt in range(1, self.max_attempts + 1):
            retry_after: float | None = None
            try:
                response = self._client.request(method, url, **kwargs)
            except httpx.TransportError as exc:  # connection refused/reset, DNS, timeouts
                problem, status = f"{type(exc).__name__}: {exc}", None
            else:
                if response.is_success or response.status_code in delivered:
                    return response
                problem, status = f"HTTP {response.status_code}", response.status_code
                if not _retryable(response.status_code):
                    raise BackendError(f"{method} {path} answered {problem}; not retried", attempt, status)
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt == self.max_attempts:
                raise BackendError(f"{method} {path} failed {attempt} times; last: {problem}", attempt, status)
            delay = self._delay(attempt, retry_after)
            log.warning("backend_retry", method=method, path=path, attempt=attempt, problem=problem,
                        delay_s=round(delay, 3))
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def shops(self) -> list[dict[str, Any]]:
        shops: list[dict[str, Any]] = self._call("GET", "/smart-shelf/shops").json()["shops"]
        return shops

    def sales(self, shop_id: str, product_ids: list[str], since: str, until: str) -> dict[str, Any]:
        query = {"shop_id": shop_id, "product_ids": product_ids, "since": since, "until": until}
        payload: dict[str, Any] = self._call("POST", "/smart-shelf/sales/query", json=query).json()
        return payload

    def push(self, body: bytes, key: str) -> int:
        """POST one batch chunk (409, a key seen before, counts as delivered); returns the status."""
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, body)
        started = time.monotonic()
        response = self._call("POST", "/smart-shelf/forecast-batches", delivered=(409,), content=body,
                              headers=headers)
        log.info("batch_pushed", key=key, status=response.status_code, bytes=len(body),
                 seconds=round(time.monotonic() - started, 3))
        return response.status_code
