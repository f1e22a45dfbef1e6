"""Every request's cost is bounded before the work: the requests of issue #16's table are refused
at once with 413 `work_budget_exceeded` naming the limit, or answered; and no date runs past 9999."""

from datetime import date, timedelta

import pytest

PREFIX = "/api/v1/smart-shelf"


def _day(k: int) -> str:
    return (date(2016, 1, 1) + timedelta(days=k)).isoformat()


@pytest.mark.parametrize(("path", "body", "setting", "words"), [
    ("insights", {"shop_id": "s", "sales": [{"product_id": "p", "date": "2025-01-01", "qty": 1}],
                  "range": {"start": "0001-01-01", "end": "9999-12-31"}},
     "MAX_ANSWER_VALUES=500,000", "3,652,059 daily periods"),
    ("forecast", {"shop_id": "s", "periods": 365,
                  "sales": [{"product_id": f"p{k}", "date": "2025-01-01", "qty": 1} for k in range(3000)]},
     "MAX_ANSWER_VALUES=500,000", "3,000 products x 365 periods made"),
    ("forecast", {"shop_id": "s", "sales": [{"product_id": f"p{k}", "date": _day(k % 3650), "qty": 1}
                                            for k in range(10_000)]},
     "MAX_TRAIN_CELLS=1,000,000", "10,000 products x 3,650 periods of history"),
    ("promotions", {"shop_id": "s", "as_of": "2025-01-01",
                    "items": [{"product_id": f"p{k}", "quantity": 1, "price": 1, "expiry_date": "2025-02-01"}
                              for k in range(1500)],
                    "calendar_events": [{"id": f"e{k}", "date": "2025-01-10"} for k in range(1500)]},
     "MAX_PAIRS=2,000,000", "1,500 items x 1,500 events"),
    ("anomalies", {"shop_id": "s", "sales": [{"product_id": f"p{k}", "date": _day(k % 3650 if k % 2 else 0),
                                              "qty": 1} for k in range(4000)]},
     "MAX_GRID_CELLS=5,000,000", "4,000 products x 3,650 days"),
])
def test_a_small_body_asking_for_huge_work_is_413_naming_the_limit(client, path, body, setting, words):
    response = client.post(f"{PREFIX}/{path}", json=body)
    assert response.status_code == 413, response.text[:300]
    answer = response.json()
    assert answer["error"] == "work_budget_exceeded"
    assert setting in answer["message"] and words in answer["message"], answer["message"]


def test_a_batch_whose_chunks_would_train_too_much_is_refused_before_it_starts(client, settings):
    settings.batch_chunk_size = 1000
    sales = [{"product_id": f"p{k}", "date": _day(k % 3650), "qty": 1} for k in range(2000)]
    response = client.post(f"{PREFIX}/forecast/batch", json={"shop_id": "s", "sales": sales})
    assert response.status_code == 413 and "MAX_TRAIN_CELLS" in response.json()["message"]
    assert client.get("/api/v1/jobs").json() == []


def test_the_same_requests_within_the_budget_are_answered(client):
    sales = [{"product_id": f"p{k}", "date": _day(k % 60), "qty": 1} for k in range(300)]
    assert client.post(f"{PREFIX}/forecast", json={"shop_id": "s", "periods": 28, "sales": sales}).status_code == 200
    body = {"shop_id": "s", "sales": sales[:1], "range": {"start": "2000-01-01", "end": "2025-12-31"},
            "granularity": "monthly"}
    assert client.post(f"{PREFIX}/insights", json=body).status_code == 200


@pytest.mark.parametrize("frequency", ["daily", "weekly"])
def test_a_forecast_running_past_9999_is_400_naming_periods(client, frequency):
    step = 7 if frequency == "weekly" else 1
    last = date(9999, 12, 31) - timedelta(days=10)
    sales = [{"product_id": "p", "date": (last - timedelta(days=step * k)).isoformat(), "qty": 1} for k in range(20)]
    response = client.post(f"{PREFIX}/forecast", json={"shop_id": "s", "periods": 14, "frequency": frequency,
                                                       "sales": sales})
    assert response.status_code == 400, response.text
    assert response.json()["detail"][0]["field"] == "periods" and "9999-12-31" in response.json()["message"]
    reorder = {"shop_id": "s", "inventory": [{"product_id": "p", "quantity": 1, "price": 2, "cost": 1}],
               "sales": sales, "as_of": "9999-12-31"}
    assert client.post(f"{PREFIX}/reorder", json=reorder).status_code == 400


def test_at_risk_near_9999_reports_no_stockout_date_instead_of_failing(client):
    body = {"shop_id": "s", "as_of": "9999-12-30",
            "inventory": [{"product_id": "p", "quantity": 5, "price": 2}],
            "sales": [{"product_id": "p", "date": "9999-12-29", "qty": 1}]}
    response = client.post(f"{PREFIX}/at-risk", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["at_risk"][0]["stockout_date"] is None  # 150 days at 1/30 a day: past 9999-12-31
    # with an expiry date only the units that sell by it count: they run out on the last day there is
    body["inventory"][0]["expiry_date"] = "9999-12-31"
    response = client.post(f"{PREFIX}/at-risk", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["at_risk"][0]["stockout_date"] == "9999-12-31"


def test_a_stray_row_from_decades_ago_does_not_size_a_batch(client, settings):
    settings.batch_chunk_size = 300
    sales = [{"product_id": f"p{k}", "date": _day(k % 400), "qty": 1} for k in range(3000)]
    sales.append({"product_id": "p1", "date": "1996-01-01", "qty": 1})  # dropped as old_sales by every chunk
    response = client.post(f"{PREFIX}/forecast/batch", json={"shop_id": "s", "sales": sales})
    assert response.status_code == 202, response.text
