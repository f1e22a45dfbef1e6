"""Readiness checks: the model store, Redis (cache and broker) when configured."""

import os
import tempfile
from typing import Any, Literal

from pydantic import BaseModel
from redis.asyncio import Redis

from app.config import Settings

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


async def check_readiness(settings: Settings, redis: Redis | Any | None) -> ReadinessReport:
    """Model store down -> unavailable; Redis down -> degraded (the embedded path still answers)."""
    checks: dict[str, CheckStatus] = {}
    reasons: list[str] = []
    store_problem = _model_store_writable(settings.model_dir)
    checks["model_store"] = "down" if store_problem else "ok"
    reasons += [store_problem] if store_problem else []
    if redis is None:
        checks["redis"] = checks["broker"] = "embedded"
    else:
        try:
            await redis.ping()
            checks["redis"] = checks["broker"] = "ok"
        except Exception as exc:  # any failure means "not reachable now"; reported, not raised
            checks["redis"] = checks["broker"] = "down"
            reasons.append(f"redis unreachable ({type(exc).__name__}); serving from the in-process path")
    status: Literal["ready", "degraded", "unavailable"] = (
        "unavailable" if store_problem else "degraded" if reasons else "ready"
    )
    return ReadinessReport(status=status, checks=checks, reasons=reasons)
