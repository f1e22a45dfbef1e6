"""The Celery application: `celery -A app.tasks.celery_app worker` / `... beat`.

Broker and result backend come from REDIS_URL; the beat schedule (`retrain_models`,
`daily_forecast_batch`, `cleanup_old_models`) from the *_CRON settings in SCHEDULE_TIMEZONE.
Tasks are acknowledged late and requeued when their worker dies, and every task is safe to run
twice (see `app.services.jobs.batch_jobs`). Workers and beat log in the API's structlog format. The
app is built from the environment when a worker or beat first asks for it, never at import.
"""

import logging
from functools import lru_cache
from typing import Any

from celery import Celery
from celery.signals import setup_logging

from app.config import Settings, get_settings
from app.utils.logging import configure_logging
from app.utils.schedule import cron

CHUNK_TASK = "smartshelf.forecast_chunk"
FINISH_TASK = "smartshelf.finish_job"
TRAIN_TASK = "smartshelf.train_shop_model"
RETRAIN_TASK = "smartshelf.retrain_models"
BATCH_TASK = "smartshelf.daily_forecast_batch"
CLEANUP_TASK = "smartshelf.cleanup_old_models"


def beat_schedule(settings: Settings) -> dict[str, dict[str, object]]:
    return {
        "retrain-models": {"task": RETRAIN_TASK, "schedule": cron(settings.retrain_cron)},
        "daily-forecast-batch": {"task": BATCH_TASK, "schedule": cron(settings.batch_cron)},
        "cleanup-old-models": {"task": CLEANUP_TASK, "schedule": cron(settings.cleanup_cron)},
    }


def create_celery_app(settings: Settings | None = None) -> Celery:
    """A Celery app on REDIS_URL (in-memory transport when unset, for a single process)."""
    settings = settings or get_settings()
    app = Celery(
        "smartshelf",
        broker=settings.redis_url or "memory://",
        backend=settings.redis_url or "cache+memory://",
        include=["app.tasks.scheduled"],
    )
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # a worker killed mid-task leaves the task for another worker
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # a task whose worker vanished is handed out again after the visibility timeout; sweep
        # for such tasks often enough to notice within a fraction of it
        broker_transport_options={
            "visibility_timeout": settings.task_visibility_timeout,
            "unacked_restore_interval": min(10, max(1, settings.task_visibility_timeout // 5)),
            "unacked_restore_throttle": 1,
        },
        result_expires=int(settings.job_ttl_days * 86400),
        timezone=settings.schedule_timezone,
        enable_utc=True,
        beat_schedule=beat_schedule(settings),
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,  # structlog prints to the real stdout, not into Celery's logger
    )
    return app


def _service_logging(loglevel: int | str | None = None, **_: Any) -> None:
    """The worker and beat log as the API does (LOG_FORMAT: `training_done`, `chunk_done`, `training_crashed`
    with its traceback), Celery's own lines included, at LOG_LEVEL or `--loglevel`, whichever says more;
    Celery then sets up no logging of its own."""
    settings = get_settings()
    asked = [logging.getLevelName(name.upper()) if isinstance(name, str) else name
             for name in (settings.log_level, loglevel or logging.WARNING)]
    level = min((value for value in asked if isinstance(value, int)), default=logging.INFO)
    configure_logging(settings.log_format, logging.getLevelName(level))


setup_logging.connect(_service_logging, weak=False)


@lru_cache(maxsize=1)
def default_celery_app() -> Celery:
    """The worker's and beat's app, built from the environment on first use (not at import)."""
    return create_celery_app()


def __getattr__(name: str) -> Celery:
    # `celery -A app.tasks.celery_app` looks up `app`; the tasks module imports `celery_app`
    if name in ("app", "celery_app"):
        return default_celery_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
