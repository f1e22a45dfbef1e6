"""The distributed deployment as docs/deployment.md describes it: two API processes and a Celery worker
sharing one Redis, one model store and one MODEL_SIGNING_KEY (issue #25, item 2). A model the worker
trains serves both APIs, with the same version."""

import os
import time

import pytest

from app.schemas.shop_models import TRAIN_EXAMPLE
from tests.support.server import serving
from tests.tasks.test_celery_batches import Workers

pytestmark = [pytest.mark.redis, pytest.mark.slow]
PREFIX = "/api/v1/smart-shelf"


def test_a_model_the_worker_trains_serves_both_apis_with_the_same_version(tmp_path, redis_url):
    shared = {"REDIS_URL": redis_url, "MODEL_DIR": str(tmp_path / "models"), "MODEL_SIGNING_KEY": "shared-key",
              "RATE_LIMIT_PER_MINUTE": "0"}
    workers = Workers({**os.environ, **shared}, tmp_path)
    try:
        workers.start("trainer")
        with serving(shared) as first, serving(shared) as second:
            accepted = first.post(f"{PREFIX}/models/train", json=TRAIN_EXAMPLE)
            assert accepted.status_code == 202 and accepted.json()["runner"] == "celery", accepted.text
            job_url = f"/api/v1/jobs/{accepted.json()['job_id']}"
            deadline = time.monotonic() + 120
            while not (job := second.get(job_url).json())["finished_at"]:  # the other API sees the job too
                assert time.monotonic() < deadline, job
                time.sleep(0.2)
            assert job["state"] == "succeeded", job
            trained = job["shop_model"]["card"]["model_version"]
            cards = [api.get(f"{PREFIX}/models/{TRAIN_EXAMPLE['shop_id']}") for api in (first, second)]
            body = {**TRAIN_EXAMPLE, "periods": 7}
            forecasts = [api.post(f"{PREFIX}/forecast", json=body) for api in (first, second)]
    finally:
        workers.stop_all()
    assert [c.status_code for c in cards] == [200, 200], [c.text for c in cards]
    assert [c.json()["model_version"] for c in cards] == [trained, trained]
    assert [f.status_code for f in forecasts] == [200, 200], [f.text for f in forecasts]
    assert [f.json()["meta"]["shop_model"]["model_version"] for f in forecasts] == [trained, trained]
