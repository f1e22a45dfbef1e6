"""Service settings, read from the environment (and `.env`) by pydantic-settings."""

from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celery.schedules import crontab
from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiKeyConfig(BaseModel):
    """One API key as configured: its SHA-256 (never the key) and the shops it may use."""

    name: str = Field(min_length=1, max_length=64, description="Shown in logs and rate-limit counters.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="python -m scripts.hash_api_key prints it.")
    shops: list[str] = Field(default_factory=lambda: ["*"], min_length=1, description='Shop ids, or ["*"].')


class Settings(BaseSettings):
    """Every knob of the service; `.env.example` lists each one with its default."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", protected_namespaces=())

    redis_url: str | None = Field(
        default=None,
        description="Redis URL for the shared cache and the Celery broker; unset = embedded default.",
    )
    model_dir: str = Field(default="./models", description="Disk model store directory.")
    model_cache_days: int = Field(default=7, ge=1, description="Model staleness threshold in days.")
    model_signing_key: str | None = Field(
        default=None,
        description="HMAC key of model artifacts; unset without Redis = generated once and kept in "
        "MODEL_DIR/signing.key (0600). Required with REDIS_URL: set the same key on every replica and worker.",
    )
    shop_model_max_age_days: int = Field(
        default=7, ge=0, description="A shop model serves requests whose history ends at most this many days after "
        "(or before) its training data; otherwise the per-request models answer, with a warning.")
    shop_model_max_cells: int = Field(
        default=3_000_000, ge=1000, description="Work budget of training a shop model: products x periods of "
        "history (823 x 1,913 trains in about a minute on 2 cores).")
    model_keep_versions: int = Field(default=3, ge=1, description="Artifacts kept per product by the clean-up.")
    model_max_age_days: float = Field(default=30, gt=0, description="Artifacts older than this are deleted.")
    drift_margin: float = Field(
        default=0.5, ge=0, description="Drift when realized MASE > backtest MASE x (1 + this)."
    )
    max_payload_rows: int = Field(
        default=100_000, ge=1, description="Max rows per request besides its sales: inventory, items, calendar "
        "events, prices, promotions, products. Sales are bounded by MAX_SALES_LINES and, once their lines are "
        "summed into product-days, by each endpoint's work budget.")
    max_sales_lines: int = Field(
        default=2_000_000, ge=1, description="Max sales lines per request (batches and training: BATCH_MAX_ROWS): "
        "rows, series cells and uploaded CSV lines alike. They bound the parse; a shop's year of point-of-sale "
        "lines goes in whole.")
    max_body_bytes: int = Field(default=50 * 1024 * 1024, ge=1024, description="Max request body size.")
    max_grid_cells: int = Field(
        default=5_000_000, ge=1000, description="Work budget: products x days of any dense grid a request builds.")
    max_train_cells: int = Field(
        default=1_000_000, ge=1000, description="Work budget: products x periods of history one forecast request "
        "trains on (batch: per chunk).")
    max_answer_values: int = Field(
        default=500_000, ge=1000, description="Work budget: values in one answer (forecast products x periods, "
        "insights periods).")
    max_pairs: int = Field(default=2_000_000, ge=1000, description="Work budget: promotion items x calendar events; "
                           "scoped calendar events x the products they reach.")
    admission_heavy_share: float = Field(
        default=0.1, gt=0, le=1, description="A request whose work-budget figure is over this share of its limit "
        "is heavy: it takes one of ADMISSION_SLOTS before its work starts (cheaper requests never wait).")
    admission_slots: int = Field(default=1, ge=1, description="Heavy requests worked on at once per process.")
    admission_queue: int = Field(default=4, ge=0, description="Heavy requests that may wait for a slot per process; "
                                 "beyond, 503 `server_busy` at once.")
    admission_wait_seconds: float = Field(
        default=5.0, ge=0, description="Longest wait of a heavy request for a slot (503 `server_busy` with "
        "Retry-After after it).")
    body_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Longest wait for the next part of a request body (408 after it).")
    max_header_bytes: int = Field(default=16384, ge=1024, description="Max size of a request's headers (431 above).")
    memory_cache_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1024 * 1024, description="Embedded default: bytes of cached answers kept "
        "in process (least recently used dropped first).")
    memory_jobs_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1024 * 1024, description="Embedded default: bytes of batch inputs, results "
        "and states kept in process; a new job that would pass it is refused (503), kept jobs stay until JOB_TTL_DAYS.")
    max_csv_bytes: int = Field(default=256 * 1024 * 1024, ge=1024,
                               description="Max size of an uploaded sales CSV after gzip decompression.")
    default_max_discount_pct: float = Field(default=40.0, gt=0, le=100)
    default_min_margin_pct: float = Field(default=10.0, ge=0, lt=100)
    promotion_elasticity_multiplier: float = Field(
        default=2.0, gt=0, description="Demand uplift in % per 1 % of discount."
    )
    ordering_cost: float = Field(default=25.0, ge=0, description="Default cost of placing one order.")
    holding_cost_rate: float = Field(default=0.25, gt=0, description="Default yearly holding cost / unit cost.")
    backend_api_url: str | None = Field(
        default=None, description="Base URL of the calling backend: shops and sales are pulled from it, "
        "forecast batches pushed to it (see docs/backend.md).")
    backend_webhook_secret: str | None = Field(
        default=None, description="HMAC-SHA256 key signing every push to the backend.")
    backend_timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of one backend call.")
    backend_max_attempts: int = Field(default=6, ge=1, description="Attempts per backend call before it fails.")
    backend_retry_base_seconds: float = Field(
        default=1.0, ge=0, description="First retry delay; doubles per attempt, with full jitter.")
    backend_retry_max_seconds: float = Field(default=60.0, ge=0, description="Cap of one retry delay.")
    batch_chunk_size: int = Field(default=250, ge=1, description="Products per batch task.")
    batch_max_rows: int = Field(default=4_000_000, ge=1, description="Max values of one on-demand batch or "
                                "shop-model training (sales, prices, promotions; a batch answer as many).")
    batch_history_days: int = Field(default=730, ge=28, description="Days of sales the nightly jobs pull.")
    job_ttl_days: float = Field(default=7, gt=0, description="How long job states and results are kept.")
    job_queue_bytes: int = Field(default=256 * 1024 * 1024, ge=1024, description="Bytes of inputs of accepted, "
                                 "unfinished jobs; a new batch or training past it is refused (503, Retry-After).")
    job_queue_per_shop: int = Field(default=4, ge=1, description="Jobs of one shop queued or running at once; "
                                    "one more is refused with 503 and Retry-After.")
    model_store_min_free_mb: int = Field(default=100, ge=0, description="Readiness: the model store is unavailable "
                                         "(503) with less free space than this.")
    schedule_timezone: str = Field(default="UTC", description="Time zone of the beat schedule.")
    retrain_cron: str = Field(default="0 2 * * *", description="Cron of retrain_models (min hour dom month dow).")
    batch_cron: str = Field(default="0 3 * * *", description="Cron of daily_forecast_batch.")
    cleanup_cron: str = Field(default="0 4 * * sun", description="Cron of cleanup_old_models.")
    task_visibility_timeout: int = Field(
        default=3600, ge=1, description="Seconds before a task of a vanished worker is given to another worker.")
    api_keys: list[ApiKeyConfig] = Field(
        default_factory=list, description="JSON list of {name, sha256, shops}; empty = open service.")
    rate_limit_per_minute: int = Field(default=1200, ge=0, description="Requests per minute per key; 0 = off.")
    docs_enabled: bool = Field(default=True, description="Serve /docs, /redoc and /openapi.json.")
    log_format: Literal["json", "console"] = "console"
    log_level: str = "INFO"
    debug: bool = False
    cors_origins: list[str] = Field(default_factory=list)

    @field_validator("retrain_cron", "batch_cron", "cleanup_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        fields = value.split()
        if len(fields) != 5:
            raise ValueError("a cron line has 5 fields: minute hour day-of-month month day-of-week")
        try:
            crontab(*fields[:2], day_of_week=fields[4], day_of_month=fields[2], month_of_year=fields[3])
        except ValueError as exc:
            raise ValueError(f"not a valid cron line: {exc}") from exc
        return value

    @field_validator("schedule_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from exc
        return value


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests override it with `app.dependency_overrides`."""
    return Settings()
