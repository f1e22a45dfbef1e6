"""The nightly batch at scale: 5,000 products x 2 years of daily history through real Celery
workers (1 and then 2 worker processes) on Redis, pulling from and pushing to a real HTTP
stand-in backend on 127.0.0.1 (tests/support/backend.py).

Products are 5,000 real store-item series windows (bench.data.daily_panel), re-dated to end
yesterday. Each run starts cold (empty Redis database, empty model directory), so every product
is trained. Measured: wall time from firing `daily_forecast_batch` to the job's final step,
products per second, peak resident memory of each worker process (VmHWM), and the speed-up of
the second process, two ways: at equal threads per process (1 and 1: what each added worker
on its own core brings) and against one process given every core (xgboost threads).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import redis

from app.config import Settings
from app.services.jobs.job_store import make_job_store
from app.tasks.celery_app import BATCH_TASK, create_celery_app
from app.utils import redis_pool
from bench.data import daily_panel
from tests.support.backend import BackendState, running_backend

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ROOT = Path(__file__).resolve().parents[1]
PRODUCTS, DAYS, CHUNK = 5000, 730, 250


def backend_state() -> BackendState:
    units, _ = daily_panel(PRODUCTS, DAYS)
    end = datetime.now(UTC).date() - timedelta(days=1)
    iso = pd.date_range(end=pd.Timestamp(end), periods=DAYS, freq="D").strftime("%Y-%m-%d").tolist()
    sales = {("bench", f"p{k:05d}"): [{"product_id": f"p{k:05d}", "date": iso[d], "qty": float(units[k, d])}
                                      for d in range(DAYS)] for k in range(PRODUCTS)}
    shops = [{"shop_id": "bench", "product_ids": [p for _, p in sales], "periods": 14}]
    return BackendState(shops=shops, sales=sales, secret="bench")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pool_children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def one_run(state: BackendState, url: str, processes: int, threads: str | None,
            progress: Callable[[str], None]) -> dict:
    redis.Redis.from_url(REDIS_URL).flushdb()
    state.accepted.clear()
    with tempfile.TemporaryDirectory() as model_dir:
        env = {**os.environ, "REDIS_URL": REDIS_URL, "MODEL_DIR": model_dir, "MODEL_SIGNING_KEY": "bench",
               "BACKEND_API_URL": url, "BACKEND_WEBHOOK_SECRET": "bench", "BATCH_CHUNK_SIZE": str(CHUNK),
               "LOG_LEVEL": "WARNING"}
        env.pop("OMP_NUM_THREADS", None)
        if threads:
            env["OMP_NUM_THREADS"] = threads
        log = open(Path(model_dir) / "worker.log", "w")  # noqa: SIM115 - closed below, after the worker
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app.tasks.celery_app", "worker", f"--concurrency={processes}",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while "ready." not in (Path(model_dir) / "worker.log").read_text():
                time.sleep(0.1)
            settings = Settings(_env_file=None, redis_url=REDIS_URL, model_dir=model_dir)  # type: ignore[call-arg]
            jobs = make_job_store(redis_pool.connect(REDIS_URL), 1)
            started = time.perf_counter()
            job_id = create_celery_app(settings).send_task(BATCH_TASK).get(timeout=120)[0]
            peaks: dict[int, float] = {}
            last = -1
            while (state_ := jobs.state(job_id)) is None or state_["finished"] is None:
                done = len(state_["done"]) if state_ else 0
                if done != last:
                    progress(f"batch x{processes}: {done}/{PRODUCTS // CHUNK} chunks")
                    last = done
                for child in _pool_children(worker.pid):
                    peaks[child] = max(peaks.get(child, 0.0), _peak_rss_mb(child))
                time.sleep(0.2)
            seconds = time.perf_counter() - started
            report = state_["finished"]
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
            log.close()
    delivered = sum(len(body["forecasts"]) for body in state.accepted.values())
    assert report["state"] == "succeeded" and delivered == PRODUCTS, (report, delivered)
    return {"processes": processes, "threads": threads or f"cores/{processes}", "seconds": round(seconds, 1),
            "products_per_s": round(PRODUCTS / seconds, 1),
            "peak_rss_mb_per_process": sorted(round(v) for v in peaks.values()), "delivered": delivered,
            "chunks_pushed": len(state.accepted)}


def run(progress: Callable[[str], None]) -> dict:
    progress("batch: building 5,000 products x 730 days")
    state = backend_state()
    runs = {}
    with running_backend(state) as url:
        for name, processes, threads in (("one_single_thread", 1, "1"), ("one_all_cores", 1, None),
                                         ("two", 2, None)):
            runs[name] = one_run(state, url, processes, threads, progress)
            progress(f"batch {name}: {runs[name]['seconds']} s")
    two = runs["two"]["seconds"]
    return {"products": PRODUCTS, "days": DAYS, "chunk_size": CHUNK, "cores": os.cpu_count(), "runs": runs,
            "speedup_equal_threads": round(runs["one_single_thread"]["seconds"] / two, 2),
            "speedup_vs_all_cores": round(runs["one_all_cores"]["seconds"] / two, 2)}
