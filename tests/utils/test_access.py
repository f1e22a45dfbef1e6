"""API keys scoped to shops, rate limits, security headers and quiet logs."""

import json

import pytest
from fastapi.testclient import TestClient

from app.config import ApiKeyConfig, Settings
from app.main import create_app
from app.schemas.anomalies import ANOMALIES_EXAMPLE
from app.schemas.at_risk import AT_RISK_EXAMPLE
from app.schemas.forecast import FORECAST_EXAMPLE
from app.schemas.insights import INSIGHTS_EXAMPLE
from app.schemas.promotions import PROMOTIONS_EXAMPLE
from app.schemas.reorder import REORDER_EXAMPLE
from app.schemas.shop_models import TRAIN_EXAMPLE
from app.utils.access import hash_key

SHOP_KEY, ALL_KEY = "key-for-shop-123", "key-for-everything"
API = "/api/v1/smart-shelf"
BODIES = {f"{API}/at-risk": AT_RISK_EXAMPLE, f"{API}/forecast": FORECAST_EXAMPLE,
          f"{API}/forecast/batch": FORECAST_EXAMPLE, f"{API}/reorder": REORDER_EXAMPLE,
          f"{API}/anomalies": ANOMALIES_EXAMPLE, f"{API}/promotions": PROMOTIONS_EXAMPLE,
          f"{API}/insights": INSIGHTS_EXAMPLE, f"{API}/models/train": TRAIN_EXAMPLE}
PATHS = {f"{API}/forecast/{{shop_id}}/{{product_id}}", f"{API}/forecast/{{shop_id}}/{{product_id}}/plot",
         f"{API}/accuracy/{{shop_id}}", f"{API}/models/{{shop_id}}"}


def keyed_settings(tmp_path, **extra) -> Settings:
    keys = [ApiKeyConfig(name="shop-123-backend", sha256=hash_key(SHOP_KEY), shops=["shop_123"]),
            ApiKeyConfig(name="ops", sha256=hash_key(ALL_KEY), shops=["*"])]
    return Settings(_env_file=None, model_dir=str(tmp_path / "models"), api_keys=keys, **extra)  # type: ignore[call-arg]


@pytest.fixture
def keyed(tmp_path):
    with TestClient(create_app(keyed_settings(tmp_path))) as client:
        yield client


def test_open_service_needs_no_key(client):
    assert client.post(f"{API}/at-risk", json=AT_RISK_EXAMPLE).status_code == 200


def test_missing_and_unknown_keys_are_401_before_the_body_is_read(keyed):
    missing = keyed.post(f"{API}/at-risk", json=AT_RISK_EXAMPLE)
    assert missing.status_code == 401 and missing.json()["error"] == "missing_api_key"
    assert missing.json()["detail"][0]["field"] == "X-API-Key" and "WWW-Authenticate" in missing.headers
    unknown = keyed.post(f"{API}/at-risk", json=AT_RISK_EXAMPLE, headers={"X-API-Key": "guess"})
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_api_key"
    huge = keyed.post(f"{API}/forecast", content=b"{", headers={"Content-Length": str(10**9)})
    assert huge.status_code == 401  # refused on its headers: neither read nor counted


def test_key_works_for_its_shop_by_header_or_bearer_and_is_403_for_another(keyed):
    assert keyed.post(f"{API}/at-risk", json=AT_RISK_EXAMPLE, headers={"X-API-Key": SHOP_KEY}).status_code == 200
    bearer = keyed.post(f"{API}/at-risk", json=AT_RISK_EXAMPLE, headers={"Authorization": f"Bearer {SHOP_KEY}"})
    assert bearer.status_code == 200
    other = keyed.post(f"{API}/at-risk", json={**AT_RISK_EXAMPLE, "shop_id": "shop_999"},
                       headers={"X-API-Key": SHOP_KEY})
    assert other.status_code == 403 and other.json()["detail"][0]["field"] == "shop_id"
    assert "shop_999" in other.json()["message"] and SHOP_KEY not in other.text


def test_every_operation_that_names_a_shop_refuses_another_shop(keyed):
    spec = keyed.get("/openapi.json").json()
    shop_scoped = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            params = {p["name"] for p in operation.get("parameters", [])}
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            ref = body.get("$ref", "").rsplit("/", 1)[-1]
            if "shop_id" in params or "shop_id" in spec["components"]["schemas"].get(ref, {}).get("properties", {}):
                shop_scoped.add((method, path))
    listing = {("get", "/api/v1/jobs")}  # filters by the key's shops (test_jobs_and_audit_are_scoped)
    assert shop_scoped == {("post", p) for p in BODIES} | {("get", p) for p in PATHS} | listing
    headers = {"X-API-Key": SHOP_KEY}
    for path, body in BODIES.items():
        response = keyed.post(path, json={**body, "shop_id": "shop_999"}, headers=headers)
        assert response.status_code == 403, (path, response.text)
    for path in PATHS:
        url = path.replace("{shop_id}", "shop_999").replace("{product_id}", "p001")
        assert keyed.get(url, headers=headers).status_code == 403, path


def test_jobs_and_audit_are_scoped(keyed):
    own = keyed.post(f"{API}/forecast/batch", json=FORECAST_EXAMPLE, headers={"X-API-Key": ALL_KEY}).json()
    other = keyed.post(f"{API}/forecast/batch", json={**FORECAST_EXAMPLE, "shop_id": "shop_999"},
                       headers={"X-API-Key": ALL_KEY}).json()
    shop = {"X-API-Key": SHOP_KEY}
    assert keyed.get(f"/api/v1/jobs/{own['job_id']}", headers=shop).status_code == 200
    refused = keyed.get(f"/api/v1/jobs/{other['job_id']}", headers=shop)
    assert refused.status_code == 403 and refused.json()["detail"][0]["field"] == "job_id"
    assert [j["job_id"] for j in keyed.get("/api/v1/jobs", headers=shop).json()] == [own["job_id"]]
    assert keyed.get("/api/v1/audit/verify", headers=shop).status_code == 403
    assert keyed.get("/api/v1/audit/verify", headers={"X-API-Key": ALL_KEY}).status_code == 200


def test_health_and_docs_stay_open_and_docs_can_be_turned_off(keyed, tmp_path):
    for path in ("/health", "/health/ready", "/docs", "/openapi.json"):
        assert keyed.get(path).status_code == 200, path
    with TestClient(create_app(keyed_settings(tmp_path, docs_enabled=False))) as closed:
        assert [closed.get(p).status_code for p in ("/docs", "/redoc", "/openapi.json")] == [404, 404, 404]


def test_metrics_take_any_known_key_and_count_against_its_rate_limit(tmp_path):
    """/metrics reads the job store (its cost grows with the jobs kept): behind the key rule, an anonymous
    caller gets 401 before any work, and a known key (any shop's) is rate limited like any request."""
    with TestClient(create_app(keyed_settings(tmp_path, rate_limit_per_minute=2))) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"X-API-Key": "not-a-key"}).status_code == 401
        answers = [client.get("/metrics", headers={"X-API-Key": SHOP_KEY}) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert "smartshelf_requests_total" in answers[0].text and "Retry-After" in answers[2].headers


def test_security_headers_on_api_errors_and_docs(keyed):
    for response in (keyed.post(f"{API}/at-risk", json={}), keyed.get("/health"), keyed.get("/docs")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert keyed.get("/health").headers["content-security-policy"].startswith("default-src 'none'")


def test_rate_limit_answers_429_with_retry_after_per_key(tmp_path):
    with TestClient(create_app(keyed_settings(tmp_path, rate_limit_per_minute=3))) as client:
        codes = [client.get(f"{API}/accuracy/shop_123", headers={"X-API-Key": SHOP_KEY}).status_code
                 for _ in range(4)]
        assert codes == [404, 404, 404, 429]
        limited = client.get(f"{API}/accuracy/shop_123", headers={"X-API-Key": SHOP_KEY})
        assert limited.json()["error"] == "rate_limited" and 1 <= int(limited.headers["Retry-After"]) <= 60
        assert client.get(f"{API}/accuracy/shop_123", headers={"X-API-Key": ALL_KEY}).status_code == 404  # own count


@pytest.mark.redis
def test_rate_limit_is_shared_by_replicas_through_redis(tmp_path, redis_url):
    settings = keyed_settings(tmp_path, rate_limit_per_minute=4, redis_url=redis_url, model_signing_key="k")
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        codes = [(first if k % 2 else second).get(f"{API}/accuracy/shop_123", headers={"X-API-Key": SHOP_KEY})
                 .status_code for k in range(6)]
    assert codes == [404, 404, 404, 404, 429, 429]


def test_logs_name_the_key_but_never_the_key_or_the_payload(tmp_path, capsys):
    with TestClient(create_app(keyed_settings(tmp_path, log_format="json"))) as client:
        client.post(f"{API}/at-risk", json=AT_RISK_EXAMPLE, headers={"X-API-Key": SHOP_KEY})
        client.post(f"{API}/at-risk", json={**AT_RISK_EXAMPLE, "shop_id": "x"}, headers={"X-API-Key": SHOP_KEY})
    out = capsys.readouterr().out
    assert SHOP_KEY not in out and ALL_KEY not in out and hash_key(SHOP_KEY) not in out
    names = [item["name"] for item in AT_RISK_EXAMPLE["inventory"]]
    assert not [name for name in names if name in out]
    assert "shop-123-backend" in out
    assert all(json.loads(line) for line in out.splitlines() if line.startswith("{"))


def test_cors_preflight_passes_without_a_key(tmp_path):
    settings = keyed_settings(tmp_path, cors_origins=["https://backoffice.example.com"])
    with TestClient(create_app(settings)) as client:
        preflight = client.options(f"{API}/at-risk", headers={
            "Origin": "https://backoffice.example.com", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key,content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://backoffice.example.com"
        assert client.post(f"{API}/at-risk", json=AT_RISK_EXAMPLE,
                           headers={"Origin": "https://backoffice.example.com"}).status_code == 401
