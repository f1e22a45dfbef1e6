"""Requests per minute per API key (or per client address when the service is open).

A fixed one-minute window counted with INCR in Redis, so every API replica shares the count;
in-process in the embedded default. The limiter is built with the app (its middleware needs it)
and counts in process until the lifespan `attach`es the process's shared Redis client, which it
`detach`es on shutdown. When Redis does not answer, requests are let through (a cache outage must
not become an API outage), Redis is left alone for `RETRY_SECONDS`, and this is logged once per outage.
"""

import threading
import time

import redis
import structlog

log = structlog.get_logger(__name__)
WINDOW = 60
RETRY_SECONDS = 2.0


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._client: redis.Redis | None = None
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._down = False
        self._down_until = 0.0

    def attach(self, client: redis.Redis | None) -> None:
        """Count in Redis through the process's shared client (None: count in this process)."""
        self._client = client

    def detach(self) -> None:
        self._client = None

    def _count(self, identity: str, window: int) -> int | None:
        if self._client is None:
            with self._lock:
                for old in [k for k in self._counts if k[1] < window]:
                    del self._counts[old]
                self._counts[(identity, window)] = self._counts.get((identity, window), 0) + 1
                return self._counts[(identity, window)]
        if time.monotonic() < self._down_until:
            return None
        key = f"ss:rl:{identity}:{window}"
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, WINDOW * 2)
            count = int(pipe.execute()[0])
        except redis.RedisError as exc:
            if not self._down:
                log.warning("rate_limit_unavailable", error=type(exc).__name__, effect="requests not limited")
            self._down = True
            self._down_until = time.monotonic() + RETRY_SECONDS
            return None
        self._down = False
        return count

    def hit(self, identity: str) -> float | None:
        """Count one request; the seconds to wait when over the limit, else None."""
        if self.per_minute <= 0:
            return None
        now = time.time()
        window = int(now // WINDOW)
        count = self._count(identity, window)
        if count is None or count <= self.per_minute:
            return None
        return (window + 1) * WINDOW - now
