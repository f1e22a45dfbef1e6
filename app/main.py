"""App factory: routers, middleware, lifespan and error handlers. Run with
`uvicorn app.main:create_app --factory`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from redis.asyncio import Redis

from app import __version__
from app.config import Settings, get_settings
from app.routes import at_risk, forecast, health, insights, promotions
from app.utils.errors import install_error_handlers
from app.utils.logging import RequestContextMiddleware, configure_logging

DESCRIPTION = """
Decisions for small and mid-size retailers, from the data sent in each request:
what is at risk, what to promote at which event, and what the sales say.
Every answer lists the data-quality rules applied to the input in `warnings`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app; `settings` defaults to the environment's."""
    settings = settings or get_settings()
    configure_logging(settings.log_format, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.redis = (
            Redis.from_url(settings.redis_url, socket_timeout=0.05, socket_connect_timeout=0.05)
            if settings.redis_url
            else None
        )
        structlog.get_logger(__name__).info(
            "started", version=__version__, redis="configured" if settings.redis_url else "embedded"
        )
        try:
            yield
        finally:
            if app.state.redis is not None:
                await app.state.redis.aclose()

    app = FastAPI(
        title="SmartShelf ML Service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        debug=settings.debug,
    )
    app.state.redis = None
    app.dependency_overrides[get_settings] = lambda: settings
    for module in (health, at_risk, forecast, promotions, insights):
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
    app.add_middleware(RequestContextMiddleware)
    return app
