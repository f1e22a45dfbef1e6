"""What batch jobs need from the calling backend: the `Backend` protocol, its error, the push key.

The HTTP client that implements it (`app.tasks.backend_client.BackendClient`) lives with the
Celery wiring; batch services receive a factory of it, so they never import `app.tasks`.
"""

import hashlib
from typing import Any, Protocol


class BackendError(Exception):
    """A backend call that failed for good; `attempts` says how many were made."""

    def __init__(self, message: str, attempts: int, status: int | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status = status


class Backend(Protocol):
    """The calling backend's three endpoints (docs/backend.md); calls raise BackendError."""

    def shops(self) -> list[dict[str, Any]]: ...
    def sales(self, shop_id: str, product_ids: list[str], since: str, until: str) -> dict[str, Any]: ...
    def push(self, body: bytes, key: str) -> int: ...
    def close(self) -> None: ...


def idempotency_key(shop_id: str, batch_date: str, chunk: int, chunks: int) -> str:
    """Stable for a shop, date and chunk: the same push repeated carries the same key."""
    digest = hashlib.sha256(f"{shop_id}\x1f{batch_date}".encode()).hexdigest()[:24]
    return f"ss-{batch_date}-{digest}-{chunk}-of-{chunks}"
