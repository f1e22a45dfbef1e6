"""The audit trail: a hash-chained, append-only log beside the model store.

One JSON line per event (`model_trained`, `batch_pushed`, ...) in MODEL_DIR/audit.jsonl:
`{"seq", "at", "kind", "data", "prev", "hash"}`, where `hash` is the SHA-256 of the record's
canonical JSON without `hash`, and `prev` is the previous record's `hash` (64 zeros for the
first). Changing, removing or reordering any record breaks every link after it, so
`verify` proves the log is the one written. Appends from API replicas and worker processes
sharing MODEL_DIR are serialised with an exclusive `flock`.
"""

import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import structlog

from app.utils.dates import utc_now_iso

log = structlog.get_logger(__name__)
GENESIS = "0" * 64
FILE_NAME = "audit.jsonl"
TAIL_BYTES = 1 << 16


def audit_path(model_dir: str) -> Path:
    return Path(model_dir) / FILE_NAME


def _digest(record: dict[str, Any]) -> str:
    body = {key: record[key] for key in ("seq", "at", "kind", "data", "prev")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _last_record(handle: Any) -> dict[str, Any] | None:
    """The last line, read backwards in blocks (records can be long)."""
    end = handle.seek(0, os.SEEK_END)
    if end == 0:
        return None
    tail, start = b"", end
    while start > 0 and tail.count(b"\n") < 2:
        start = max(0, start - TAIL_BYTES)
        handle.seek(start)
        tail = handle.read(end - start)
    return json.loads(tail.rstrip(b"\n").rsplit(b"\n", 1)[-1])


def append(model_dir: str, kind: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """Append one record; a disk that refuses it is logged, never turned into a failed answer."""
    path = audit_path(model_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            last = _last_record(handle)
            record: dict[str, Any] = {
                "seq": (last["seq"] + 1) if last else 0,
                "at": utc_now_iso("milliseconds"),
                "kind": kind, "data": data, "prev": last["hash"] if last else GENESIS,
            }
            record["hash"] = _digest(record)
            handle.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
            return record
    except (OSError, ValueError, KeyError) as exc:
        log.error("audit_not_written", kind=kind, error=str(exc))
        return None


def verify(model_dir: str) -> dict[str, Any]:
    """Walk the chain: record count, last hash, and the first broken link (null when intact)."""
    path = audit_path(model_dir)
    previous, count = GENESIS, 0
    if not path.exists():
        return {"ok": True, "records": 0, "last_hash": None, "first_broken": None, "file": FILE_NAME}
    with path.open("rb") as handle:
        for line_number, line in enumerate(handle, start=1):
            problem = _check(line, count, previous)
            if problem:
                return {"ok": False, "records": count, "last_hash": previous if count else None,
                        "first_broken": {"line": line_number, "seq": count, "reason": problem}, "file": FILE_NAME}
            previous, count = json.loads(line)["hash"], count + 1
    return {"ok": True, "records": count, "last_hash": previous if count else None, "first_broken": None,
            "file": FILE_NAME}


def _check(line: bytes, seq: int, previous: str) -> str | None:
    try:
        record = json.loads(line)
        stored = record["hash"]
        if record["seq"] != seq:
            return f"seq is {record['seq']}, expected {seq} (a record was removed or inserted)"
        if record["prev"] != previous:
            return "prev does not match the previous record's hash (a record before it changed or was removed)"
        if _digest(record) != stored:
            return "hash does not match the record's content (the record was changed)"
    except (ValueError, KeyError, TypeError):
        return "not a complete audit record (truncated or edited)"
    return None
