"""The per-request path's accuracy (a shop without a shop model), quickly: for trying a change to the local families
before the full accuracy benchmark (bench/accuracy.py, about 28 minutes, most of it the shop model and the
references on every product).

Per holdout, the products the benchmark's per-request block samples (`spread_sample`, 60 spread over the
sales-rate bands) are forecast the way that block forecasts them: a real server of this checkout, one `/forecast`
per product and level (80 %, 95 %), each carrying that product's history alone (`bench.accuracy.smartshelf`).
The bakery's 66 articles are forecast as bench/bakery.py sends them (each article's own lines of the export as
downloaded, closed days as detected), by a server that never trained, so every answer is the per-request path.
Beside them, the benchmark's references (bench/accuracy.py, bench/bakery.py) on the same products: the local
ones fitted on those products alone (each fits a product on its own, so the figures are the full run's),
mlforecast LightGBM on the whole set (a global model); their forecasts are kept in REFERENCE_CACHE between runs.
Printed per set: MASE (WRMSSE on M5) and the ratio to the best reference, coverage, MSIS, the methods chosen,
and the server's time per request (p50, p95, sum: the per-request fit).

With `--together` every product of the sample goes in one request per level instead (a shop sending its catalogue
without a shop model: the bands pool the products, `app.models.rate_bands`); the bakery then uploads its whole export
once, as bench/bakery_origins.py's "never trained" request does.

Usage: python -m bench.per_request [store-item|m5-tx3-foods3|walmart-weekly|french-bakery ...] [--save DIR]
[--products N] [--together]
(--save: each set's forecasts and per-product methods to DIR/<set>.parquet, for comparing two checkouts;
--products: N products spread over the bands instead of the benchmark's sample, more than the set has = all of
them: the sample's dozen a band is coarse)
"""

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx2 as httpx
import pandas as pd

from bench import accuracy, bakery, bakery_origins
from bench.accuracy_bands import banding, restricted, spread_sample
from bench.accuracy_data import HOLDOUTS, Holdout
from bench.scoring import score
from tests.support.server import serving_process

REFERENCE_CACHE = Path(tempfile.gettempdir()) / "smartshelf-per-request-references"
BAKERY = "french-bakery"
LOCAL = {"statsforecast SeasonalNaive": "naive", "statsforecast AutoETS": "ets",
         "statsforecast TSB(0.1, 0.1)": "tsb", "statsforecast WindowAverage(28)": "window"}


def _cached(key: str, engine: str, make: "callable") -> pd.DataFrame:
    path = REFERENCE_CACHE / f"{key}--{engine.replace(' ', '_').replace('/', '_')}.parquet"
    if not path.exists():
        REFERENCE_CACHE.mkdir(parents=True, exist_ok=True)
        make().to_parquet(path)
    return pd.read_parquet(path)


def references(holdout: Holdout, products: list[str]) -> dict[str, pd.DataFrame]:
    """The accuracy benchmark's references' forecasts of `products`."""
    sub = restricted(holdout, products)
    out = {name: _cached(f"{holdout.key}-{len(products)}", name,  # the local ones fit the sample's products alone
                         lambda model=model: accuracy._statsforecast(sub, model)["pred"])
           for name, model in LOCAL.items()}
    out["mlforecast LightGBM"] = _cached(holdout.key, "mlforecast LightGBM",
                                         lambda: accuracy._mlforecast(holdout)["pred"])
    return {name: pred[pred["unique_id"].isin(products)] for name, pred in out.items()}


def _bakery_run(together: bool = False) -> tuple[Holdout, list[str], dict, dict[str, pd.DataFrame]]:
    lines = bakery.bakery_lines()
    holdout = bakery.bakery_holdout(lines)
    articles = sorted(holdout.train["unique_id"].unique())
    with tempfile.TemporaryDirectory() as model_dir, serving_process({"MODEL_DIR": model_dir}) as (client, _):
        client.timeout = httpx.Timeout(600)
        if together:
            pred, facts = bakery_origins._forecast(client, bakery.EXPORT.read_bytes(), bakery.TRAIN_END, articles,
                                                   "never_trained")
            outcome = {"pred": pred, "product_methods": {}, "methods": facts["methods"], "service_ms": {},
                       "forecast_seconds": facts["forecast_seconds"]}
        else:
            uploads, later = bakery.article_uploads(bakery.EXPORT.read_bytes(), articles)
            outcome = bakery._forecasts(client, uploads, later, "never_trained", {}, [])
    refs = {name: _cached(BAKERY, name, lambda model=model: bakery._reference(model)["pred"])
            for name, model in bakery.REFERENCES.items()}
    return holdout, articles, outcome, refs


def run(key: str, saved: Path | None = None, count: int = accuracy.PER_REQUEST_PRODUCTS,
        together: bool = False) -> dict:
    """The per-request path on `key`'s sample of about `count` products, scored; with `saved`, its forecasts (and
    methods) are written there; with `together`, all of them in one request."""
    if key == BAKERY:
        holdout, products, outcome, refs = _bakery_run(together)
    else:
        holdout = HOLDOUTS[key]()
        products = spread_sample(banding(holdout), count).band.index.tolist()
        outcome = accuracy.smartshelf(holdout, lambda _: None, products=products, together=together)
        refs = references(holdout, products)
    sub = restricted(holdout, products)
    if saved:
        saved.mkdir(parents=True, exist_ok=True)
        methods = pd.Series(outcome["product_methods"], name="method")
        outcome["pred"].merge(methods, left_on="unique_id", right_index=True, how="left").to_parquet(
            saved / f"{key}.parquet")
    metric = "wrmsse" if holdout.weights is not None else "mase"
    ours = score(sub, outcome["pred"])
    ref_scores = {name: score(sub, pred)[metric] for name, pred in refs.items()}
    best = min(ref_scores, key=ref_scores.__getitem__)
    return {"holdout": key, "products": len(products), "together": together, "metric": metric,
            "per_request": round(ours[metric], 4),
            "best_reference": best, "ratio": round(ours[metric] / ref_scores[best], 3),
            "coverage_80_95": [round(ours["coverage_80"], 1), round(ours["coverage_95"], 1)],
            "msis": round(ours["msis"], 2), "references": {k: round(v, 4) for k, v in ref_scores.items()},
            "methods": dict(Counter(outcome["methods"]).most_common(6)),
            "service_ms": outcome["service_ms"], "forecast_seconds": outcome["forecast_seconds"]}


def main(args: list[str]) -> None:
    options = {flag: args[args.index(flag) + 1] for flag in ("--save", "--products") if flag in args}
    saved = Path(options["--save"]) if "--save" in options else None
    count = int(options.get("--products", accuracy.PER_REQUEST_PRODUCTS))
    together = "--together" in args
    keys = [a for a in args if a not in options and a not in options.values() and a != "--together"]
    for key in keys or ["store-item", "m5-tx3-foods3", "walmart-weekly", BAKERY]:
        started = time.perf_counter()
        result = run(key, saved, count, together)
        result["bench_seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
