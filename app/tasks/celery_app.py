"""The Celery application: `celery -A app.tasks.celery_app worker` / `... beat`.

Broker and result backend come from REDIS_URL. This module is a process entry point (like
`uvicorn app.main:create_app`), so it builds the app from the environment when imported.
Scheduled and batch tasks register here as they are added (see the README's roadmap).
"""

from celery import Celery

from app.config import Settings, get_settings


def create_celery_app(settings: Settings | None = None) -> Celery:
    """A Celery app on REDIS_URL (in-memory transport when unset, for a single process)."""
    settings = settings or get_settings()
    app = Celery(
        "smartshelf",
        broker=settings.redis_url or "memory://",
        backend=settings.redis_url or "cache+memory://",
    )
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # a worker killed mid-task leaves the task for another worker
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        timezone="UTC",
        broker_connection_retry_on_startup=True,
    )
    return app


celery_app = create_celery_app()
