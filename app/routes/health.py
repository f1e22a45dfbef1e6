"""GET /health (liveness) and GET /health/ready (readiness)."""

from fastapi import APIRouter, Request, Response

from app import __version__
from app.routes.dependencies import SettingsDep
from app.services.records.readiness import ReadinessReport, check_readiness
from app.utils.openapi import HEADERS_TOO_LARGE

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", summary="Liveness: the process answers", responses=HEADERS_TOO_LARGE)
def get_health() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok", "version": __version__}


@router.get(
    "/ready",
    response_model=ReadinessReport,
    summary="Readiness: model store, Redis and broker",
    description="200 when ready or degraded (Redis down, answering from the in-process path); "
    "503 when the model store is unusable.",
    responses=HEADERS_TOO_LARGE,
)
async def get_ready(request: Request, response: Response, settings: SettingsDep) -> ReadinessReport:
    """Readiness probe."""
    report = await check_readiness(settings, request.app.state.cache)
    if report.status == "unavailable":
        response.status_code = 503
    return report
