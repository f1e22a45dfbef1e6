"""Start a planned job as a Celery chord (the API's runner when REDIS_URL is set).

A job's shop-model training, when it has one, runs first (a chain). The chunks go out as a
Celery group and a final `finish_job` step runs once all are done (a
chord; no task waits on another with `.get()`), so every worker shares the batch. Without a
broker the API runs the same steps in a thread instead (`app.services.jobs.batch_runner.LocalRunner`).
"""

from collections.abc import Sequence

import structlog
from celery import Celery, Signature, chain, chord, group

from app.services.jobs.batch_jobs import Context
from app.services.jobs.job_records import ChunkSpec, TrainSpec
from app.tasks.celery_app import CHUNK_TASK, FINISH_TASK, TRAIN_TASK

log = structlog.get_logger(__name__)


class CeleryRunner:
    """A chord of chunk tasks with `finish_job` as its body, on the shared broker."""

    backend = "celery"

    def __init__(self, celery: Celery) -> None:
        self.celery = celery

    def submit(self, job_id: str, specs: Sequence[ChunkSpec], ctx: Context, training: TrainSpec | None = None,
               shop_id: str | None = None) -> None:
        finish = self.celery.signature(FINISH_TASK, args=(job_id,), immutable=True)
        steps: Signature = (chord(group(self.celery.signature(CHUNK_TASK, args=(spec,), immutable=True)
                                        for spec in specs), finish) if specs else finish)
        if training is not None:  # the shop model first, then the chunks forecast with it
            steps = chain(self.celery.signature(TRAIN_TASK, args=(training,), immutable=True), steps)
        steps.apply_async()
        log.info("job_dispatched", job_id=job_id, chunks=len(specs), training=training is not None)

    def close(self) -> None:
        return None
