"""Memory comes back: the embedded cache and job store are bounded in bytes, finished chunks drop
their inputs, and the embedded housekeeper cleans the model store on CLEANUP_CRON (#16)."""

import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.models import store
from app.services.jobs.job_hashes import MemoryHashes
from app.services.jobs.job_store import JobQueueFull, JobStore, QueueLimits
from app.services.records.housekeeping import Housekeeper
from app.utils.cache import MemoryCache


def test_the_memory_cache_keeps_at_most_its_bytes_dropping_the_least_recently_used():
    cache = MemoryCache(max_items=1000, max_bytes=10_000)
    for k in range(30):
        cache.set_many({f"k{k}": b"x" * 1000}, ttl_seconds=60)
        cache.get_many(["k0"])  # k0 stays recently used
    assert cache.stored_bytes <= 10_000
    assert cache.get_many(["k0", "k1", "k29"]) == [b"x" * 1000, None, b"x" * 1000]


def test_the_memory_cache_counts_each_entrys_key_and_overhead_not_only_its_value():
    """200,000 entries of 10 bytes counted as 2 MB held over 40 MB: an entry costs its key and about 200 bytes more."""
    cache = MemoryCache()
    cache.set_many({"key": b"x" * 10}, ttl_seconds=60)
    assert cache.stored_bytes == 3 + 10 + 200
    cache.set_many({"key": b"y"}, ttl_seconds=60)
    assert cache.stored_bytes == 3 + 1 + 200


def test_the_default_memory_cache_holds_a_large_catalogues_forecasts_within_its_bytes():
    """At-risk of 10,000 items with sales stores two entries per product (about 3.4 KB each, 68 MB): a cap of
    10,000 entries evicted half of them before the bytes bound and the next request refitted them (3.0 -> 14.0 s)."""
    cache = MemoryCache()
    cache.set_many({f"k{k}": b"x" * 3400 for k in range(20_000)}, ttl_seconds=60)
    assert cache.get_many(["k0", "k19999"]) == [b"x" * 3400] * 2


def test_the_memory_job_store_refuses_new_jobs_past_its_bytes_and_keeps_every_accepted_one():
    jobs = JobStore(MemoryHashes(max_bytes=50_000), ttl_seconds=3600)
    limits = QueueLimits(queue_bytes=10**9, per_shop=100)
    accepted = []
    for k in range(20):
        meta = {"kind": "forecast_batch", "shop_id": "s", "chunks": 1, "total": 1, "chunk_products": [1]}
        try:
            jobs.create(f"job{k}", meta, inputs=[b"i" * 4000], limits=limits, result_values=10)
        except JobQueueFull:
            continue
        accepted.append(f"job{k}")
        jobs.finish_chunk(f"job{k}", 0, {"errors": []}, [{"product_id": "p", "predictions": [os.urandom(3000).hex()]}])
        jobs.finish(f"job{k}", {"state": "succeeded"})
    hashes = jobs._hashes
    assert isinstance(hashes, MemoryHashes) and hashes.stored_bytes <= 50_000
    assert 3 <= len(accepted) < 20 and all(jobs.state(job_id) is not None for job_id in accepted)


def test_a_finished_chunk_drops_its_stored_input():
    jobs = JobStore(MemoryHashes(), ttl_seconds=3600)
    jobs.create("j", {"kind": "forecast_batch", "shop_id": "s", "chunks": 2, "total": 2, "chunk_products": [1, 1]},
                inputs=[b"a" * 100, b"b" * 100])
    jobs.finish_chunk("j", 0, {"errors": []}, [])
    assert jobs.chunk_input("j", 0) is None and jobs.chunk_input("j", 1) == b"b" * 100


def test_expired_jobs_are_swept_when_anything_is_written():
    hashes = MemoryHashes()
    hashes.hset("old", "f", b"x" * 1000, ttl=0.01)
    time.sleep(0.05)
    hashes.hset("new", "f", b"y", ttl=60)
    assert hashes.stored_bytes == 2  # the field's name and its value


def _old_artifact(model_dir: Path, name: str, days_old: float) -> Path:
    folder = store.shop_dir(str(model_dir), "shop") / name
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text('{"product_ids": ["p"]}')
    stamp = time.time() - days_old * 86400
    os.utime(folder / "meta.json", (stamp, stamp))
    os.utime(folder, (stamp, stamp))
    return folder


def test_the_housekeeper_cleans_the_model_store_when_cleanup_cron_falls_due(tmp_path):
    settings = Settings(model_dir=str(tmp_path), cleanup_cron="0 4 * * sun", model_max_age_days=30,
                        _env_file=None)  # type: ignore[call-arg]
    stale = _old_artifact(tmp_path, "a1", days_old=60)
    now = [datetime(2026, 11, 28, 12, 0, tzinfo=ZoneInfo("UTC"))]  # a Saturday
    keeper = Housekeeper(settings, clock=lambda: now[0])
    assert keeper.tick() > 0 and keeper.runs == 0 and stale.exists()
    now[0] += timedelta(hours=16, minutes=1)  # Sunday 04:01
    keeper.tick()
    assert keeper.runs == 1 and not stale.exists()
    keeper.tick()
    assert keeper.runs == 1  # not again until next Sunday


def test_the_embedded_default_runs_a_housekeeper_and_redis_mode_does_not(tmp_path, redis_url):
    embedded = Settings(model_dir=str(tmp_path / "a"), _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(embedded)) as api:
        keeper = api.app.state.housekeeper  # type: ignore[attr-defined]
        assert keeper is not None and keeper._thread.is_alive()
    assert not keeper._thread.is_alive()
    shared = Settings(model_dir=str(tmp_path / "b"), redis_url=redis_url, model_signing_key="k",  # type: ignore[call-arg]
                      _env_file=None)
    with TestClient(create_app(shared)) as api:
        assert api.app.state.housekeeper is None  # type: ignore[attr-defined]


def test_a_queued_jobs_input_and_the_job_index_are_never_evicted():
    jobs = JobStore(MemoryHashes(max_bytes=20_000), ttl_seconds=3600)
    meta = {"kind": "forecast_batch", "shop_id": "s", "chunks": 1, "total": 1, "chunk_products": [1]}
    jobs.create("queued", meta, inputs=[b"q" * 8000])
    for k in range(10):
        jobs.create(f"done{k}", meta)
        jobs.finish_chunk(f"done{k}", 0, {"errors": []}, [{"predictions": ["x" * 3000]}])
    assert jobs.chunk_input("queued", 0) == b"q" * 8000
    assert {job_id for job_id, _ in jobs.recent()} >= {"queued", "done9"}


def test_single_flight_locks_do_not_pile_up():
    cache = MemoryCache()
    for k in range(100):
        with cache.single_flight(f"artifact-{k}"):
            pass
    assert cache._locks == {}
