"""Jobs as the API serves them: submit an on-demand batch or a shop-model training, read a job's state."""

from collections.abc import Callable
from typing import Any, cast

from app.config import Settings
from app.schemas.forecast import ForecastRequest
from app.schemas.jobs import JobAccepted, JobProgress, JobState, JobStatus, ResultsPage, ShopModelTraining
from app.schemas.shop_models import TrainRequest
from app.services.jobs.batch_jobs import Context, batch_training, plan_request_job, plan_training_job
from app.services.jobs.batch_runner import Runner
from app.services.jobs.job_records import ChunkError, JobRecord
from app.services.jobs.job_store import QueueLimits, job_state
from app.utils.errors import NotFoundError


def submit_forecast_batch(request: ForecastRequest, ctx: Context, runner: Runner, runner_name: str) -> JobAccepted:
    """Split the request into chunks, store their input, start the job: the shop model is trained on
    all the batch's products first (with `model: auto`), then the chunks forecast with it."""
    job_id, meta, inputs, specs = plan_request_job(request, ctx.settings)
    ctx.jobs.create(job_id, meta, inputs, queue_limits(ctx.settings), result_values=meta["total"] * request.periods)
    training = batch_training(job_id, request.shop_id, len(specs)) if request.model == "auto" else None
    runner.submit(job_id, specs, ctx, training, shop_id=request.shop_id)
    return JobAccepted(job_id=job_id, state="queued", status_url=f"/api/v1/jobs/{job_id}",
                       total_products=meta["total"], chunks=meta["chunks"], runner=runner_name)


def submit_training(request: TrainRequest, ctx: Context, runner: Runner, runner_name: str) -> JobAccepted:
    """Store the training request and start its job (one step: train the shop model)."""
    job_id, meta, inputs, training = plan_training_job(request, ctx.settings)
    ctx.jobs.create(job_id, meta, inputs, queue_limits(ctx.settings))
    runner.submit(job_id, [], ctx, training, shop_id=request.shop_id)
    return JobAccepted(job_id=job_id, state="queued", status_url=f"/api/v1/jobs/{job_id}",
                       total_products=meta["total"], chunks=0, runner=runner_name)


def queue_limits(settings: Settings) -> QueueLimits:
    return QueueLimits(settings.job_queue_bytes, settings.job_queue_per_shop)


def read_job(job_id: str, ctx: Context, guard: Callable[..., None], page: tuple[int, int] | None) -> JobStatus:
    """A job's state, progress and errors, plus one page of its forecasts once finished (`page`: offset and
    limit, None for none); 404 when unknown, 403 (from `guard`) when the caller's API key may not use the
    job's shop."""
    state = ctx.jobs.state(job_id)
    if state is None:
        raise NotFoundError(f"no job {job_id!r} (unknown, or older than JOB_TTL_DAYS)", field="job_id")
    guard(state["meta"].get("shop_id"), field="job_id")
    if page is None or not state["finished"]:
        return job_status(job_id, state, None)
    offset, limit = page
    total = sum(chunk["forecasts"] for chunk in state["done"].values())
    forecasts = ctx.jobs.results(job_id, state["done"], offset, limit)
    return job_status(job_id, state, forecasts, ResultsPage(
        offset=offset, limit=limit, total=total, next_offset=offset + limit if offset + limit < total else None))


def _job_warnings(trained: list[Any], chunks: list[Any]) -> list[Any]:
    """Each data-quality rule once, so a backend summing counts sums each line once: the training reads the whole
    batch, so its warnings stand for the chunks' of the same code (the same sales, read again); the CSV's own
    warnings, which travel with every chunk, are listed once."""
    codes = {warning["code"] for warning in trained}
    kept: list[Any] = []
    for warning in chunks:
        if warning["code"] not in codes and warning not in kept:
            kept.append(warning)
    return trained + kept


def job_status(job_id: str, state: JobRecord, forecasts: list[Any] | None,
               page: ResultsPage | None = None) -> JobStatus:
    """The API view of a job store record."""
    meta, done, finished = state["meta"], state["done"], state["finished"]
    chunk_products = meta["chunk_products"]
    errors: list[ChunkError] = [error for _, chunk in sorted(done.items()) for error in chunk["errors"]]
    if failure := meta.get("error"):
        errors.insert(0, {"stage": "shops", "message": failure, "product_ids": [], "attempts": None})
    training = state["training"]
    warnings = _job_warnings(training.get("warnings", []) if training else [],
                             [w for _, chunk in sorted(done.items()) for w in chunk.get("warnings", [])])
    if training and training["state"] == "failed":
        if meta["kind"] == "shop_model_train":
            errors.insert(0, {"stage": "train", "message": training.get("message", ""), "product_ids": [],
                              "attempts": None})
        else:  # the forecasts went ahead with per-request models, each saying so
            warnings.insert(0, {"code": "shop_model_not_trained", "count": meta["total"], "product_ids": [],
                                "message": f"the shop model could not be trained: {training.get('message', '')}"})
    progress = sum(chunk_products[i] for i in done if i < len(chunk_products))
    if meta["kind"] == "shop_model_train" and training and training["state"] != "running":
        progress = meta["total"]
    return JobStatus(
        job_id=job_id, kind=meta["kind"], shop_id=meta.get("shop_id"), state=cast(JobState, job_state(state)),
        created_at=meta["created_at"], finished_at=finished["finished_at"] if finished else None,
        batch_date=meta.get("batch_date"),
        progress=JobProgress(done=progress, total=meta["total"], chunks_done=len(done), chunks_total=meta["chunks"]),
        errors=errors, warnings=warnings, forecasts=forecasts, results_page=page,
        shop_model=None if training is None else ShopModelTraining(
            state=training["state"], started_at=training["started_at"], finished_at=training.get("finished_at"),
            message=training.get("message"), card=training.get("card")),
    )
