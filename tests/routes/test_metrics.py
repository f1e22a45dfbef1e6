"""GET /metrics: Prometheus text with requests, cache outcomes, training time, jobs and Redis."""

from datetime import date, timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.config import Settings
from app.main import create_app


def samples(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def forecast_body() -> dict:
    start = date(2025, 1, 1)
    sales = [{"product_id": "a", "date": (start + timedelta(days=d)).isoformat(), "qty": (d * 7) % 11 + d % 7}
             for d in range(120)]
    return {"shop_id": "metrics", "sales": sales, "periods": 3}


def test_requests_cache_outcomes_and_training_time_are_counted(client):
    before = samples(client)
    for _ in range(2):
        client.post("/api/v1/smart-shelf/forecast", json=forecast_body())
    client.post("/api/v1/smart-shelf/forecast", json={"shop_id": "x"})
    after = samples(client)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    route = "/api/v1/smart-shelf/forecast"
    assert delta("smartshelf_requests_total", route=route, method="POST", status="200") == 2
    assert delta("smartshelf_requests_total", route=route, method="POST", status="422") == 1
    assert delta("smartshelf_request_duration_seconds_count", route=route, method="POST") == 3
    assert delta("smartshelf_forecast_cache_total", result="miss") == 1
    assert delta("smartshelf_forecast_cache_total", result="hit") == 1
    trained = [k for k in after if k[0] == "smartshelf_training_seconds_count" and delta(k[0], **dict(k[1])) > 0]
    assert {dict(k[1])["family"] for k in trained} >= {"moving_average", "seasonal_naive"}
    assert after[("smartshelf_batch_jobs", (("state", "succeeded"),))] == 0


def test_redis_availability_is_reported(redis_url, tmp_path):
    settings = Settings(_env_file=None, redis_url=redis_url, model_dir=str(tmp_path),  # type: ignore[call-arg]
                        model_signing_key="k")
    with TestClient(create_app(settings)) as client:
        assert samples(client)[("smartshelf_redis_up", ())] == 1
