"""Scheduled batches end to end: real Celery workers on the real Redis, a real HTTP backend.

The stand-in backend (tests/support/backend.py) serves re-dated store-item sales, checks every
push's signature, de-duplicates by Idempotency-Key and fails the first pushes on purpose.
"""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from celery.schedules import crontab
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.services.jobs.job_store import make_job_store
from app.services.records import audit
from app.tasks.celery_app import BATCH_TASK, CLEANUP_TASK, RETRAIN_TASK, beat_schedule, create_celery_app
from app.utils import redis_pool
from tests.support.backend import BackendState, Fault, running_backend
from tests.support.jobs import follow

pytestmark = [pytest.mark.redis, pytest.mark.slow]
SECRET = "webhook-secret"
ROOT = Path(__file__).resolve().parents[2]


def backend_state(store_item: pd.DataFrame, items: int, days: int) -> BackendState:
    """Store 1's first `items` items, the last `days` days, re-dated to end yesterday (UTC)."""
    frame = store_item[(store_item["store"] == 1) & (store_item["item"] <= items)]
    frame = frame[frame["date"] > frame["date"].max() - pd.Timedelta(days=days)]
    shift = pd.Timestamp(datetime.now(UTC).date() - timedelta(days=1)) - frame["date"].max()
    sales: dict[tuple[str, str], list[dict]] = {}
    for item, day, qty in zip(frame["item"], frame["date"] + shift, frame["sales"], strict=True):
        sales.setdefault(("shop_1", f"p{item}"), []).append(
            {"product_id": f"p{item}", "date": day.strftime("%Y-%m-%d"), "qty": float(qty)})
    shops = [{"shop_id": "shop_1", "product_ids": sorted({p for _, p in sales}), "periods": 7}]
    return BackendState(shops=shops, sales=sales, secret=SECRET)


class Workers:
    """Celery worker subprocesses (one process group each), started like `celery -A ... worker`."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.procs = env, logs, []

    def start(self, name: str, **env: str) -> subprocess.Popen:
        log = self.logs / f"{name}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app.tasks.celery_app", "worker", "--concurrency=1",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h"],
            cwd=ROOT, env={**self.env, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        deadline = time.monotonic() + 30
        while "ready." not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.kill(proc)


@pytest.fixture
def scheduled(tmp_path, redis_url, store_item):
    """(backend state, workers, settings, API client) for a 12-product shop in chunks of 3."""
    state = backend_state(store_item, items=12, days=400)
    with running_backend(state) as url:
        env = {**os.environ, "REDIS_URL": redis_url, "MODEL_DIR": str(tmp_path / "models"),
               "MODEL_SIGNING_KEY": "test-key", "BACKEND_API_URL": url, "BACKEND_WEBHOOK_SECRET": SECRET,
               "BATCH_CHUNK_SIZE": "3", "BACKEND_RETRY_BASE_SECONDS": "0.05", "BACKEND_MAX_ATTEMPTS": "4",
               "TASK_VISIBILITY_TIMEOUT": "120", "LOG_FORMAT": "json"}
        settings = Settings(_env_file=None, redis_url=redis_url, model_dir=env["MODEL_DIR"],  # type: ignore[call-arg]
                            model_signing_key="test-key", batch_chunk_size=3)
        workers = Workers(env, tmp_path)
        try:
            with TestClient(create_app(settings)) as api:
                yield state, workers, settings, api
        finally:
            workers.stop_all()


def run_schedule(settings: Settings, task: str) -> str:
    """Fire a scheduled task as beat would; returns the shop's job id."""
    result = create_celery_app(settings).send_task(task)
    job_ids = result.get(timeout=60)
    assert len(job_ids) == 1
    return job_ids[0]


def audit_kinds(settings: Settings) -> list[str]:
    return [json.loads(line)["kind"] for line in audit.audit_path(settings.model_dir).open()]


def delivered_products(state: BackendState) -> list[str]:
    return [f["product_id"] for body in state.accepted.values() for f in body["forecasts"]]


def test_daily_batch_fans_out_retries_pushes_and_delivers_each_chunk_once(scheduled):
    state, workers, settings, api = scheduled
    state.push_faults += [Fault(times=2, status=503), Fault(times=1, status=429, retry_after="0.2")]
    workers.start("a")
    workers.start("b")
    job_id = run_schedule(settings, BATCH_TASK)
    job, progress = follow(api, job_id)
    assert job["state"] == "succeeded", job["errors"]
    assert job["kind"] == "daily_forecast_batch" and job["progress"]["total"] == 12
    assert progress[0] < 12 and progress[-1] == 12 and progress == sorted(progress)
    assert len(state.accepted) == 4 and sorted(delivered_products(state)) == sorted(state.shops[0]["product_ids"])
    assert sum(state.attempts.values()) == 4 + 3 and state.duplicates == 0 and state.bad_signatures == 0
    assert len(job["forecasts"]) == 12 and all(len(f["predictions"]) == 7 for f in job["forecasts"])
    verified = api.get("/api/v1/audit/verify").json()
    kinds = audit_kinds(settings)
    assert verified["ok"] and kinds.count("batch_pushed") == 4 and kinds.count("model_trained") == 4


def test_retrain_then_batch_reuses_the_trained_models(scheduled):
    state, workers, settings, api = scheduled
    # the backend sends each product's prices with its sales, p1's with a planned cut for the coming week
    first = min(rows[0]["date"] for rows in state.sales.values())
    days = (date.fromisoformat(max(rows[-1]["date"] for rows in state.sales.values()))
            - date.fromisoformat(first)).days + 1
    history = [1.7 if (day // 7) % 5 == 0 else 2.0 for day in range(days)]  # a cut every fifth week
    # that sells more (elasticity -2): the store's own sales do not answer prices, and the elasticity learned from
    # them swung around 0 with the weekday the data was re-dated to (2026-12-07: +0.1, no planned price line)
    for rows in state.sales.values():
        for row in rows:
            day = (date.fromisoformat(row["date"]) - date.fromisoformat(first)).days
            row["qty"] = float(round(row["qty"] * (history[day] / 2.0) ** -2))
    state.drivers["shop_1"] = {
        "prices": [{"product_id": p, "start": first, "price": history + ([1.6] * 7 if p == "p1" else [])}
                   for p in state.shops[0]["product_ids"]],
        "products": [{"product_id": p, "category": "all"} for p in state.shops[0]["product_ids"]]}
    workers.start("a")
    retrain, _ = follow(api, run_schedule(settings, RETRAIN_TASK))
    assert retrain["state"] == "succeeded" and state.accepted == {}  # retraining pushes nothing
    assert retrain["shop_model"]["state"] == "succeeded" and retrain["shop_model"]["card"]["products"] == 12
    card = api.get("/api/v1/smart-shelf/models/shop_1").json()
    assert card["model_version"] == retrain["shop_model"]["card"]["model_version"]
    assert card["price_elasticity"] is not None  # learned from the pulled prices
    batch, _ = follow(api, run_schedule(settings, BATCH_TASK))
    assert batch["state"] == "succeeded" and len(state.accepted) == 4
    pushed = [f for body in state.accepted.values() for f in body["forecasts"]]
    assert len(pushed) == 12 and {f["method"] for f in pushed} <= {"shop_model", "zero"} | {
        f"shop_model+{family}" for family in ("moving_average", "seasonal_naive", "linear", "holt_winters",
                                              "intermittent")} | {"moving_average", "seasonal_naive", "linear",
                                                                  "holt_winters", "intermittent"}
    planned = next(f for f in pushed if f["product_id"] == "p1")
    assert any(d.startswith("planned price 1.60 vs last ") for d in planned["drivers"]), planned["drivers"]
    kinds = audit_kinds(settings)
    # 02:00 trained the shop model once; its forecasts and 03:00's came from it, no per-request training
    assert kinds.count("shop_model_trained") == 1 and kinds.count("model_trained") == 0


def test_a_backend_that_keeps_failing_is_a_recorded_failure(scheduled):
    state, workers, settings, api = scheduled
    state.push_faults.append(Fault(times=1000, status=500))
    workers.start("a")
    job, _ = follow(api, run_schedule(settings, BATCH_TASK))
    assert job["state"] == "completed_with_errors" and state.accepted == {}
    assert [e["stage"] for e in job["errors"]] == ["push"] * 4
    assert all(e["attempts"] == 4 and "HTTP 500" in e["message"] for e in job["errors"])
    assert len(job["forecasts"]) == 12  # computed, kept in the job, just not delivered


def test_unreachable_shop_list_is_a_failed_job(scheduled):
    state, workers, settings, api = scheduled
    state.shop_faults.append(Fault(times=1000, status=503))
    workers.start("a")
    job_id = run_schedule(settings, BATCH_TASK)
    job = api.get(f"/api/v1/jobs/{job_id}").json()
    assert job["state"] == "failed" and job["errors"][0]["stage"] == "shops"


def test_worker_killed_mid_batch_leaves_work_another_worker_finishes(scheduled):
    state, workers, settings, api = scheduled
    first = workers.start("a")
    job_id = run_schedule(settings, BATCH_TASK)
    store = make_job_store(redis_pool.connect(settings.redis_url), 1)  # read directly: which chunks run, which are done
    running: list[int] = []
    deadline = time.monotonic() + 60
    while not running and time.monotonic() < deadline:  # freeze worker a inside a chunk, then kill it
        current = store.state(job_id)
        if current and current["done"] and set(current["started"]) - set(current["done"]):
            os.killpg(first.pid, signal.SIGSTOP)  # frozen: nothing it does can race the check below
            current = store.state(job_id)
            running = sorted(set(current["started"]) - set(current["done"]))
            if not running:
                os.killpg(first.pid, signal.SIGCONT)
        time.sleep(0.01)
    assert running, "worker a was never caught inside a chunk"
    workers.kill(first)
    assert not set(running) & set(store.state(job_id)["done"])  # its chunk was left unfinished
    workers.start("b", TASK_VISIBILITY_TIMEOUT="5")  # hands out a's unacknowledged chunk after 5 s
    job, _ = follow(api, job_id)
    assert job["state"] == "succeeded" and job["progress"]["chunks_done"] == 4
    assert len(state.accepted) == 4  # each chunk applied once; a repeated push is answered 409
    assert sorted(delivered_products(state)) == sorted(state.shops[0]["product_ids"])


def test_beat_schedule_times_and_timezone_come_from_settings():
    settings = Settings(_env_file=None, schedule_timezone="Europe/Berlin",  # type: ignore[call-arg]
                        batch_cron="30 5 * * mon-fri")
    schedule = beat_schedule(settings)
    assert {name: entry["task"] for name, entry in schedule.items()} == {
        "retrain-models": RETRAIN_TASK, "daily-forecast-batch": BATCH_TASK, "cleanup-old-models": CLEANUP_TASK}
    assert schedule["retrain-models"]["schedule"] == crontab(minute="0", hour="2")
    assert schedule["daily-forecast-batch"]["schedule"] == crontab(minute="30", hour="5", day_of_week="mon-fri")
    assert schedule["cleanup-old-models"]["schedule"] == crontab(minute="0", hour="4", day_of_week="sun")
    app = create_celery_app(settings)
    assert app.conf.timezone == "Europe/Berlin" and app.conf.beat_schedule == schedule
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost


def test_on_demand_batch_runs_on_the_celery_workers(scheduled):
    state, workers, _, api = scheduled
    workers.start("a")
    rows = [row for (_, product), product_rows in state.sales.items() if product in {"p1", "p2", "p3", "p4"}
            for row in product_rows]
    accepted = api.post("/api/v1/smart-shelf/forecast/batch", json={"shop_id": "shop_1", "sales": rows, "periods": 5})
    assert accepted.status_code == 202 and accepted.json()["runner"] == "celery" and accepted.json()["chunks"] == 2
    job, progress = follow(api, accepted.json()["job_id"])
    assert job["state"] == "succeeded" and progress[-1] == 4 and state.accepted == {}  # nothing pushed
    assert sorted(f["product_id"] for f in job["forecasts"]) == ["p1", "p2", "p3", "p4"]
    assert job["shop_model"]["state"] == "succeeded"  # trained first, across the batch's products
    # served through the shop model: its trees, or the local family its backtest chose for the product or band
    assert all(f["method"] != "zero" for f in job["forecasts"]) and "shop model" in job["forecasts"][0]["drivers"][0]


def test_beat_starts_with_the_configured_schedule(tmp_path, redis_url):
    env = {**os.environ, "REDIS_URL": redis_url, "BATCH_CRON": "15 6 * * mon-fri", "SCHEDULE_TIMEZONE": "Europe/Paris"}
    beat = subprocess.Popen([sys.executable, "-m", "celery", "-A", "app.tasks.celery_app", "beat", "--loglevel=DEBUG",
                             "-s", str(tmp_path / "beat-schedule")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    try:
        assert beat.stdout is not None
        for line in beat.stdout:  # beat runs until stopped: read until it has printed its schedule
            lines.append(line)
            if "beat: Waking up" in line:
                break
    finally:
        os.killpg(beat.pid, signal.SIGTERM)
        beat.wait(10)
    output = "".join(lines)
    assert "beat: Starting..." in output
    assert "smartshelf.daily_forecast_batch() <crontab: 15 6 * * mon-fri" in output
    assert "smartshelf.retrain_models() <crontab: 0 2 * * *" in output
    assert "smartshelf.cleanup_old_models() <crontab: 0 4 * * sun" in output
