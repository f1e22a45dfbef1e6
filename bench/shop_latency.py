"""Shop-model serving speed through HTTP: the M5 department (823 items x 1,913 days, with revenue and its
event dates) trained by `POST /models/train` on a real server with the default settings, then `POST
/forecast` with 1 and with 50 products per request, each carrying those products' history (issue #14's
targets: one product <= 30 ms service time and <= 60 ms over HTTP, 50 products <= 150 ms service time).
Service time is the answer's `Server-Timing` total; its parse / validate / handler split is reported.
"""

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.accuracy import _series
from bench.accuracy_data import m5_holdout
from bench.payload_formats import PREFIX, compact, percentile, server_env, server_timing, wait_for_job
from tests.support.server import serving_process

SIZES = {1: 200, 50: 16}  # products per request -> requests (distinct products each time)


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(progress: Callable[[str], None] = print) -> dict:
    holdout = m5_holdout()
    series = list(_series(holdout).values())
    events = [{"date": d} for d in holdout.events]
    common = {"shop_id": "latency", "periods": holdout.horizon, "calendar_events": events}
    results: dict = {"products": len(series), "days": len(series[0]["qty"])}
    with tempfile.TemporaryDirectory() as model_dir, serving_process(server_env(model_dir)) as (client, pid):
        client.timeout = 300
        started = time.perf_counter()
        accepted = client.post(f"{PREFIX}/models/train", content=compact({**common, "series": series}),
                               headers={"content-type": "application/json"})
        state, _ = wait_for_job(client, accepted.json()["job_id"])
        results["training_seconds"] = round(time.perf_counter() - started, 1)
        progress(f"shop latency: trained ({state}) in {results['training_seconds']} s")
        for size, requests in SIZES.items():
            http, timings = [], []
            for r in range(requests):
                chunk = [series[(r * size + k) % len(series)] for k in range(size)]
                body = compact({**common, "series": chunk, "confidence_interval": 0.8})
                sent = time.perf_counter()
                response = client.post(f"{PREFIX}/forecast", content=body, headers={"content-type": "application/json"})
                http.append((time.perf_counter() - sent) * 1000)
                if response.status_code != 200 or response.json()["meta"].get("shop_model") is None:
                    raise SystemExit(f"{size} products: {response.status_code} {response.text[:300]}")
                timings.append(server_timing(response))
            service = [t["total"] for t in timings]
            results[f"{size}_products"] = {
                "requests": requests, "body_kb": round(len(body) / 1024),
                "service_ms": {"p50": round(statistics.median(service), 1), "p95": round(percentile(service, 0.95), 1)},
                "http_ms": {"p50": round(statistics.median(http), 1), "p95": round(percentile(http, 0.95), 1)},
                "split_p50_ms": {k: round(statistics.median(t[k] for t in timings), 1)
                                 for k in ("parse", "validate", "handler")}}
            progress(f"shop latency: {size} products: {results[f'{size}_products']}")
        results["server_peak_mb"] = round(_peak_mb(pid))
    return results
