"""Start a planned job: as a Celery chord when a broker is configured, else in-process.

With REDIS_URL set, the chunks go out as a Celery group and a final `finish_job` step runs
once all are done (a chord; no task waits on another with `.get()`), so every worker shares
the batch. In the embedded default (no broker) one background thread of the API process runs
the same chunk functions in order, so POST /forecast/batch and GET /jobs work alike.
"""

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import structlog
from celery import Celery, chord, group

from app.tasks.batch import Context, finish_job, run_chunk
from app.tasks.celery_app import CHUNK_TASK, FINISH_TASK

log = structlog.get_logger(__name__)


class Runner(Protocol):
    backend: str

    def submit(self, job_id: str, specs: list[dict[str, Any]], ctx: Context) -> None: ...
    def close(self) -> None: ...


class LocalRunner:
    """One background thread: chunks in order, then the final step (embedded default)."""

    backend = "in-process"

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smartshelf-batch")

    def submit(self, job_id: str, specs: list[dict[str, Any]], ctx: Context) -> None:
        self._pool.submit(self._run, job_id, specs, ctx)

    @staticmethod
    def _run(job_id: str, specs: list[dict[str, Any]], ctx: Context) -> None:
        try:
            for spec in specs:
                run_chunk(spec, ctx)
            finish_job(job_id, ctx)
        except Exception:  # the thread has no caller to tell; the job stays visible as unfinished
            log.exception("local_job_crashed", job_id=job_id)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class CeleryRunner:
    """A chord of chunk tasks with `finish_job` as its body, on the shared broker."""

    backend = "celery"

    def __init__(self, celery: Celery) -> None:
        self.celery = celery

    def submit(self, job_id: str, specs: list[dict[str, Any]], ctx: Context) -> None:
        finish = self.celery.signature(FINISH_TASK, args=(job_id,), immutable=True)
        if not specs:
            finish.apply_async()
            return
        chord(group(self.celery.signature(CHUNK_TASK, args=(spec,)) for spec in specs))(finish)
        log.info("job_dispatched", job_id=job_id, chunks=len(specs))

    def close(self) -> None:
        return None
