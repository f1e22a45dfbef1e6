"""Readiness checks: the model store, Redis (cache and broker) when configured."""

import os
import tempfile
from typing import Literal

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.utils.cache import Cache

CheckStatus = Literal["ok", "embedded", "down"]


class ReadinessReport(BaseModel):
    status: Literal["ready", "degraded", "unavailable"]
    checks: dict[str, CheckStatus]
    reasons: list[str]


def _model_store_writable(model_dir: str) -> str | None:
    """None when MODEL_DIR exists (or can be created) and accepts a file, else the reason."""
    try:
        os.makedirs(model_dir, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=model_dir, prefix=".ready-"):
            pass
    except OSError as exc:
        return f"model store {model_dir!r} is not writable: {exc.strerror or exc}"
    return None


async def check_readiness(settings: Settings, cache: Cache) -> ReadinessReport:
    """Model store down -> unavailable; Redis down -> degraded (the embedded path still answers)."""
    checks: dict[str, CheckStatus] = {}
    reasons: list[str] = []
    store_problem = _model_store_writable(settings.model_dir)
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
