"""Sales payload formats over HTTP: rows, series and CSV uploads, side by side on a real uvicorn server.

1. at-risk, 1,000 products x 90 days of real store-item sales, as rows and as series (with revenue),
   requests interleaved: body size, end-to-end median/p95 and the server's own parse+validate
   (its `Server-Timing` header) and that share of the end-to-end time.
2. A whole catalogue, M5 TX_3 FOODS_3 (823 items x 1,941 days), to POST /forecast/batch as series
   JSON, gzip CSV upload and plain CSV upload: the server's parse+validate and the 202 answer's end
   to end time, beside floors measured in this process on the same bytes (pydantic-core JSON
   decoding, pandas `read_csv`). Each job is waited for before the next request.
3. A cached identical forecast (bench/cache_latency.py's payload) with Redis: p50/p99 end to end.

Parts 1 and 2 run with REDIS_URL unset (the embedded default: in-process cache, batch jobs in a
thread of the server); part 3 with Redis db 14. Every server gets a temporary MODEL_DIR and a fixed
MODEL_SIGNING_KEY and otherwise default settings (MAX_PAYLOAD_ROWS, BATCH_MAX_ROWS, MAX_BODY_BYTES).
JSON bodies of parts 1 and 2 are compact (no spaces), as browsers and most clients send them.
"""

import gzip
import io
import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import numpy as np
import pandas as pd
import pydantic_core
import redis

from app.config import Settings
from bench.cache_latency import _payload as cached_forecast_payload
from bench.data import SHARED_DATA, daily_panel
from bench.service_speed import at_risk_payload, timed
from tests.support.server import serving

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PREFIX = "/api/v1/smart-shelf"
M5_SALES = SHARED_DATA / "m5-tx3-foods3" / "sales.csv.gz"
M5_FIRST_DAY = "2011-01-29"  # d_1
M5_PERIODS = 28  # the M5 horizon
AT_RISK_PRODUCTS, AT_RISK_DAYS = 1000, 90
MAX_BODY_BYTES = Settings.model_fields["max_body_bytes"].default
BATCH_MAX_ROWS = Settings.model_fields["batch_max_rows"].default
TOO_LARGE = "over MAX_BODY_BYTES, which the server refuses with 413"
FINISHED = ("succeeded", "completed_with_errors", "failed")
TARGETS = {"at_risk_ratio": 5.0, "series_share_pct": 25.0, "catalogue_series_ms": 150.0,
           "catalogue_csv_ms": 1500.0, "hit_p50_ms": 2.0, "hit_p99_ms": 5.0}


def compact(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def summary(samples: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(samples), 2), "p95_ms": round(percentile(samples, 0.95), 2)}


def server_timing(response: httpx.Response) -> dict[str, float]:
    """The answer's `Server-Timing` header as {"parse": ms, "validate": ms, "handler": ms, "total": ms}."""
    parts = (part.strip().split(";dur=") for part in response.headers["server-timing"].split(","))
    return {name: float(value) for name, value in parts}


def timing_medians(timings: list[dict[str, float]]) -> dict[str, Any]:
    """Medians of Server-Timing parts; `after_parse_ms` = total - parse (validation, the work, the answer)."""
    def median(values: Any) -> float:
        return round(statistics.median(values), 2)
    return {"parse_ms": median(t["parse"] for t in timings), "validate_ms": median(t["validate"] for t in timings),
            "parse_validate_ms": median(t["parse"] + t["validate"] for t in timings),
            "handler_ms": median(t["handler"] for t in timings), "total_ms": median(t["total"] for t in timings),
            "after_parse_ms": median(t["total"] - t["parse"] for t in timings),
            "validate_handler_split": any(t["validate"] > 0 or t["handler"] > 0 for t in timings)}


def post(client: httpx.Client, path: str, body: bytes, content_type: str) -> tuple[httpx.Response, float]:
    """POST `body` as is; the answer and its end-to-end time in ms (sending, work, reading the answer)."""
    started = time.perf_counter()
    response = client.post(path, content=body, headers={"content-type": content_type})
    return response, (time.perf_counter() - started) * 1000


def server_env(model_dir: str, redis_url: str | None = None) -> dict[str, str]:
    env = {"MODEL_DIR": model_dir, "MODEL_SIGNING_KEY": "bench"}
    return {**env, "REDIS_URL": redis_url} if redis_url else env


# --- 1. at-risk: rows vs series ---------------------------------------------------------------------

def at_risk_series(units: np.ndarray, dates: pd.DatetimeIndex) -> list[dict]:
    """The rows of bench.data.sales_rows as series: qty and revenue per day, null where rows have no row."""
    start = dates[0].date().isoformat()
    series = []
    for k in range(units.shape[0]):
        qty = [float(u) if u != 0 else None for u in units[k]]
        revenue = [round(q * 2.5, 2) if q is not None else None for q in qty]
        series.append({"product_id": f"p{k:06d}", "start": start, "qty": qty, "revenue": revenue})
    return series


def at_risk_bodies(n_products: int = AT_RISK_PRODUCTS, days: int = AT_RISK_DAYS) -> dict[str, bytes]:
    """The same at-risk request (bench/service_speed.py's payload) with its sales as rows and as series."""
    rows = at_risk_payload(n_products, days)
    units, dates = daily_panel(n_products, days)
    series = {k: v for k, v in rows.items() if k != "sales"} | {"series": at_risk_series(units, dates)}
    return {"rows": compact(rows), "series": compact(series)}


def at_risk_formats(repeat: int = 30) -> dict[str, Any]:
    """Rows and series requests interleaved (alternating which goes first) on one server."""
    bodies = at_risk_bodies()
    samples: dict[str, list[float]] = {form: [] for form in bodies}
    timings: dict[str, list[dict[str, float]]] = {form: [] for form in bodies}
    with tempfile.TemporaryDirectory() as model_dir, serving(server_env(model_dir)) as client:
        answers = {}
        for form, body in bodies.items():  # warm-up, and the answers compared once
            response, _ = post(client, f"{PREFIX}/at-risk", body, "application/json")
            response.raise_for_status()
            answers[form] = response.json()
        for i in range(repeat):
            for form in (list(bodies) if i % 2 == 0 else list(bodies)[::-1]):
                response, ms = post(client, f"{PREFIX}/at-risk", bodies[form], "application/json")
                response.raise_for_status()
                samples[form].append(ms)
                timings[form].append(server_timing(response))
    results: dict[str, Any] = {"products": AT_RISK_PRODUCTS, "days": AT_RISK_DAYS, "repeat": repeat, "redis": False}
    for form, body in bodies.items():
        http = summary(samples[form])
        parse_validate = timing_medians(timings[form])["parse_validate_ms"]
        results[form] = {"body_bytes": len(body), "http": http, **timing_medians(timings[form]),
                         "parse_validate_share_pct": round(100 * parse_validate / http["median_ms"], 1)}
    rows_ms, series_ms = results["rows"]["http"]["median_ms"], results["series"]["http"]["median_ms"]
    results["rows_over_series"] = round(rows_ms / series_ms, 2)
    results["at_risk_equal"] = answers["rows"]["at_risk"] == answers["series"]["at_risk"]
    results["answers_equal"] = answers["rows"] == answers["series"]
    results["flagged"] = len(answers["rows"]["at_risk"])
    return results


# --- 2. a whole catalogue to /forecast/batch ---------------------------------------------------------

def m5_catalogue() -> tuple[list[str], np.ndarray]:
    """Item ids (FOODS_3_001 ...) and units[823, 1941] of the M5 TX_3 FOODS_3 sales, d_1 = 2011-01-29."""
    if not M5_SALES.exists():
        raise SystemExit(f"benchmark data missing: {M5_SALES}")
    wide = pd.read_csv(M5_SALES)
    ids = wide["id"].str.removesuffix("_TX_3_validation").tolist()
    return ids, wide.drop(columns="id").to_numpy(dtype=np.int64)


def m5_dates(days: int) -> list[str]:
    return pd.date_range(M5_FIRST_DAY, periods=days, freq="D").strftime("%Y-%m-%d").tolist()


def catalogue_csv(ids: list[str], units: np.ndarray) -> bytes:
    """One line per item and day (zeros included: the same values as the series), header product_id,date,qty."""
    dates = m5_dates(units.shape[1])
    lines = ["product_id,date,qty\n"]
    for product, row in zip(ids, units.tolist(), strict=True):
        lines += [f"{product},{day},{qty}\n" for day, qty in zip(dates, row, strict=True)]
    return "".join(lines).encode()


def rows_json_bytes(options: dict, ids: list[str], units: np.ndarray) -> int:
    """Size of the same catalogue as one compact JSON body of rows (built product by product, never sent)."""
    dates = m5_dates(units.shape[1])
    size = len(compact({**options, "sales": []})) + len(ids) - 1  # the commas between products
    for product, row in zip(ids, units.tolist(), strict=True):
        rows = [{"product_id": product, "date": day, "qty": qty} for day, qty in zip(dates, row, strict=True)]
        size += len(json.dumps(rows, separators=(",", ":"))) - 2  # without the list's brackets
    return size


def multipart(options: dict, name: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    """A CSV upload as httpx encodes it: the body bytes and its content-type (with the boundary)."""
    request = httpx.Request("POST", "http://bench/", data={"request": json.dumps(options)},
                            files={"sales": (name, data, content_type)})
    return request.read(), request.headers["content-type"]


def catalogue_bodies(options: dict, ids: list[str], units: np.ndarray) -> tuple[dict[str, dict], dict[str, bytes]]:
    """The forms sent ({form: {body, content_type}}) and the bytes each floor parses ({form: data})."""
    series = [{"product_id": product, "start": M5_FIRST_DAY, "qty": row}
              for product, row in zip(ids, units.tolist(), strict=True)]
    series_body = compact({**options, "series": series})
    csv = catalogue_csv(ids, units)
    gz = gzip.compress(csv, compresslevel=6)
    gz_body, gz_type = multipart(options, "sales.csv.gz", gz, "application/gzip")
    csv_body, csv_type = multipart(options, "sales.csv", csv, "text/csv")
    forms = {"series_json": {"body": series_body, "content_type": "application/json"},
             "csv_gzip_upload": {"body": gz_body, "content_type": gz_type},
             "csv_plain_upload": {"body": csv_body, "content_type": csv_type}}
    return forms, {"series_json": series_body, "csv_gzip_upload": gz, "csv_plain_upload": csv}


def floors(data: dict[str, bytes], repeat: int = 5) -> dict[str, dict[str, dict[str, float]]]:
    """The fastest plain decoding of each form's bytes in this process (median of `repeat`)."""
    found: dict[str, dict[str, dict[str, float]]] = {
        "series_json": {"pydantic_core.from_json": timed(lambda: pydantic_core.from_json(data["series_json"]), repeat)},
        "csv_gzip_upload": {"gzip.decompress + pandas.read_csv": timed(
            lambda: pd.read_csv(io.BytesIO(gzip.decompress(data["csv_gzip_upload"]))), repeat)},
        "csv_plain_upload": {"pandas.read_csv": timed(lambda: pd.read_csv(io.BytesIO(data["csv_plain_upload"])),
                                                      repeat)},
    }
    try:
        import orjson  # not a service dependency: measured only when installed
    except ImportError:
        return found
    found["series_json"]["orjson.loads"] = timed(lambda: orjson.loads(data["series_json"]), repeat)
    return found


def wait_for_job(client: httpx.Client, job_id: str, timeout: float = 1800) -> tuple[str, float]:
    """Poll GET /api/v1/jobs/{id}?results=false until the job has finished: its state and seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        job = client.get(f"/api/v1/jobs/{job_id}", params={"results": "false"}).json()
        if job["state"] in FINISHED:
            return job["state"], round(time.monotonic() - started, 1)
        time.sleep(0.5)
    raise SystemExit(f"batch job {job_id} did not finish in {timeout} s")


def job_forecasts(client: httpx.Client, job_id: str) -> list[dict]:
    """A finished job's forecasts without their training times, to compare two jobs."""
    forecasts = client.get(f"/api/v1/jobs/{job_id}").json()["forecasts"]
    return [{k: v for k, v in f.items() if k != "trained_at"} for f in forecasts]


def batch_rounds(forms: dict[str, dict], repeat: int,
                 progress: Callable[[str], None]) -> tuple[dict[str, list[dict]], list[float], bool]:
    """`repeat` rounds, each posting every form once (order rotated per round) and waiting for its job.

    Returns each form's runs, every job's duration in the order sent, and whether the first job of
    each form gave the same forecasts.
    """
    runs: dict[str, list[dict]] = {form: [] for form in forms}
    in_order: list[float] = []
    first_jobs: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as model_dir, serving(server_env(model_dir)) as client:
        client.timeout = httpx.Timeout(300)
        names = list(forms)
        for round_ in range(repeat):
            for form in names[round_ % len(names):] + names[: round_ % len(names)]:
                response, ms = post(client, f"{PREFIX}/forecast/batch", forms[form]["body"],
                                    forms[form]["content_type"])
                if response.status_code != 202:
                    raise SystemExit(f"{form}: {response.status_code} {response.text[:500]}")
                accepted = response.json()
                state, job_seconds = wait_for_job(client, accepted["job_id"])
                first_jobs.setdefault(form, accepted["job_id"])
                in_order.append(job_seconds)
                runs[form].append({"http_ms": ms, **server_timing(response), "job_state": state,
                                   "job_seconds": job_seconds, "products": accepted["total_products"]})
                progress(f"payload formats: batch {form} round {round_ + 1}: 202 in {ms:.0f} ms, "
                         f"job {state} in {job_seconds} s")
        answers = [job_forecasts(client, job_id) for job_id in first_jobs.values()]
    return runs, in_order, all(answer == answers[0] for answer in answers)


def catalogue_formats(progress: Callable[[str], None], repeat: int = 5) -> dict[str, Any]:
    """The M5 catalogue to POST /forecast/batch in each form under MAX_BODY_BYTES; floors beside."""
    ids, units = m5_catalogue()
    options = {"shop_id": "bench", "periods": M5_PERIODS}
    forms, data = catalogue_bodies(options, ids, units)
    refused = {form: len(f["body"]) for form, f in forms.items() if len(f["body"]) > MAX_BODY_BYTES}
    sent = {form: f for form, f in forms.items() if form not in refused}
    progress(f"payload formats: catalogue {len(ids)} items x {units.shape[1]} days; sending {', '.join(sent)}")
    runs, in_order, equal = batch_rounds(sent, repeat, progress)
    progress("payload formats: catalogue floors in the benchmark process")
    floor = floors(data)
    results: dict[str, Any] = {"items": len(ids), "days": int(units.shape[1]), "values": int(units.size),
                               "periods": M5_PERIODS, "repeat": repeat, "redis": False,
                               "max_body_bytes": MAX_BODY_BYTES, "batch_max_rows": BATCH_MAX_ROWS,
                               "job_seconds_in_order": in_order, "job_answers_equal": equal, "forms": {}}
    for form, f in forms.items():
        entry: dict[str, Any] = {"body_bytes": len(f["body"]), "data_bytes": len(data[form])}
        if form == "csv_gzip_upload":
            entry["unzipped_bytes"] = len(data["csv_plain_upload"])
        if form in refused:
            entry["not_sent"] = TOO_LARGE
        else:
            entry.update(form_summary(runs[form], floor[form]))
        results["forms"][form] = entry
    rows_bytes = rows_json_bytes(options, ids, units)
    results["forms"]["rows_json"] = {"body_bytes": rows_bytes, "not_sent": TOO_LARGE if rows_bytes > MAX_BODY_BYTES
                                     else "only its size is measured"}
    return results


def form_summary(runs: list[dict], floor: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Medians of one form's runs (Server-Timing parts, 202 end to end, job time) and the floor ratios."""
    medians = timing_medians(runs)
    parse_validate = medians["parse_validate_ms"]
    return {**medians, "http_202": summary([run["http_ms"] for run in runs]),
            "job_seconds": [run["job_seconds"] for run in runs], "job_states": sorted({r["job_state"] for r in runs}),
            "products": runs[0]["products"],
            "floors": {name: {"median_ms": t["median_ms"],
                              "server_over_floor": round(parse_validate / t["median_ms"], 2)}
                       for name, t in floor.items()}}


# --- 3. a cached identical forecast --------------------------------------------------------------------

def cached_forecast(repeat: int = 300) -> dict[str, Any]:
    """One miss, then `repeat` identical POST /forecast on one keep-alive client (Redis db 14)."""
    body = json.dumps(cached_forecast_payload()).encode()  # the bytes bench/cache_latency.py sends
    samples, inside = [], []
    with tempfile.TemporaryDirectory() as model_dir, serving(server_env(model_dir, REDIS_URL)) as client:
        miss, miss_ms = post(client, f"{PREFIX}/forecast", body, "application/json")
        if miss.json()["meta"]["cache"] != "miss":
            raise SystemExit("the first forecast was not a cache miss: is Redis db 14 empty?")
        hits = []
        for _ in range(repeat):
            hit, ms = post(client, f"{PREFIX}/forecast", body, "application/json")
            samples.append(ms)
            inside.append(server_timing(hit)["total"])
            hits.append(hit)
    if {h.json()["meta"]["cache"] for h in hits} != {"hit"}:
        raise SystemExit("a repeated forecast was not answered from the cache")
    return {"redis": True, "body_bytes": len(body), "repeat": repeat, "miss_ms": round(miss_ms, 1),
            "hit_p50_ms": round(percentile(samples, 0.5), 2), "hit_p99_ms": round(percentile(samples, 0.99), 2),
            "server_total_median_ms": round(statistics.median(inside), 2)}


def run(progress: Callable[[str], None] = print) -> dict:
    progress("payload formats: at-risk rows vs series (uvicorn, REDIS_URL unset)")
    at_risk = at_risk_formats()
    progress("payload formats: catalogue to /forecast/batch (uvicorn, REDIS_URL unset)")
    catalogue = catalogue_formats(progress)
    progress("payload formats: cached identical forecast (uvicorn + Redis db 14)")
    redis.Redis.from_url(REDIS_URL).flushdb()
    try:
        cached = cached_forecast()
    finally:
        redis.Redis.from_url(REDIS_URL).flushdb()
    return {"cores": os.cpu_count(), "at_risk": at_risk, "catalogue": catalogue, "cached_forecast": cached,
            "targets": TARGETS}
