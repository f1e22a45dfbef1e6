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


def post_raw(client, body: bytes, path: str = "/api/v1/smart-shelf/at-risk"):
    return client.post(path, content=body, headers={"content-type": "application/json"})


def test_malformed_json_is_a_422_saying_where(client):
    response = post_raw(client, b'{"shop_id": "s",\n "inventory": [{"product_id": "p1",}]}')
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "body: not valid JSON at line 2, column 36: trailing comma"
    assert body["detail"][0]["field"] == "body" and body["detail"][0]["type"] == "json_invalid"
    assert body["detail"][0]["loc"] == ["body", 52]  # the character offset of that comma's closing brace


def test_a_literal_ellipsis_from_shortened_docs_gets_a_hint(client):
    response = post_raw(client, b'{"shop_id": "s", "sales": [ ... ], "periods": 7}', "/api/v1/smart-shelf/forecast")
    assert response.status_code == 422
    message = response.json()["message"]
    assert message.startswith("body: not valid JSON at line 1, column 29: expected value")
    assert "literal `...`" in message


def test_a_body_that_is_not_utf8_says_which_byte(client):
    response = post_raw(client, b'{"shop_id": "caf\xe9"}')
    assert response.status_code == 422
    assert response.json()["message"] == "body: not UTF-8 text: byte 16 (0xe9) cannot be decoded; send JSON as UTF-8"


def test_a_csv_uploads_request_part_that_is_not_json_says_where(client):
    response = client.post("/api/v1/smart-shelf/forecast", data={"request": '{"shop_id": "s",\n "periods": }'},
                           files={"sales": ("sales.csv", b"product_id,date,qty\np1,2025-01-01,3\n", "text/csv")})
    assert response.status_code == 422
    assert response.json()["message"] == ("request: the `request` part is not valid JSON at line 2, column 13: "
                                           "expected value")
