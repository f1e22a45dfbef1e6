"""Forecasts through the two-level store: the result cache, then the signed disk artifact, then training.
A shop with a shop model that fits the request is answered by it first (`app.services.shop_forecast`).

Keys cannot collide across tenants: a product's result key digests the shop, the product, the
model, horizon, interval level, frequency, code version, calendar events and the exact history
sent. The same request twice is a hit with the identical forecast; any change to the history is
a miss and a new model_version. Results live MODEL_CACHE_DAYS in the cache; artifacts older than
that are not reused. Concurrent identical misses train once (single flight).

Accuracy monitoring: before answering, each product's latest stored forecast is scored against
the actual sales this request carries for its dates (`realized_accuracy`); when its MASE exceeds
the backtest's by DRIFT_MARGIN the product is flagged `drift_detected` (and retrained, as its
history is new). Realized scores are kept per shop for GET /accuracy/{shop_id}.
"""

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import structlog

from app import __version__
from app.config import Settings
from app.models import store
from app.models.auto import AutoForecaster
from app.models.metrics import seasonal_scale
from app.models.panel import Panel
from app.schemas.common import DataWarning
from app.schemas.forecast import (
    ForecastMeta,
    ForecastResponse,
    ProductForecast,
    RealizedAccuracy,
)
from app.services import audit
from app.services.drivers import drivers_digest
from app.services.forecast import ForecastSpec, Trained, prepare, respond, train
from app.services.shop_forecast import shop_answer
from app.utils.cache import Cache
from app.utils.dates import dates_of, day_number
from app.utils.errors import NotFoundError
from app.utils.metrics import FORECAST_CACHE
from app.utils.work_budget import WorkBudget
from app.utils.write_behind import WriteBehind

log = structlog.get_logger(__name__)


def _digest(*parts: Any) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode())
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


def result_key(spec: ForecastSpec, panel: Panel, row: int) -> str:
    history = panel.values[row, panel.start[row]:]
    first_day = panel.first_day + int(panel.start[row]) * panel.step
    events = list(spec.event_days)  # sorted day numbers, digested as the list they always were
    return "ss:fc:" + _digest(spec.shop_id, panel.product_ids[row], spec.model, spec.periods,
                              spec.confidence_interval, panel.step, first_day, __version__, events,
                              history.tobytes(), drivers_digest(panel, row))


def artifact_id(result_keys: list[str]) -> str:
    """The disk artifact of a request: one per set of product result keys."""
    return _digest(*result_keys)


def latest_key(shop_id: str, product_id: str) -> str:
    return "ss:latest:" + _digest(shop_id, product_id)


def _latest_path(settings: Settings, shop_id: str, product_id: str) -> Path:
    return store.shop_dir(settings.model_dir, shop_id) / "latest" / f"{_digest(product_id)}.json"


def _history_tail(panel: Panel, row: int, periods: int) -> dict[str, list[Any]]:
    """The recent history a forecast was made from (for plots): 4x the horizon, at least 8 weeks."""
    length = min(int(panel.observed[row]), max(4 * periods, 56 // panel.step))
    first = panel.n_periods - length
    return {"dates": [d.isoformat() for d in dates_of(panel.days(first, length))],
            "qty": [float(v) for v in panel.values[row, first:]]}


def forecast_history(shop_id: str, product_id: str, settings: Settings) -> dict[str, list[Any]] | None:
    """The history tail stored in the latest forecast's file (beside the forecast), or None."""
    stored = _read_latest(_latest_path(settings, shop_id, product_id)) or {}
    history: dict[str, list[Any]] | None = stored.get("history")
    return history


def _accuracy_path(settings: Settings, shop_id: str) -> Path:
    return store.shop_dir(settings.model_dir, shop_id) / "accuracy.json"


# each product's latest forecast file is written behind the answer (`app.utils.write_behind`)
LATEST_FILES = WriteBehind(store.write_json)


def _read_latest(path: Path) -> Any:
    """A latest-forecast file's payload: the one still waiting to be written, else the file's."""
    pending = LATEST_FILES.pending(path)
    return pending if pending is not None else _read_json(path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def latest_forecast(shop_id: str, product_id: str, settings: Settings, cache: Cache) -> ProductForecast:
    """The newest stored forecast of a product, without training; 404 when there is none."""
    cached = cache.get_many([latest_key(shop_id, product_id)])[0]
    if cached is not None:
        return ProductForecast.model_validate_json(cached)
    on_disk = _read_latest(_latest_path(settings, shop_id, product_id))
    if on_disk is None:
        raise NotFoundError(f"no stored forecast for product {product_id!r} of shop {shop_id!r}; "
                            "POST /forecast first", field="product_id")
    return ProductForecast.model_validate(on_disk)


def _realized(previous: ProductForecast, panel: Panel, row: int, scale: float,
              margin: float) -> RealizedAccuracy | None:
    days = np.array([day_number(p.date) for p in previous.predictions])
    column = (days - panel.first_day) // panel.step
    inside = (column >= panel.start[row]) & (column < panel.n_periods) & ((days - panel.first_day) % panel.step == 0)
    if not inside.any():
        return None
    actual = panel.values[row, column[inside]]
    predicted = np.array([p.predicted_qty for p in previous.predictions])[inside]
    lower = np.array([p.lower_ci for p in previous.predictions])[inside]
    upper = np.array([p.upper_ci for p in previous.predictions])[inside]
    mae = float(np.mean(np.abs(actual - predicted)))
    sold = actual > 0
    mape = float(np.mean(np.abs(actual[sold] - predicted[sold]) / actual[sold]) * 100) if sold.any() else None
    realized_mase = mae / scale if scale > 0 else 0.0
    expected = previous.mase
    return RealizedAccuracy(
        model_version=previous.model_version, method=previous.method, periods=int(inside.sum()),
        mae=round(mae, 4),
        mape=None if mape is None else round(mape, 2),
        bias=round(float(np.mean(predicted - actual)), 4),
        coverage=round(float(np.mean((actual >= lower) & (actual <= upper))), 4),
        mase=round(realized_mase, 4), expected_mase=expected,
        drift=expected is not None and realized_mase > expected * (1 + margin),
    )


def _monitor(response: ForecastResponse, previous: list[ProductForecast | None], panel: Panel,
             settings: Settings, shop_id: str) -> None:
    """Attach realized accuracy of the previous forecasts; record it for the shop's summary."""
    if all(stored is None for stored in previous):
        return
    index = {p: i for i, p in enumerate(panel.product_ids)}
    rows = np.array([index[f.product_id] for f in response.forecasts])
    scales: np.ndarray = (seasonal_scale(panel.values[rows], panel.start[rows], panel.season_length)
                          if len(rows) else np.zeros(0))
    log_entries: dict[str, Any] = {}
    for forecast, stored, scale in zip(response.forecasts, previous, scales, strict=True):
        if stored is None or stored.model_version == forecast.model_version:
            continue
        realized = _realized(stored, panel, index[forecast.product_id], float(scale), settings.drift_margin)
        if realized is None:
            continue
        forecast.realized_accuracy = realized
        log_entries[forecast.product_id] = realized.model_dump()
        if realized.drift:
            forecast.warnings.append(DataWarning(
                code="drift_detected", count=realized.periods,
                message=f"the last forecast ({realized.method}) missed by MASE {realized.mase:.2f} against the "
                f"{realized.expected_mase:.2f} its backtest promised; retrained on the new history."))
    if log_entries:
        path = _accuracy_path(settings, shop_id)
        summary = _read_json(path) or {}
        summary.update(log_entries)
        _write_or_log(path, summary)


def _write_or_log(path: Path, payload: Any) -> None:
    """Persist JSON; a full or read-only disk is logged, never turned into a failed answer."""
    try:
        store.write_json(path, payload)
    except OSError as exc:
        log.error("store_write_failed", file=path.name, error=exc.strerror)


def cached_forecast(spec: ForecastSpec, settings: Settings, cache: Cache, signing_key: str,
                    clock: Callable[[], float] = time.time) -> ForecastResponse:
    """Forecast through cache -> disk -> training; see the module docstring. `clock` (seconds since the
    epoch) dates a stored artifact's age."""
    panel, wanted, warnings = prepare(spec, WorkBudget(settings))
    index = {p: i for i, p in enumerate(panel.product_ids)}
    latest = [latest_key(spec.shop_id, p) for p in wanted]
    if spec.model == "auto":
        served = shop_answer(spec, panel, wanted, warnings, settings, signing_key)
        if isinstance(served, ForecastResponse):
            stored = cache.get_many(latest)
            previous = _previous(stored, [None] * len(wanted), settings, spec, wanted)
            _remember_latest(served, spec, panel, settings, cache, latest, stored)
            _monitor(served, previous, panel, settings, spec.shop_id)
            FORECAST_CACHE.labels("shop_model").inc()
            return served
        warnings = [*warnings, served]
    drivers = panel.drivers
    if drivers is not None and drivers.read_by_trees:
        warnings = [*warnings, DataWarning(
            code="driver_unused", count=len(wanted),
            message="the per-request models read event dates only: prices, promotions, event types and scopes are "
            "read by the shop model (POST /api/v1/smart-shelf/models/train)")]
    keys = [result_key(spec, panel, index[p]) for p in wanted]
    fetched = cache.get_many(keys + latest)
    hits, previous_raw = fetched[: len(keys)], fetched[len(keys):]
    # the latest forecast only matters when it is not this very answer (a repeat has nothing to score)
    previous = _previous(previous_raw, hits, settings, spec, wanted)
    response = _response_from(hits, spec, panel, warnings)
    if response is None:
        artifact = artifact_id(keys)
        with cache.single_flight(f"ss:flight:{artifact}"):
            response = _from_cache(cache, keys, spec, panel, warnings)
            if response is None:
                response = _from_disk_or_training(spec, settings, panel, wanted, warnings, artifact, signing_key,
                                                  clock)
                entries = {k: f.model_dump_json().encode() for k, f in zip(keys, response.forecasts, strict=True)}
                cache.set_many(entries, settings.model_cache_days * 86400)
                _remember_latest(response, spec, panel, settings, cache, latest, previous_raw)
    _monitor(response, previous, panel, settings, spec.shop_id)
    FORECAST_CACHE.labels(response.meta.cache).inc()
    return response


def _previous(stored: list[bytes | None], hits: list[bytes | None], settings: Settings, spec: ForecastSpec,
              wanted: list[str]) -> list[ProductForecast | None]:
    """Each product's latest stored forecast (cache, else disk), None when it is this very answer (a
    repeat has nothing to score)."""
    return [None if raw is not None and raw == hit else
            ProductForecast.model_validate_json(raw) if raw is not None else _disk_latest(settings, spec, p)
            for raw, hit, p in zip(stored, hits, wanted, strict=True)]


def _remember_latest(response: ForecastResponse, spec: ForecastSpec, panel: Panel, settings: Settings, cache: Cache,
                     latest: list[str], stored: list[bytes | None]) -> None:
    """Keep each product's forecast as its latest (cache and disk, with the history tail for plots);
    one already stored as is (`stored`: the cached latest) is not written again."""
    index = {p: i for i, p in enumerate(panel.product_ids)}
    answers = {key: f.model_dump_json().encode() for key, f in zip(latest, response.forecasts, strict=True)}
    changed = [(key, f) for (key, answer), f, old in zip(answers.items(), response.forecasts, stored, strict=True)
               if answer != old]
    if not changed:
        return
    cache.set_many({key: answers[key] for key, _ in changed}, settings.model_cache_days * 86400)
    for _, forecast in changed:
        LATEST_FILES.write(_latest_path(settings, spec.shop_id, forecast.product_id),
                           {**forecast.model_dump(mode="json"),  # the model ignores `history` on reading
                            "history": _history_tail(panel, index[forecast.product_id], spec.periods)})


@dataclass(frozen=True)
class ForecastArrays:
    """A cached forecast as numbers, for services that compute with it (reorder), not serve it.

    Row i is `product_ids[i]`, in the spec's product order. The values are the answer's own
    (`predicted_qty` rounded as in its JSON), so a hit, a stored model and a fresh training give
    the same numbers.
    """

    product_ids: list[str]
    forecast: np.ndarray  # float64[n, periods], predicted_qty
    short_term_rmse: np.ndarray  # float64[n], NaN where the chosen method has none
    methods: list[str]
    cache: Literal["hit", "disk", "miss", "off"]
    warnings: list[DataWarning]


def forecast_arrays(spec: ForecastSpec, settings: Settings, cache: Cache, signing_key: str,
                    clock: Callable[[], float] = time.time) -> ForecastArrays:
    """`cached_forecast` as arrays: the same keys, cached entries, monitoring and answer."""
    response = cached_forecast(spec, settings, cache, signing_key, clock)
    forecasts = response.forecasts
    n = len(forecasts)
    values = np.fromiter((p.predicted_qty for f in forecasts for p in f.predictions), np.float64, n * spec.periods)
    rmse = np.fromiter((np.nan if f.short_term_rmse is None else f.short_term_rmse for f in forecasts), np.float64, n)
    return ForecastArrays(product_ids=[f.product_id for f in forecasts], forecast=values.reshape(n, spec.periods),
                          short_term_rmse=rmse, methods=[f.method for f in forecasts], cache=response.meta.cache,
                          warnings=response.warnings)


def _disk_latest(settings: Settings, spec: ForecastSpec, product_id: str) -> ProductForecast | None:
    raw = _read_latest(_latest_path(settings, spec.shop_id, product_id))
    return ProductForecast.model_validate(raw) if raw is not None else None


def _from_cache(cache: Cache, keys: list[str], spec: ForecastSpec, panel: Panel,
                warnings: list[DataWarning]) -> ForecastResponse | None:
    return _response_from(cache.get_many(keys), spec, panel, warnings)


def _response_from(hits: list[bytes | None], spec: ForecastSpec, panel: Panel,
                   warnings: list[DataWarning]) -> ForecastResponse | None:
    if any(hit is None for hit in hits):
        return None
    forecasts = [ProductForecast.model_validate_json(hit) for hit in hits if hit is not None]
    return _response(forecasts, spec, panel, warnings, "hit")


def _response(forecasts: list[ProductForecast], spec: ForecastSpec, panel: Panel,
              warnings: list[DataWarning], cache_state: Literal["hit", "disk", "miss", "off"]) -> ForecastResponse:
    return ForecastResponse(
        forecasts=forecasts,
        meta=ForecastMeta(shop_id=spec.shop_id, total_products=len(forecasts), periods=spec.periods,
                          frequency="daily" if panel.step == 1 else "weekly",
                          confidence_interval=spec.confidence_interval, model=spec.model,
                          backtest_origins=0, backtest_horizon=0, cache=cache_state),
        warnings=warnings,
    )


def _from_disk_or_training(spec: ForecastSpec, settings: Settings, panel: Panel, wanted: list[str],
                           warnings: list[DataWarning], artifact_id: str, signing_key: str,
                           clock: Callable[[], float] = time.time) -> ForecastResponse:
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


def body_key(body: bytes) -> str:
    """Cache key of a whole forecast request by its raw bytes (and the code version)."""
    return "ss:body:" + _digest(__version__, body)


def answer_by_body(cache: Cache, key: str) -> tuple[str, bytes] | None:
    """(shop_id, JSON answer) stored for exactly these request bytes, without decoding the request."""
    stored = cache.get_many([key])[0]
    if stored is None:
        return None
    shop_id, _, answer = stored.partition(b"\n")
    FORECAST_CACHE.labels("hit").inc()
    return shop_id.decode(), answer


def remember_answer(cache: Cache, key: str, response: ForecastResponse, settings: Settings) -> None:
    """Keep the JSON answer under the request's byte key, as the hit it will be next time.

    A request repeated byte for byte is then answered before its JSON is even decoded. The shop id
    is stored with it so the caller's API key is still checked against the shop.
    """
    answer = response.model_copy(update={"meta": response.meta.model_copy(update={"cache": "hit"})})
    cache.set_many({key: response.meta.shop_id.encode() + b"\n" + answer.model_dump_json().encode()},
                   settings.model_cache_days * 86400)


def shop_accuracy(shop_id: str, settings: Settings) -> dict[str, Any]:
    """Realized accuracy per product and per model family for GET /accuracy/{shop_id}."""
    records: dict[str, dict[str, Any]] = _read_json(_accuracy_path(settings, shop_id)) or {}
    if not records:
        raise NotFoundError(f"no realized accuracy yet for shop {shop_id!r}: it appears once a forecast's dates "
                            "have actual sales in a later request", field="shop_id")
    by_family: dict[str, list[dict[str, Any]]] = {}
    for record in records.values():
        by_family.setdefault(record["method"], []).append(record)
    families = {
        family: {"products": len(rows), "mean_mase": round(float(np.mean([r["mase"] for r in rows])), 4),
                 "mean_coverage": round(float(np.mean([r["coverage"] for r in rows])), 4),
                 "drifting": sum(bool(r["drift"]) for r in rows)}
        for family, rows in sorted(by_family.items())
    }
    return {"shop_id": shop_id, "products": records, "families": families}
