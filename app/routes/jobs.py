"""POST /api/v1/smart-shelf/forecast/batch and GET /api/v1/jobs[/{job_id}]."""

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request

from app.routes.dependencies import ContextDep, ShopGuardDep, start_job
from app.schemas.forecast import FORECAST_EXAMPLE, ForecastRequest
from app.schemas.jobs import JobAccepted, JobStatus, JobSummary
from app.schemas.sales import sales_examples
from app.services.jobs.intake import read_job, submit_forecast_batch
from app.utils.dates import utc_iso
from app.utils.openapi import CSV_UPLOAD, ERROR_RESPONSES, JOB_STORE_DOWN, NOT_FOUND
from app.utils.sales_upload import BatchSalesRoute

router = APIRouter(tags=["jobs"], route_class=BatchSalesRoute)
DEFAULT_PAGE, MAX_PAGE = 100, 1000  # forecasts (products) per page of a job's results


@router.post(
    "/api/v1/smart-shelf/forecast/batch",
    response_model=JobAccepted,
    status_code=202,
    summary="Forecast many products in the background; answers 202 with a job id",
    description=(
        "The payload of POST /forecast (rows, series or a CSV upload), with up to BATCH_MAX_ROWS "
        "sales values. The products are split "
        "into chunks of BATCH_CHUNK_SIZE that Celery workers share (or, with no broker, a background "
        "thread of this process). Poll `status_url` for progress; the forecasts are in the job once "
        "it has finished. Unknown products are refused at once (400), before any work starts."
    ),
    responses={**ERROR_RESPONSES, **JOB_STORE_DOWN},
    openapi_extra=CSV_UPLOAD,
)
def post_forecast_batch(
    request: Annotated[ForecastRequest, Body(openapi_examples=sales_examples(FORECAST_EXAMPLE))],
    ctx: ContextDep,
    guard: ShopGuardDep,
    http: Request,
) -> JobAccepted:
    """Start a forecast batch."""
    return start_job(request, ctx, guard, http, submit_forecast_batch)


@router.get(
    "/api/v1/jobs/{job_id}",
    response_model=JobStatus,
    response_model_exclude_none=False,
    summary="A batch job's state, progress, errors and (once finished) a page of its results",
    description=(
        "`state`: queued, running, succeeded, completed_with_errors or failed. `progress.done` counts "
        "products whose chunk has finished. `errors` name the stage (pull, forecast, push), the "
        "products and the backend attempts made. Once finished, `forecasts` holds `limit` products' forecasts "
        f"from `offset` (default {DEFAULT_PAGE}, at most {MAX_PAGE}); `results_page` gives the total and the next "
        "offset. 404 for an unknown job or one older than JOB_TTL_DAYS."
    ),
    responses={**ERROR_RESPONSES, **NOT_FOUND, **JOB_STORE_DOWN},
)
def get_job(job_id: str, ctx: ContextDep, guard: ShopGuardDep,
            results: Annotated[bool, Query(description="Include a page of the forecasts once finished.")] = True,
            offset: Annotated[int, Query(ge=0, le=10_000_000, description="First forecast of the page.")] = 0,
            limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Forecasts per page.")] = DEFAULT_PAGE,
            ) -> JobStatus:
    """Read a job."""
    return read_job(job_id, ctx, guard, (offset, limit) if results else None)


@router.get(
    "/api/v1/jobs",
    response_model=list[JobSummary],
    summary="Jobs kept (newest first): on-demand batches and each scheduled run per shop",
    responses={**ERROR_RESPONSES, **JOB_STORE_DOWN},
)
def list_jobs(ctx: ContextDep, guard: ShopGuardDep,
              kind: Annotated[str | None, Query(description="e.g. daily_forecast_batch")] = None,
              shop_id: str | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[JobSummary]:
    """List jobs."""
    principal = guard.principal
    if shop_id is not None:
        shops: list[str | None] | None = [shop_id] if principal is None or principal.allows(shop_id) else []
    else:
        shops = None if principal is None or principal.all_shops else [*sorted(principal.shops)]
    return [JobSummary(job_id=job_id, kind=s["kind"], shop_id=s.get("shop_id"), created_at=utc_iso(s["created"]))
            for job_id, s in ctx.jobs.recent(limit, kind, shops)]
