"""Batch jobs and the audit trail: response models of /forecast/batch, /jobs and /audit."""

from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import DataWarning
from app.schemas.forecast import ProductForecast
from app.schemas.shop_models import ModelCard

JobState = Literal["queued", "running", "succeeded", "completed_with_errors", "failed"]


class JobAccepted(BaseModel):
    job_id: str
    state: JobState
    status_url: str = Field(description="Poll this for progress and, once finished, the results.")
    total_products: int
    chunks: int
    runner: str = Field(description="`celery` (shared workers on the broker) or `in-process` (embedded default).")


class JobProgress(BaseModel):
    done: int = Field(description="Products whose chunk has finished (with a forecast or an error).")
    total: int
    chunks_done: int
    chunks_total: int


class JobError(BaseModel):
    stage: Literal["pull", "train", "forecast", "push", "shops"] = Field(
        description="pull: sales from the backend; train: the shop model's training; forecast: the data or the "
        "model; push: delivery to the backend.")
    message: str
    product_ids: list[str]
    attempts: int | None = Field(description="Backend calls made before giving up; null when not a backend call.")


class ShopModelTraining(BaseModel):
    state: Literal["running", "succeeded", "failed"]
    started_at: str
    finished_at: str | None
    message: str | None = Field(description="Why the training failed (the forecasts then use per-request models).")
    card: ModelCard | None = Field(description="The trained model's card (as GET /models/{shop_id}).")


class ResultsPage(BaseModel):
    offset: int = Field(description="Index of the first forecast of this page.")
    limit: int = Field(description="Most forecasts a page holds (the `limit` asked for, or the default).")
    total: int = Field(description="Forecasts the job recorded, over every page.")
    next_offset: int | None = Field(description="`offset` of the next page; null on the last one.")


class JobStatus(BaseModel):
    job_id: str
    kind: Literal["forecast_batch", "retrain_models", "daily_forecast_batch", "shop_model_train"]
    shop_id: str | None
    state: JobState
    created_at: str
    finished_at: str | None
    batch_date: str | None = Field(default=None, description="Scheduled jobs: the day the run is for.")
    progress: JobProgress
    errors: list[JobError]
    warnings: list[DataWarning] = Field(default_factory=list, description="Data rules applied, per chunk.")
    forecasts: list[ProductForecast] | None = Field(
        default=None, description="Once finished, one page of the products' forecasts, in chunk order (see "
        "`results_page`; null with `results=false`).")
    results_page: ResultsPage | None = Field(
        default=None, description="Where `forecasts` sit among all the job's forecasts; null when none are sent.")
    shop_model: ShopModelTraining | None = Field(
        default=None, description="The job's shop-model training (POST /models/train, on-demand batches, the nightly "
        "retrain), run before its forecasts; null for jobs without one.")


class JobSummary(BaseModel):
    job_id: str
    kind: str
    shop_id: str | None
    created_at: str = Field(description="When the job was accepted, ISO 8601 UTC (as in GET /jobs/{job_id}).")


class BrokenLink(BaseModel):
    line: int
    seq: int
    reason: str


class AuditReport(BaseModel):
    ok: bool = Field(description="True when every record links to the one before and matches its hash.")
    records: int = Field(description="Records verified before the first broken link (all, when ok).")
    last_hash: str | None = Field(description="SHA-256 of the last intact record: pin it to detect later edits.")
    first_broken: BrokenLink | None
    file: str
