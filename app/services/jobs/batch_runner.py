"""Running a planned job in the API process, when there is no broker (the embedded default).

One background thread runs a job's shop-model training (if any), then the chunk functions of
`app.services.jobs.batch_jobs` in order, then the
final step, so POST /forecast/batch and GET /jobs work the same as with Celery workers. With
REDIS_URL set the API uses `app.tasks.dispatch.CeleryRunner` instead; both satisfy `Runner`.
"""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import structlog

from app.services.jobs.batch_jobs import Context, finish_job, run_chunk, run_training
from app.services.jobs.job_records import ChunkSpec, TrainSpec

log = structlog.get_logger(__name__)


class Runner(Protocol):
    """Starts a planned job's chunks and then its final step; `backend` names where they run."""

    backend: str

    def submit(self, job_id: str, specs: Sequence[ChunkSpec], ctx: Context,
               training: TrainSpec | None = None) -> None: ...
    def close(self) -> None: ...


class LocalRunner:
    """One background thread: chunks in order, then the final step (embedded default)."""

    backend = "in-process"

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smartshelf-batch")

    def submit(self, job_id: str, specs: Sequence[ChunkSpec], ctx: Context, training: TrainSpec | None = None) -> None:
        self._pool.submit(self._run, job_id, specs, ctx, training)

    @staticmethod
    def _run(job_id: str, specs: Sequence[ChunkSpec], ctx: Context, training: TrainSpec | None) -> None:
        try:
            if training is not None:
                run_training(training, ctx)
            for spec in specs:
                run_chunk(spec, ctx)
            finish_job(job_id, ctx)
        except Exception:  # the thread has no caller to tell; the job stays visible as unfinished
            log.exception("local_job_crashed", job_id=job_id)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
