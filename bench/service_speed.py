"""Service-time and end-to-end HTTP benchmarks of at-risk, insights and promotions.

Service time = validated request model -> response model, in process. End to end = a real
uvicorn server on 127.0.0.1, the JSON body posted with httpx. The split shows how much of the
end-to-end time is JSON parsing (pydantic-core, as the routes do) + validation and response
serialisation. Each endpoint is also
timed against the conventional pandas implementation (bench/references.py) on the same rows.

The standard at-risk payload reads the forecast as the route does (the items with stock and a sell-by day,
through `forecast_read.shop_forecaster` with an in-memory cache and a temporary model store): its first call
trains that forecast and is timed on its own (`first_call_ms`); the repeated calls find it cached. The
scaling curves time the service without a forecaster (the recent sales rate), the rules' own cost.
"""

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np
import pydantic_core

from app.config import Settings
from app.schemas.at_risk import AtRiskRequest
from app.schemas.insights import InsightsRequest
from app.schemas.promotions import PromotionsRequest
from app.services.analytics.insights import summarise_sales
from app.services.decisions.at_risk import find_at_risk
from app.services.decisions.forecast_read import (
    shop_forecaster,
)
from app.services.decisions.promotions import plan_promotions
from app.utils.cache import MemoryCache
from app.utils.work_budget import WorkBudget
from bench import references
from bench.data import daily_panel, sales_rows
from tests.support.server import serving

SETTINGS = Settings(_env_file=None, max_payload_rows=10_000_000, max_pairs=10_000_000)  # type: ignore[call-arg]
AUDIENCES = ["families", "students", "seniors", "everyone", "athletes"]
CATEGORIES = [["produce", "fresh"], ["dairy"], ["beverages", "energy"], ["snacks"], ["bakery"], ["health"]]


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Median and p95 wall time in ms of `repeat` calls (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 3),
            "p95_ms": round(samples[min(len(samples) - 1, int(0.95 * len(samples)))], 3)}


def at_risk_payload(n_products: int, days: int) -> dict:
    units, dates = daily_panel(n_products, days)
    rng = np.random.default_rng(0)
    rate = units.mean(axis=1)
    as_of = dates[-1].date()
    inventory = [
        {"product_id": f"p{k:06d}", "sku": f"SKU{k:06d}", "name": f"Product {k}",
         "quantity": float(round(rate[k] * rng.uniform(0.1, 20))),
         "expiry_date": (as_of + timedelta(days=int(rng.integers(0, 40)))).isoformat() if k % 2 else None,
         "price": 2.5, "cost": 1.2}
        for k in range(n_products)
    ]
    return {"shop_id": "bench", "inventory": inventory, "sales": sales_rows(units, dates), "as_of": as_of.isoformat()}


def insights_payload(n_rows: int) -> dict:
    days = 90
    n_products = max(1, n_rows // days)
    units, dates = daily_panel(n_products, days)
    return {"shop_id": "bench", "sales": sales_rows(units, dates), "granularity": "daily", "top_k": 10,
            "range": {"start": dates[0].date().isoformat(), "end": dates[-1].date().isoformat()}}


def promotions_payload(n_items: int, n_events: int) -> dict:
    as_of = date(2017, 12, 1)
    rng = np.random.default_rng(1)
    items = [{"product_id": f"p{k:06d}", "name": f"Item {k}", "quantity": float(rng.integers(5, 200)),
              "expiry_date": (as_of + timedelta(days=int(rng.integers(1, 30)))).isoformat(), "price": 4.0,
              "cost": 2.0, "categories": CATEGORIES[k % len(CATEGORIES)], "avg_daily_sales": float(rng.uniform(0.5, 8))}
             for k in range(n_items)]
    events = [{"id": f"e{j}", "date": (as_of + timedelta(days=int(j % 28))).isoformat(), "title": f"Event {j}",
               "audience": AUDIENCES[j % len(AUDIENCES)]} for j in range(n_events)]
    return {"shop_id": "bench", "items": items, "calendar_events": events, "as_of": as_of.isoformat()}


ENDPOINTS: dict[str, tuple[type, Callable[[Any], Any]]] = {
    "at-risk": (AtRiskRequest, lambda r: find_at_risk(r, SETTINGS)),
    "insights": (InsightsRequest, lambda r: summarise_sales(r, WorkBudget(SETTINGS))),
    "promotions": (PromotionsRequest, lambda r: plan_promotions(r, SETTINGS)),
}


def reference(path: str, payload: dict) -> Callable[[], Any]:
    if path == "at-risk":
        return lambda: references.at_risk_pandas(payload["inventory"], payload["sales"], payload["as_of"])
    if path == "insights":
        return lambda: references.insights_pandas(payload["sales"], payload["range"]["start"], payload["range"]["end"])
    return lambda: references.promotions_pandas(payload["items"], payload["calendar_events"], payload["as_of"])


def at_risk_with_forecast(model_dir: str) -> Callable[[AtRiskRequest], Any]:
    """At-risk as the route runs it: reading the forecast through a cache and a model store of its own."""
    settings = SETTINGS.model_copy(update={"model_dir": model_dir})
    forecaster = shop_forecaster(settings, MemoryCache(), "bench")
    return lambda r: find_at_risk(r, settings, None, forecaster)


def _as_new(request: Any) -> Any:
    """The validated request as a fresh one: what the handler reads once and keeps is forgotten, so every timed
    call pays for it as a caller's request does. Plain sales rows are read into columns while validated (SaleRows,
    since 32df457): that reading is in `parse_validate`, not in the service time."""
    if hasattr(request, "row_cache"):
        request.row_cache.clear()
    return request


def in_process(path: str, payload: dict, repeat: int, service: Callable[[Any], Any] | None = None) -> dict:
    """Service time (after a first call, timed apart), parse + validate, serialise and the pandas reference;
    `service` replaces the endpoint's default one."""
    model, default = ENDPOINTS[path]
    service = service or default
    body = json.dumps(payload).encode()
    request = model.model_validate(payload)
    started = time.perf_counter()
    response = service(request)
    first_ms = (time.perf_counter() - started) * 1000
    service_time = timed(lambda: service(_as_new(request)), repeat)
    parse = timed(lambda: model.model_validate(pydantic_core.from_json(body)), max(3, repeat // 4))
    serialise = timed(lambda: response.model_dump_json(), max(3, repeat // 4))
    ref = timed(reference(path, payload), max(3, repeat // 4))
    return {"service": service_time, "parse_validate": parse, "serialise": serialise, "pandas_reference": ref,
            "speedup_vs_pandas": round(ref["median_ms"] / service_time["median_ms"], 2),
            "body_mb": round(len(body) / 1e6, 2), "first_call_ms": round(first_ms, 1)}


def end_to_end(payloads: dict[str, dict], repeat: int) -> dict[str, dict]:
    """Median/p95 of POSTs to a real uvicorn server on loopback (a model store of its own), after a first
    POST timed apart (`first_call_ms`)."""
    results = {}
    with tempfile.TemporaryDirectory() as model_dir, serving({"MODEL_DIR": model_dir}) as client:  # defaults
        for path, payload in payloads.items():
            body = json.dumps(payload).encode()

            def post(path: str = path, body: bytes = body) -> None:
                response = client.post(f"/api/v1/smart-shelf/{path}", content=body,
                                       headers={"content-type": "application/json"})
                response.raise_for_status()

            started = time.perf_counter()
            post()
            first_ms = (time.perf_counter() - started) * 1000
            results[path] = {**timed(post, repeat), "first_call_ms": round(first_ms, 1)}
    return results


def run(progress: Callable[[str], None] = print) -> dict:
    progress("service speed: building payloads from store-item data")
    standard = {"at-risk": at_risk_payload(1000, 90), "insights": insights_payload(10_000),
                "promotions": promotions_payload(1000, 50)}
    results: dict[str, Any] = {"standard": {}, "scaling": {}}
    with tempfile.TemporaryDirectory() as model_dir:
        services = {"at-risk": at_risk_with_forecast(model_dir)}
        for path, payload in standard.items():
            progress(f"service speed: {path} (standard payload)")
            results["standard"][path] = in_process(path, payload, repeat=30, service=services.get(path))
    progress("service speed: end to end over HTTP")
    for path, timing in end_to_end(standard, repeat=20).items():
        results["standard"][path]["http"] = timing
    curves = {
        "at-risk": [(n, lambda n=n: at_risk_payload(n, 10)) for n in (1_000, 10_000)],  # 100,000 x 364: over budget
        "insights": [(n, lambda n=n: insights_payload(n)) for n in (10_000, 100_000, 1_000_000)],
        "promotions": [(n, lambda n=n: promotions_payload(n, 50)) for n in (1_000, 10_000)],  # 100,000 x 364: over
    }
    for path, points in curves.items():
        results["scaling"][path] = []
        for size, build in points:
            progress(f"service speed: {path} scaling, size {size}")
            payload = build()
            model, service = ENDPOINTS[path]
            request = model.model_validate(payload)
            rows = sum(len(v) for v in payload.values() if isinstance(v, list))
            timing = timed(lambda service=service, request=request: service(_as_new(request)), 3)
            results["scaling"][path].append({"size": size, "rows": rows, **timing,
                                             "us_per_row": round(timing["median_ms"] * 1000 / rows, 3)})
    return results
