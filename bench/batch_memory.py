"""Memory of the embedded default after big on-demand batches (issue #16: "memory comes back"), and the
largest batch the documented limits allow (issue #25: "a batch inside the limits completes").

A real uvicorn server with no broker (batches run in a thread of the API process, the job store
and cache are in process), default settings:
- `run`: three POST /forecast/batch of 200,000 sales rows each (1,000 real store-item series x 200
  days, a different shop each), one after another, each waited for. The server's resident memory is
  read before, after each batch and at the end. Before the job store and cache were bounded, the same
  three batches took a server from 640 to 1,145 MB for good.
- `run_largest`: one batch of 10,900 products x 14 days of history asking for 365 periods: 3.98 M
  answer values, just under BATCH_MAX_ROWS (4 M). Before, its job was evicted from the embedded job
  store while it ran (`local_job_crashed ... unknown job`) and every forecast was lost. Measured: the
  time from POST to a finished job, the server's peak RSS (VmHWM), and reading every result page by page.
  `python -m bench.batch_memory largest` runs it alone.
- `run_job_index` (`python -m bench.batch_memory index`): what creating jobs, /metrics and listing cost
  with 8,000 jobs kept.
"""

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.data import daily_panel, sales_rows
from tests.support.server import serving_process

BATCHES, PRODUCTS, DAYS = 3, 1000, 200
LARGEST_PRODUCTS, LARGEST_DAYS, LARGEST_PERIODS = 10_900, 14, 365
SERVER_ENV = {"MODEL_SIGNING_KEY": "bench", "RATE_LIMIT_PER_MINUTE": "0"}


def _status_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _rss_mb(pid: int) -> float:
    return _status_mb(pid)


def run(progress: Callable[[str], None]) -> dict:
    units, dates = daily_panel(PRODUCTS, DAYS)
    rows = sales_rows(units, dates)
    after: list[float] = []
    with tempfile.TemporaryDirectory() as model_dir, serving_process(
            {"MODEL_DIR": model_dir, **SERVER_ENV}) as (client, pid):
        start = _rss_mb(pid)
        for k in range(BATCHES):
            body = {"shop_id": f"shop{k}", "sales": [{**row, "qty": row["qty"] + k} for row in rows], "periods": 14}
            job = client.post("/api/v1/smart-shelf/forecast/batch", json=body, timeout=120).json()
            while not client.get(f"/api/v1/jobs/{job['job_id']}", params={"results": "false"}).json()["finished_at"]:
                time.sleep(1)
            after.append(_rss_mb(pid))
            progress(f"batch memory: batch {k + 1} of {len(rows):,} rows done, RSS {after[-1]:.0f} MB")
    return {"rows_per_batch": len(rows), "rss_start_mb": round(start), "rss_after_mb": [round(m) for m in after],
            "growth_after_first_mb": round(after[-1] - after[0]), "largest": run_largest(progress)}


def run_largest(progress: Callable[[str], None]) -> dict:
    units, dates = daily_panel(LARGEST_PRODUCTS, LARGEST_DAYS)
    rows = [{k: v for k, v in row.items() if k != "revenue"} for row in sales_rows(units, dates)]
    body = {"shop_id": "largest", "sales": rows, "periods": LARGEST_PERIODS}
    with tempfile.TemporaryDirectory() as model_dir, serving_process(
            {"MODEL_DIR": model_dir, **SERVER_ENV}) as (client, pid):
        start_mb = _rss_mb(pid)
        started = time.monotonic()
        accepted = client.post("/api/v1/smart-shelf/forecast/batch", json=body, timeout=300)
        assert accepted.status_code == 202, accepted.text[:500]
        job_url = f"/api/v1/jobs/{accepted.json()['job_id']}"
        while not (job := client.get(job_url, params={"results": "false"}).json())["finished_at"]:
            progress(f"largest batch: {job['progress']['chunks_done']} of {job['progress']['chunks_total']} chunks, "
                     f"RSS {_rss_mb(pid):.0f} MB")
            time.sleep(10)
        seconds = time.monotonic() - started
        paged_started, values, offset, pages, largest_page = time.monotonic(), 0, 0, 0, 0
        while offset is not None:
            page = client.get(job_url, params={"offset": offset, "limit": 1000}, timeout=120)
            largest_page = max(largest_page, len(page.content))
            answer = page.json()
            values += sum(len(f["predictions"]) for f in answer["forecasts"])
            offset, pages = answer["results_page"]["next_offset"], pages + 1
        result = {"products": LARGEST_PRODUCTS, "history_days": LARGEST_DAYS, "periods": LARGEST_PERIODS,
                  "sales_rows": len(rows), "state": job["state"], "forecasts": job["progress"]["done"],
                  "answer_values": values, "seconds_to_finish": round(seconds, 1),
                  "pages_of_1000": pages, "seconds_to_read_pages": round(time.monotonic() - paged_started, 1),
                  "largest_page_mb": round(largest_page / 1e6, 1), "rss_start_mb": round(start_mb),
                  "rss_end_mb": round(_rss_mb(pid)), "rss_peak_mb": round(_status_mb(pid, "VmHWM")),
                  "shop_model": (job.get("shop_model") or {}).get("state"),
                  "shop_model_message": (job.get("shop_model") or {}).get("message"), "errors": job["errors"][:3]}
    progress(f"largest batch: {result}")
    return result


def run_job_index(progress: Callable[[str], None], kept: int = 8000) -> dict:
    """Creating `kept` jobs (two halves timed apart), then /metrics and GET /jobs with all of them kept, on the
    embedded store (issue #25: with 8,000 jobs /metrics took 110 ms and the second 4,000 creations 3.7x the
    first). In process: the jobs are created through the store, not HTTP (a real job per POST would measure the
    forecasts); the two reads go through the ASGI app."""
    import statistics
    import uuid

    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app
    from app.utils.dates import utc_now_iso

    with tempfile.TemporaryDirectory() as model_dir:
        settings = Settings(_env_file=None, model_dir=model_dir, model_signing_key="bench", log_level="WARNING")
        with TestClient(create_app(settings)) as api:
            jobs, halves = api.app.state.jobs, []  # type: ignore[attr-defined]
            for _ in range(2):
                started = time.perf_counter()
                for k in range(kept // 2):
                    jobs.create(uuid.uuid4().hex, {"kind": "forecast_batch", "shop_id": f"shop{k % 50}",
                                                   "created_at": utc_now_iso(), "chunks": 1, "total": 1,
                                                   "chunk_products": [1], "push": False})
                halves.append(time.perf_counter() - started)

            def median_ms(path: str, **params: str | int) -> float:
                times = []
                for _ in range(20):
                    started = time.perf_counter()
                    assert api.get(path, params=params).status_code == 200
                    times.append(time.perf_counter() - started)
                return round(statistics.median(times) * 1000, 1)

            result = {"jobs_kept": kept, "first_half_s": round(halves[0], 2), "second_half_s": round(halves[1], 2),
                      "metrics_ms": median_ms("/metrics"), "list_ms": median_ms("/api/v1/jobs", limit=50),
                      "list_shop_ms": median_ms("/api/v1/jobs", shop_id="shop7")}
    progress(f"job index: {result}")
    return result


if __name__ == "__main__":
    say = lambda message: print(message, flush=True)  # noqa: E731
    modes = {"largest": run_largest, "index": run_job_index}
    print(modes[sys.argv[1]](say) if sys.argv[1:] and sys.argv[1] in modes else run(say))
