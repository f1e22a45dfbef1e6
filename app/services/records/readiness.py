"""Readiness checks: the model store (writable, with MODEL_STORE_MIN_FREE_MB free), Redis (cache and broker)
when configured; and the words that name a model store's failure wherever one surfaces (readiness, a job)."""

import errno
import os
import shutil
import tempfile
from typing import Literal

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.utils.cache import Cache

CheckStatus = Literal["ok", "embedded", "down"]
_STORE_ERRNOS = {
    errno.EROFS: "is read-only",
    errno.ENOSPC: "has no space left on device",
    errno.EDQUOT: "is over its disk quota",
    errno.EACCES: "is not writable (permission denied)",
    errno.EPERM: "is not writable (operation not permitted)",
}


class ReadinessReport(BaseModel):
    status: Literal["ready", "degraded", "unavailable"]
    checks: dict[str, CheckStatus]
    reasons: list[str]


def store_failure(exc: OSError, model_dir: str) -> str | None:
    """What a failed write says about the model store ("model store './models' is read-only"), or None when
    the error is not one of a read-only, full or forbidden store."""
    problem = _STORE_ERRNOS.get(exc.errno or 0)
    return f"model store {model_dir!r} {problem}" if problem else None


def _model_store_problem(model_dir: str, min_free_mb: int) -> str | None:
    """None when MODEL_DIR exists (or can be created), accepts a file and has `min_free_mb` free, else why."""
    try:
        os.makedirs(model_dir, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=model_dir, prefix=".ready-"):
            pass
        free = shutil.disk_usage(model_dir).free
    except OSError as exc:
        return store_failure(exc, model_dir) or f"model store {model_dir!r} is not writable: {exc.strerror or exc}"
    if free < min_free_mb * 1024 * 1024:
        return (f"model store {model_dir!r} has {free / 1024 / 1024:.1f} MB free, under MODEL_STORE_MIN_FREE_MB="
                f"{min_free_mb}: trainings would fail with no space left on device")
    return None


async def check_readiness(settings: Settings, cache: Cache) -> ReadinessReport:
    """Model store down -> unavailable; Redis down -> degraded (the embedded path still answers)."""
    checks: dict[str, CheckStatus] = {}
    reasons: list[str] = []
    store_problem = _model_store_problem(settings.model_dir, settings.model_store_min_free_mb)
    checks["model_store"] = "down" if store_problem else "ok"
    reasons += [store_problem] if store_problem else []
    if cache.backend == "memory":
        checks["redis"] = checks["broker"] = "embedded"
    elif await run_in_threadpool(lambda: cache.available):
        checks["redis"] = checks["broker"] = "ok"
    else:
        checks["redis"] = checks["broker"] = "down"
        reasons.append(f"redis unreachable ({getattr(cache, 'last_error', None)}); answering without the shared "
                       "cache (disk store and training)")
    status: Literal["ready", "degraded", "unavailable"] = (
        "unavailable" if store_problem else "degraded" if reasons else "ready"
    )
    return ReadinessReport(status=status, checks=checks, reasons=reasons)
