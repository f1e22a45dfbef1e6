
"""Forecast latency through the two-level store: a cached answer over HTTP (a real uvicorn server
with Redis on 127.0.0.1), and the disk path (load the signed artifact + predict) in process.

Payload: one product, 730 days of real daily sales, 30 periods.
"""

import json
import os
import tempfile
import time
from collections.abc import Callable

import redis

from app.config import Settings
from app.models import store
from app.schemas.forecast import ForecastRequest
from app.services.forecasting.answer_cache import artifact_id, request_digest, result_key
from app.services.forecasting.history import history_panel, sales_columns
from app.services.forecasting.local_models import respond
from app.services.forecasting.pipeline import forecast
from app.services.forecasting.spec import spec_of
from app.utils.cache import MemoryCache
from bench.data import daily_panel, sales_rows
from bench.service_speed import timed
from tests.support.budget import BUDGET
from tests.support.server import serving

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def _payload() -> dict:
    units, dates = daily_panel(1, 730)
    return {"shop_id": "bench", "sales": sales_rows(units, dates), "periods": 30, "model": "auto"}


def http_hits(payload: dict, model_dir: str, repeat: int = 300) -> dict:
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    env = {"REDIS_URL": REDIS_URL, "MODEL_DIR": model_dir, "MODEL_SIGNING_KEY": "bench"}
    with serving(env) as client:
        started = time.perf_counter()
        miss = client.post("/api/v1/smart-shelf/forecast", content=body, headers=headers)
        miss_ms = (time.perf_counter() - started) * 1000
        assert miss.json()["meta"]["cache"] == "miss"
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            hit = client.post("/api/v1/smart-shelf/forecast", content=body, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
        assert hit.json()["meta"]["cache"] == "hit"
        read = timed(lambda: client.get("/api/v1/smart-shelf/forecast/bench/p000000").raise_for_status(), 100)
    samples.sort()
    return {"miss_ms": round(miss_ms, 1), "hit_p50_ms": round(samples[len(samples) // 2], 2),
            "hit_p99_ms": round(samples[int(len(samples) * 0.99) - 1], 2), "read_path": read}


def disk_load_predict(payload: dict, model_dir: str) -> dict:
    settings = Settings(_env_file=None, model_dir=model_dir, model_signing_key="bench")  # type: ignore[call-arg]
    request = spec_of(ForecastRequest.model_validate(payload))
    forecast(request, settings, MemoryCache(), "bench")  # trains and writes the artifact
    sales, warnings = sales_columns(request)
    panel, _, repairs = history_panel(request, sales, BUDGET)
    warnings += repairs
    artifact = artifact_id([result_key(request, panel, 0, "none", request_digest(panel))])

    def load_and_predict() -> None:
        trained, _ = store.load(model_dir, "bench", artifact, "bench")
        respond(trained, request, warnings)

    return timed(load_and_predict, 30)


def run(progress: Callable[[str], None] = print) -> dict:
    payload = _payload()
    redis.Redis.from_url(REDIS_URL).flushdb()
    with tempfile.TemporaryDirectory() as model_dir:
        progress("cache latency: HTTP hits on a real uvicorn + Redis")
        http = http_hits(payload, model_dir)
    with tempfile.TemporaryDirectory() as model_dir:
        progress("cache latency: disk artifact load + predict")
        disk = disk_load_predict(payload, model_dir)
    redis.Redis.from_url(REDIS_URL).flushdb()
    return {"http": http, "disk_load_predict": disk}
