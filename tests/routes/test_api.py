"""The HTTP contract through the ASGI app: examples, errors, limits, request ids, health."""

import json

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.schemas.anomalies import ANOMALIES_EXAMPLE, AnomaliesResponse
from app.schemas.at_risk import AT_RISK_EXAMPLE, AtRiskResponse
from app.schemas.forecast import FORECAST_EXAMPLE, ForecastResponse
from app.schemas.insights import INSIGHTS_EXAMPLE, InsightsResponse
from app.schemas.promotions import PROMOTIONS_EXAMPLE, PromotionsResponse
from app.schemas.reorder import REORDER_EXAMPLE, ReorderResponse

PREFIX = "/api/v1/smart-shelf"
EXAMPLES = {"at-risk": AT_RISK_EXAMPLE, "promotions": PROMOTIONS_EXAMPLE, "insights": INSIGHTS_EXAMPLE}
RESPONSES = {"at-risk": AtRiskResponse, "promotions": PromotionsResponse, "insights": InsightsResponse,
             "forecast": ForecastResponse, "reorder": ReorderResponse, "anomalies": AnomaliesResponse}
ALL_EXAMPLES = {**EXAMPLES, "forecast": FORECAST_EXAMPLE, "reorder": REORDER_EXAMPLE, "anomalies": ANOMALIES_EXAMPLE}


@pytest.mark.parametrize("path", ALL_EXAMPLES)
def test_every_swagger_example_is_published_and_works_as_is(client, path):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"][f"{PREFIX}/{path}"]["post"]
    assert operation["summary"] and operation["description"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert set(examples) == {"rows", "series"}
    answers = []
    for example in examples.values():
        response = client.post(f"{PREFIX}/{path}", json=example["value"])
        assert response.status_code == 200, response.text
        RESPONSES[path].model_validate(response.json(), strict=False)  # the answer obeys its own schema
        answers.append({k: v for k, v in response.json().items() if k != "meta"})
    assert answers[0] == answers[1]  # rows and series carry the same sales


def test_at_risk_contract_fields(client):
    body = client.post(f"{PREFIX}/at-risk", json=AT_RISK_EXAMPLE).json()
    assert body["meta"] == {"shop_id": "shop_123", "total_products": 3, "flagged_count": 3, "as_of": "2025-11-15"}
    first = body["at_risk"][0]
    assert set(first) >= {"product_id", "sku", "name", "reasons", "score", "current_quantity", "days_to_expiry",
                          "avg_daily_sales", "recommended_action"}
    assert set(first["recommended_action"]) >= {"action_type", "discount_range", "promotion_timing", "reasoning"}
    assert [x["product_id"] for x in body["at_risk"]] == ["p002", "p001", "p003"]


def test_insights_contract_fields(client):
    body = client.post(f"{PREFIX}/insights", json=INSIGHTS_EXAMPLE).json()
    assert set(body) >= {"series", "top_items", "seasonality", "recommendations"}
    assert set(body["series"][0]) >= {"date", "total_sales", "total_revenue", "moving_avg_7", "moving_avg_30"}
    assert body["seasonality"]["peak_month"] == "November"


@pytest.mark.parametrize("path, mutate, field, words", [
    ("at-risk", lambda b: b["inventory"][1].update(quantity=-3), "inventory[1].quantity", "greater than or equal"),
    ("at-risk", lambda b: b["sales"][0].update(date="2025-13-40"), "sales[0].date", "date"),
    ("at-risk", lambda b: b["inventory"][0].pop("price"), "inventory[0].price", "required"),
    ("at-risk", lambda b: b["inventory"][0].update(quantity="lots"), "inventory[0].quantity", "number"),
    ("at-risk", lambda b: b["thresholds"].update(slow_moving_window=0), "thresholds.slow_moving_window", "greater"),
    ("insights", lambda b: b.update(granularity="hourly"), "granularity", "daily"),
    ("insights", lambda b: b.update(top_k=0), "top_k", "greater"),
    ("promotions", lambda b: b["items"][0].update(quantity=-1), "items[0].quantity", "greater than or equal"),
    ("promotions", lambda b: b.update(colour="red"), "colour", "Extra inputs"),
])
def test_schema_errors_are_422_naming_the_field(client, path, mutate, field, words):
    body = json.loads(json.dumps(EXAMPLES[path]))
    mutate(body)
    response = client.post(f"{PREFIX}/{path}", json=body)
    assert response.status_code == 422
    error = response.json()
    assert error["error"] == "validation_error"
    assert error["message"].startswith(field)
    assert any(d["field"].startswith(field) and words in d["msg"] for d in error["detail"])
    assert error["request_id"] == response.headers["x-request-id"]


def test_nan_and_infinity_are_rejected_not_crashed(client):
    raw = json.dumps(AT_RISK_EXAMPLE).replace('"qty": 2.0', '"qty": NaN', 1)
    response = client.post(f"{PREFIX}/at-risk", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "sales[0].qty"


def test_malformed_json_is_422(client):
    response = client.post(f"{PREFIX}/at-risk", content=b'{"shop_id": ', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


def test_range_start_after_end_is_400_naming_range(client):
    body = dict(INSIGHTS_EXAMPLE, range={"start": "2025-11-15", "end": "2025-11-01"})
    response = client.post(f"{PREFIX}/insights", json=body)
    assert response.status_code == 400
    assert response.json()["message"].startswith("range: start 2025-11-15 is after end 2025-11-01")


def test_duplicate_inventory_rows_are_400(client):
    body = json.loads(json.dumps(AT_RISK_EXAMPLE))
    body["inventory"].append(dict(body["inventory"][0]))
    response = client.post(f"{PREFIX}/at-risk", json=body)
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "inventory[3].product_id"


def test_rows_over_max_payload_rows_or_sales_lines_over_max_sales_lines_are_413(tmp_path):
    settings = Settings(_env_file=None, model_dir=str(tmp_path), max_payload_rows=2,  # type: ignore[call-arg]
                        max_sales_lines=6)
    with TestClient(create_app(settings)) as small:
        response = small.post(f"{PREFIX}/at-risk", json=AT_RISK_EXAMPLE)  # 3 inventory + 6 sales
        assert response.status_code == 413
        assert "3 values (inventory=3) exceed MAX_PAYLOAD_ROWS=2" in response.json()["message"]
        body = {**AT_RISK_EXAMPLE, "inventory": AT_RISK_EXAMPLE["inventory"][:2],
                "sales": AT_RISK_EXAMPLE["sales"] + AT_RISK_EXAMPLE["sales"][:1]}
        response = small.post(f"{PREFIX}/at-risk", json=body)
        assert response.status_code == 413
        assert "7 sales lines (rows, series cells and CSV lines) exceed MAX_SALES_LINES=6" in response.json()["message"]
        assert "/forecast/batch" in response.json()["message"]


def test_body_over_max_body_bytes_is_413_json(tmp_path):
    settings = Settings(_env_file=None, model_dir=str(tmp_path), max_body_bytes=2048)  # type: ignore[call-arg]
    body = json.loads(json.dumps(AT_RISK_EXAMPLE))
    body["sales"] = body["sales"] * 40  # about 3 KB
    with TestClient(create_app(settings)) as small:
        response = small.post(f"{PREFIX}/at-risk", json=body)
        fits = small.post(f"{PREFIX}/at-risk", json=AT_RISK_EXAMPLE)
    assert response.status_code == 413
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert fits.status_code == 200


def test_streamed_body_is_refused_at_the_limit(tmp_path):
    settings = Settings(_env_file=None, model_dir=str(tmp_path), max_body_bytes=2048)  # type: ignore[call-arg]
    chunks = (b" " * 1024 for _ in range(100))  # no Content-Length: counted as it arrives
    with TestClient(create_app(settings)) as small:
        response = small.post(f"{PREFIX}/at-risk", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "MAX_BODY_BYTES=2048" in response.json()["message"]


def test_request_id_is_echoed_or_created(client):
    sent = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert sent.headers["x-request-id"] == "abc-123"
    made = client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert len(made.headers["x-request-id"]) == 32


def test_warnings_reach_the_caller(client):
    body = json.loads(json.dumps(AT_RISK_EXAMPLE))
    body["sales"].append(dict(body["sales"][0]))
    body["sales"].append({"product_id": "ghost", "date": "2025-11-10", "qty": 1})
    warnings = {w["code"]: w for w in client.post(f"{PREFIX}/at-risk", json=body).json()["warnings"]}
    assert warnings["lines_aggregated"]["count"] == 2
    assert warnings["unknown_products"]["product_ids"] == ["ghost"]


def test_health_and_readiness_in_the_embedded_default(client):
    assert client.get("/health").json()["status"] == "ok"
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"model_store": "ok", "redis": "embedded",
                                                          "broker": "embedded"}, "reasons": []}


def test_unusable_model_store_makes_readiness_503(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    settings = Settings(_env_file=None, model_dir=str(blocker / "models"))  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as broken:
        response = broken.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["model_store"] == "down"


def test_cors_origins_are_configurable(tmp_path):
    settings = Settings(_env_file=None, model_dir=str(tmp_path),  # type: ignore[call-arg]
                        cors_origins=["https://backoffice.example"])
    with TestClient(create_app(settings)) as cors:
        response = cors.options(f"{PREFIX}/at-risk", headers={
            "Origin": "https://backoffice.example", "Access-Control-Request-Method": "POST"})
    assert response.headers["access-control-allow-origin"] == "https://backoffice.example"


@pytest.mark.parametrize(("path", "body", "field", "words"), [
    ("at-risk", {"shop_id": "s", "inventory": [{"product_id": "p1", "quantity": 3, "price": 2.0,
                                                "expiry_date": "20251120"}]},
     "inventory[0].expiry_date", "must be an ISO date"),
    ("at-risk", {"shop_id": "s", "as_of": 0, "inventory": []}, "as_of", "must be an ISO date"),
    ("at-risk", {"shop_id": "s", "inventory": [{"product_id": "p1", "quantity": 3, "price": 2.0,
                                                "expiry_date": "2025-11-20 10:00:00Z+"}]},
     "inventory[0].expiry_date", "must be an ISO date"),
    ("at-risk", {"shop_id": "s", "inventory": [{"product_id": "p1", "quantity": True, "price": 2.0}]},
     "inventory[0].quantity", "valid number"),
    ("forecast", {"shop_id": "s", "periods": "7", "sales": [{"product_id": "p", "date": "2025-11-01", "qty": 1}]},
     "periods", "valid integer"),
    ("forecast", {"shop_id": "s", "sales": [{"product_id": "p", "date": "2025-11-01", "qty": "1"}]},
     "sales[0].qty", "valid number"),
    ("forecast", {"shop_id": "s", "sales": [{"product_id": "p", "date": "2025-11-01", "qty": 1},
                                            {"product_id": "p", "date": "2025-02-30", "qty": 1}]},
     "sales[1].date", "'2025-02-30' is not a date"),
    ("forecast", {"shop_id": "s", "sales": [{"product_id": "p", "date": "20251101", "qty": 1}]},
     "sales[0].date", "should match pattern"),
])
def test_lax_values_are_422_not_guessed(client, path, body, field, words):
    """A date written another way is not read as Unix seconds, and text or true/false are not numbers."""
    response = client.post(f"{PREFIX}/{path}", json=body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["field"] == field and words in detail["msg"], detail


def test_ids_may_still_be_sent_as_numbers(client):
    body = {"shop_id": 42, "sales": [{"product_id": 1001, "date": "2025-11-01T08:30:00+02:00", "qty": 3}]}
    answer = client.post(f"{PREFIX}/forecast", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["forecasts"][0]["product_id"] == "1001"
