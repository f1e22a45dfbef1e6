"""App factory: routers, middleware, lifespan and error handlers. Run with
`uvicorn app.main:create_app --factory`, or `uvicorn app.main:app`."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache, partial

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.config import Settings, get_settings
from app.models.signing_key import require_shared_key, signing_key
from app.routes import (
    anomalies,
    at_risk,
    audit,
    forecast,
    health,
    insights,
    jobs,
    metrics,
    promotions,
    reorder,
    shop_models,
)
from app.routes.docs import install_docs
from app.services.forecasting.latest import LATEST_FILES
from app.services.jobs.batch_runner import LocalRunner, Runner
from app.services.jobs.job_store import make_job_store
from app.services.records.housekeeping import Housekeeper
from app.tasks.backend_client import BackendClient
from app.tasks.celery_app import create_celery_app
from app.tasks.dispatch import CeleryRunner
from app.utils import redis_pool
from app.utils.access import AccessMiddleware, Principal
from app.utils.admission import AdmissionMiddleware, AdmissionSettings
from app.utils.body_limit import BodyLimitMiddleware
from app.utils.cache import make_cache
from app.utils.errors import install_error_handlers
from app.utils.header_limit import HeaderLimitMiddleware
from app.utils.logging import RequestContextMiddleware, configure_logging
from app.utils.rate_limit import RateLimiter

DESCRIPTION = """
Decisions for small and mid-size retailers, from the data sent in each request:
what is at risk, what to promote at which event, and what the sales say.
Every answer lists the data-quality rules applied to the input in `warnings`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app; `settings` defaults to the environment's."""
    settings = settings or get_settings()
    require_shared_key(settings, "API")  # exits with one line: replicas and workers must share the key
    configure_logging(settings.log_format, settings.log_level)
    limiter = RateLimiter(settings.rate_limit_per_minute)  # counts in Redis once the lifespan attaches it

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log = structlog.get_logger(__name__)
        # one Redis pool for the process: cache, job store and rate limiter share it; closed below
        app.state.redis = redis_client = redis_pool.connect(settings.redis_url)
        app.state.cache = make_cache(redis_client, settings.memory_cache_bytes)
        app.state.signing_key = signing_key(settings)  # embedded default: kept in the model store
        app.state.jobs = make_job_store(redis_client, settings.job_ttl_days, settings.memory_jobs_bytes)
        limiter.attach(redis_client)
        app.state.backend = partial(BackendClient, settings)  # batch services reach the backend through it
        # without a broker there is no beat: the API process cleans the model store itself
        housekeeper = None if settings.redis_url else Housekeeper(settings)
        if housekeeper:
            housekeeper.start()
        app.state.housekeeper = housekeeper
        runner: Runner = CeleryRunner(create_celery_app(settings)) if settings.redis_url else LocalRunner()
        app.state.runner = runner
        if not settings.api_keys:
            log.warning("access_open", effect="no API_KEYS configured: every caller may use every shop")
        log.info("started", version=__version__, cache=app.state.cache.backend, batch_runner=runner.backend,
                 api_keys=[key.name for key in settings.api_keys], rate_limit_per_minute=settings.rate_limit_per_minute)
        # the objects of start-up (about 210,000: modules, the app, pydantic's schemas) leave the collector's
        # heap: each full collection walked them all, 120-230 ms on this machine, and it runs every ~20 large
        # requests (a 1,000-item /promotions: p95 342 -> 176 ms, max 528 -> 183, in process, loaded machine)
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            runner.close()
            LATEST_FILES.flush()  # latest-forecast files still waiting to be written
            if housekeeper:
                housekeeper.stop()
            app.state.cache.close()
            limiter.detach()
            redis_pool.disconnect(redis_client)

    app = FastAPI(
        title="SmartShelf ML Service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        debug=settings.debug,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.state.settings = settings
    app.state.rate_limiter = limiter
    if settings.docs_enabled:
        install_docs(app)
    app.dependency_overrides[get_settings] = lambda: settings
    for module in (health, metrics, at_risk, forecast, shop_models, jobs, reorder, anomalies, promotions, insights,
                   audit):
        app.include_router(module.router)
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID"],
        )
    # the last added runs first: request id and access log, header size, API key and rate limit, body limits,
    # the admission ticket of heavy requests (freed once the answer is sent)
    app.add_middleware(AdmissionMiddleware, settings=AdmissionSettings(
        settings.admission_heavy_share, settings.admission_slots, settings.admission_queue,
        settings.admission_wait_seconds))
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       timeout_seconds=settings.body_timeout_seconds)
    keys = {key.sha256: Principal(key.name, frozenset(key.shops)) for key in settings.api_keys}
    app.add_middleware(AccessMiddleware, keys=keys, limiter=limiter)
    app.add_middleware(HeaderLimitMiddleware, max_bytes=settings.max_header_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app


@lru_cache(maxsize=1)
def _environment_app() -> FastAPI:
    return create_app()


def __getattr__(name: str) -> FastAPI:
    """`app.main:app`, the conventional uvicorn target: built from the environment on first access.

    A module attribute would build the app, and read the environment, whenever anything imports
    this module (tests, workers, scripts); this builds it only for the server that asks for it.
    """
    if name == "app":
        return _environment_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
