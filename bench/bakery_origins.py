"""A real shop through its seasons: the french bakery's export at eight monthly origins, through HTTP (issue #26:
`auto` never loses to a simple baseline on a real shop, on more than one window).

The bakery benchmark (bench/bakery.py) scores the data README's one holdout, 28 days from 2022-09-03. A shop is
forecast every day of the year, through its winter, its Easter and its summer rush; one window can flatter or
sink a method. Here, at each month end from 2022-01-31 to 2022-08-31 (every origin with a year of history
before its 28 days but the first, January 2021 being the export's first month):
1. `POST /models/train` with the export unedited as a CSV upload (the request part of docs/sales.md), `as_of`
   the origin, `periods` 28, followed on GET /api/v1/jobs/{id}; a shop id per origin, on one real server with
   the default settings (only MODEL_DIR set).
2. One `POST /forecast` of the articles scored (`product_ids`), the same upload, `as_of` the origin, 28 days,
   `model` auto (the default); and the same for a shop id that never trained (the per-request path: the
   families fitted on the request's sales, every article of the export in one request).
3. Scored with bench/scoring.py on the 28 days after the origin, for the articles sold on at least 100 days up
   to it (`bakery.bakery_holdout` at that origin: daily units, negative totals clipped to 0, scales from each
   article's first sale), beside statsforecast's SeasonalNaive(7), AutoETS(7), TSB(0.1, 0.1), CrostonOptimized
   and WindowAverage(28) on the same split, each engine in a process of its own.
Reported: MASE per origin and engine, each origin's ratio of `auto` to the best reference, the mean over
origins, the origins where `auto` lost to a reference, and the share of the 28 days inside `auto`'s 80 and 95 %
intervals (one request per level) with their MSIS.
"""

import json
import tempfile
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from bench.accuracy_data import from_first_sale
from bench.bakery import CSV_OPTIONS, EXPORT, HORIZON, REFERENCES, SEASON, bakery_holdout, bakery_lines
from bench.isolated import in_own_process
from bench.payload_formats import PREFIX, wait_for_job
from bench.scoring import score
from tests.support.server import serving_process

ORIGINS = ("2022-01-31", "2022-02-28", "2022-03-31", "2022-04-30", "2022-05-31", "2022-06-30", "2022-07-31",
           "2022-08-31")
AUTO = "SmartShelf auto"
NEVER_TRAINED = "SmartShelf auto, never trained"
LEVELS = (80, 95)


def _post(client, path: str, part: dict, raw: bytes):
    response = client.post(f"{PREFIX}/{path}", data={"request": json.dumps(part)},
                           files={"sales": (EXPORT.name, raw, "application/gzip")})
    if response.status_code not in (200, 202):
        raise SystemExit(f"{path} at {part['as_of']}: {response.status_code} {response.text[:1000]}")
    return response


def _smartshelf(client, raw: bytes, origin: str, articles: list[str]) -> tuple[pd.DataFrame, dict]:
    """Train at `origin`, then one forecast of `articles`: the predictions (unique_id, ds, yhat) and timings."""
    shop = f"bakery-{origin}"
    started = time.perf_counter()
    accepted = _post(client, "models/train", {"shop_id": shop, "as_of": origin, "periods": HORIZON,
                                              "csv": CSV_OPTIONS}, raw)
    state, _ = wait_for_job(client, accepted.json()["job_id"])
    if state != "succeeded":
        raise SystemExit(f"training at {origin}: {state}")
    trained = time.perf_counter() - started
    pred, facts = _forecast(client, raw, origin, articles, shop)
    return pred, {"training_seconds": round(trained, 1), **facts}


def _forecast(client, raw: bytes, origin: str, articles: list[str], shop: str) -> tuple[pd.DataFrame, dict]:
    """A `/forecast` of `articles` for `shop` at `origin` per interval level: the predictions (unique_id, ds, yhat,
    lo80, hi80, lo95, hi95) and facts (the time is the two requests')."""
    started = time.perf_counter()
    levels = []
    for level in LEVELS:
        answer = _post(client, "forecast", {"shop_id": shop, "as_of": origin, "periods": HORIZON, "csv": CSV_OPTIONS,
                                            "confidence_interval": level / 100, "product_ids": articles}, raw).json()
        rows = [(f["product_id"], p["date"], p["predicted_qty"], p["lower_ci"], p["upper_ci"])
                for f in answer["forecasts"] for p in f["predictions"]]
        levels.append(pd.DataFrame(rows, columns=["unique_id", "ds", "yhat", f"lo{level}", f"hi{level}"]))
    pred = levels[0].merge(levels[1].drop(columns="yhat"), on=["unique_id", "ds"], how="outer")
    pred["ds"] = pd.to_datetime(pred["ds"])
    methods = pd.Series([f["method"] for f in answer["forecasts"]]).value_counts()
    return pred, {"forecast_seconds": round(time.perf_counter() - started, 1),
                  "served_by_shop_model": answer["meta"].get("shop_model") is not None,
                  "methods": {str(k): int(v) for k, v in methods.head(5).items()}}


def _intervals(scored: dict) -> dict:
    return {"coverage_80_95": [round(scored["coverage_80"], 1), round(scored["coverage_95"], 1)],
            "msis": round(scored["msis"], 2)}


def _mean_coverage(scored: list[dict]) -> list[float]:
    return [round(float(np.mean([part["coverage_80_95"][k] for part in scored])), 1) for k in (0, 1)]


def _references(model: str) -> dict:
    """One statsforecast engine at every origin (in a process of its own): MASE per origin."""
    from statsforecast import StatsForecast
    from statsforecast.models import TSB, AutoETS, CrostonOptimized, SeasonalNaive, WindowAverage

    lines = bakery_lines()
    built = {"naive": lambda: SeasonalNaive(SEASON), "ets": lambda: AutoETS(season_length=SEASON),
             "tsb": lambda: TSB(alpha_d=0.1, alpha_p=0.1), "croston": CrostonOptimized,
             "window": lambda: WindowAverage(28)}[model]
    out: dict[str, float] = {}
    started = time.perf_counter()
    for origin in ORIGINS:
        holdout = bakery_holdout(lines, origin)
        pred = StatsForecast(models=[built()], freq="D", n_jobs=1).forecast(df=from_first_sale(holdout.train),
                                                                          h=HORIZON)
        name = next(c for c in pred.columns if c not in ("unique_id", "ds"))
        out[origin] = score(holdout, pred.rename(columns={name: "yhat"}))["mase"]
    return {"mase": out, "seconds": round(time.perf_counter() - started, 1)}


def run(progress: Callable[[str], None] = print) -> dict:
    lines = bakery_lines()
    raw = EXPORT.read_bytes()
    ours: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as model_dir, serving_process({"MODEL_DIR": model_dir}) as (client, _):
        client.timeout = 600
        for origin in ORIGINS:
            holdout = bakery_holdout(lines, origin)
            articles = sorted(holdout.train["unique_id"].unique())
            pred, facts = _smartshelf(client, raw, origin, articles)
            scored = score(holdout, pred)  # an article left out would score as zeros: counted, never silent
            alone, alone_facts = _forecast(client, raw, origin, articles, f"never-trained-{origin}")
            untrained = score(holdout, alone)
            ours[origin] = {"mase": scored["mase"], "articles": len(articles),
                            "missing_predictions": scored["missing_predictions"] + untrained["missing_predictions"],
                            **_intervals(scored), **facts,
                            NEVER_TRAINED: {"mase": untrained["mase"], **_intervals(untrained), **alone_facts}}
            progress(f"bakery origins: {origin}: auto MASE {ours[origin]['mase']:.3f}, never trained "
                     f"{untrained['mase']:.3f} ({len(articles)} articles)")
    references: dict[str, dict] = {}
    for name, model in REFERENCES.items():
        progress(f"bakery origins: {name}")
        references[name] = in_own_process(_references, model)
    per_origin = {}
    for origin in ORIGINS:
        best = min(references, key=lambda k: references[k]["mase"][origin])
        mase, alone = ours[origin]["mase"], ours[origin][NEVER_TRAINED]["mase"]
        per_origin[origin] = {"best_reference": best,
                              "ratio_to_best": round(mase / references[best]["mase"][origin], 3),
                              "lost_to": [k for k in references if references[k]["mase"][origin] < mase],
                              "never_trained_ratio": round(alone / references[best]["mase"][origin], 3),
                              "never_trained_lost_to": [k for k in references if references[k]["mase"][origin] < alone]}
    coverage = {AUTO: _mean_coverage([ours[o] for o in ORIGINS]),
                NEVER_TRAINED: _mean_coverage([ours[o][NEVER_TRAINED] for o in ORIGINS])}
    means = {AUTO: float(np.mean([ours[o]["mase"] for o in ORIGINS])),
             NEVER_TRAINED: float(np.mean([ours[o][NEVER_TRAINED]["mase"] for o in ORIGINS]))} | {
        name: float(np.mean(list(ref["mase"].values()))) for name, ref in references.items()}
    return {"origins": list(ORIGINS), "horizon": HORIZON, "smartshelf": ours, "references": references,
            "per_origin": per_origin, "mean_mase": {k: round(v, 4) for k, v in means.items()},
            "mean_coverage_80_95": coverage,
            "origins_lost": sum(bool(p["lost_to"]) for p in per_origin.values()),
            "origins_lost_never_trained": sum(bool(p["never_trained_lost_to"]) for p in per_origin.values())}
