"""Request headers over MAX_HEADER_BYTES are a JSON 431, before the API key or anything else."""

import json

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.schemas.at_risk import AT_RISK_EXAMPLE
from tests.support.server import raw_exchange

PREFIX = "/api/v1/smart-shelf"
KEY_HASH = "0" * 64  # a configured key nobody holds: every request without it would be 401


def test_headers_over_max_header_bytes_are_431_before_the_api_key_is_checked(tmp_path):
    settings = Settings(_env_file=None, model_dir=str(tmp_path), max_header_bytes=4096,  # type: ignore[call-arg]
                        api_keys=[{"name": "backend", "sha256": KEY_HASH}])
    with TestClient(create_app(settings)) as keyed:
        big = keyed.post(f"{PREFIX}/at-risk", json=AT_RISK_EXAMPLE, headers={"X-Trace": "x" * 5000})
        small = keyed.post(f"{PREFIX}/at-risk", json=AT_RISK_EXAMPLE, headers={"X-Trace": "x" * 100})
    assert big.status_code == 431
    error = big.json()
    assert error["error"] == "headers_too_large" and "MAX_HEADER_BYTES=4096" in error["message"]
    assert error["request_id"] == big.headers["x-request-id"]
    assert big.headers["x-content-type-options"] == "nosniff"
    assert small.status_code == 401  # under the limit the request goes on to the key check


def test_a_real_server_hands_huge_header_blocks_to_the_limit(live_api):
    request = b"GET /health HTTP/1.1\r\nHost: smartshelf\r\nX-Trace: " + b"x" * 100_000 + b"\r\n\r\n"
    status, headers, body = raw_exchange(live_api, request)
    assert status == 431 and headers["content-type"] == "application/json"
    assert "MAX_HEADER_BYTES=16384" in json.loads(body)["message"]
