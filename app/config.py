"""Service settings, read from the environment (and `.env`) by pydantic-settings."""

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
        description="HMAC key of model artifacts; unset = a random key per process (artifacts of earlier "
        "processes are then retrained). Set the same key on every replica and worker.",
    )
    model_keep_versions: int = Field(default=3, ge=1, description="Artifacts kept per product by the clean-up.")
    model_max_age_days: float = Field(default=30, gt=0, description="Artifacts older than this are deleted.")
    drift_margin: float = Field(
        default=0.5, ge=0, description="Drift when realized MASE > backtest MASE x (1 + this)."
    )
    max_payload_rows: int = Field(default=100_000, ge=1, description="Max records per request.")
    max_body_bytes: int = Field(default=50 * 1024 * 1024, ge=1024, description="Max request body size.")
    default_max_discount_pct: float = Field(default=40.0, gt=0, le=100)
    default_min_margin_pct: float = Field(default=10.0, ge=0, lt=100)
    promotion_elasticity_multiplier: float = Field(
        default=2.0, gt=0, description="Demand uplift in % per 1 % of discount."
    )
    ordering_cost: float = Field(default=25.0, ge=0, description="Default cost of placing one order.")
    holding_cost_rate: float = Field(default=0.25, gt=0, description="Default yearly holding cost / unit cost.")
    backend_api_url: str | None = None
    backend_webhook_secret: str | None = None
    log_format: Literal["json", "console"] = "console"
    log_level: str = "INFO"
    workers: int = Field(default=1, ge=1)
    debug: bool = False
    cors_origins: list[str] = Field(default_factory=list)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests override it with `app.dependency_overrides`."""
    return Settings()
