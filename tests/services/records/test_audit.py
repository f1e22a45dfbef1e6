"""The hash-chained audit log: appended by training, verified by GET /api/v1/audit/verify."""

import json
import threading

from app.services.records import audit


def forecast_body(product: str) -> dict:
    sales = [{"product_id": product, "date": f"2025-01-{d:02d}", "qty": (d * 7) % 11} for d in range(1, 29)]
    return {"shop_id": "s", "sales": sales, "periods": 3}


def test_training_appends_model_versions_and_the_chain_verifies(client, settings):
    for product in ("a", "b"):
        forecast = client.post("/api/v1/smart-shelf/forecast", json=forecast_body(product)).json()
    report = client.get("/api/v1/audit/verify").json()
    assert report["ok"] and report["records"] == 2 and report["first_broken"] is None
    lines = audit.audit_path(settings.model_dir).read_text().splitlines()
    last = json.loads(lines[-1])
    assert last["kind"] == "model_trained" and last["hash"] == report["last_hash"]
    assert last["data"]["model_versions"] == {"b": forecast["forecasts"][0]["model_version"]}
    assert last["prev"] == json.loads(lines[0])["hash"]


def test_an_edited_record_is_the_first_broken_link(client, settings):
    for product in ("a", "b", "c"):
        client.post("/api/v1/smart-shelf/forecast", json=forecast_body(product))
    path = audit.audit_path(settings.model_dir)
    lines = path.read_text().splitlines()
    record = json.loads(lines[1])
    record["data"]["model_versions"]["b"] = "someone-else"
    lines[1] = json.dumps(record, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    report = client.get("/api/v1/audit/verify").json()
    assert not report["ok"] and report["records"] == 1
    assert report["first_broken"]["line"] == 2 and "changed" in report["first_broken"]["reason"]


def test_removed_and_truncated_records_break_the_chain(tmp_path):
    for index in range(4):
        audit.append(str(tmp_path), "batch_pushed", {"chunk": index})
    path = audit.audit_path(str(tmp_path))
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    assert audit.verify(str(tmp_path))["first_broken"]["line"] == 2
    path.write_text("\n".join(lines[:3]) + "\n" + lines[3][:40])
    broken = audit.verify(str(tmp_path))["first_broken"]
    assert broken["line"] == 4 and "truncated" in broken["reason"]


def test_concurrent_appends_keep_one_unbroken_chain(tmp_path):
    def write(worker: int) -> None:
        for index in range(25):
            audit.append(str(tmp_path), "model_trained", {"worker": worker, "index": index, "pad": "x" * 5000})
    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = audit.verify(str(tmp_path))
    assert report == {**report, "ok": True, "records": 100}
