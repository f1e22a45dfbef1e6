"""Where batch jobs keep their state: Redis when REDIS_URL is set (shared by the API and every
worker), a process-local store in the embedded default.

A job is one hash, `ss:job:<id>`: `meta` (kind, shop, chunks, totals), `started:<i>` and
`done:<i>` per chunk, `finished` once the final step ran. Each chunk's forecasts sit in
`ss:job:<id>:results` and, for on-demand jobs, its input in `ss:job:<id>:input:<i>`.
Recording a chunk is idempotent (`done:<i>` is written once, with HSETNX), so a chunk run twice
after a worker died counts once. Everything expires after JOB_TTL_DAYS.
"""

import json
import threading
import time
from typing import Any, Protocol

import redis

from app.utils.errors import SmartShelfError

INDEX = "ss:jobs"


class JobStoreUnavailable(SmartShelfError):
    """The job store (Redis) does not answer (HTTP 503); the job API works again once it does."""

    status_code = 503
    error = "job_store_unavailable"


class Hashes(Protocol):
    def hset(self, key: str, field: str, value: bytes, ttl: float) -> None: ...
    def hsetnx(self, key: str, field: str, value: bytes, ttl: float) -> bool: ...
    def hget(self, key: str, field: str) -> bytes | None: ...
    def hgetall(self, key: str) -> dict[str, bytes]: ...
    def hdel(self, key: str, fields: list[str]) -> None: ...


class MemoryHashes:
    """Dict-of-dicts with per-key expiry, for one process."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, dict[str, bytes]]] = {}
        self._lock = threading.Lock()

    def _hash(self, key: str, ttl: float | None = None) -> dict[str, bytes]:
        """The live fields of `key` (an expired hash is dropped); with `ttl`, created or kept alive."""
        now = time.monotonic()
        expires, fields = self._data.get(key, (now, {}))
        if expires < now:
            self._data.pop(key, None)
            expires, fields = now, {}
        if ttl is not None:
            self._data[key] = (max(expires, now + ttl), fields)
        return fields

    def hset(self, key: str, field: str, value: bytes, ttl: float) -> None:
        with self._lock:
            self._hash(key, ttl)[field] = value

    def hsetnx(self, key: str, field: str, value: bytes, ttl: float) -> bool:
        with self._lock:
            fields = self._hash(key, ttl)
            if field in fields:
                return False
            fields[field] = value
            return True

    def hget(self, key: str, field: str) -> bytes | None:
        with self._lock:
            return self._hash(key).get(field)

    def hgetall(self, key: str) -> dict[str, bytes]:
        with self._lock:
            return dict(self._hash(key))

    def hdel(self, key: str, fields: list[str]) -> None:
        with self._lock:
            for field in fields:
                self._hash(key).pop(field, None)


class RedisHashes:
    """The same on Redis; every failure becomes JobStoreUnavailable."""

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)

    def _call(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self._client, name)(*args)
        except redis.RedisError as exc:
            raise JobStoreUnavailable(f"the job store (Redis) does not answer: {type(exc).__name__}; "
                                      "retry shortly") from exc

    def _write(self, command: str, key: str, field: str, value: bytes, ttl: float) -> Any:
        try:
            pipe = self._client.pipeline(transaction=True)
            getattr(pipe, command)(key, field, value)
            pipe.expire(key, max(1, int(ttl)))
            return pipe.execute()[0]
        except redis.RedisError as exc:
            raise JobStoreUnavailable(f"the job store (Redis) does not answer: {type(exc).__name__}; "
                                      "retry shortly") from exc

    def hset(self, key: str, field: str, value: bytes, ttl: float) -> None:
        self._write("hset", key, field, value, ttl)

    def hsetnx(self, key: str, field: str, value: bytes, ttl: float) -> bool:
        return bool(self._write("hsetnx", key, field, value, ttl))

    def hget(self, key: str, field: str) -> bytes | None:
        value = self._call("hget", key, field)
        return value if isinstance(value, bytes) else None

    def hgetall(self, key: str) -> dict[str, bytes]:
        return {k.decode(): v for k, v in self._call("hgetall", key).items()}

    def hdel(self, key: str, fields: list[str]) -> None:
        if fields:
            self._call("hdel", key, *fields)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class JobStore:
    """Job state, progress, errors and results (see the module docstring)."""

    def __init__(self, hashes: Hashes, ttl_seconds: float) -> None:
        self._hashes = hashes
        self.ttl = ttl_seconds

    def create(self, job_id: str, meta: dict[str, Any], inputs: list[bytes] | None = None) -> bool:
        """Register a job (False when it already exists: a repeated schedule is the same job)."""
        key = f"ss:job:{job_id}"
        for index, payload in enumerate(inputs or []):
            self._hashes.hset(f"{key}:input", str(index), payload, self.ttl)
        created = self._hashes.hsetnx(key, "meta", _dumps(meta), self.ttl)
        if created:
            self._index(job_id, meta)
        return created

    def _index(self, job_id: str, meta: dict[str, Any]) -> None:
        now = time.time()
        entries = self._hashes.hgetall(INDEX)
        stale = [k for k, v in entries.items() if json.loads(v)["created"] < now - self.ttl]
        self._hashes.hdel(INDEX, stale)
        summary = {"created": now, "kind": meta["kind"], "shop_id": meta.get("shop_id")}
        self._hashes.hset(INDEX, job_id, _dumps(summary), self.ttl)

    def chunk_input(self, job_id: str, index: int) -> bytes | None:
        return self._hashes.hget(f"ss:job:{job_id}:input", str(index))

    def start_chunk(self, job_id: str, index: int, worker: str) -> bool:
        """Mark a chunk as started; False when it is already done (nothing to do again)."""
        key = f"ss:job:{job_id}"
        if self._hashes.hget(key, f"done:{index}") is not None:
            return False
        self._hashes.hset(key, f"started:{index}", _dumps({"worker": worker, "at": time.time()}), self.ttl)
        return True

    def finish_chunk(self, job_id: str, index: int, summary: dict[str, Any], forecasts: list[Any]) -> bool:
        """Record a chunk's outcome once; False when another run recorded it first."""
        key = f"ss:job:{job_id}"
        self._hashes.hset(f"{key}:results", str(index), _dumps(forecasts), self.ttl)
        return self._hashes.hsetnx(key, f"done:{index}", _dumps(summary), self.ttl)

    def finish(self, job_id: str, report: dict[str, Any]) -> bool:
        """Mark the job finished (True only the first time)."""
        return self._hashes.hsetnx(f"ss:job:{job_id}", "finished", _dumps(report), self.ttl)

    def state(self, job_id: str) -> dict[str, Any] | None:
        """Meta, progress, errors and the finish report, without results (None when unknown)."""
        fields = self._hashes.hgetall(f"ss:job:{job_id}")
        if "meta" not in fields:
            return None
        meta = json.loads(fields["meta"])
        done = {int(name[5:]): json.loads(value) for name, value in fields.items() if name.startswith("done:")}
        started = {int(name[8:]) for name in fields if name.startswith("started:")}
        finished = json.loads(fields["finished"]) if "finished" in fields else None
        return {"meta": meta, "done": done, "started": started, "finished": finished}

    def results(self, job_id: str) -> list[Any]:
        """Every recorded chunk's forecasts, in chunk order."""
        stored = self._hashes.hgetall(f"ss:job:{job_id}:results")
        return [item for _, value in sorted(stored.items(), key=lambda kv: int(kv[0]))
                for item in json.loads(value)]

    def state_counts(self) -> dict[str, int]:
        """How many kept jobs are in each state (for /metrics)."""
        counts: dict[str, int] = {}
        for job_id, _ in self.recent():
            state = self.state(job_id)
            if state is not None:
                counts[job_state(state)] = counts.get(job_state(state), 0) + 1
        return counts

    def recent(self) -> list[tuple[str, dict[str, Any]]]:
        """(job id, summary) of the jobs still kept, newest first."""
        entries = [(k, json.loads(v)) for k, v in self._hashes.hgetall(INDEX).items()]
        return sorted(entries, key=lambda kv: kv[1]["created"], reverse=True)


def job_state(state: dict[str, Any]) -> str:
    """queued, running, or the finish report's outcome, from a `JobStore.state` record."""
    if state["finished"]:
        return str(state["finished"]["state"])
    return "running" if state["done"] or state["started"] else "queued"


def make_job_store(redis_url: str | None, ttl_days: float) -> JobStore:
    hashes: Hashes = RedisHashes(redis_url) if redis_url else MemoryHashes()
    return JobStore(hashes, ttl_days * 86400)
