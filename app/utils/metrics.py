"""Prometheus metrics of this process, served at GET /metrics.

Requests (count and latency per route template, method and status), forecast cache outcomes,
training time per model family, batch job outcomes (counters read from the job store, so they include
jobs that Celery workers ran; reading them costs the same however many jobs are kept) and Redis
availability. With several uvicorn workers each process has its own counters: scrape each, or run one
worker per container as compose does.
"""

from collections import Counter as Tally

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

REQUESTS = Counter("smartshelf_requests_total", "HTTP requests answered.", ["route", "method", "status"])
LATENCY = Histogram("smartshelf_request_duration_seconds", "HTTP request duration.", ["route", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
FORECAST_CACHE = Counter("smartshelf_forecast_cache_total", "Forecast requests by where the answer came from.",
                         ["result"])
TRAINING = Histogram("smartshelf_training_seconds", "Backtest and fit time of one model family in one request.",
                     ["family"], buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300))
JOBS = Gauge("smartshelf_batch_jobs", "Batch jobs created in the last JOB_TTL_DAYS (by day), by state: "
             "counters kept in the job store.", ["state"])
REDIS_UP = Gauge("smartshelf_redis_up", "1 when Redis answers, 0 when not (not set without REDIS_URL).")
JOB_STATES = ("queued", "running", "succeeded", "completed_with_errors", "failed")


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route, method).observe(seconds)


def observe_training(seconds: dict[str, float]) -> None:
    for family, value in seconds.items():
        TRAINING.labels(family).observe(value)


def exposition(job_states: Tally[str], redis_up: bool | None) -> tuple[bytes, str]:
    """The text format, with the scrape-time gauges set first."""
    for state in JOB_STATES:
        JOBS.labels(state).set(job_states.get(state, 0))
    if redis_up is not None:
        REDIS_UP.set(1 if redis_up else 0)
    return generate_latest(), CONTENT_TYPE_LATEST
