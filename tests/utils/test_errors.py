"""DEBUG=false (the default) never shows a traceback or an exception's text to the caller."""

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


def app_with_a_bug(tmp_path, debug: bool):
    app = create_app(Settings(_env_file=None, model_dir=str(tmp_path), debug=debug))  # type: ignore[call-arg]

    @app.get("/bug")
    def bug() -> None:
        raise RuntimeError("internal detail: /srv/secret/path")

    return app


def test_debug_false_answers_a_bare_json_500_with_the_request_id(tmp_path, capsys):
    with TestClient(app_with_a_bug(tmp_path, debug=False), raise_server_exceptions=False) as client:
        response = client.get("/bug", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "message": "internal error; quote the request_id when "
                               "reporting it", "detail": [], "request_id": "req-42"}
    assert "secret" not in response.text and "Traceback" not in response.text
    assert "RuntimeError" in capsys.readouterr().out  # the traceback goes to the log, with the request id


def test_debug_true_shows_the_traceback_for_local_work(tmp_path):
    with TestClient(app_with_a_bug(tmp_path, debug=True), raise_server_exceptions=False) as client:
        response = client.get("/bug")
    assert response.status_code == 500 and "RuntimeError" in response.text
