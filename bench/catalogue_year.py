"""A year of a 4,000-product shop through HTTP with the default settings (issue #23, item 6: limits count the
work, not the lines): 4,000 products x 365 days (1.46 M daily values, as series) to /insights, /at-risk,
/models/train and /forecast/batch on a real server (MODEL_DIR only); and the same year as till lines (a CSV
upload, several lines per product and day: about 1.2 M, over the issue's 550 k) to /insights. Each must be
accepted and answered within its work budget; reported: status, seconds, the server's peak memory.
"""

import csv
import io
import tempfile
import time
from collections.abc import Callable

import numpy as np

from bench.payload_formats import PREFIX, compact, wait_for_job
from bench.shop_latency import _peak_mb
from tests.support.server import serving_process

PRODUCTS, DAYS, LINES = 4000, 365, 550_000
START = np.datetime64("2024-01-01")


def _shop(seed: int = 0) -> np.ndarray:
    """Units [PRODUCTS, DAYS]: Poisson around a gamma-distributed rate (slow movers and best sellers)."""
    rng = np.random.default_rng(seed)
    return rng.poisson(rng.gamma(1.0, 3.0, PRODUCTS)[:, None] * np.ones((1, DAYS))).astype(float)


def _lines(units: np.ndarray, seed: int = 1) -> bytes:
    """Till lines holding the same units: each product-day's units split over about LINES / product-days
    lines (at most one per unit), about 1.2 M in all."""
    rng = np.random.default_rng(seed)
    product, day = np.nonzero(units)
    qty = units[product, day]
    parts = np.clip(rng.poisson(LINES / product.size, product.size), 1, None).astype(np.int64)
    parts = np.minimum(parts, qty.astype(np.int64))
    repeat = np.repeat(np.arange(product.size), parts)
    share = np.repeat(qty / parts, parts)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["product_id", "date", "qty"])
    dates = (START + day).astype(str)
    writer.writerows(zip((f"p{p:04d}" for p in product[repeat]), dates[repeat], np.round(share, 4), strict=True))
    return out.getvalue().encode()


def _timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    answer = call()
    return answer, round(time.perf_counter() - started, 1)


def run(progress: Callable[[str], None] = print) -> dict:
    units = _shop()
    series = [{"product_id": f"p{i:04d}", "start": str(START), "qty": units[i].tolist()} for i in range(PRODUCTS)]
    inventory = [{"product_id": f"p{i:04d}", "quantity": float(i % 50), "price": 2.0} for i in range(PRODUCTS)]
    end = str(START + DAYS - 1)
    calls = {
        "insights": ("insights", {"shop_id": "big", "series": series, "granularity": "weekly",
                                  "range": {"start": str(START), "end": end}}),
        "at-risk": ("at-risk", {"shop_id": "big", "series": series, "inventory": inventory, "as_of": end}),
        "models/train": ("models/train", {"shop_id": "big", "series": series, "periods": 28}),
        "forecast/batch": ("forecast/batch", {"shop_id": "big", "series": series, "periods": 14}),
    }
    results: dict = {"products": PRODUCTS, "days": DAYS, "values": PRODUCTS * DAYS, "calls": {}}
    with tempfile.TemporaryDirectory() as model_dir, serving_process({"MODEL_DIR": model_dir}) as (client, pid):
        client.timeout = 1800
        for name, (path, body) in calls.items():
            progress(f"catalogue_year: {name}")
            data = compact(body)
            answer, seconds = _timed(lambda p=path, d=data: client.post(f"{PREFIX}/{p}", content=d,
                                                                        headers={"content-type": "application/json"}))
            entry = {"status": answer.status_code, "body_mb": round(len(data) / 1e6, 1), "seconds": seconds}
            if answer.status_code == 202:
                entry["state"], waited = wait_for_job(client, answer.json()["job_id"])
                entry["seconds"] = round(seconds + waited, 1)
            elif answer.status_code >= 400:
                entry["message"] = answer.json().get("message")
            results["calls"][name] = entry
        progress("catalogue_year: insights from the till lines (CSV upload)")
        raw = _lines(units)
        answer, seconds = _timed(lambda: client.post(
            f"{PREFIX}/insights", data={"request": '{"shop_id": "big", "granularity": "weekly"}'},
            files={"sales": ("sales.csv", raw, "text/csv")}))
        results["calls"]["insights (CSV lines)"] = {
            "status": answer.status_code, "lines": raw.count(b"\n") - 1, "body_mb": round(len(raw) / 1e6, 1),
            "seconds": seconds, **({"message": answer.json().get("message")} if answer.status_code >= 400 else {})}
        results["server_peak_mb"] = round(_peak_mb(pid))
    return results
