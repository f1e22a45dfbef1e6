"""The disk store around the per-request models: a request's fitted models kept signed, reused while fresh.

An artifact (`app.models.store`) per set of product result keys (`answer_cache.artifact_id`); one older than
MODEL_CACHE_DAYS, of another layout or with a bad signature is not reused (logged) and the models are
fitted again. A full or read-only disk never fails the answer (logged). Every training is audited.
"""

import time
from collections.abc import Callable

import structlog

from app.config import Settings
from app.models import store
from app.models.auto import AutoForecaster
from app.models.panel import Panel
from app.schemas.common import DataWarning
from app.schemas.forecast import ForecastResponse
from app.services.forecasting.local_models import Trained, respond, train
from app.services.forecasting.spec import ForecastSpec
from app.services.records import audit

log = structlog.get_logger(__name__)


def stored_or_trained(spec: ForecastSpec, settings: Settings, panel: Panel, wanted: list[str],
                      warnings: list[DataWarning], artifact_id: str, signing_key: str,
                      clock: Callable[[], float] = time.time) -> ForecastResponse:
    """The answer of the stored artifact (`meta.cache`: disk), else of models fitted now (miss) and stored.
    `clock` (seconds since the epoch) dates a stored artifact's age."""
    fresh_seconds = settings.model_cache_days * 86400
    try:
        trained, meta = store.load(settings.model_dir, spec.shop_id, artifact_id, signing_key)
        if clock() - float(meta.get("saved_at", 0)) > fresh_seconds:
            raise store.ArtifactRejected(f"older than MODEL_CACHE_DAYS={settings.model_cache_days}")
        if not isinstance(trained, Trained) or not isinstance(getattr(trained, "model", None), AutoForecaster):
            raise store.ArtifactRejected("not a forecast artifact (or one of an earlier layout)")
        response = respond(trained, spec, warnings)
        response.meta.cache = "disk"
        return response
    except store.ArtifactRejected as rejected:
        if not str(rejected).startswith("missing"):
            log.warning("artifact_rejected", artifact_id=artifact_id, reason=str(rejected))
    trained = train(spec, panel, wanted)
    response = respond(trained, spec, warnings)
    response.meta.cache = "miss"
    try:
        store.save(settings.model_dir, spec.shop_id, artifact_id, trained,
                   {"product_ids": wanted, "model": spec.model, "periods": spec.periods,
                    "methods": sorted(set(trained.model.selection_.method)), "trained_at": trained.trained_at,
                    "model_versions": {f.product_id: f.model_version for f in response.forecasts}}, signing_key)
    except OSError as exc:  # a full or read-only disk must not fail the answer; reported in logs
        log.error("artifact_not_saved", artifact_id=artifact_id, error=exc.strerror)
    audit.append(settings.model_dir, "model_trained", {
        "shop_id": spec.shop_id, "artifact_id": artifact_id, "trained_at": trained.trained_at,
        "model_versions": {f.product_id: f.model_version for f in response.forecasts}})
    return response
