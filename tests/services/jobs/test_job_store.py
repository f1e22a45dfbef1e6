"""The job store's two back ends behave alike: idempotent chunk records and expiry."""

import time

import pytest

from app.services.jobs.job_hashes import MemoryHashes, RedisHashes
from app.services.jobs.job_store import JobQueueFull, JobStore, QueueLimits
from app.utils import redis_pool
from app.utils.dates import utc_now_iso


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
    summary = {"products": 2, "forecasts": 2}
    assert store.finish_chunk("j", 0, summary, [{"product_id": "a"}, {"product_id": "b"}])
    assert not store.finish_chunk("j", 0, summary, [{"product_id": "a"}, {"product_id": "b"}])
    assert not store.start_chunk("j", 0, "w2")
    state = store.state("j")
    assert state["done"] == {0: summary} and state["started"] == {0} and state["finished"] is None
    assert store.finish("j", {"state": "succeeded"}) and not store.finish("j", {"state": "failed"})
    assert store.state("j")["finished"] == {"state": "succeeded"}
    assert [f["product_id"] for f in store.results("j", state["done"])] == ["a", "b"]
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


def _meta(shop: str, kind: str = "forecast_batch", chunks: int = 1) -> dict:
    return {"kind": kind, "shop_id": shop, "created_at": utc_now_iso(), "chunks": chunks, "total": chunks,
            "chunk_products": [1] * chunks}


def test_a_page_of_results_reads_only_the_chunks_it_needs(store):
    store.create("j", _meta("s", chunks=3))
    for index, names in enumerate([["a", "b"], ["c", "d", "e"], ["f"]]):
        store.finish_chunk("j", index, {"products": len(names), "forecasts": len(names)},
                           [{"product_id": name} for name in names])
    store._hashes.hset("ss:job:j:results", "2", b"not a stored chunk", 60)  # reading it would fail
    done = store.state("j")["done"]
    assert [f["product_id"] for f in store.results("j", done, offset=1, limit=3)] == ["b", "c", "d"]
    assert [f["product_id"] for f in store.results("j", done, offset=4, limit=1)] == ["e"]


def test_a_shop_over_its_queue_limit_is_refused_with_retry_after_and_others_are_not(store):
    limits = QueueLimits(queue_bytes=10_000, per_shop=2)
    assert store.create("a1", _meta("a"), [b"x" * 100], limits) and store.create("a2", _meta("a"), [b"x"], limits)
    with pytest.raises(JobQueueFull) as refused:
        store.create("a3", _meta("a"), [b"x"], limits)
    assert refused.value.status_code == 503 and int(refused.value.headers["Retry-After"]) >= 1
    assert "JOB_QUEUE_PER_SHOP=2" in refused.value.message and store.state("a3") is None
    assert store.create("b1", _meta("b"), [b"x"], limits)  # another shop is not held back by shop a
    store.finish("a1", {"state": "succeeded"})
    assert store.create("a3", _meta("a"), [b"x"], limits)  # a finished job leaves the queue
    with pytest.raises(JobQueueFull, match="JOB_QUEUE_BYTES=10,000"):
        store.create("c1", _meta("c"), [b"x" * 9_998], limits)  # 3 bytes queued


def test_listing_reads_one_page_per_shop_and_kind_and_counts_come_from_counters(store):
    for k in range(30):
        store.create(f"j{k}", _meta(f"s{k % 3}", "forecast_batch" if k % 2 else "shop_model_train"))
        time.sleep(0.001)
    assert [job_id for job_id, _ in store.recent(3)] == ["j29", "j28", "j27"]
    assert [job_id for job_id, _ in store.recent(3, "forecast_batch", ["s1"])] == ["j25", "j19", "j13"]
    assert [job_id for job_id, _ in store.recent(4, None, ["s0", "s2"])] == ["j29", "j27", "j26", "j24"]
    assert store.state_counts(7) == {"queued": 30}
    store.start_chunk("j0", 0, "w")
    store.start_chunk("j0", 1, "w")  # a second chunk of a running job moves nothing
    store.finish("j0", {"state": "succeeded"})
    store.finish("j1", {"state": "failed"})  # finished without ever starting
    counts = store.state_counts(7)
    assert {state: n for state, n in counts.items() if n} == {"queued": 28, "succeeded": 1, "failed": 1}
