"""Load, soak and a Redis fault under load, against a real uvicorn server on 127.0.0.1.

An asyncio client (httpx2) keeps CONCURRENCY requests in flight, each picking from a mix:
at-risk 40 %, cached forecast 30 % (the same body: a cache hit), insights 20 %, cold forecast
10 % (a new shop each time, so it trains). Payloads are examples/payloads (real store-item
sales; the cold forecast uses one of its products). Rate limits are off (RATE_LIMIT_PER_MINUTE=0)
so the measured rate is the service's capacity. Phases:
1. load: 60 s flat out; requests/s and p50/p95/p99 per endpoint; every non-2xx is an error;
2. soak: 5 minutes of the same; the server's resident memory after warm-up and at the end;
3. fault: 30 s with Redis stopped at 10 s and started again at 20 s (a redis-server of its own on
   a free port); the service must keep answering (the documented degradation: cache misses);
4. abuse: 30 s of the same mix while one more client sends, one after another, the small requests
   that ask for enormous work (issue #16's table: a 9,000-year insights range, 100,000 products x
   365 periods, 10,000 items x 10,000 events, 10,000 products over ten years, 2,000 such anomaly
   rows); each must be refused quickly (413/400), normal requests must keep their p99 and not fail,
   and the server's memory must come back.
5. heavy (issue #25), in two halves: the same mix for HEAVY_SECONDS without, then with, HEAVY_CLIENTS more clients
   sending requests that are within every limit but costly to answer, one after another: an insights request
   of 200 bytes asking for 499,000 daily periods (a 49 MB answer), a 600 KB body of 100,000 `{}` inventory
   rows (300,000 validation errors), and, three times in the phase, a ~6 MB shop-model training upload.
   Normal p50/p99 and the server's RSS (peak and end, sampled every 50 ms) per phase; the target is the
   normal p99 under heavy load within 2x of the quiet phase's. Since insights are capped at 3,653 periods the
   499,000-period request is a quick 422; the 100,000-row body is heavy by its rows (app/utils/fast_json.py)
   and takes turns through the admission pool, which rests after each heavy request (app/utils/admission.py).

`BENCH_LOAD_PHASES` (e.g. `heavy`) runs only the phases named (default: all).
"""

import asyncio
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import httpx2 as httpx

from tests.support.server import free_port, serving_process

PAYLOADS = Path(__file__).resolve().parents[1] / "examples" / "payloads"
CONCURRENCY = 16
PHASES = ("load", "soak", "abuse", "heavy", "fault")
HEAVY_SECONDS = 45
HEAVY_CLIENTS = 2
TRAINING_UPLOADS = 3
MIX = [("at-risk", 0.4), ("forecast (cached)", 0.3), ("insights", 0.2), ("forecast (cold)", 0.1)]


def _payloads() -> dict[str, dict]:
    load = {name: json.loads((PAYLOADS / f"{name}.json").read_text()) for name in ("at-risk", "forecast", "insights")}
    forecast = load["forecast"]
    cold_sales = [row for row in forecast["sales"] if row["product_id"] == "p1"]
    return {"at-risk": load["at-risk"], "forecast (cached)": forecast, "insights": load["insights"],
            "forecast (cold)": {"shop_id": "cold", "sales": cold_sales, "periods": 14}}


PATHS = {"at-risk": "at-risk", "forecast (cached)": "forecast", "insights": "insights", "forecast (cold)": "forecast"}


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _drive(base: str, seconds: float, payloads: dict[str, dict], seed: int) -> dict[str, list]:
    """Closed loop: CONCURRENCY workers, each sending the next request as soon as one returns."""
    rng = random.Random(seed)
    names, weights = zip(*MIX, strict=True)
    samples: dict[str, list[float]] = {name: [] for name in names}
    errors: dict[str, list[str]] = {name: [] for name in names}
    deadline = time.perf_counter() + seconds
    counter = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal counter
        while time.perf_counter() < deadline:
            name = rng.choices(names, weights)[0]
            body = payloads[name]
            if name == "forecast (cold)":
                counter += 1
                body = {**body, "shop_id": f"cold-{seed}-{counter}"}
            started = time.perf_counter()
            try:
                response = await client.post(f"/api/v1/smart-shelf/{PATHS[name]}", json=body)
                if response.status_code >= 300:
                    errors[name].append(f"HTTP {response.status_code}")
            except httpx.HTTPError as exc:
                errors[name].append(type(exc).__name__)
            samples[name].append((time.perf_counter() - started) * 1000)

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
    return {"samples": samples, "errors": errors}  # type: ignore[dict-item]


def _quantile(ordered: list[float], q: float) -> float | None:
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else None


def _summary(run: dict, seconds: float) -> dict:
    out: dict = {"endpoints": {}}
    total = 0
    for name, values in run["samples"].items():
        ordered = sorted(values)
        total += len(ordered)
        out["endpoints"][name] = {"requests": len(ordered), "errors": len(run["errors"][name]),
                                  "error_kinds": sorted(set(run["errors"][name]))[:5],
                                  **{f"p{q}_ms": _quantile(ordered, q / 100) for q in (50, 95, 99)}}
    out["requests"] = total
    out["requests_per_s"] = round(total / seconds, 1)
    out["errors"] = sum(e["errors"] for e in out["endpoints"].values())
    return out


def _redis_server(port: int, workdir: str) -> subprocess.Popen:
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", workdir], stdout=subprocess.DEVNULL)
    for _ in range(50):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip():
            break
        time.sleep(0.1)
    return server


def _abusive() -> dict[str, tuple[str, dict]]:
    """Issue #16's requests: small bodies asking for enormous work (path, body)."""
    def spread(k: int) -> str:
        return f"{2016 + k % 10}-{1 + k % 12:02d}-{1 + k % 28:02d}"

    return {
        "insights 0001..9999": ("insights", {"shop_id": "abuse", "sales": [{"product_id": "p", "date": "2025-01-01",
                                                                            "qty": 1}],
                                             "range": {"start": "0001-01-01", "end": "9999-12-31"}}),
        "forecast 100k products x 365": ("forecast", {"shop_id": "abuse", "periods": 365, "sales": [
            {"product_id": f"p{k}", "date": "2025-01-01", "qty": 1} for k in range(99_999)]}),
        "promotions 10k x 10k": ("promotions", {"shop_id": "abuse", "as_of": "2025-01-01", "items": [
            {"product_id": f"p{k}", "quantity": 1, "price": 1, "expiry_date": "2025-03-01"} for k in range(10_000)],
            "calendar_events": [{"id": f"e{k}", "date": "2025-02-01"} for k in range(10_000)]}),
        "forecast 10k products over 10 years": ("forecast", {"shop_id": "abuse", "sales": [
            {"product_id": f"p{k}", "date": spread(k), "qty": 1} for k in range(10_000)]}),
        "anomalies 2k rows over 10 years": ("anomalies", {"shop_id": "abuse", "sales": [
            {"product_id": f"p{k}", "date": spread(k) if k % 2 else "2016-01-01", "qty": 1} for k in range(2_000)]}),
    }


async def _abuse(base: str, seconds: float, payloads: dict[str, dict]) -> tuple[dict, dict]:
    """The normal mix for `seconds`, with one more client cycling through the abusive requests."""
    abusive = {name: json.dumps(body).encode() for name, (_, body) in _abusive().items()}
    paths = {name: path for name, (path, _) in _abusive().items()}
    outcomes: dict[str, list[tuple[int, float]]] = {name: [] for name in abusive}
    deadline = time.perf_counter() + seconds

    async def abuser() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            while time.perf_counter() < deadline:
                for name, body in abusive.items():
                    started = time.perf_counter()
                    response = await client.post(f"/api/v1/smart-shelf/{paths[name]}", content=body,
                                                 headers={"content-type": "application/json"})
                    outcomes[name].append((response.status_code, (time.perf_counter() - started) * 1000))

    normal, _ = await asyncio.gather(_drive(base, seconds, payloads, seed=4), abuser())
    abuse = {name: {"requests": len(seen), "statuses": sorted({status for status, _ in seen}),
                    "median_ms": round(sorted(ms for _, ms in seen)[len(seen) // 2], 1) if seen else None,
                    "max_ms": round(max((ms for _, ms in seen), default=0.0), 1),
                    "body_kb": round(len(abusive[name]) / 1024, 1)}
             for name, seen in outcomes.items()}
    return normal, abuse


def _heavy_requests() -> dict[str, tuple[str, bytes]]:
    """Issue #25's heavy requests, within every limit (path, body): the name says what each asks for."""
    start = date(700, 1, 1)
    insights = {"shop_id": "heavy", "sales": [{"product_id": "p", "date": "2025-01-01", "qty": 1}],
                "range": {"start": start.isoformat(), "end": (start + timedelta(days=498_999)).isoformat()}}
    invalid = b'{"shop_id": "heavy", "inventory": [' + b",".join([b"{}"] * 100_000) + b"]}"
    rng = random.Random(25)
    days = [(date(2024, 1, 1) + timedelta(days=k)).isoformat() for k in range(365)]
    training = {"shop_id": "SHOP", "periods": 28, "sales": [
        {"product_id": f"p{k}", "date": day, "qty": rng.randint(0, 40)} for k in range(300) for day in days]}
    return {"insights 499,000 daily periods": ("insights", json.dumps(insights).encode()),
            "422: 100,000 empty inventory rows": ("at-risk", invalid),
            "training upload 300 products x 365 days": ("models/train", json.dumps(training).encode())}


@contextmanager
def _rss_peak(pid: int) -> Iterator[dict]:
    """The server's resident memory sampled every 50 ms while the block runs: {"peak_mb", "end_mb"} after it."""
    seen: dict = {"peak_mb": _rss_mb(pid)}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            seen["peak_mb"] = max(seen["peak_mb"], _rss_mb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield seen
    finally:
        done.set()
        sampler.join()
        seen["end_mb"] = _rss_mb(pid)
        seen.update({name: round(value) for name, value in seen.items()})


def _normal_quantiles(run: dict) -> dict:
    """p50/p99 over every normal request of a phase, whatever its endpoint."""
    ordered = sorted(ms for values in run["samples"].values() for ms in values)
    return {"p50_ms": _quantile(ordered, 0.5), "p99_ms": _quantile(ordered, 0.99)}


async def _heavy(base: str, seconds: float, payloads: dict[str, dict]) -> tuple[dict, dict]:
    """The normal mix for `seconds`, with HEAVY_CLIENTS more clients cycling through issue #25's heavy requests
    (training uploads only TRAINING_UPLOADS times in all, each for a shop of its own)."""
    heavy = _heavy_requests()
    outcomes: dict[str, list[tuple[int, float, int]]] = {name: [] for name in heavy}
    deadline = time.perf_counter() + seconds
    uploads = iter(range(TRAINING_UPLOADS))

    async def client_of_heavy_requests(number: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=300) as client:
            while time.perf_counter() < deadline:
                await asyncio.sleep(0)  # a cycle with nothing left to send must not hold this loop
                for name, (path, body) in heavy.items():
                    if path == "models/train":
                        upload = next(uploads, None)
                        if upload is None:
                            continue
                        body = body.replace(b'"SHOP"', f'"heavy-{number}-{upload}"'.encode(), 1)
                    started = time.perf_counter()
                    response = await client.post(f"/api/v1/smart-shelf/{path}", content=body,
                                                 headers={"content-type": "application/json"})
                    outcomes[name].append((response.status_code, (time.perf_counter() - started) * 1000,
                                           len(response.content)))
                    if time.perf_counter() >= deadline:
                        return

    gathered = await asyncio.gather(_drive(base, seconds, payloads, seed=5),
                                    *(client_of_heavy_requests(k) for k in range(HEAVY_CLIENTS)))
    summary = {name: {"requests": len(seen), "statuses": sorted({status for status, _, _ in seen}),
                      "median_ms": round(sorted(ms for _, ms, _ in seen)[len(seen) // 2], 1) if seen else None,
                      "max_ms": round(max((ms for _, ms, _ in seen), default=0.0), 1),
                      "body_kb": round(len(heavy[name][1]) / 1024, 1),
                      "answer_kb_max": round(max((size for _, _, size in seen), default=0) / 1024, 1)}
               for name, seen in outcomes.items()}
    return gathered[0], summary


def _quiet_and_heavy(base: str, pid: int, payloads: dict[str, dict], seconds: float,
                     progress: Callable[[str], None]) -> dict:
    """The normal mix alone, then beside the heavy requests; p50/p99 and RSS of each, and the p99 ratio."""
    out: dict = {"seconds": seconds, "heavy_clients": HEAVY_CLIENTS}
    progress(f"quiet: {seconds:.0f} s of the mix alone")
    with _rss_peak(pid) as rss:
        quiet = asyncio.run(_drive(base, seconds, payloads, seed=6))
    out["quiet"] = {**_summary(quiet, seconds), "normal": _normal_quantiles(quiet), "rss": rss}
    progress(f"heavy: {seconds:.0f} s of the mix beside {HEAVY_CLIENTS} clients of heavy requests")
    with _rss_peak(pid) as rss:
        normal, heavy = asyncio.run(_heavy(base, seconds, payloads))
    out["heavy"] = {**_summary(normal, seconds), "normal": _normal_quantiles(normal), "rss": rss, "heavy": heavy}
    quiet_p99, heavy_p99 = out["quiet"]["normal"]["p99_ms"], out["heavy"]["normal"]["p99_ms"]
    out["p99_ratio"] = round(heavy_p99 / quiet_p99, 2) if quiet_p99 and heavy_p99 else None
    progress(f"heavy: normal p99 {quiet_p99} -> {heavy_p99} ms ({out['p99_ratio']}x, target <= 2x), "
             f"RSS peak {out['quiet']['rss']['peak_mb']} -> {out['heavy']['rss']['peak_mb']} MB")
    return out


def run(progress: Callable[[str], None], load_seconds: float = 60, soak_seconds: float = 300,
        fault_seconds: float = 30, abuse_seconds: float = 30, heavy_seconds: float = HEAVY_SECONDS) -> dict:
    payloads = _payloads()
    phases = [p for p in os.environ.get("BENCH_LOAD_PHASES", ",".join(PHASES)).split(",") if p]
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise SystemExit(f"BENCH_LOAD_PHASES: unknown {sorted(unknown)}; phases are {', '.join(PHASES)}")
    results: dict = {"concurrency": CONCURRENCY, "mix": dict(MIX), "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as work:
        port = free_port()
        redis = _redis_server(port, work) if shutil.which("redis-server") else None
        env = {"MODEL_DIR": f"{work}/models", "MODEL_SIGNING_KEY": "bench", "RATE_LIMIT_PER_MINUTE": "0",
               **({"REDIS_URL": f"redis://127.0.0.1:{port}/0"} if redis else {})}
        with serving_process(env) as (client, pid):
            base = str(client.base_url).rstrip("/")
            asyncio.run(_drive(base, 5, payloads, seed=0))  # warm-up: imports, caches, first models
            if "load" in phases:
                progress(f"load: {load_seconds:.0f} s at concurrency {CONCURRENCY}")
                results["load"] = _summary(asyncio.run(_drive(base, load_seconds, payloads, seed=1)), load_seconds)
                progress(f"load: {results['load']['requests_per_s']} req/s, {results['load']['errors']} errors")
            if "soak" in phases:
                rss_start = _rss_mb(pid)
                progress(f"soak: {soak_seconds:.0f} s, RSS at start {rss_start:.0f} MB")
                soak = _summary(asyncio.run(_drive(base, soak_seconds, payloads, seed=2)), soak_seconds)
                rss_end = _rss_mb(pid)
                results["soak"] = {**soak, "rss_start_mb": round(rss_start), "rss_end_mb": round(rss_end),
                                   "rss_growth_pct": round((rss_end / rss_start - 1) * 100, 1)}
                progress(f"soak: RSS {rss_start:.0f} -> {rss_end:.0f} MB, {soak['errors']} errors")
            if "abuse" in phases:
                rss_before = _rss_mb(pid)
                progress(f"abuse: {abuse_seconds:.0f} s of the mix plus issue #16's requests")
                normal, abuse = asyncio.run(_abuse(base, abuse_seconds, payloads))
                results["abuse"] = {**_summary(normal, abuse_seconds), "abusive": abuse,
                                    "rss_before_mb": round(rss_before), "rss_after_mb": round(_rss_mb(pid))}
                progress(f"abuse: {results['abuse']['errors']} normal errors, RSS {rss_before:.0f} -> "
                         f"{results['abuse']['rss_after_mb']} MB")
            if "heavy" in phases:
                results["heavy_requests"] = _quiet_and_heavy(base, pid, payloads, heavy_seconds, progress)
            if redis and "fault" in phases:
                results["fault"] = _fault(base, payloads, fault_seconds, redis, port, work, progress)
                redis = results["fault"].pop("_server")
        if redis:
            redis.terminate()
            redis.wait(10)
    return results


def _fault(base: str, payloads: dict, seconds: float, redis: subprocess.Popen, port: int, work: str,
           progress: Callable[[str], None]) -> dict:
    """Load while Redis is stopped a third of the way in and started again at two thirds."""
    state: dict = {}

    def operator() -> None:
        time.sleep(seconds / 3)
        redis.kill()
        redis.wait()
        progress("fault: Redis stopped")
        time.sleep(seconds / 3)
        state["server"] = _redis_server(port, work)
        progress("fault: Redis started again")

    async def both() -> dict:
        return (await asyncio.gather(_drive(base, seconds, payloads, seed=3), asyncio.to_thread(operator)))[0]

    summary = _summary(asyncio.run(both()), seconds)
    progress(f"fault: {summary['errors']} errors")
    return {**summary, "_server": state.get("server")}
