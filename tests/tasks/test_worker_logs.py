"""A Celery worker started as docs/deployment.md says logs the service's events in the API's structlog
format (issue #25: before, it logged none of them: structlog printed into Celery's redirected stdout)."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.schemas.shop_models import TRAIN_EXAMPLE
from tests.support.jobs import follow
from tests.tasks.test_celery_batches import Workers

pytestmark = [pytest.mark.redis, pytest.mark.slow]
PREFIX = "/api/v1/smart-shelf"


@pytest.fixture
def store(tmp_path):
    """A model store that can be made read-only under the running worker: a tmpfs remounted read-only as
    root (root ignores file modes), a folder whose modes are removed otherwise."""
    store = tmp_path / "models"
    store.mkdir()
    root = os.geteuid() == 0
    if root and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(store)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")

    def read_only() -> None:
        if root:
            subprocess.run(["mount", "-o", "remount,ro", str(store)], check=True)
        else:
            subprocess.run(["chmod", "-R", "a-w", str(store)], check=True)
    yield store, read_only
    if root:
        subprocess.run(["umount", str(store)], check=False)
    else:
        subprocess.run(["chmod", "-R", "u+w", str(store)], check=False)


def _events(log: Path) -> list[dict]:
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    return [json.loads(line) for line in lines]


def test_the_worker_logs_training_done_and_a_crash_with_its_traceback_as_json(tmp_path, redis_url, store):
    model_dir, read_only = store
    env = {**os.environ, "REDIS_URL": redis_url, "MODEL_DIR": str(model_dir), "MODEL_SIGNING_KEY": "k",
           "LOG_FORMAT": "json"}
    workers = Workers(env, tmp_path)
    settings = Settings(_env_file=None, redis_url=redis_url, model_dir=str(model_dir),  # type: ignore[call-arg]
                        model_signing_key="k")
    try:
        workers.start("logs")
        with TestClient(create_app(settings)) as api:
            first, _ = follow(api, api.post(f"{PREFIX}/models/train", json=TRAIN_EXAMPLE).json()["job_id"])
            read_only()
            second, _ = follow(api, api.post(f"{PREFIX}/models/train", json=TRAIN_EXAMPLE).json()["job_id"])
    finally:
        workers.stop_all()
    assert first["state"] == "succeeded" and second["state"] == "failed"
    events = _events(tmp_path / "logs.log")
    done = [e for e in events if e["event"] == "training_done"]
    assert [(e["job_id"], e["state"]) for e in done] == [(first["job_id"], "succeeded"), (second["job_id"], "failed")]
    assert all(e["level"] == "info" and e["timestamp"].endswith("Z") for e in done)
    crashed = [e for e in events if e["event"] == "training_crashed"]
    assert [e["job_id"] for e in crashed] == [second["job_id"]] and crashed[0]["level"] == "error"
    assert crashed[0]["exception"].startswith("Traceback") and "OSError" in crashed[0]["exception"]
