"""Forecast accuracy through HTTP, beside statsforecast and mlforecast in the same run, on real data.

Holdouts (bench/accuracy_data.py, ../shared/data/README.md): store-item (90 days), walmart-weekly
(13 weeks), m5-tx3-foods3 (28 days). SmartShelf is measured the way a backend calls it: a real
uvicorn server with the default settings (no Redis, the embedded default), then
1. `POST /models/train` with the whole training catalogue as series (revenue too where the data has
   prices, and the data's event dates), waited for on the jobs API;
2. `POST /forecast` one product per request for every product, each request carrying that product's
   history, once asking for the 80 % and once for the 95 % interval (the point forecast is the same).
Every engine is also scored per sales-rate band (bench/accuracy_bands.py: quintiles of the products'
recent rate at the training end, as the shop model bands them).
A 429 is honoured by waiting its Retry-After, as a caller would (the default limit is 1,200 requests a
minute); waits are reported, not counted in the request times. Each reference runs in a process of its
own so its wall time and peak memory (max RSS) are its own; SmartShelf's peak is the server's.
"""

import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import numpy as np
import pandas as pd

from bench.accuracy_bands import Banding, band_scores, banding, restricted, spread_sample
from bench.accuracy_data import HOLDOUTS, Holdout, from_first_sale
from bench.isolated import in_own_process
from bench.payload_formats import PREFIX, compact, percentile, server_env, server_timing, wait_for_job
from bench.scoring import score
from tests.support.server import serving_process

LEVELS = (80, 95)
SMARTSHELF = "SmartShelf shop model"
SMARTSHELF_DRIVERS = "SmartShelf shop model + drivers"
PER_REQUEST = "SmartShelf per request (no shop model)"
PER_REQUEST_TOGETHER = "SmartShelf per request, all in one request (no shop model)"
PER_REQUEST_PRODUCTS = 60


# --- SmartShelf, through HTTP -----------------------------------------------------------------------

def _series(holdout: Holdout) -> dict[str, dict]:
    """The training catalogue as the contract's series, one per product (qty, and revenue when known)."""
    train = holdout.train.sort_values(["unique_id", "ds"])
    if holdout.revenue is not None:
        train = train.merge(holdout.revenue, on=["unique_id", "ds"], how="left")
    series: dict[str, dict] = {}
    for product, group in train.groupby("unique_id", sort=False):
        entry = {"product_id": str(product), "start": group["ds"].iloc[0].date().isoformat(),
                 "qty": [int(v) if float(v).is_integer() else float(v) for v in group["y"]]}
        if holdout.revenue is not None:
            entry["revenue"] = [None if np.isnan(v) else float(v) for v in group["revenue"]]
        series[entry["product_id"]] = entry
    return series


def _post(client: httpx.Client, path: str, body: bytes, waits: list[float]) -> httpx.Response:
    while True:
        response = client.post(f"{PREFIX}/{path}", content=body, headers={"content-type": "application/json"})
        if response.status_code != 429:
            return response
        pause = float(response.headers.get("retry-after", "1"))
        waits.append(pause)
        time.sleep(pause)


def _vm_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


ALL_DRIVERS = frozenset({"prices", "events", "benefit_days", "promotions"})


def smartshelf(holdout: Holdout, progress: Callable[[str], None], drivers: frozenset[str] = frozenset(),
               levels: tuple[int, ...] = LEVELS, products: list[str] | None = None, together: bool = False) -> dict:
    """Train the shop model over HTTP, then one /forecast per product and level. `drivers` (of ALL_DRIVERS)
    says what every request also carries: the holdout's prices (the horizon's as planned prices), its events
    with their types (else their dates alone), its benefit days, its promotions. With `products`, no shop model:
    only those products are forecast, each from its own request alone (a shop that never trained), or with
    `together` all of them in one request per level (a shop sending its catalogue)."""
    series = _series(holdout)
    train = products is None
    events = [e for e in holdout.typed_events or []
              if ("benefit_days" if e["type"] == "benefit_day" else "events") in drivers]
    if "events" not in drivers:
        events += [{"date": d} for d in holdout.events]
    prices = (holdout.prices or {}) if "prices" in drivers else {}
    promotions = (holdout.promotions or {}) if "promotions" in drivers else {}
    common = {"shop_id": "bench", "periods": holdout.horizon, "calendar_events": events,
              **({"frequency": "weekly"} if holdout.weekly else {})}
    waits: list[float] = []
    rows: list[tuple] = []
    http_ms: list[float] = []
    service_ms: list[float] = []
    methods: Counter = Counter()
    product_methods: dict[str, str] = {}
    warnings: Counter = Counter()
    served_by_model = 0
    with tempfile.TemporaryDirectory() as model_dir, serving_process(server_env(model_dir)) as (client, pid):
        client.timeout = httpx.Timeout(300)
        card, train_seconds = (_train(client, holdout, common, series, prices, promotions, waits, progress) if train
                               else ({}, 0.0))
        started = time.perf_counter()
        wanted = list(series) if train else list(products or [])
        for group in [wanted] if together and not train else [[p] for p in wanted]:
            own = {**({"prices": [prices[p] for p in group if p in prices]} if set(group) & set(prices) else {}),
                   **({"promotions": [span for p in group for span in promotions.get(p, [])]}
                      if set(group) & set(promotions) else {})}
            for level in levels:
                request = compact({**common, "series": [series[p] for p in group], "confidence_interval": level / 100,
                                   **own})
                sent = time.perf_counter()
                response = _post(client, "forecast", request, waits)
                http_ms.append((time.perf_counter() - sent) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{group[0]}: {response.status_code} {response.text[:500]}")
                service_ms.append(server_timing(response)["total"])
                answer = response.json()
                warnings.update(w["code"] for w in answer.get("warnings", []))
                for forecast in answer["forecasts"]:
                    product = forecast["product_id"]
                    if level == levels[0]:
                        methods[forecast["method"]] += 1
                        product_methods[product] = forecast["method"]
                        served_by_model += answer["meta"].get("shop_model") is not None
                    rows += [(product, p["date"], level, p["predicted_qty"], p["lower_ci"], p["upper_ci"])
                             for p in forecast["predictions"]]
        forecast_seconds = time.perf_counter() - started - sum(waits)
        peak_mb = _vm_peak_mb(pid)
    frame = pd.DataFrame(rows, columns=["unique_id", "ds", "level", "yhat", "lo", "hi"])
    frame["ds"] = pd.to_datetime(frame["ds"])
    pred = frame[frame.level == levels[0]][["unique_id", "ds", "yhat"]]
    for level in levels:
        bounds = frame[frame.level == level][["unique_id", "ds", "lo", "hi"]]
        pred = pred.merge(bounds.rename(columns={"lo": f"lo{level}", "hi": f"hi{level}"}), on=["unique_id", "ds"])
    return {"pred": pred, "seconds": train_seconds + forecast_seconds, "peak_mb": peak_mb,
            "train_seconds": round(train_seconds, 1), "forecast_seconds": round(forecast_seconds, 1),
            "requests": len(http_ms), "rate_limit_wait_seconds": round(sum(waits), 1),
            "http_ms": {"p50": round(statistics.median(http_ms), 1), "p95": round(percentile(http_ms, 0.95), 1)},
            "service_ms": {"p50": round(statistics.median(service_ms), 1),
                           "p95": round(percentile(service_ms, 0.95), 1)},
            "served_by_shop_model": served_by_model, "methods": dict(methods.most_common(6)),
            "product_methods": product_methods,
            "warnings": dict(warnings),
            **({"card_held_out": card["held_out"]["scores"], "card_windows": card["held_out"].get("windows"),
                "card_earlier": card["held_out"].get("earlier_windows", []),
                "card_bands": card["held_out"].get("bands"), "card_drivers": card.get("drivers"),
                "card_training_seconds": card["training_seconds"]} if card else {})}


def _train(client: httpx.Client, holdout: Holdout, common: dict, series: dict[str, dict], prices: dict,
           promotions: dict, waits: list[float], progress: Callable[[str], None]) -> tuple[dict, float]:
    """`POST /models/train` with the whole catalogue, waited for on the jobs API -> (the model card, seconds)."""
    started = time.perf_counter()
    body = compact({**common, "series": list(series.values()),
                    **({"prices": list(prices.values())} if prices else {}),
                    **({"promotions": [p for spans in promotions.values() for p in spans]} if promotions else {})})
    accepted = _post(client, "models/train", body, waits)
    if accepted.status_code != 202:
        raise SystemExit(f"training refused: {accepted.status_code} {accepted.text[:500]}")
    job_id = accepted.json()["job_id"]
    state, _ = wait_for_job(client, job_id)
    seconds = time.perf_counter() - started
    if state != "succeeded":
        raise SystemExit(f"training job {state}: {client.get(f'/api/v1/jobs/{job_id}').text[:2000]}")
    card = client.get(f"{PREFIX}/models/bench", params={"frequency": "weekly" if holdout.weekly else "daily"}).json()
    progress(f"accuracy: {holdout.key}: trained in {seconds:.1f} s, {len(series)} products; forecasting")
    return card, seconds


# --- references, each in a process of its own ---------------------------------------------------------

def _reference_train(holdout: Holdout) -> pd.DataFrame:
    return from_first_sale(holdout.train) if holdout.from_first_sale else holdout.train


def _statsforecast(holdout: Holdout, model: str) -> dict:
    from statsforecast import StatsForecast
    from statsforecast.models import TSB, AutoETS, SeasonalNaive, WindowAverage

    m = holdout.season
    built = {"naive": lambda: SeasonalNaive(m), "ets": lambda: AutoETS(season_length=m),
             "tsb": lambda: TSB(alpha_d=0.1, alpha_p=0.1), "window": lambda: WindowAverage(28)}[model]()
    intervals = model in ("naive", "ets")
    engine = StatsForecast(models=[built], freq=holdout.freq, n_jobs=2)
    started = time.perf_counter()
    pred = engine.forecast(df=_reference_train(holdout), h=holdout.horizon, **({"level": list(LEVELS)}
                                                                               if intervals else {}))
    seconds = time.perf_counter() - started
    name = next(c for c in pred.columns if c not in ("unique_id", "ds") and "-lo-" not in c and "-hi-" not in c)
    renames = {name: "yhat"} | {f"{name}-{side}-{level}": f"{side}{level}" for side in ("lo", "hi") for level in LEVELS}
    return {"pred": pred.rename(columns=renames), "seconds": seconds}


def _mlforecast(holdout: Holdout) -> dict:
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean

    daily = not holdout.weekly
    lags = [1, 7, 14, 28] if daily else [1, 2, 4, 52]
    windows = [7, 28] if daily else [4, 13]
    objective = {"objective": "tweedie"} if holdout.intermittent else {}
    engine = MLForecast(
        models={"lgbm": lgb.LGBMRegressor(verbosity=-1, random_state=0, n_jobs=2, **objective)}, freq=holdout.freq,
        lags=lags, lag_transforms={lag: [RollingMean(window_size=w) for w in windows] for lag in lags[:2]},
        date_features=["dayofweek", "month", "day"] if daily else ["week", "month"],
    )
    started = time.perf_counter()
    engine.fit(_reference_train(holdout))
    pred = engine.predict(holdout.horizon).rename(columns={"lgbm": "yhat"})
    return {"pred": pred, "seconds": time.perf_counter() - started}


REFERENCES: dict[str, Callable[[Holdout], dict]] = {
    "statsforecast SeasonalNaive": lambda h: _statsforecast(h, "naive"),
    "statsforecast AutoETS": lambda h: _statsforecast(h, "ets"),
    "statsforecast TSB(0.1, 0.1)": lambda h: _statsforecast(h, "tsb"),
    "statsforecast WindowAverage(28)": lambda h: _statsforecast(h, "window"),
    "mlforecast LightGBM": _mlforecast,
}


def _reference_run(engine: str, key: str) -> dict:
    return REFERENCES[engine](HOLDOUTS[key]())


def run_reference(engine: str, key: str) -> dict:
    """A reference engine on a holdout, in a process of its own."""
    return in_own_process(_reference_run, engine, key)


def rounded(values: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}


def run(progress: Callable[[str], None] = print, holdouts: list[str] | None = None) -> dict:
    """Every holdout (or the named ones); the shop model also with drivers where the holdout has them; the
    per-request path (no shop model) on a sample of the products, beside every engine on the same products."""
    results: dict[str, dict] = {}
    for key in holdouts or list(HOLDOUTS):
        holdout = HOLDOUTS[key]()
        bands = banding(holdout)
        engines: dict[str, dict] = {}
        preds: dict[str, pd.DataFrame] = {}
        variants = [(SMARTSHELF, frozenset())] + ([(SMARTSHELF_DRIVERS, ALL_DRIVERS)] if holdout.typed_events else [])
        for name, drivers in variants:
            progress(f"accuracy: {key}: {name}")
            outcome = smartshelf(holdout, progress, drivers)
            preds[name] = pred = outcome.pop("pred")
            outcome.pop("product_methods")
            engines[name] = rounded({**score(holdout, pred), "seconds": round(outcome.pop("seconds"), 1),
                                      "peak_mb": round(outcome.pop("peak_mb")), **outcome,
                                      "bands": band_scores(holdout, pred, bands)})
            progress(f"accuracy: {key}: {name}: {json.dumps(engines[name])[:600]}")
        for engine in REFERENCES:
            progress(f"accuracy: {key}: {engine}")
            outcome = run_reference(engine, key)
            preds[engine] = outcome["pred"]
            engines[engine] = rounded({**score(holdout, outcome["pred"]), "seconds": round(outcome["seconds"], 1),
                                        "peak_mb": round(outcome["peak_mb"]),
                                        "bands": band_scores(holdout, outcome["pred"], bands)})
            progress(f"accuracy: {key}: {engine}: {engines[engine]}")
        results[key] = {"name": holdout.name, "season": holdout.season, "horizon": holdout.horizon,
                        "band_weights": [round(float(w), 4) for w in bands.weight], "engines": engines,
                        "per_request": _per_request(holdout, bands, preds, progress)}
    return results


def _per_request(holdout: Holdout, bands: Banding, preds: dict[str, pd.DataFrame],
                 progress: Callable[[str], None]) -> dict:
    """The per-request path (a shop without a shop model: each /forecast fits and chooses on its products' own
    history) on PER_REQUEST_PRODUCTS products spread over the sales-rate bands, one request each and all in one
    request (a shop sending its catalogue: the interval bands pool the products), and every engine of `preds`
    scored on the same products: the path's backtests make each request far dearer than a shop model's."""
    sample = spread_sample(bands, PER_REQUEST_PRODUCTS)
    products = sample.band.index.tolist()
    sub = restricted(holdout, products)
    facts = ("forecast_seconds", "requests", "http_ms", "service_ms", "methods", "warnings")
    engines = {}
    for name, together in ((PER_REQUEST, False), (PER_REQUEST_TOGETHER, True)):
        progress(f"accuracy: {holdout.key}: {name} on {len(products)} products")
        outcome = smartshelf(holdout, progress, products=products, together=together)
        engines[name] = rounded({**score(sub, outcome["pred"]), "bands": band_scores(sub, outcome["pred"], sample),
                                 **{k: outcome[k] for k in facts}})
    for name, pred in preds.items():
        pred = pred[pred["unique_id"].isin(products)]
        engines[name] = rounded({**score(sub, pred), "bands": band_scores(sub, pred, sample)})
    progress(f"accuracy: {holdout.key}: {PER_REQUEST}: {json.dumps(engines[PER_REQUEST])[:600]}")
    return {"products": len(products), "engines": engines}
