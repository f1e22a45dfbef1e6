"""Start a planned job as a Celery chord (the API's runner when REDIS_URL is set).

The chunks go out as a Celery group and a final `finish_job` step runs once all are done (a
chord; no task waits on another with `.get()`), so every worker shares the batch. Without a
broker the API runs the same steps in a thread instead (`app.services.batch_runner.LocalRunner`).
"""

from collections.abc import Sequence

import structlog
from celery import Celery, chord, group

from app.services.batch_jobs import Context
from app.services.job_records import ChunkSpec
from app.tasks.celery_app import CHUNK_TASK, FINISH_TASK

log = structlog.get_logger(__name__)


class CeleryRunner:
    """A chord of chunk tasks with `finish_job` as its body, on the shared broker."""

    backend = "celery"

    def __init__(self, celery: Celery) -> None:
        self.celery = celery

    def submit(self, job_id: str, specs: Sequence[ChunkSpec], ctx: Context) -> None:
        finish = self.celery.signature(FINISH_TASK, args=(job_id,), immutable=True)
        if not specs:
            finish.apply_async()
            return
        chord(group(self.celery.signature(CHUNK_TASK, args=(spec,)) for spec in specs))(finish)
        log.info("job_dispatched", job_id=job_id, chunks=len(specs))

    def close(self) -> None:
        return None
