"""JSON logs carry the request id and never the payload's product names."""

import json

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
