"""JSON logs carry the request id and never the payload's product names; one event is one line."""

import json
from urllib.parse import quote

import pytest
import structlog
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.schemas.at_risk import AT_RISK_EXAMPLE


def test_json_access_log_has_request_id_and_no_payload(tmp_path, capsys):
    settings = Settings(_env_file=None, model_dir=str(tmp_path), log_format="json")  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        client.post("/api/v1/smart-shelf/at-risk", json=AT_RISK_EXAMPLE, headers={"X-Request-ID": "req-42"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("event") == "request"]
    assert access and access[-1]["request_id"] == "req-42" and access[-1]["status"] == 200
    assert access[-1]["path"] == "/api/v1/smart-shelf/at-risk"
    text = "\n".join(json.dumps(line) for line in lines)
    assert "Fresh Milk" not in text and "SKU001" not in text



FORGED = "2026-01-01T00:00:00.000000Z[critical]forged_event"


@pytest.mark.parametrize("log_format", ["console", "json"])
@pytest.mark.parametrize("separator", ["\r\n", "\n", "\x0b", "\x1c", "\x85", "\u2028", "\x1b[1A"])
def test_control_characters_from_paths_and_ids_never_start_a_new_log_line(tmp_path, capsys, log_format, separator):
    settings = Settings(_env_file=None, model_dir=str(tmp_path), log_format=log_format)  # type: ignore[call-arg]
    path = f"/api/v1/smart-shelf/forecast/s1/p1{separator}{FORGED}"
    with TestClient(create_app(settings)) as client:
        capsys.readouterr()
        response = client.get(quote(path))
        structlog.get_logger("test").info("forecast_stored", product_id=f"p1{separator}{FORGED}")
    assert response.status_code == 404
    lines = [line for line in capsys.readouterr().out.splitlines()  # splits at every one of the separators
             if not line.startswith("HTTP Request:")]  # the test client's own log
    assert not [line for line in lines if line.startswith(FORGED)]
    assert not [line for line in lines if any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in line)]  # none raw
    if log_format == "json":
        events = {event["event"]: event for event in map(json.loads, lines)}  # each line is one whole event
        assert events["request"]["path"] == path  # exact once decoded
        assert events["forecast_stored"]["product_id"] == f"p1{separator}{FORGED}"
    else:
        assert any(f"path={path!r}" in line for line in lines if "[info     ] request " in line)
        assert any(f"product_id={'p1' + separator + FORGED!r}" in line for line in lines)
