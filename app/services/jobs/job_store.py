"""Where batch jobs keep their state: Redis when REDIS_URL is set (shared by the API and every
worker), a process-local store in the embedded default (`app.services.jobs.job_hashes`).

A job is one hash, `ss:job:<id>`: `meta` (kind, shop, chunks, totals), `started:<i>` and
`done:<i>` per chunk, `finished` once the final step ran. Each chunk's forecasts sit in
`ss:job:<id>:results` (zlib-compressed JSON, one field per chunk, so a page of results reads only its
chunks) and, for on-demand jobs, its input in `ss:job:<id>:input:<i>`. Recording a chunk is idempotent
(`done:<i>` is written once, with HSETNX), so a chunk run twice after a worker died counts once.
Everything expires after JOB_TTL_DAYS, and nothing before: an accepted job is never evicted.

What keeps every call's cost independent of the number of jobs kept:
- the index: `ss:jobs` (job id -> kind, shop, created) and sorted sets by creation time, one for all
  jobs and one per shop, per kind and per shop and kind (`ss:jobs:by:...`), so a listing reads one page;
  jobs past their TTL leave them when the next job is created;
- job counts by state: counters per creation day (`ss:jobs:counts:<day>`), moved when a job starts and
  when it finishes, summed over the JOB_TTL_DAYS + 1 days kept for /metrics;
- the queue: `ss:jobs:pending` holds the jobs accepted and not finished (their shop and input bytes).
  A new on-demand job is refused with 503 `job_queue_full` and Retry-After when its shop already has
  JOB_QUEUE_PER_SHOP of them, when the queued inputs would pass JOB_QUEUE_BYTES, or (embedded store)
  when what the store holds, plus the results promised to pending jobs, would pass MEMORY_JOBS_BYTES.
The records' shapes are in `app.services.jobs.job_records`.
"""

import json
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any

import redis

from app.services.jobs.job_hashes import Hashes, JobStoreUnavailable, MemoryHashes, RedisHashes
from app.services.jobs.job_records import ChunkSummary, FinishReport, JobIndexEntry, JobMeta, JobRecord, TrainingRecord
from app.utils.errors import SmartShelfError

__all__ = ["JobQueueFull", "JobStore", "JobStoreUnavailable", "QueueLimits", "job_state", "make_job_store"]

INDEX = "ss:jobs"
PENDING = "ss:jobs:pending"
RESULT_BYTES_PER_VALUE = 32  # compressed JSON of one forecast period, rounded up (measured: 7-25)
QUEUE_RETRY_SECONDS = 30  # a full queue drains as its jobs finish: ask again after about one chunk's time
QUEUE_HOLD_SECONDS = 86400  # the longest an unfinished job holds its place in the queue


class JobQueueFull(SmartShelfError):
    """New work refused while accepted work is queued or held (HTTP 503 with Retry-After); accepted jobs keep
    running and keep their state."""

    status_code = 503
    error = "job_queue_full"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(max(1, int(retry_after + 0.999)))}


@dataclass(frozen=True)
class QueueLimits:
    """How much accepted, unfinished work new on-demand jobs may join (JOB_QUEUE_BYTES, JOB_QUEUE_PER_SHOP)."""

    queue_bytes: int
    per_shop: int


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _chunk_forecasts(raw: bytes) -> list[Any]:
    """A chunk's stored forecasts (plain JSON when written before results were compressed)."""
    forecasts: list[Any] = json.loads(raw if raw[:1] == b"[" else zlib.decompress(raw))
    return forecasts


def _order_keys(kind: str | None, shop_id: str | None) -> list[str]:
    shop = f"shop\x1f{shop_id or ''}"
    return [f"{INDEX}:by", f"{INDEX}:by:{shop}", f"{INDEX}:by:kind\x1f{kind}", f"{INDEX}:by:{shop}\x1fkind\x1f{kind}"]


def order_key(kind: str | None, shop_id: str | None, any_shop: bool) -> str:
    """The sorted set listing the jobs of `kind` (any when None) of `shop_id` (any shop with `any_shop`)."""
    keys = _order_keys(kind, shop_id)
    if any_shop:
        return keys[0] if kind is None else keys[2]
    return keys[1] if kind is None else keys[3]


class JobStore:
    """Job state, progress, errors and results (see the module docstring)."""

    def __init__(self, hashes: Hashes, ttl_seconds: float) -> None:
        self._hashes = hashes
        self.ttl = ttl_seconds
        self._admitting = threading.Lock()  # one admission at a time in this process

    # -- accepting work -------------------------------------------------------------------------

    def create(self, job_id: str, meta: JobMeta, inputs: list[bytes] | None = None,
               limits: QueueLimits | None = None, result_values: int = 0) -> bool:
        """Register a job (False when it already exists: a repeated schedule is the same job).

        With `limits` (an on-demand job), first check there is room for it (JobQueueFull otherwise):
        its inputs in the queue, and in the embedded store also `result_values` forecast values.
        """
        input_bytes = sum(map(len, inputs or []))
        reserve = result_values * RESULT_BYTES_PER_VALUE
        with self._admitting:
            if limits is not None:
                self._admit(meta.get("shop_id"), input_bytes, reserve, limits)
            key = f"ss:job:{job_id}"
            created = self._hashes.hsetnx(key, "meta", _dumps(meta), self.ttl)
            if not created:
                return False
            pending = {"shop_id": meta.get("shop_id"), "input_bytes": input_bytes, "reserve": reserve,
                       "created": time.time()}
            self._hashes.hset(PENDING, job_id, _dumps(pending), self.ttl)
        for index, payload in enumerate(inputs or []):
            self._hashes.hset(f"{key}:input", str(index), payload, self.ttl)
        self._index(job_id, meta)
        self._count(meta, {"queued": 1})
        return True

    def _pending(self) -> dict[str, dict[str, Any]]:
        """Accepted jobs not finished yet. One accepted QUEUE_HOLD_SECONDS ago no longer holds a place (its final
        step never ran: a Celery chord broken by a Redis outage); it keeps its state until its TTL."""
        entries = {job_id: json.loads(raw) for job_id, raw in self._hashes.hgetall(PENDING).items()}
        oldest = time.time() - min(self.ttl, QUEUE_HOLD_SECONDS)
        gone = [job_id for job_id, entry in entries.items() if entry["created"] < oldest]
        self._hashes.hdel(PENDING, gone)
        return {job_id: entry for job_id, entry in entries.items() if job_id not in gone}

    def _admit(self, shop_id: str | None, input_bytes: int, reserve: int, limits: QueueLimits) -> None:
        pending = self._pending()
        of_shop = sum(entry["shop_id"] == shop_id for entry in pending.values())
        if of_shop >= limits.per_shop:
            raise JobQueueFull(f"shop {shop_id!r} already has {of_shop} jobs queued or running (JOB_QUEUE_PER_SHOP="
                               f"{limits.per_shop}); retry once one has finished", QUEUE_RETRY_SECONDS)
        queued = sum(entry["input_bytes"] for entry in pending.values())
        if queued + input_bytes > limits.queue_bytes:
            raise JobQueueFull(f"the job queue holds {queued:,} bytes of inputs; this job's {input_bytes:,} would pass "
                               f"JOB_QUEUE_BYTES={limits.queue_bytes:,}; retry once queued jobs have finished",
                               QUEUE_RETRY_SECONDS)
        capacity = self._hashes.capacity()
        if capacity is None:
            return
        held, bound = capacity
        promised = sum(entry["reserve"] for entry in pending.values())
        if held + promised + input_bytes + reserve > bound:
            wait = QUEUE_RETRY_SECONDS if pending else (self._hashes.seconds_to_oldest_expiry() or QUEUE_RETRY_SECONDS)
            raise JobQueueFull(f"the embedded job store holds {held:,} bytes and {promised:,} are promised to running "
                               f"jobs; this job needs {input_bytes + reserve:,} more, over MEMORY_JOBS_BYTES={bound:,} "
                               "(kept jobs are never dropped before JOB_TTL_DAYS: use REDIS_URL and Celery workers "
                               "for more, or ask for fewer products or periods)", wait)

    def _index(self, job_id: str, meta: JobMeta) -> None:
        now = time.time()
        for stale in self._hashes.zpop_below(f"{INDEX}:by", now - self.ttl):  # older jobs leave every index
            raw = self._hashes.hget(INDEX, stale)
            if raw is not None:
                entry = json.loads(raw)
                for key in _order_keys(entry["kind"], entry.get("shop_id"))[1:]:
                    self._hashes.zrem(key, [stale])
            self._hashes.hdel(INDEX, [stale])
        summary: JobIndexEntry = {"created": now, "kind": meta["kind"], "shop_id": meta.get("shop_id")}
        self._hashes.hset(INDEX, job_id, _dumps(summary), self.ttl)
        for key in _order_keys(meta["kind"], meta.get("shop_id")):
            self._hashes.zadd(key, job_id, now, self.ttl)

    def _count(self, meta: JobMeta, moves: dict[str, int]) -> None:
        """Move the job's count between states, in the counters of the day it was created."""
        for state, amount in moves.items():
            day = str(meta.get("created_at", ""))[:10] or "undated"
            self._hashes.hincrby(f"{INDEX}:counts:{day}", state, amount, self.ttl)

    def _began(self, job_id: str) -> None:
        """The job's first step started: queued -> running (once, whoever starts it)."""
        key = f"ss:job:{job_id}"
        if self._hashes.hsetnx(key, "began", b"1", self.ttl) and (raw := self._hashes.hget(key, "meta")):
            self._count(json.loads(raw), {"queued": -1, "running": 1})

    # -- running it -----------------------------------------------------------------------------

    def chunk_input(self, job_id: str, index: int | str) -> bytes | None:
        return self._hashes.hget(f"ss:job:{job_id}:input", str(index))

    def record_training(self, job_id: str, record: TrainingRecord, drop_inputs: list[str] | None = None) -> None:
        """The job's shop-model training state (running, then its outcome), dropping `drop_inputs`."""
        self._began(job_id)
        self._hashes.hset(f"ss:job:{job_id}", "training", _dumps(record), self.ttl)
        if drop_inputs:
            self._hashes.hdel(f"ss:job:{job_id}:input", drop_inputs)

    def start_chunk(self, job_id: str, index: int, worker: str) -> bool:
        """Mark a chunk as started; False when it is already done (nothing to do again)."""
        key = f"ss:job:{job_id}"
        if self._hashes.hget(key, f"done:{index}") is not None:
            return False
        self._began(job_id)
        self._hashes.hset(key, f"started:{index}", _dumps({"worker": worker, "at": time.time()}), self.ttl)
        return True

    def finish_chunk(self, job_id: str, index: int, summary: ChunkSummary, forecasts: list[Any]) -> bool:
        """Record a chunk's outcome once; False when another run recorded it first."""
        key = f"ss:job:{job_id}"
        self._hashes.hset(f"{key}:results", str(index), zlib.compress(_dumps(forecasts), 1), self.ttl)
        recorded = self._hashes.hsetnx(key, f"done:{index}", _dumps(summary), self.ttl)
        self._hashes.hdel(f"{key}:input", [str(index)])  # a done chunk is never run again: its input can go
        return recorded

    def finish(self, job_id: str, report: FinishReport) -> bool:
        """Mark the job finished (True only the first time); its inputs go and it leaves the queue."""
        key = f"ss:job:{job_id}"
        if not self._hashes.hsetnx(key, "finished", _dumps(report), self.ttl):
            return False
        self._hashes.hdel(f"{key}:input", list(self._hashes.hgetall(f"{key}:input")))
        self._hashes.hdel(PENDING, [job_id])
        if (raw := self._hashes.hget(key, "meta")) is not None:
            began = not self._hashes.hsetnx(key, "began", b"1", self.ttl)
            self._count(json.loads(raw), {"running" if began else "queued": -1, report["state"]: 1})
        return True

    # -- reading it -----------------------------------------------------------------------------

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

    def results(self, job_id: str, done: dict[int, ChunkSummary], offset: int = 0,
                limit: int | None = None) -> list[Any]:
        """Forecasts `offset` to `offset + limit` (all with None) in chunk order, reading only the chunks they
        are in (`done`: the recorded chunks of `state()`, whose counts place each chunk's forecasts)."""
        wanted: list[tuple[str, int, int]] = []  # chunk, first and last+1 forecast of it to keep
        start = 0
        stop = None if limit is None else offset + limit
        for index, summary in sorted(done.items()):
            end = start + summary["forecasts"]
            if end > offset and (stop is None or start < stop):
                last = end if stop is None else min(end, stop)
                wanted.append((str(index), max(offset - start, 0), last - start))
            start = end
        stored = self._hashes.hmget(f"ss:job:{job_id}:results", [chunk for chunk, _, _ in wanted])
        return [item for (_, first, last), raw in zip(wanted, stored, strict=True) if raw is not None
                for item in _chunk_forecasts(raw)[first:last]]

    def state_counts(self, days: int) -> dict[str, int]:
        """How many jobs created in the last `days` days are in each state (for /metrics), from counters."""
        counts: dict[str, int] = {}
        today = time.time()
        for back in range(days + 1):
            day = time.strftime("%Y-%m-%d", time.gmtime(today - back * 86400))
            for state, value in self._hashes.hgetall(f"{INDEX}:counts:{day}").items():
                counts[state] = counts.get(state, 0) + int(value)
        return counts

    def recent(self, limit: int = 50, kind: str | None = None, shops: list[str | None] | None = None,
               ) -> list[tuple[str, JobIndexEntry]]:
        """(job id, summary) of the newest `limit` jobs still kept, of `kind` and `shops` when given (one page of
        a sorted set per shop, merged)."""
        keys = [order_key(kind, None, True)] if shops is None else [order_key(kind, s, False) for s in shops]
        ids = list(dict.fromkeys(job_id for key in keys for job_id in self._hashes.zrevrange(key, 0, limit)))
        summaries = self._hashes.hmget(INDEX, ids)
        found = [(job_id, json.loads(raw)) for job_id, raw in zip(ids, summaries, strict=True) if raw is not None]
        cutoff = time.time() - self.ttl
        found = [(job_id, entry) for job_id, entry in found if entry["created"] >= cutoff]
        return sorted(found, key=lambda kv: kv[1]["created"], reverse=True)[:limit]


def job_state(state: JobRecord) -> str:
    """queued, running, or the finish report's outcome, from a `JobStore.state` record."""
    if state["finished"]:
        return state["finished"]["state"]
    return "running" if state["done"] or state["started"] or state["training"] else "queued"


def make_job_store(redis_client: redis.Redis | None, ttl_days: float,
                   memory_bytes: int = 256 * 1024 * 1024) -> JobStore:
    """Jobs in Redis (the process's shared client), or in this process (at most `memory_bytes` of
    inputs, results and states, by refusing new jobs; accepted ones stay until their TTL)."""
    hashes: Hashes = RedisHashes(redis_client) if redis_client is not None else MemoryHashes(memory_bytes)
    return JobStore(hashes, ttl_days * 86400)
