"""The records of a batch job, typed so mypy checks their keys. They are plain dicts on the wire:
chunk specs travel to Celery as JSON task arguments, the others are stored as JSON in the job store
(`app.services.jobs.job_store`), so the formats are exactly those of the dicts they describe.
"""

from typing import Any, Literal, NotRequired, TypedDict


class ForecastOptions(TypedDict):
    """A scheduled shop's forecast options, as the backend's shop list gives them (or defaults)."""

    periods: Any
    confidence_interval: Any
    model: Any
    frequency: Any


class RequestChunkSpec(TypedDict):
    """One chunk of an on-demand batch: its input is stored with the job."""

    job_id: str
    index: int
    source: Literal["request"]
    push: bool
    product_ids: list[str]


class BackendChunkSpec(TypedDict):
    """One chunk of a scheduled run: pulled from the backend (sales from `since` to `as_of`), maybe pushed."""

    job_id: str
    index: int
    chunks: int
    source: Literal["backend"]
    push: bool
    shop_id: str
    product_ids: list[str]
    batch_date: str
    since: str
    as_of: str
    options: ForecastOptions


ChunkSpec = RequestChunkSpec | BackendChunkSpec


class TrainSpec(TypedDict):
    """A job's shop-model training, run before its chunks: from stored inputs (the request's own,
    or every chunk's of a batch) or pulled from the backend (`pull`, every product of the shop)."""

    job_id: str
    shop_id: str
    inputs: list[str]  # job store input names to read and join
    drop_inputs: bool  # True when the inputs are the training's own (deleted once it is done)
    pull: NotRequired[BackendChunkSpec]
    min_periods: int  # the horizon trained for is at least this (a batch's model serves later requests too)


class TrainingRecord(TypedDict):
    """The training step's state in the job store: running, then succeeded (with the card) or failed."""

    state: str
    started_at: str
    finished_at: NotRequired[str]
    message: NotRequired[str]
    card: NotRequired[dict[str, Any]]
    warnings: NotRequired[list[Any]]


class JobMeta(TypedDict):
    """Written once when the job is created."""

    kind: str
    shop_id: str | None
    created_at: str
    chunks: int
    total: int
    chunk_products: list[int]
    push: NotRequired[bool]
    batch_date: NotRequired[str]
    error: NotRequired[str]  # a scheduled run that could not plan (the shop list did not come)


class ChunkError(TypedDict):
    stage: str  # pull, forecast, push (and `shops` in the API view of a run that could not plan)
    message: str
    product_ids: list[str]
    attempts: int | None


class ChunkSummary(TypedDict):
    """A chunk's recorded outcome (`done:<i>`); its forecasts are stored beside it."""

    products: int
    forecasts: int
    errors: list[ChunkError]
    warnings: list[Any]
    worker: str
    seconds: float


class FinishReport(TypedDict):
    """The job's outcome, written once by the final step."""

    state: str
    finished_at: str
    forecasts: int
    failed_products: int
    missing_chunks: int
    error: NotRequired[str]


class JobRecord(TypedDict):
    """`JobStore.state()`: meta, recorded chunks by index, started chunk indexes, the finish report."""

    meta: JobMeta
    done: dict[int, ChunkSummary]
    started: set[int]
    finished: FinishReport | None
    training: TrainingRecord | None


class JobIndexEntry(TypedDict):
    """One job in the index of kept jobs (`JobStore.recent()`)."""

    created: float
    kind: str
    shop_id: str | None


class ChunkOutcome(TypedDict):
    """What a chunk task returns (the Celery result): counts, or why it was skipped."""

    job_id: str
    index: int
    forecasts: NotRequired[int]
    errors: NotRequired[int]
    skipped: NotRequired[str]
