"""Batch jobs as plain functions: plan a job into chunks of products, run one chunk, finish.

The same functions run inside Celery tasks (`app.tasks.scheduled`) and in the API's in-process
runner (`app.services.jobs.batch_runner`), so both paths behave alike. A chunk either comes from an
on-demand request (its input stored with the job) or is pulled from the calling backend; it
is forecast through the cache and model store, pushed to the backend when the job says so,
and recorded once in the job store. Everything a chunk does is safe to repeat: a chunk found
done is skipped, and a push repeated after a worker died carries the same Idempotency-Key.
The backend is reached through `Context.backend`, a factory the caller injects (the API and the
workers pass `app.tasks.backend_client.BackendClient`), so this module never imports `app.tasks`.
"""

import hashlib
import json
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pydantic_core
import structlog
from pydantic import ValidationError

from app.config import Settings
from app.models.panel import history_periods
from app.schemas.forecast import ForecastRequest
from app.schemas.shop_models import TrainRequest
from app.services.forecasting.drivers import check_event_scopes
from app.services.forecasting.latest import LATEST_FILES
from app.services.forecasting.pipeline import forecast
from app.services.forecasting.shop_models import check_training, train_shop_model, train_spec
from app.services.forecasting.spec import ForecastSpec, sold_products, spec_of
from app.services.jobs.backend_contract import Backend, BackendError, idempotency_key
from app.services.jobs.job_records import (
    BackendChunkSpec,
    ChunkError,
    ChunkOutcome,
    ChunkSpec,
    ChunkSummary,
    FinishReport,
    ForecastOptions,
    JobMeta,
    RequestChunkSpec,
    TrainingRecord,
    TrainSpec,
)
from app.services.jobs.job_store import JobStore
from app.services.records import audit
from app.services.records.readiness import store_failure
from app.utils import sales_blocks
from app.utils.cache import Cache
from app.utils.dates import day_number, from_day_number, utc_now_iso
from app.utils.errors import SmartShelfError
from app.utils.sales_blocks import block_of
from app.utils.sales_frame import SalesColumns, drop_old_rows, first_seen, sales_columns
from app.utils.work_budget import WorkBudget, WorkBudgetExceeded

log = structlog.get_logger(__name__)
SHARED = "shared_input"  # a chunk's stored options: the index of its job's shared input

SHOP_MODEL_PERIODS = 28  # a batch's or the nightly shop model serves at least 28 periods ahead


@dataclass
class Context:
    """What a chunk needs: settings, the result cache, the job store, the model signing key, and
    `backend()`, which opens a client of the calling backend (closed by the caller after use)."""

    settings: Settings
    cache: Cache
    jobs: JobStore
    signing_key: str
    backend: Callable[[], Backend]


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _meta(kind: str, shop_id: str, products: list[list[str]], push: bool, batch_date: str | None = None) -> JobMeta:
    meta: JobMeta = {"kind": kind, "shop_id": shop_id, "created_at": utc_now_iso(), "chunks": len(products),
                     "total": sum(len(chunk) for chunk in products), "chunk_products": [len(c) for c in products],
                     "push": push}
    if batch_date is not None:
        meta["batch_date"] = batch_date
    return meta


def plan_request_job(request: ForecastRequest, settings: Settings) -> tuple[str, JobMeta, list[bytes],
                                                                             list[RequestChunkSpec]]:
    """An on-demand batch: job id, meta, each chunk's stored input, and the chunk specs.

    Whatever form the sales came in (rows, series, CSV), a chunk stores its products' values as
    columns (`app/utils/sales_blocks.py`); the data-quality rules run when the chunk runs.
    """
    sales, _ = sales_columns(request, with_revenue=True)
    products = sold_products(spec_of(request), first_seen(sales))
    _check_budget(request, sales, len(products), settings)
    outside = _scoped_elsewhere(request, sales.product_ids.tolist(), settings)
    chunks = _chunks(products, settings.batch_chunk_size)
    uploaded = request.upload.warnings if request.upload is not None else ()  # the CSV's, for every chunk
    job_id = uuid.uuid4().hex
    # what every chunk shares (the calendar, the product list) is stored once, as the input after the chunks'
    shared = request.model_dump(mode="json", include={"calendar_events", "products"})
    shared["products"] += outside
    common = request.model_dump(mode="json", exclude={"sales", "series", "product_id", "product_ids", "prices",
                                                      "promotions", "products", "calendar_events"})
    if common["as_of"] is None and sales.size:  # every chunk forecasts from the batch's origin, not its own
        common["as_of"] = from_day_number(int(sales.day.max())).isoformat()
    inputs = [sales_blocks.encode(pydantic_core.to_json({**common, "product_ids": chunk, SHARED: len(chunks),
                                                         **request.drivers_of(chunk)}),
                                  block_of(sales, chunk, uploaded))
              for chunk in chunks] + [pydantic_core.to_json(shared)]
    meta = _meta("forecast_batch", request.shop_id, chunks, push=False)
    specs: list[RequestChunkSpec] = [{"job_id": job_id, "index": i, "source": "request", "push": False,
                                      "product_ids": chunk} for i, chunk in enumerate(chunks)]
    return job_id, meta, inputs, specs


def _with_shared(options: dict[str, Any], job_id: str, ctx: Context) -> dict[str, Any]:
    """A chunk's stored options with what its job's chunks share (stored once) put back."""
    if SHARED not in options:
        return options
    raw = ctx.jobs.chunk_input(job_id, options.pop(SHARED))
    if raw is None:
        raise SmartShelfError("the job's shared input expired from the job store (JOB_TTL_DAYS)")
    return {**options, **json.loads(raw)}


def _scoped_elsewhere(request: ForecastRequest | TrainRequest, sold: Sequence[str],
                      settings: Settings) -> list[dict[str, str]]:
    """422 now for an event scope naming an unknown product or category, 413 for too many scoped pairs (a
    job could only fail later); and the scoped products known by their sales alone, which each chunk must
    know to accept the scopes."""
    listed = {str(p.product_id) for p in request.products}
    categories = request.category_of()
    check_event_scopes(request.calendar_events, set(sold) | listed, set(categories.values()))
    sizes = Counter(categories.values())
    pairs = sum(len(e.product_ids or []) + sum(sizes[c] for c in e.categories or []) for e in request.calendar_events)
    WorkBudget(settings).check("pairs", {"scoped event-product pairs (at most)": pairs},
                               "scope fewer events to whole categories, or send fewer products per request")
    named = {str(p) for event in request.calendar_events for p in event.product_ids or []}
    return [{"product_id": p} for p in sorted(named - listed)]


def batch_training(job_id: str, shop_id: str, chunks: int) -> TrainSpec:
    """An on-demand batch first trains the shop model on all its products (every chunk's input)."""
    return {"job_id": job_id, "shop_id": shop_id, "inputs": [str(i) for i in range(chunks)], "drop_inputs": False,
            "min_periods": SHOP_MODEL_PERIODS}


def plan_training_job(request: TrainRequest, settings: Settings) -> tuple[str, JobMeta, list[bytes], TrainSpec]:
    """POST /models/train: a job whose only step trains the shop model from the stored request."""
    sales, _ = sales_columns(request, with_revenue=True)
    kept, _ = drop_old_rows(sales)  # as the training will
    check_training(kept, request.frequency, request.periods, settings,
                   day_number(request.as_of) if request.as_of else None)
    _scoped_elsewhere(request, sales.product_ids.tolist(), settings)
    job_id = uuid.uuid4().hex
    products = first_seen(sales)
    options = request.model_dump(mode="json", exclude={"sales", "series"})
    meta = _meta("shop_model_train", request.shop_id, [], push=False)
    meta["total"] = len(products)
    train: TrainSpec = {"job_id": job_id, "shop_id": request.shop_id, "inputs": ["0"], "drop_inputs": True,
                        "min_periods": 1}
    uploaded = request.upload.warnings if request.upload is not None else ()
    stored = sales_blocks.encode(pydantic_core.to_json(options), block_of(sales, products, uploaded))
    return job_id, meta, [stored], train


def _check_budget(request: ForecastRequest, sales: SalesColumns, n_products: int, settings: Settings) -> None:
    """A chunk trains within MAX_TRAIN_CELLS, and the whole answer stays within BATCH_MAX_ROWS values."""
    if sales.size == 0:
        return
    sales, _ = drop_old_rows(sales)  # as each chunk will: a stray row from decades ago sizes nothing
    _, periods = history_periods(sales.day, request.frequency)
    budget = WorkBudget(settings)
    budget.check("train", {"products per chunk": min(n_products, settings.batch_chunk_size),
                           "periods of history": periods}, "lower BATCH_CHUNK_SIZE or send less history")
    if n_products * request.periods > settings.batch_max_rows:
        raise WorkBudgetExceeded(f"this batch would answer {n_products * request.periods:,} values ({n_products:,} "
                                 f"products x {request.periods} periods), over BATCH_MAX_ROWS="
                                 f"{settings.batch_max_rows:,}; split it or ask for fewer periods")


def plan_shop_job(kind: str, shop: dict[str, Any], batch_date: date, settings: Settings,
                  push: bool) -> tuple[str, JobMeta, list[BackendChunkSpec], TrainSpec | None]:
    """A scheduled job for one shop of the backend's list: job id, meta, chunk specs and, for the
    nightly retrain, the shop-model training that runs before the chunks.

    The id is stable for the kind, shop and date, so a schedule that fires twice is one job.
    """
    shop_id = str(shop["shop_id"])
    products = sorted(dict.fromkeys(str(p) for p in shop.get("product_ids") or []))
    chunks = _chunks(products, settings.batch_chunk_size)
    job_id = f"{kind}-{batch_date.isoformat()}-{hashlib.sha256(shop_id.encode()).hexdigest()[:12]}"
    as_of = batch_date - timedelta(days=1)
    options: ForecastOptions = {"periods": shop.get("periods", 14),
                                "confidence_interval": shop.get("confidence_interval", 0.95),
                                "model": shop.get("model", "auto"), "frequency": shop.get("frequency", "auto")}
    meta = _meta(kind, shop_id, chunks, push=push, batch_date=batch_date.isoformat())
    specs: list[BackendChunkSpec] = [{"job_id": job_id, "index": i, "chunks": len(chunks), "source": "backend",
                                      "push": push,
              "shop_id": shop_id, "product_ids": chunk, "batch_date": batch_date.isoformat(),
              "since": (as_of - timedelta(days=settings.batch_history_days - 1)).isoformat(),
              "as_of": as_of.isoformat(), "options": options} for i, chunk in enumerate(chunks)]
    training = shop_training(specs[0], products) if kind == "retrain_models" and specs else None
    return job_id, meta, specs, training


def shop_training(spec: BackendChunkSpec, products: list[str]) -> TrainSpec:
    """The nightly retrain first trains the shop model on every product the backend listed (one pull)."""
    return {"job_id": spec["job_id"], "shop_id": spec["shop_id"], "inputs": [], "drop_inputs": False,
            "pull": {**spec, "index": -1, "product_ids": products}, "min_periods": SHOP_MODEL_PERIODS}


def _training_spec(spec: TrainSpec, ctx: Context) -> ForecastSpec:
    """What the training learns from: the pulled sales, or the stored inputs joined."""
    if "pull" in spec:
        pulled, _ = _pulled_request(spec["pull"], ctx)
        if pulled is None:
            raise SmartShelfError("the backend sent no sales for the shop's products")
        return replace(spec_of(pulled), product_ids=None, periods=max(pulled.periods, spec["min_periods"]))
    raws = [ctx.jobs.chunk_input(spec["job_id"], name) for name in spec["inputs"]]
    if not raws or any(raw is None for raw in raws):
        raise SmartShelfError("the training input expired from the job store (JOB_TTL_DAYS)")
    decoded = [sales_blocks.decode(raw) for raw in raws if raw is not None]
    every = [json.loads(options) for options, _ in decoded]
    options = _with_shared(every[0], spec["job_id"], ctx)
    periods = max(int(options.get("periods", 28)), spec["min_periods"])
    fields = {k: options[k] for k in ("shop_id", "frequency", "calendar_events", "as_of") if k in options}
    drivers = {k: [entry for chunk in every for entry in chunk.get(k, [])] for k in ("prices", "promotions")}
    drivers["products"] = options.get("products", [])  # shared by the chunks
    request = TrainRequest.model_validate({**fields, **drivers, "periods": periods})
    return train_spec(request.attach_upload(sales_blocks.join([block for _, block in decoded])))


def run_training(spec: TrainSpec, ctx: Context) -> TrainingRecord:
    """Train the job's shop model and record the outcome; never raises (the chunks run after it either way)."""
    record: TrainingRecord = {"state": "running", "started_at": utc_now_iso()}
    ctx.jobs.record_training(spec["job_id"], record)
    try:
        card, warnings = train_shop_model(_training_spec(spec, ctx), ctx.settings, ctx.signing_key)
        record = {**record, "state": "succeeded", "card": card.model_dump(mode="json"),
                  "warnings": [w.model_dump(mode="json") for w in warnings]}
    except (SmartShelfError, ValidationError, BackendError) as exc:
        record = {**record, "state": "failed", "message": str(exc)}
    except OSError as exc:  # a read-only or full model store is named; any other OSError is a bug
        log.exception("training_crashed", job_id=spec["job_id"])
        message = store_failure(exc, ctx.settings.model_dir) or f"internal error: {type(exc).__name__}"
        record = {**record, "state": "failed", "message": message}
    except Exception as exc:  # a bug must not stop the batch behind it; logged with its traceback
        log.exception("training_crashed", job_id=spec["job_id"])
        record = {**record, "state": "failed", "message": f"internal error: {type(exc).__name__}"}
    record["finished_at"] = utc_now_iso()
    ctx.jobs.record_training(spec["job_id"], record, spec["inputs"] if spec["drop_inputs"] else None)
    log.info("training_done", job_id=spec["job_id"], state=record["state"], message=record.get("message"))
    return record


def _error(stage: str, message: str, product_ids: list[str], attempts: int | None = None) -> ChunkError:
    return {"stage": stage, "message": message, "product_ids": product_ids, "attempts": attempts}


def _pulled_request(spec: BackendChunkSpec, ctx: Context) -> tuple[ForecastRequest | None, list[ChunkError]]:
    """Pull the chunk's sales (and the drivers the backend sends with them) from the backend; products it has
    no sales for become errors."""
    backend = ctx.backend()
    try:
        payload = backend.sales(spec["shop_id"], spec["product_ids"], spec["since"], spec["as_of"])
    finally:
        backend.close()
    sold = {str(row.get("product_id")) for row in payload.get("sales", []) if isinstance(row, dict)}
    present = [p for p in spec["product_ids"] if p in sold]
    errors = [] if len(present) == len(spec["product_ids"]) else [_error(
        "pull", "the backend sent no sales for these products", [p for p in spec["product_ids"] if p not in sold])]
    if not present:
        return None, errors
    drivers = {name: payload[name] for name in ("prices", "promotions", "products") if name in payload}
    # the backend's calendar may scope events to products of other chunks: they are known (the backend
    # named them), reported `driver_unused` where no product of this chunk is reached
    listed = {str(p.get("product_id")) for p in drivers.get("products", []) if isinstance(p, dict)}
    named = {str(p) for e in payload.get("calendar_events", []) if isinstance(e, dict)
             and isinstance(e.get("product_ids"), list) for p in e["product_ids"]}
    drivers["products"] = [*drivers.get("products", []), *({"product_id": p} for p in sorted(named - listed))]
    request = ForecastRequest.model_validate({
        "shop_id": spec["shop_id"], "product_ids": present, "sales": payload["sales"],
        "calendar_events": payload.get("calendar_events", []), "as_of": spec["as_of"], **drivers, **spec["options"]})
    return request, errors


def _chunk_request(spec: ChunkSpec, ctx: Context) -> tuple[ForecastRequest | None, list[ChunkError]]:
    if spec["source"] == "backend":
        return _pulled_request(spec, ctx)
    raw = ctx.jobs.chunk_input(spec["job_id"], spec["index"])
    if raw is None:
        raise SmartShelfError("the chunk's input expired from the job store (JOB_TTL_DAYS)")
    options, block = sales_blocks.decode(raw)
    stored = _with_shared(json.loads(options), spec["job_id"], ctx)
    return ForecastRequest.model_validate_json(pydantic_core.to_json(stored)).attach_upload(block), []


def run_chunk(spec: ChunkSpec, ctx: Context) -> ChunkOutcome:
    """Forecast one chunk (pull, forecast, push) and record it once; never raises for bad data."""
    job_id, index = spec["job_id"], spec["index"]
    worker = f"{socket.gethostname()}:{os.getpid()}"
    if not ctx.jobs.start_chunk(job_id, index, worker):
        return {"job_id": job_id, "index": index, "skipped": "already done"}
    started = time.monotonic()
    forecasts: list[Any] = []
    warnings: list[Any] = []
    errors: list[ChunkError] = []
    try:
        request, errors = _chunk_request(spec, ctx)
        if request is not None:
            response = forecast(spec_of(request), ctx.settings, ctx.cache, ctx.signing_key)
            forecasts = [f.model_dump(mode="json") for f in response.forecasts]
            warnings = [w.model_dump(mode="json") for w in response.warnings]
    except BackendError as exc:
        errors.append(_error("pull", str(exc), spec["product_ids"], exc.attempts))
    except (SmartShelfError, ValidationError) as exc:
        errors.append(_error("forecast", str(exc), spec["product_ids"]))
    except Exception as exc:  # a bug in one chunk must not stop the batch; logged with its traceback
        log.exception("chunk_crashed", job_id=job_id, index=index)
        errors.append(_error("forecast", f"internal error: {type(exc).__name__}", spec["product_ids"]))
    if spec["source"] == "backend" and spec["push"] and forecasts:  # on-demand chunks are never pushed
        errors += _push(spec, ctx, forecasts, warnings, errors)
    summary: ChunkSummary = {"products": len(spec["product_ids"]), "forecasts": len(forecasts), "errors": errors,
               "warnings": warnings, "worker": worker, "seconds": round(time.monotonic() - started, 3)}
    LATEST_FILES.flush()  # the chunk's latest-forecast files are on disk before it counts as done
    recorded = ctx.jobs.finish_chunk(job_id, index, summary, forecasts)
    log.info("chunk_done", job_id=job_id, index=index, forecasts=len(forecasts), errors=len(errors),
             seconds=summary["seconds"], recorded=recorded)
    return {"job_id": job_id, "index": index, "forecasts": len(forecasts), "errors": len(errors)}


def _push(spec: BackendChunkSpec, ctx: Context, forecasts: list[Any], warnings: list[Any],
          errors: list[ChunkError]) -> list[ChunkError]:
    """Push the chunk to the backend; an undeliverable chunk becomes an error of its own."""
    key = idempotency_key(spec["shop_id"], spec["batch_date"], spec["index"], spec["chunks"])
    body = json.dumps({
        "job_id": spec["job_id"], "shop_id": spec["shop_id"], "batch_date": spec["batch_date"],
        "chunk": spec["index"], "chunks": spec["chunks"], "generated_at": utc_now_iso(),
        "forecasts": forecasts, "warnings": warnings, "errors": errors,
    }, separators=(",", ":")).encode()
    backend = ctx.backend()
    try:
        status = backend.push(body, key)
    except BackendError as exc:
        log.error("batch_push_failed", job_id=spec["job_id"], key=key, attempts=exc.attempts, error=str(exc))
        return [_error("push", str(exc), [f["product_id"] for f in forecasts], exc.attempts)]
    finally:
        backend.close()
    audit.append(ctx.settings.model_dir, "batch_pushed", {
        "job_id": spec["job_id"], "shop_id": spec["shop_id"], "batch_date": spec["batch_date"],
        "chunk": spec["index"], "idempotency_key": key, "status": status,
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "model_versions": {f["product_id"]: f["model_version"] for f in forecasts}})
    return []


def finish_job(job_id: str, ctx: Context) -> FinishReport:
    """The final step: the job's outcome, recorded once and logged."""
    state = ctx.jobs.state(job_id)
    if state is None:
        raise SmartShelfError(f"unknown job {job_id!r}")
    meta, done = state["meta"], state["done"]
    errors = [error for chunk in done.values() for error in chunk["errors"]]
    failed_products = len({p for error in errors for p in error["product_ids"]})
    forecasts = sum(chunk["forecasts"] for chunk in done.values())
    missing = meta["chunks"] - len(done)
    training = state["training"]
    if meta["kind"] == "shop_model_train":
        outcome = "succeeded" if training and training["state"] == "succeeded" else "failed"
    else:
        outcome = ("failed" if forecasts == 0 and meta["total"] > 0 else
                   "completed_with_errors" if errors or missing else "succeeded")
    report: FinishReport = {"state": outcome, "finished_at": utc_now_iso(), "forecasts": forecasts,
              "failed_products": failed_products, "missing_chunks": missing}
    if ctx.jobs.finish(job_id, report):
        log.info("job_finished", job_id=job_id, kind=meta["kind"], **report)
    return report


def record_failed_job(ctx: Context, job_id: str, kind: str, message: str, batch_date: str) -> None:
    """A scheduled run that could not even plan (e.g. the shop list did not come): visible as a job."""
    meta: JobMeta = {"kind": kind, "shop_id": None, "created_at": utc_now_iso(), "chunks": 0, "total": 0,
                     "chunk_products": [], "error": message, "batch_date": batch_date}
    ctx.jobs.create(job_id, meta)
    ctx.jobs.finish(job_id, {"state": "failed", "finished_at": utc_now_iso(), "forecasts": 0, "failed_products": 0,
                             "missing_chunks": 0, "error": message})
