"""Readiness against a real Redis: ok when it answers, degraded (still 200) when it does not."""

import socket

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

pytestmark = pytest.mark.redis


def test_ready_with_a_real_redis(redis_url, tmp_path):
    settings = Settings(_env_file=None, model_dir=str(tmp_path), redis_url=redis_url,  # type: ignore[call-arg]
                        model_signing_key="k")
    with TestClient(create_app(settings)) as client:
        body = client.get("/health/ready").json()
    assert body["status"] == "ready"
    assert body["checks"] == {"model_store": "ok", "redis": "ok", "broker": "ok"}


def test_degraded_when_redis_does_not_answer(redis_url, tmp_path):
    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(_env_file=None, model_dir=str(tmp_path),  # type: ignore[call-arg]
                        redis_url=f"redis://127.0.0.1:{port}/0", model_signing_key="k")
    with TestClient(create_app(settings)) as client:
        response = client.get("/health/ready")
        at_risk = client.post("/api/v1/smart-shelf/at-risk", json={"shop_id": "s", "inventory": []})
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["redis"] == "down"
    assert at_risk.status_code == 200
