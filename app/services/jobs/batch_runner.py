"""Running a planned job in the API process, when there is no broker (the embedded default).

One background thread runs each job's shop-model training (if any), then the chunk functions of
`app.services.jobs.batch_jobs` in order, then the final step, so POST /forecast/batch and GET /jobs
work the same as with Celery workers. Shops take turns step by step: after each step (a training or a
chunk) the thread moves on to the next shop with work queued, so a shop's 40-chunk batch delays another
shop's one-chunk job by one chunk, not by the whole batch; one shop's jobs run in the order they came.
A step that crashes ends its job early: the final step still runs, so the job is finished (its missing
chunks counted) and leaves the queue. With REDIS_URL set the API uses `app.tasks.dispatch.CeleryRunner`
instead; both satisfy `Runner`.
"""

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import structlog

from app.services.jobs.batch_jobs import Context, finish_job, run_chunk, run_training
from app.services.jobs.job_records import ChunkSpec, TrainSpec

log = structlog.get_logger(__name__)


class Runner(Protocol):
    """Starts a planned job's chunks and then its final step; `backend` names where they run."""

    backend: str

    def submit(self, job_id: str, specs: Sequence[ChunkSpec], ctx: Context,
               training: TrainSpec | None = None, shop_id: str | None = None) -> None: ...
    def close(self) -> None: ...


@dataclass
class _Job:
    job_id: str
    ctx: Context
    steps: Iterator[Callable[[], Any]]
    crashed: bool = field(default=False)


def _steps(specs: Sequence[ChunkSpec], ctx: Context, training: TrainSpec | None) -> Iterator[Callable[[], Any]]:
    if training is not None:
        yield partial(run_training, training, ctx)
    for spec in specs:
        yield partial(run_chunk, spec, ctx)


class LocalRunner:
    """One background thread, shops in turn, each shop's jobs in order (embedded default)."""

    backend = "in-process"

    def __init__(self) -> None:
        self._shops: OrderedDict[str | None, deque[_Job]] = OrderedDict()  # next shop to serve first
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="smartshelf-batch", daemon=True)
        self._thread.start()

    def submit(self, job_id: str, specs: Sequence[ChunkSpec], ctx: Context, training: TrainSpec | None = None,
               shop_id: str | None = None) -> None:
        with self._wake:
            self._shops.setdefault(shop_id, deque()).append(_Job(job_id, ctx, _steps(specs, ctx, training)))
            self._wake.notify()

    def _next(self) -> tuple[_Job, Callable[[], Any] | None] | None:
        """The next shop's current job and its next step (None once its steps are done: finish it)."""
        with self._wake:
            while not self._shops and not self._closed:
                self._wake.wait()
            if self._closed:
                return None
            shop, jobs = next(iter(self._shops.items()))
            job = jobs[0]
            step = None if job.crashed else next(job.steps, None)
            if step is None:
                jobs.popleft()
            self._shops.move_to_end(shop)  # the other shops go first next time
            if not jobs:
                del self._shops[shop]
            return job, step

    def _work(self) -> None:
        while (picked := self._next()) is not None:
            job, step = picked
            try:
                if step is not None:
                    step()
                else:
                    finish_job(job.job_id, job.ctx)
            except Exception:  # the thread has no caller to tell: the job ends with what it has done
                log.exception("local_job_crashed", job_id=job.job_id)
                if step is not None:
                    job.crashed = True

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()
