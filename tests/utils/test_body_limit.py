"""What a request body may cost: a stalled body is 408, a body that is not JSON or multipart 415,
an oversized one 413; each a JSON error naming its setting or the accepted types."""

import json
import socket
import time

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.schemas.at_risk import AT_RISK_EXAMPLE
from tests.support.server import raw_exchange

PREFIX = "/api/v1/smart-shelf"
BODY = json.dumps(AT_RISK_EXAMPLE).encode()


def test_a_body_that_stops_arriving_is_408_after_body_timeout_seconds(live_api):
    stalled = (b"POST /api/v1/smart-shelf/at-risk HTTP/1.1\r\nHost: smartshelf\r\n"
               b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + BODY[:10])
    status, headers, body = raw_exchange(live_api, stalled)  # BODY_TIMEOUT_SECONDS=1 on this server
    assert status == 408  # answered by the server, not held until the client gives up
    assert headers["connection"] == "close"
    error = json.loads(body)
    assert error["error"] == "request_timeout" and "BODY_TIMEOUT_SECONDS=1" in error["message"]
    assert live_api.get("/health").status_code == 200


def test_the_timeout_is_per_pause_so_a_slow_steady_body_is_served(live_api):
    url = live_api.base_url
    parts = [BODY[i:i + len(BODY) // 4 + 1] for i in range(0, len(BODY), len(BODY) // 4 + 1)]
    with socket.create_connection((url.host, url.port), timeout=20) as conn:
        conn.sendall(b"POST /api/v1/smart-shelf/at-risk HTTP/1.1\r\nHost: smartshelf\r\nConnection: close\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY))
        for part in parts:  # 4 pauses of 0.3 s: longer than BODY_TIMEOUT_SECONDS=1 in all, none alone
            time.sleep(0.3)
            conn.sendall(part)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_a_body_neither_json_nor_multipart_is_415_naming_the_accepted_types(client, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(f"{PREFIX}/at-risk", content=BODY, headers=headers)
    assert response.status_code == 415
    error = response.json()
    assert error["error"] == "unsupported_media_type"
    assert "application/json" in error["message"] and "multipart/form-data" in error["message"]
    assert error["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON", "application/vnd.smartshelf+json"])
def test_json_in_any_spelling_is_accepted(client, content_type):
    assert client.post(f"{PREFIX}/at-risk", content=BODY, headers={"content-type": content_type}).status_code == 200


def test_requests_without_a_body_or_to_routes_without_one_are_not_415(client):
    plain = {"content-type": "text/plain"}
    assert client.request("GET", "/health", content=b"ignored", headers=plain).status_code == 200
    assert client.post("/health", content=b"ignored", headers=plain).status_code == 405  # never reads a body
    no_body = client.post(f"{PREFIX}/at-risk")
    assert no_body.status_code == 422  # the missing body is named, not its missing type


def test_a_body_over_max_body_bytes_is_413_payload_too_large(tmp_path):
    settings = Settings(_env_file=None, model_dir=str(tmp_path), max_body_bytes=1024)  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as small:
        response = small.post(f"{PREFIX}/at-risk", content=BODY, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large" and "MAX_BODY_BYTES=1024" in response.json()["message"]
