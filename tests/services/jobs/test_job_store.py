"""The job store's two back ends behave alike: idempotent chunk records and expiry."""

import time

import pytest

from app.services.jobs.job_store import JobStore, MemoryHashes, RedisHashes
from app.utils import redis_pool


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return JobStore(MemoryHashes(), ttl_seconds=60)
    client = redis_pool.connect(request.getfixturevalue("redis_url"))
    assert client is not None
    return JobStore(RedisHashes(client), ttl_seconds=60)


def test_a_chunk_is_recorded_once_and_a_done_chunk_is_not_started_again(store):
    assert store.create("j", {"kind": "forecast_batch", "shop_id": "s", "chunks": 2, "total": 3})
    assert not store.create("j", {"kind": "forecast_batch", "shop_id": "s", "chunks": 2, "total": 3})
    assert store.start_chunk("j", 0, "w1")
    assert store.finish_chunk("j", 0, {"products": 2}, [{"product_id": "a"}, {"product_id": "b"}])
    assert not store.finish_chunk("j", 0, {"products": 2}, [{"product_id": "a"}, {"product_id": "b"}])
    assert not store.start_chunk("j", 0, "w2")
    state = store.state("j")
    assert state["done"] == {0: {"products": 2}} and state["started"] == {0} and state["finished"] is None
    assert store.finish("j", {"state": "succeeded"}) and not store.finish("j", {"state": "failed"})
    assert store.state("j")["finished"] == {"state": "succeeded"}
    assert [f["product_id"] for f in store.results("j")] == ["a", "b"]
    assert [job_id for job_id, _ in store.recent()] == ["j"]


def test_memory_jobs_expire_and_do_not_come_back_on_a_write():
    store = JobStore(MemoryHashes(), ttl_seconds=0.05)
    store.create("j", {"kind": "forecast_batch", "shop_id": "s", "chunks": 1, "total": 1})
    store.start_chunk("j", 0, "w")
    time.sleep(0.1)
    assert store.state("j") is None
    store.finish("j", {"state": "succeeded"})  # a late write creates no half job
    assert store.state("j") is None


def test_job_api_answers_503_while_the_job_store_is_down(tmp_path):
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app
    from app.schemas.forecast import FORECAST_EXAMPLE

    settings = Settings(_env_file=None, model_dir=str(tmp_path), redis_url="redis://127.0.0.1:9/0",  # type: ignore[call-arg]
                        model_signing_key="k")
    with TestClient(create_app(settings)) as client:
        accepted = client.post("/api/v1/smart-shelf/forecast/batch", json=FORECAST_EXAMPLE)
        status = client.get("/api/v1/jobs/anything")
    for response in (accepted, status):
        assert response.status_code == 503 and response.json()["error"] == "job_store_unavailable"
