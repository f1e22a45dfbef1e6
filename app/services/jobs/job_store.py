"""Where batch jobs keep their state: Redis when REDIS_URL is set (shared by the API and every
worker), a process-local store in the embedded default.

A job is one hash, `ss:job:<id>`: `meta` (kind, shop, chunks, totals), `started:<i>` and
`done:<i>` per chunk, `finished` once the final step ran. Each chunk's forecasts sit in
`ss:job:<id>:results` and, for on-demand jobs, its input in `ss:job:<id>:input:<i>`.
Recording a chunk is idempotent (`done:<i>` is written once, with HSETNX), so a chunk run twice
after a worker died counts once. Everything expires after JOB_TTL_DAYS. The records' shapes are
in `app.services.jobs.job_records`.
"""

import json
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

import redis

from app.services.jobs.job_records import ChunkSummary, FinishReport, JobIndexEntry, JobMeta, JobRecord, TrainingRecord
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


def _evictable(key: str) -> bool:
    """Inputs of chunks not yet run and the job index are never dropped to make room: a queued job
    must still find its input, and the job list must list every kept job."""
    return key != INDEX and not key.endswith(":input")


class MemoryHashes:
    """Dict-of-dicts with per-key expiry and a size bound, for one process.

    Over `max_bytes` of stored values, the hashes written least recently are dropped first (the
    oldest jobs' results and states; never a chunk input still to run, nor the index); expired
    hashes are swept on every write, so memory comes back without a reader having to touch them.
    """

    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        self._data: OrderedDict[str, tuple[float, dict[str, bytes]]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_bytes = max_bytes
        self._bytes = 0

    @property
    def stored_bytes(self) -> int:
        return self._bytes

    def _drop(self, key: str) -> None:
        _, fields = self._data.pop(key)
        self._bytes -= sum(map(len, fields.values()))

    def _hash(self, key: str, ttl: float | None = None) -> dict[str, bytes]:
        """The live fields of `key` (an expired hash is dropped); with `ttl`, created or kept alive."""
        now = time.monotonic()
        expires, fields = self._data.get(key, (now, {}))
        if expires < now:
            if key in self._data:
                self._drop(key)
            expires, fields = now, {}
        if ttl is not None:
            self._data[key] = (max(expires, now + ttl), fields)
            self._data.move_to_end(key)  # eviction drops the hashes written least recently
        return fields

    def _store(self, key: str, field: str, value: bytes, ttl: float) -> None:
        fields = self._hash(key, ttl)
        self._bytes += len(value) - len(fields.get(field, b""))
        fields[field] = value
        now = time.monotonic()
        for stale in [k for k, (expires, _) in self._data.items() if expires < now]:
            self._drop(stale)
        while self._bytes > self._max_bytes:
            victim = next((k for k in self._data if k != key and _evictable(k)), None)
            if victim is None:
                break
            self._drop(victim)

    def hset(self, key: str, field: str, value: bytes, ttl: float) -> None:
        with self._lock:
            self._store(key, field, value, ttl)

    def hsetnx(self, key: str, field: str, value: bytes, ttl: float) -> bool:
        with self._lock:
            if field in self._hash(key, ttl):
                return False
            self._store(key, field, value, ttl)
            return True

    def hget(self, key: str, field: str) -> bytes | None:
        with self._lock:
            return self._hash(key).get(field)

    def hgetall(self, key: str) -> dict[str, bytes]:
        with self._lock:
            return dict(self._hash(key))

    def hdel(self, key: str, fields: list[str]) -> None:
        with self._lock:
            stored = self._hash(key)
            for field in fields:
                self._bytes -= len(stored.pop(field, b""))


class RedisHashes:
    """The same on Redis, through the process's shared client; every failure becomes JobStoreUnavailable."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

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

    def create(self, job_id: str, meta: JobMeta, inputs: list[bytes] | None = None) -> bool:
        """Register a job (False when it already exists: a repeated schedule is the same job)."""
        key = f"ss:job:{job_id}"
        for index, payload in enumerate(inputs or []):
            self._hashes.hset(f"{key}:input", str(index), payload, self.ttl)
        created = self._hashes.hsetnx(key, "meta", _dumps(meta), self.ttl)
        if created:
            self._index(job_id, meta)
        return created

    def _index(self, job_id: str, meta: JobMeta) -> None:
        now = time.time()
        entries = self._hashes.hgetall(INDEX)
        stale = [k for k, v in entries.items() if json.loads(v)["created"] < now - self.ttl]
        self._hashes.hdel(INDEX, stale)
        summary: JobIndexEntry = {"created": now, "kind": meta["kind"], "shop_id": meta.get("shop_id")}
        self._hashes.hset(INDEX, job_id, _dumps(summary), self.ttl)

    def chunk_input(self, job_id: str, index: int | str) -> bytes | None:
        return self._hashes.hget(f"ss:job:{job_id}:input", str(index))

    def record_training(self, job_id: str, record: TrainingRecord, drop_inputs: list[str] | None = None) -> None:
        """The job's shop-model training state (running, then its outcome), dropping `drop_inputs`."""
        self._hashes.hset(f"ss:job:{job_id}", "training", _dumps(record), self.ttl)
        if drop_inputs:
            self._hashes.hdel(f"ss:job:{job_id}:input", drop_inputs)

    def start_chunk(self, job_id: str, index: int, worker: str) -> bool:
        """Mark a chunk as started; False when it is already done (nothing to do again)."""
        key = f"ss:job:{job_id}"
        if self._hashes.hget(key, f"done:{index}") is not None:
            return False
        self._hashes.hset(key, f"started:{index}", _dumps({"worker": worker, "at": time.time()}), self.ttl)
        return True

    def finish_chunk(self, job_id: str, index: int, summary: ChunkSummary, forecasts: list[Any]) -> bool:
        """Record a chunk's outcome once; False when another run recorded it first."""
        key = f"ss:job:{job_id}"
        self._hashes.hset(f"{key}:results", str(index), _dumps(forecasts), self.ttl)
        recorded = self._hashes.hsetnx(key, f"done:{index}", _dumps(summary), self.ttl)
        self._hashes.hdel(f"{key}:input", [str(index)])  # a done chunk is never run again: its input can go
        return recorded

    def finish(self, job_id: str, report: FinishReport) -> bool:
        """Mark the job finished (True only the first time)."""
        return self._hashes.hsetnx(f"ss:job:{job_id}", "finished", _dumps(report), self.ttl)

    def state(self, job_id: str) -> JobRecord | None:
        """Meta, progress, errors and the finish report, without results (None when unknown)."""
        fields = self._hashes.hgetall(f"ss:job:{job_id}")
        if "meta" not in fields:
            return None
        meta: JobMeta = json.loads(fields["meta"])
        done: dict[int, ChunkSummary] = {int(name[5:]): json.loads(value) for name, value in fields.items()
                                         if name.startswith("done:")}
        started = {int(name[8:]) for name in fields if name.startswith("started:")}
        finished: FinishReport | None = json.loads(fields["finished"]) if "finished" in fields else None
        training: TrainingRecord | None = json.loads(fields["training"]) if "training" in fields else None
        return {"meta": meta, "done": done, "started": started, "finished": finished, "training": training}

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

    def recent(self) -> list[tuple[str, JobIndexEntry]]:
        """(job id, summary) of the jobs still kept, newest first."""
        entries: list[tuple[str, JobIndexEntry]] = [(k, json.loads(v)) for k, v in self._hashes.hgetall(INDEX).items()]
        return sorted(entries, key=lambda kv: kv[1]["created"], reverse=True)


def job_state(state: JobRecord) -> str:
    """queued, running, or the finish report's outcome, from a `JobStore.state` record."""
    if state["finished"]:
        return state["finished"]["state"]
    return "running" if state["done"] or state["started"] or state["training"] else "queued"


def make_job_store(redis_client: redis.Redis | None, ttl_days: float,
                   memory_bytes: int = 256 * 1024 * 1024) -> JobStore:
    """Jobs in Redis (the process's shared client), or in this process (at most `memory_bytes` of
    inputs, results and states)."""
    hashes: Hashes = RedisHashes(redis_client) if redis_client is not None else MemoryHashes(memory_bytes)
    return JobStore(hashes, ttl_days * 86400)
