"""Accepted work is never lost (issue #25): the embedded job store refuses new jobs when full instead of
dropping accepted ones, shops take turns in the in-process runner, and results come in pages."""

import time

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import sales_rows
from tests.support.jobs import follow

PREFIX = "/api/v1/smart-shelf"


def shop_rows(store_item, items: int, days: int) -> list[dict]:
    frame = store_item[(store_item["store"] == 1) & (store_item["item"] <= items)]
    rows = sales_rows(frame[frame["date"] > frame["date"].max() - pd.Timedelta(days=days)])
    return rows


@pytest.fixture
def embedded(tmp_path):
    def start(**overrides) -> TestClient:
        settings = Settings(model_dir=str(tmp_path / "models"), _env_file=None, **overrides)  # type: ignore[call-arg]
        return TestClient(create_app(settings), raise_server_exceptions=False)
    return start


def test_a_full_embedded_store_refuses_new_jobs_and_keeps_every_accepted_one(embedded, store_item):
    """Before: past MEMORY_JOBS_BYTES every write dropped the least recently written jobs, so accepted
    jobs answered 404 right after their 202."""
    rows = shop_rows(store_item, items=50, days=60)
    with embedded(memory_jobs_bytes=1024 * 1024, batch_chunk_size=25) as api:
        answers = [api.post(f"{PREFIX}/forecast/batch", json={"shop_id": f"shop{k}", "sales": rows, "periods": 56,
                                                              "model": "moving_average"}) for k in range(12)]
        accepted = [a.json()["job_id"] for a in answers if a.status_code == 202]
        for job_id in accepted:
            job, _ = follow(api, job_id)
            assert job["state"] == "succeeded" and len(job["forecasts"]) == 50
        for job_id in accepted:  # every accepted job is still there once all have run
            assert api.get(f"/api/v1/jobs/{job_id}", params={"results": "false"}).status_code == 200
        assert {j["job_id"] for j in api.get("/api/v1/jobs", params={"limit": 100}).json()} == set(accepted)
        refused = [a for a in answers if a.status_code != 202]
        assert accepted and refused, [a.status_code for a in answers]
        assert {a.status_code for a in refused} == {503} and all(int(a.headers["Retry-After"]) >= 1 for a in refused)
        assert refused[0].json()["error"] == "job_queue_full" and "MEMORY_JOBS_BYTES" in refused[0].json()["message"]


def test_a_shops_small_job_does_not_wait_behind_another_shops_long_batch(embedded, store_item):
    """Before: one runner thread took jobs in arrival order, so every shop waited behind the first."""
    long_rows = shop_rows(store_item, items=24, days=200)
    with embedded(batch_chunk_size=1) as api:
        big = api.post(f"{PREFIX}/forecast/batch", json={"shop_id": "big", "sales": long_rows, "periods": 7,
                                                         "model": "holt_winters"}).json()["job_id"]
        one_product = [row for row in long_rows if row["product_id"] == "p1"]
        small = api.post(f"{PREFIX}/forecast/batch", json={"shop_id": "small", "sales": one_product, "periods": 7,
                                                           "model": "holt_winters"}).json()["job_id"]
        job, _ = follow(api, small)
        big_then = api.get(f"/api/v1/jobs/{big}", params={"results": "false"}).json()
        assert job["state"] == "succeeded"
        # one chunk of the big batch ran before the small job's chunk, one before its final step (+ polling lag)
        assert big_then["finished_at"] is None and big_then["progress"]["chunks_done"] <= 8, big_then["progress"]
        assert follow(api, big)[0]["state"] == "succeeded"


def test_a_jobs_results_come_in_pages_with_the_total(embedded, store_item):
    rows = shop_rows(store_item, items=7, days=60)
    with embedded(batch_chunk_size=2) as api:
        job_id = api.post(f"{PREFIX}/forecast/batch", json={"shop_id": "s", "sales": rows, "periods": 7,
                                                            "model": "moving_average"}).json()["job_id"]
        whole, _ = follow(api, job_id)
        assert whole["results_page"] == {"offset": 0, "limit": 100, "total": 7, "next_offset": None}
        pages, offset = [], 0
        while offset is not None:
            page = api.get(f"/api/v1/jobs/{job_id}", params={"offset": offset, "limit": 3}).json()
            pages.append([f["product_id"] for f in page["forecasts"]])
            offset = page["results_page"]["next_offset"]
        assert pages == [["p1", "p2", "p3"], ["p4", "p5", "p6"], ["p7"]]
        assert [f["product_id"] for f in whole["forecasts"]] == [p for page in pages for p in page]
        assert api.get(f"/api/v1/jobs/{job_id}", params={"limit": 1001}).status_code == 422


def test_a_shop_past_its_queue_limit_gets_503_with_retry_after(embedded, store_item):
    rows = shop_rows(store_item, items=4, days=200)
    with embedded(job_queue_per_shop=1, batch_chunk_size=1) as api:
        body = {"shop_id": "s", "sales": rows, "periods": 7, "model": "holt_winters"}
        first = api.post(f"{PREFIX}/forecast/batch", json=body)
        second = api.post(f"{PREFIX}/forecast/batch", json=body)
        other = api.post(f"{PREFIX}/forecast/batch", json={**body, "shop_id": "t"})
        assert first.status_code == 202 and other.status_code == 202
        assert second.status_code == 503 and second.json()["error"] == "job_queue_full"
        assert "JOB_QUEUE_PER_SHOP=1" in second.json()["message"] and int(second.headers["Retry-After"]) >= 1
        follow(api, first.json()["job_id"])
        deadline = time.monotonic() + 5
        while (again := api.post(f"{PREFIX}/forecast/batch", json=body)).status_code == 503:
            assert time.monotonic() < deadline  # the finished job has left the queue
            time.sleep(0.05)
        assert again.status_code == 202
