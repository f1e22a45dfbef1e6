"""The Celery tasks: chunk and finish steps of every batch, and the three scheduled jobs.

- `retrain_models` (02:00): for each shop the backend lists, pull its whole catalogue and train
  the shop model, then forecast every product with it (results land in the cache and the model
  store; nothing is pushed);
- `daily_forecast_batch` (03:00): the same pull, forecast (a cache hit when 02:00 trained on the
  same data) and a signed, idempotent push of each chunk to the backend;
- `cleanup_old_models` (Sundays 04:00): keep MODEL_KEEP_VERSIONS artifacts per product and
  delete those older than MODEL_MAX_AGE_DAYS.
Each shop's run is a job (GET /api/v1/jobs/{job_id}) fanned out as a chord of chunk tasks.
The tasks only wrap `app.services.jobs.batch_jobs`, giving it this worker's context and the backend client.
"""

import os
from datetime import datetime
from functools import lru_cache, partial
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from celery.signals import worker_init, worker_process_init
from threadpoolctl import threadpool_limits

from app.config import get_settings
from app.models.signing_key import require_shared_key, signing_key
from app.services.jobs.backend_contract import BackendError
from app.services.jobs.batch_jobs import (
    Context,
    finish_job,
    plan_shop_job,
    record_failed_job,
    run_chunk,
    run_training,
)
from app.services.jobs.job_records import ChunkOutcome, ChunkSpec, FinishReport, TrainingRecord, TrainSpec
from app.services.jobs.job_store import make_job_store
from app.services.records.housekeeping import clean_models
from app.tasks.backend_client import BackendClient
from app.tasks.celery_app import (
    BATCH_TASK,
    CHUNK_TASK,
    CLEANUP_TASK,
    FINISH_TASK,
    RETRAIN_TASK,
    TRAIN_TASK,
    celery_app,
)
from app.tasks.dispatch import CeleryRunner
from app.utils import redis_pool
from app.utils.cache import make_cache
from app.utils.logging import configure_logging

log = structlog.get_logger(__name__)


@worker_init.connect
def _require_signing_key(**_: Any) -> None:
    """A worker shares Redis with the API: without MODEL_SIGNING_KEY it exits at once with one line."""
    require_shared_key(get_settings(), "worker")


@worker_init.connect
def _share_cores(sender: Any, **_: Any) -> None:
    """Give each pool process cores / concurrency threads (xgboost via OpenMP, BLAS), unless
    OMP_NUM_THREADS is set: OpenMP threads spin while waiting, so N processes each running as many
    threads as there are cores are several times slower than one (measured in bench/batch.py)."""
    threads = max(1, (os.cpu_count() or 1) // max(1, int(getattr(sender, "concurrency", 1) or 1)))
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))


@worker_process_init.connect
def _limit_blas_threads(**_: Any) -> None:
    threadpool_limits(limits=int(os.environ.get("OMP_NUM_THREADS", "1")))


@lru_cache
def worker_context() -> Context:
    """This worker process's settings, cache, job store (sharing one Redis pool), signing key and
    backend client factory (built once per process, after the fork)."""
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    redis_client = redis_pool.connect(settings.redis_url)
    return Context(settings, make_cache(redis_client), make_job_store(redis_client, settings.job_ttl_days),
                   signing_key(settings), partial(BackendClient, settings))


@celery_app.task(name=CHUNK_TASK)
def forecast_chunk(spec: ChunkSpec) -> ChunkOutcome:
    return run_chunk(spec, worker_context())


@celery_app.task(name=TRAIN_TASK)
def train_shop(spec: TrainSpec) -> TrainingRecord:
    return run_training(spec, worker_context())


@celery_app.task(name=FINISH_TASK)
def finish(job_id: str) -> FinishReport:
    return finish_job(job_id, worker_context())


def _shop_jobs(kind: str, push: bool) -> list[str]:
    """Plan and start one job per shop the backend lists; returns the job ids."""
    ctx = worker_context()
    batch_date = datetime.now(ZoneInfo(ctx.settings.schedule_timezone)).date()
    backend = ctx.backend()
    try:
        shops = backend.shops()
    except BackendError as exc:
        job_id = f"{kind}-{batch_date.isoformat()}"
        record_failed_job(ctx, job_id, kind, f"could not list shops: {exc}", batch_date=batch_date.isoformat())
        log.error("schedule_failed", kind=kind, job_id=job_id, error=str(exc))
        return [job_id]
    finally:
        backend.close()
    runner = CeleryRunner(celery_app)
    job_ids = []
    for shop in shops:
        job_id, meta, specs, training = plan_shop_job(kind, shop, batch_date, ctx.settings, push)
        # a job that exists but never finished (its dispatch may have died) is sent again: chunks are idempotent
        if ctx.jobs.create(job_id, meta) or (state := ctx.jobs.state(job_id)) is None or not state["finished"]:
            runner.submit(job_id, specs, ctx, training, shop_id=meta["shop_id"])
        job_ids.append(job_id)
    log.info("schedule_started", kind=kind, shops=len(shops), jobs=job_ids)
    return job_ids


@celery_app.task(name=RETRAIN_TASK)
def retrain_models() -> list[str]:
    return _shop_jobs("retrain_models", push=False)


@celery_app.task(name=BATCH_TASK)
def daily_forecast_batch() -> list[str]:
    return _shop_jobs("daily_forecast_batch", push=True)


@celery_app.task(name=CLEANUP_TASK)
def cleanup_old_models() -> dict[str, Any]:
    return clean_models(worker_context().settings)
