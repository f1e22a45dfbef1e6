"""Memory of the embedded default after big on-demand batches (issue #16: "memory comes back").

A real uvicorn server with no broker (batches run in a thread of the API process, the job store
and cache are in process) receives three POST /forecast/batch of 200,000 sales rows each (1,000
real store-item series x 200 days, a different shop each), one after another, each waited for.
The server's resident memory is read before, after each batch and at the end. Before the job
store and cache were bounded, the same three batches took a server from 640 to 1,145 MB for good.
"""

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.data import daily_panel, sales_rows
from tests.support.server import serving_process

BATCHES, PRODUCTS, DAYS = 3, 1000, 200


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(progress: Callable[[str], None]) -> dict:
    units, dates = daily_panel(PRODUCTS, DAYS)
    rows = sales_rows(units, dates)
    after: list[float] = []
    with tempfile.TemporaryDirectory() as model_dir, serving_process(
            {"MODEL_DIR": model_dir, "MODEL_SIGNING_KEY": "bench", "RATE_LIMIT_PER_MINUTE": "0"}) as (client, pid):
        start = _rss_mb(pid)
        for k in range(BATCHES):
            body = {"shop_id": f"shop{k}", "sales": [{**row, "qty": row["qty"] + k} for row in rows], "periods": 14}
            job = client.post("/api/v1/smart-shelf/forecast/batch", json=body, timeout=120).json()
            while not client.get(f"/api/v1/jobs/{job['job_id']}", params={"results": "false"}).json()["finished_at"]:
                time.sleep(1)
            after.append(_rss_mb(pid))
            progress(f"batch memory: batch {k + 1} of {len(rows):,} rows done, RSS {after[-1]:.0f} MB")
    return {"rows_per_batch": len(rows), "rss_start_mb": round(start), "rss_after_mb": [round(m) for m in after],
            "growth_after_first_mb": round(after[-1] - after[0])}
