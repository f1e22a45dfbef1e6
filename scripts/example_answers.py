"""The service's answers to the committed example payloads, one file per call, to compare two versions of the
code: a restructuring must leave them byte-identical (volatile fields such as `trained_at` are dropped).

Usage: .venv/bin/python -m scripts.example_answers REPO OUTDIR   (REPO: a checkout, e.g. a `git worktree` of
the commit before), then `diff -r -I training_seconds BEFORE AFTER`. Needs no Redis: a server of REPO runs
with its embedded default and a temporary model store.
"""

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

VOLATILE = {"trained_at", "job_id", "status_url", "created_at", "updated_at", "finished_at", "started_at",
            "saved_at", "request_id"}
API = "/api/v1/smart-shelf"


def stripped(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: stripped(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stripped(v) for v in value]
    return value


def main(repo: Path, out: Path) -> None:
    sys.path.insert(0, str(repo))
    from tests.support.server import serving  # the checkout's own launcher

    payloads = repo / "examples" / "payloads"
    out.mkdir(parents=True, exist_ok=True)

    def save(name: str, answer: Any) -> None:
        try:
            body = stripped(answer.json())
        except ValueError:
            body = answer.text
        (out / f"{name}.json").write_text(f"{answer.status_code}\n" + json.dumps(body, indent=1, sort_keys=True))

    def finished(client: Any, job_id: str) -> Any:
        for _ in range(600):
            job = client.get(f"/api/v1/jobs/{job_id}")
            if job.json()["state"] not in ("queued", "running"):
                return job
            time.sleep(0.5)
        raise SystemExit(f"job {job_id} did not finish")

    with tempfile.TemporaryDirectory() as tmp, serving({"MODEL_DIR": tmp + "/models"}) as client:
        for name in ["at-risk", "forecast", "reorder", "anomalies", "promotions", "insights"]:
            body = (payloads / f"{name}.json").read_bytes()
            for suffix in ("", "-again"):
                save(name + suffix, client.post(f"{API}/{name}", content=body,
                                                headers={"content-type": "application/json"}))
        forecast = json.loads((payloads / "forecast.json").read_text())
        as_csv = client.post(f"{API}/forecast", json=forecast, headers={"accept": "text/csv"})
        (out / "forecast-csv.txt").write_text(as_csv.text)
        lines = "".join(f"{s['product_id']},{s['date']},{s['qty']}\n" for s in forecast["sales"])
        request = {k: v for k, v in forecast.items() if k != "sales"}
        save("forecast-upload", client.post(f"{API}/forecast", data={"request": json.dumps(request)},
                                            files={"sales": ("s.csv", "product_id,date,qty\n" + lines)}))
        first = forecast.get("product_id") or (forecast.get("product_ids") or ["p1"])[0]
        save("latest", client.get(f"{API}/forecast/{forecast['shop_id']}/{first}"))
        batch = json.loads((payloads / "forecast-batch.json").read_text())
        accepted = client.post(f"{API}/forecast/batch", json=batch)
        save("batch-submit", accepted)
        save("batch-result", finished(client, accepted.json()["job_id"]))
        train = {k: v for k, v in batch.items() if k in ("shop_id", "sales", "series", "periods")}
        accepted = client.post(f"{API}/models/train", json=train)
        save("train-submit", accepted)
        if accepted.status_code == 202:
            save("train-result", finished(client, accepted.json()["job_id"]))
            save("card", client.get(f"{API}/models/{batch['shop_id']}"))
            save("forecast-shop-model", client.post(f"{API}/forecast", json={**train, "periods": 7}))
        save("openapi", client.get("/openapi.json"))
    print("saved", len(list(out.iterdir())), "answers in", out)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]))
