"""GET /metrics: Prometheus text format, behind the API key rule like every route but health and the docs."""

import math
from collections import Counter

from fastapi import APIRouter, Request, Response

from app.services.jobs.job_store import JobStoreUnavailable
from app.utils.metrics import exposition
from app.utils.openapi import ERROR_RESPONSES, HEADERS_TOO_LARGE

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics of this process", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format 0.0.4."},
                       401: ERROR_RESPONSES[401], 429: ERROR_RESPONSES[429], **HEADERS_TOO_LARGE})
def get_metrics(request: Request) -> Response:
    """Request counts and latency per route, cache outcomes, training time per family, jobs, Redis."""
    state = request.app.state
    try:
        jobs = Counter(state.jobs.state_counts(math.ceil(state.settings.job_ttl_days)))
    except JobStoreUnavailable:
        jobs = Counter()
    redis_up = state.cache.available if state.cache.backend == "redis" else None
    body, content_type = exposition(jobs, redis_up)
    return Response(body, media_type=content_type)
