"""POST /forecast/batch and GET /jobs with the in-process runner (embedded default, no broker)."""

from datetime import datetime

import pandas as pd
import pytest

from tests.conftest import sales_rows
from tests.support.jobs import follow

PREFIX = "/api/v1/smart-shelf"


def store_rows(store_item, items: range, days: int = 200) -> list[dict]:
    frame = store_item[(store_item["store"] == 1) & store_item["item"].isin(items)]
    return sales_rows(frame[frame["date"] > frame["date"].max() - pd.Timedelta(days=days)])


@pytest.mark.slow
def test_batch_runs_in_process_and_matches_the_forecast_endpoint(client, settings, store_item):
    settings.batch_chunk_size = 2
    rows = store_rows(store_item, range(1, 6))
    accepted = client.post(f"{PREFIX}/forecast/batch", json={"shop_id": "s1", "sales": rows, "periods": 7})
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["runner"] == "in-process" and body["total_products"] == 5 and body["chunks"] == 3
    job, seen = follow(client, body["job_id"])
    assert job["state"] == "succeeded" and job["errors"] == []
    assert job["progress"] == {"done": 5, "total": 5, "chunks_done": 3, "chunks_total": 3}
    assert seen == sorted(seen) and seen[-1] == 5
    direct = client.post(f"{PREFIX}/forecast", json={"shop_id": "s1", "sales": rows, "periods": 7,
                                                     "product_ids": ["p1", "p2"]}).json()
    batch = {f["product_id"]: f for f in job["forecasts"]}
    assert sorted(batch) == ["p1", "p2", "p3", "p4", "p5"]
    for forecast in direct["forecasts"]:  # p1 and p2 were one chunk: the same request, the same numbers
        assert batch[forecast["product_id"]]["predictions"] == forecast["predictions"]
    lean = client.get(f"/api/v1/jobs/{body['job_id']}", params={"results": "false"}).json()
    assert lean["forecasts"] is None
    listed = client.get("/api/v1/jobs", params={"kind": "forecast_batch"}).json()
    assert [j["job_id"] for j in listed] == [body["job_id"]]
    accepted = datetime.fromisoformat(job["created_at"])  # the list writes the moment as the job's own page does
    assert abs((datetime.fromisoformat(listed[0]["created_at"]) - accepted).total_seconds()) <= 1


def test_batch_refuses_unknown_products_before_any_work(client):
    sales = [{"product_id": "a", "date": f"2025-01-{d:02d}", "qty": d} for d in range(1, 29)]
    response = client.post(f"{PREFIX}/forecast/batch", json={"shop_id": "s", "sales": sales,
                                                             "product_ids": ["a", "ghost"]})
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "product_ids[1]"
    assert client.get("/api/v1/jobs").json() == []


def test_batch_over_batch_max_rows_is_413(client, settings):
    settings.batch_max_rows = 10
    sales = [{"product_id": "a", "date": f"2025-01-{d:02d}", "qty": d} for d in range(1, 29)]
    response = client.post(f"{PREFIX}/forecast/batch", json={"shop_id": "s", "sales": sales})
    assert response.status_code == 413 and "BATCH_MAX_ROWS" in response.json()["message"]


def test_unknown_job_is_404_naming_the_field(client):
    response = client.get("/api/v1/jobs/nope")
    assert response.status_code == 404 and response.json()["detail"][0]["field"] == "job_id"


def test_a_product_that_cannot_be_forecast_is_an_error_not_a_lost_product(client, settings):
    settings.batch_chunk_size = 1
    good = [{"product_id": "a", "date": f"2025-01-{d:02d}", "qty": d % 7} for d in range(1, 29)]
    late = [{"product_id": "b", "date": "2025-03-01", "qty": 3}]  # after as_of: nothing left to learn from
    body = client.post(f"{PREFIX}/forecast/batch", json={"shop_id": "s", "sales": good + late,
                                                         "as_of": "2025-02-01"}).json()
    job, _ = follow(client, body["job_id"])
    assert job["state"] == "completed_with_errors"
    assert [e["product_ids"] for e in job["errors"]] == [["b"]] and job["errors"][0]["stage"] == "forecast"
    assert [f["product_id"] for f in job["forecasts"]] == ["a"]


def test_every_chunk_of_a_batch_forecasts_from_the_batchs_origin(client, settings, store_item):
    settings.batch_chunk_size = 1
    rows = store_rows(store_item, range(1, 3), days=120)
    last = max(r["date"] for r in rows)
    rows = [r for r in rows if r["product_id"] != "p2" or r["date"] < "2017-12-20"]  # p2 falls silent
    accepted = client.post(f"{PREFIX}/forecast/batch", json={"shop_id": "s1", "sales": rows, "periods": 7,
                                                             "model": "moving_average"})
    job, _ = follow(client, accepted.json()["job_id"])
    assert job["state"] == "succeeded", job["errors"]
    starts = {f["product_id"]: f["predictions"][0]["date"] for f in job["forecasts"]}
    assert last == "2017-12-31" and starts == {"p1": "2018-01-01", "p2": "2018-01-01"}
