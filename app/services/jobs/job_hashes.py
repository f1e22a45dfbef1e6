"""The two places job records live: Redis (shared by the API and every worker) or this process.

Both offer the few Redis commands the job store needs: hashes (a job's fields, its chunks' inputs and
results), counters and sorted sets (the index of kept jobs, newest first), each key expiring after the
TTL given at its last write. Neither ever drops a key before its TTL: the job store refuses new work
when the embedded store is full (`app.services.jobs.job_store`), it does not evict accepted jobs.
"""

import bisect
import threading
import time
from typing import Any, Protocol

import redis

from app.utils.errors import SmartShelfError


class JobStoreUnavailable(SmartShelfError):
    """The job store (Redis) does not answer (HTTP 503); the job API works again once it does."""

    status_code = 503
    error = "job_store_unavailable"


class Hashes(Protocol):
    def hset(self, key: str, field: str, value: bytes, ttl: float) -> None: ...
    def hsetnx(self, key: str, field: str, value: bytes, ttl: float) -> bool: ...
    def hget(self, key: str, field: str) -> bytes | None: ...
    def hmget(self, key: str, fields: list[str]) -> list[bytes | None]: ...
    def hgetall(self, key: str) -> dict[str, bytes]: ...
    def hdel(self, key: str, fields: list[str]) -> None: ...
    def hincrby(self, key: str, field: str, amount: int, ttl: float) -> None: ...
    def zadd(self, key: str, member: str, score: float, ttl: float) -> None: ...
    def zrevrange(self, key: str, start: int, count: int) -> list[str]: ...
    def zpop_below(self, key: str, score: float) -> list[str]: ...
    def zrem(self, key: str, members: list[str]) -> None: ...
    def capacity(self) -> tuple[int, int] | None: ...
    def seconds_to_oldest_expiry(self) -> float | None: ...


class _SortedSet:
    """Members by score, kept sorted: adding, removing and reading a page cost O(log n) plus the page."""

    def __init__(self) -> None:
        self.scores: dict[str, float] = {}
        self.order: list[tuple[float, str]] = []

    def add(self, member: str, score: float) -> None:
        self.remove(member)
        self.scores[member] = score
        bisect.insort(self.order, (score, member))

    def remove(self, member: str) -> None:
        if (score := self.scores.pop(member, None)) is not None:
            del self.order[bisect.bisect_left(self.order, (score, member))]


_ENTRY_BYTES = 64  # what one sorted-set member costs beside its name (counted against the bound)


class MemoryHashes:
    """The same in this process (the embedded default), with per-key expiry.

    `stored_bytes` counts every value, field name and index entry held; expired keys are swept on every
    write, least recently written first (a key's TTL restarts at each write, so they expire in that order).
    """

    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        self._data: dict[str, tuple[float, Any]] = {}  # key -> (expires, dict of fields | _SortedSet)
        self._lock = threading.Lock()
        self.max_bytes = max_bytes
        self._bytes = 0

    @property
    def stored_bytes(self) -> int:
        return self._bytes

    def _size(self, value: Any) -> int:
        if isinstance(value, _SortedSet):
            return sum(len(member) + _ENTRY_BYTES for member in value.scores)
        return sum(len(name) + len(field) for name, field in value.items())

    def _live(self, key: str, kind: type, ttl: float | None = None) -> Any:
        """The live value of `key` (an expired one is dropped); with `ttl`, created or kept alive."""
        now = time.monotonic()
        expires, value = self._data.get(key, (now, None))
        if expires < now and key in self._data:
            self._bytes -= self._size(self._data.pop(key)[1])
            value = None
        if value is None:
            value = kind()
        if ttl is not None:
            self._data.pop(key, None)  # re-inserted last: dict order is the order of expiry
            self._data[key] = (max(expires, now + ttl), value)
            self._sweep(now)
        return value

    def _sweep(self, now: float) -> None:
        while self._data:
            key, (expires, value) = next(iter(self._data.items()))
            if expires >= now:
                return
            del self._data[key]
            self._bytes -= self._size(value)

    def capacity(self) -> tuple[int, int] | None:
        """(bytes held, the bound): new jobs must fit between them."""
        with self._lock:
            self._sweep(time.monotonic())
            return self._bytes, self.max_bytes

    def seconds_to_oldest_expiry(self) -> float | None:
        with self._lock:
            if not self._data:
                return None
            expires, _ = next(iter(self._data.values()))
            return max(0.0, expires - time.monotonic())

    def _store(self, key: str, field: str, value: bytes, ttl: float) -> None:
        fields = self._live(key, dict, ttl)
        old = fields.get(field)
        self._bytes += len(value) - (len(old) if old is not None else -len(field))
        fields[field] = value

    def hset(self, key: str, field: str, value: bytes, ttl: float) -> None:
        with self._lock:
            self._store(key, field, value, ttl)

    def hsetnx(self, key: str, field: str, value: bytes, ttl: float) -> bool:
        with self._lock:
            if field in self._live(key, dict, ttl):
                return False
            self._store(key, field, value, ttl)
            return True

    def hget(self, key: str, field: str) -> bytes | None:
        with self._lock:
            value: bytes | None = self._live(key, dict).get(field)
            return value

    def hmget(self, key: str, fields: list[str]) -> list[bytes | None]:
        with self._lock:
            stored = self._live(key, dict)
            return [stored.get(field) for field in fields]

    def hgetall(self, key: str) -> dict[str, bytes]:
        with self._lock:
            return dict(self._live(key, dict))

    def hdel(self, key: str, fields: list[str]) -> None:
        with self._lock:
            stored = self._live(key, dict)
            for field in fields:
                if (value := stored.pop(field, None)) is not None:
                    self._bytes -= len(field) + len(value)

    def hincrby(self, key: str, field: str, amount: int, ttl: float) -> None:
        with self._lock:
            count = int(self._live(key, dict).get(field, b"0")) + amount
            self._store(key, field, str(count).encode(), ttl)

    def zadd(self, key: str, member: str, score: float, ttl: float) -> None:
        with self._lock:
            ordered = self._live(key, _SortedSet, ttl)
            self._bytes += 0 if member in ordered.scores else len(member) + _ENTRY_BYTES
            ordered.add(member, score)

    def zrevrange(self, key: str, start: int, count: int) -> list[str]:
        with self._lock:
            order = self._live(key, _SortedSet).order
            stop = max(len(order) - start, 0)
            return [member for _, member in reversed(order[max(stop - count, 0):stop])]

    def zpop_below(self, key: str, score: float) -> list[str]:
        with self._lock:
            ordered = self._live(key, _SortedSet)
            cut = bisect.bisect_left(ordered.order, (score, ""))
            popped = [member for _, member in ordered.order[:cut]]
            for member in popped:
                ordered.remove(member)
                self._bytes -= len(member) + _ENTRY_BYTES
            return popped

    def zrem(self, key: str, members: list[str]) -> None:
        with self._lock:
            ordered = self._live(key, _SortedSet)
            for member in members:
                if member in ordered.scores:
                    ordered.remove(member)
                    self._bytes -= len(member) + _ENTRY_BYTES


class RedisHashes:
    """The same on Redis, through the process's shared client; every failure becomes JobStoreUnavailable."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def _run(self, *commands: tuple[str, tuple[Any, ...]]) -> list[Any]:
        try:
            pipe = self._client.pipeline(transaction=True)
            for name, args in commands:
                getattr(pipe, name)(*args)
            return list(pipe.execute())
        except redis.RedisError as exc:
            raise JobStoreUnavailable(f"the job store (Redis) does not answer: {type(exc).__name__}; "
                                      "retry shortly") from exc

    def _write(self, command: str, key: str, args: tuple[Any, ...], ttl: float) -> Any:
        return self._run((command, (key, *args)), ("expire", (key, max(1, int(ttl)))))[0]

    def hset(self, key: str, field: str, value: bytes, ttl: float) -> None:
        self._write("hset", key, (field, value), ttl)

    def hsetnx(self, key: str, field: str, value: bytes, ttl: float) -> bool:
        return bool(self._write("hsetnx", key, (field, value), ttl))

    def hget(self, key: str, field: str) -> bytes | None:
        value = self._run(("hget", (key, field)))[0]
        return value if isinstance(value, bytes) else None

    def hmget(self, key: str, fields: list[str]) -> list[bytes | None]:
        return list(self._run(("hmget", (key, fields)))[0]) if fields else []

    def hgetall(self, key: str) -> dict[str, bytes]:
        return {k.decode(): v for k, v in self._run(("hgetall", (key,)))[0].items()}

    def hdel(self, key: str, fields: list[str]) -> None:
        if fields:
            self._run(("hdel", (key, *fields)))

    def hincrby(self, key: str, field: str, amount: int, ttl: float) -> None:
        self._write("hincrby", key, (field, amount), ttl)

    def zadd(self, key: str, member: str, score: float, ttl: float) -> None:
        self._write("zadd", key, ({member: score},), ttl)

    def zrevrange(self, key: str, start: int, count: int) -> list[str]:
        return [m.decode() for m in self._run(("zrevrange", (key, start, start + count - 1)))[0]]

    def zpop_below(self, key: str, score: float) -> list[str]:
        popped, _ = self._run(("zrangebyscore", (key, "-inf", f"({score}")),
                              ("zremrangebyscore", (key, "-inf", f"({score}")))
        return [m.decode() for m in popped]

    def zrem(self, key: str, members: list[str]) -> None:
        if members:
            self._run(("zrem", (key, *members)))

    def capacity(self) -> tuple[int, int] | None:
        return None  # Redis's own memory is bounded by its maxmemory; only queued inputs are bounded here

    def seconds_to_oldest_expiry(self) -> float | None:
        return None
