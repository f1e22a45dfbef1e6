"""A real shop's own export, as downloaded, through HTTP: the french bakery (issue #23's benchmark).

What a shop owner (or the backend in front of one) does, on a real uvicorn server with the default
settings (only MODEL_DIR set: no limit raised, no Redis):
1. `POST /models/train` with ../shared/data/french-bakery/sales_as_downloaded.csv.gz unedited as a CSV
   upload (the request part of docs/sales.md, "A till's export as it comes"), `as_of` = 2022-09-02 (the
   training end of the data README's standard holdout), `periods` 28. The file runs to 2022-09-30: `as_of`
   must drop the later lines (`future_sales`); the count reported is checked against the file's own.
   The job is followed on GET /api/v1/jobs/{id}.
2. One `POST /forecast` per article of the README's 66 (sold on at least 100 days of the training part)
   and interval level (80 %, 95 %), `as_of` 2022-09-02, `periods` 28: each request uploads that article's
   own lines of the same export (header and lines as downloaded, test window included: `as_of` cuts it)
   with the same request part and `product_id`. 429s are honoured by waiting their Retry-After.
3. Scored on the holdout (2022-09-03 .. 2022-09-30, daily units per article from the data's clean
   `sales.csv.gz`, negative totals clipped to 0, days without a line = 0) with bench/scoring.py, beside the
   README's references computed its way (statsforecast SeasonalNaive(7), AutoETS(7), TSB(0.1, 0.1),
   CrostonOptimized, WindowAverage(28), from each article's first sale, closed days as 0), each in a
   process of its own.
4. Closed days twice: "as detected" (the requests send none) and "as sent" (training and every forecast
   carry `closed_weekdays` / `closed_dates`, derived from the training part: the dates on which no article
   sold, the weekdays on which none sold in the last 28 training days). Until the service has those fields
   it answers 422 (extra inputs are not permitted) and the variant is skipped with that note.
5. Ingestion: the server's `Server-Timing` parse of the training upload and of `POST /insights` with the
   same upload, beside pandas `read_csv` of the same gzip alone (the floor) and, in this process (labelled
   so), `read_sales_csv` + `clean_sales` + the daily grid.
6. The training job's time and the model card's held-out `auto` row (GET /models/{shop_id}).
7. Every engine also per sales-rate band, as the accuracy benchmark bands its sets (`bench/accuracy_bands.py`:
   the quintiles, fewer for few articles, of the articles' mean over their last 56 training days from their
   first sale; weight = articles).
The data (or any slice of it) is only read here, never written anywhere.
"""

import gzip
import io
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import numpy as np
import pandas as pd

from bench.accuracy import rounded
from bench.accuracy_bands import band_scores, banding
from bench.accuracy_data import Holdout, from_first_sale
from bench.data import SHARED_DATA
from bench.isolated import in_own_process
from bench.payload_formats import PREFIX, percentile, server_timing, wait_for_job
from bench.scoring import score
from bench.service_speed import timed
from tests.support.server import serving_process

BAKERY = SHARED_DATA / "french-bakery"
EXPORT = BAKERY / "sales_as_downloaded.csv.gz"  # what a shop owner uploads
LINES = BAKERY / "sales.csv.gz"  # the same lines, clean: the holdout's truth and the references' input
TRAIN_END = "2022-09-02"
HORIZON, SEASON, MIN_DAYS = 28, 7, 100
LEVELS = (80, 95)
CSV_OPTIONS = {"columns": {"product_id": "article", "qty": "Quantity", "unit_price": "unit_price", "date": "date"},
               "decimal": ",", "currency_signs": ["€"]}
# closed days -> shop id; "as sent" tells the past closures, "as planned" also the test window's closure day
# (2022-09-19: a shop knows its own closing days ahead; here read off the export, i.e. in hindsight)
VARIANTS = {"as detected": "bakery", "as sent": "bakery_closed_days", "as planned": "bakery_planned"}
SMARTSHELF = "SmartShelf, closed days {}"
INSIGHTS_REPEAT, LOCAL_REPEAT = 5, 5
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
CLOSED_FIELDS = ("closed_weekdays", "closed_dates")


# --- the data: holdout, closed days, each article's lines --------------------------------------------

def bakery_lines() -> pd.DataFrame:
    return pd.read_csv(LINES, parse_dates=["date"])


def bakery_holdout(lines: pd.DataFrame | None = None, train_end: str = TRAIN_END) -> Holdout:
    """The README's standard holdout: daily units per article (sum of quantity per article and date, negative
    totals clipped to 0, days without a line 0) for the articles sold on at least MIN_DAYS days of the training
    part; scales (and the references) from each article's first sale, as the README's scores are computed.
    Another `train_end` gives the same split at that origin (its test: the HORIZON days after it)."""
    lines = bakery_lines() if lines is None else lines
    daily = lines.groupby(["article", "date"])["quantity"].sum()
    cut = pd.Timestamp(train_end)
    days_sold = daily[daily.index.get_level_values("date") <= cut].groupby(level="article").size()
    articles = days_sold[days_sold >= MIN_DAYS].index
    days = pd.date_range(lines["date"].min(), lines["date"].max())
    grid = daily.reindex(pd.MultiIndex.from_product([articles, days]), fill_value=0).clip(lower=0)
    frame = grid.rename("y").reset_index()
    frame.columns = ["unique_id", "ds", "y"]
    frame["y"] = frame["y"].astype(float)
    test = frame[(frame.ds > cut) & (frame.ds <= cut + pd.Timedelta(days=HORIZON))]
    return Holdout("french-bakery", f"french-bakery ({len(articles)} articles sold on >= {MIN_DAYS} training days, "
                   f"train to {train_end}, {HORIZON} days)", frame[frame.ds <= cut], test, "D",
                   SEASON, HORIZON, [], from_first_sale=True, intermittent=True)


def closed_days(lines: pd.DataFrame, through: str = TRAIN_END) -> dict[str, list[str]]:
    """What the shop knows from its own calendar, read off the training part of its export: the dates on
    which no article sold, and the weekdays on which none sold over the last 28 training days (its current
    weekly rule; the winter Wednesdays are over by then, so they are dates, not a weekday)."""
    cut = pd.Timestamp(through)
    sold = set(lines.loc[lines["date"] <= cut, "date"])
    span = pd.date_range(lines["date"].min(), cut)
    dates = [d for d in span if d not in sold]
    recent = span[(span > pd.Timestamp(TRAIN_END) - pd.Timedelta(days=28)) & (span <= pd.Timestamp(TRAIN_END))]
    weekdays = [WEEKDAYS[k] for k in range(7) if all(d not in sold for d in recent if d.dayofweek == k)]
    return {"closed_weekdays": weekdays, "closed_dates": [d.date().isoformat() for d in dates]}


def article_uploads(raw: bytes, articles: list[str]) -> tuple[dict[str, bytes], dict[str, int]]:
    """Each article's own lines of the export as downloaded (its header, then the lines as written), and how
    many of them are dated after TRAIN_END. Kept in memory only."""
    body = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    text = pd.read_csv(io.BytesIO(body), usecols=["date", "article"], dtype=str, keep_default_na=False)
    file_lines = body.split(b"\n")
    header, data = file_lines[0], file_lines[1:1 + len(text)]
    if len(data) != len(text) or (len(file_lines) > len(text) + 1 and any(file_lines[len(text) + 1:])):
        raise SystemExit("the export holds quoted line breaks: its lines cannot be split by article")
    uploads, later = {}, {}
    positions = text.groupby("article").indices
    for article in articles:
        rows = positions[article]
        uploads[article] = header + b"\n" + b"\n".join(data[i] for i in rows) + b"\n"
        later[article] = int((text["date"].iloc[rows] > TRAIN_END).sum())
    return uploads, later


# --- SmartShelf, through HTTP ------------------------------------------------------------------------

def _post(client: httpx.Client, path: str, part: dict, upload: bytes, name: str, waits: list[float]) -> httpx.Response:
    """A CSV upload as a shop's backend sends it: a `request` part and a `sales` file part."""
    while True:
        response = client.post(f"{PREFIX}/{path}", data={"request": json.dumps(part)},
                               files={"sales": (name, upload, "text/csv")})
        if response.status_code != 429:
            return response
        pause = float(response.headers.get("retry-after", "1"))
        waits.append(pause)
        time.sleep(pause)


def _fields_missing(response: httpx.Response) -> str | None:
    """The server's own words when it refuses the closed-day fields as unknown (422 extra_forbidden)."""
    if response.status_code != 422:
        return None
    detail = response.json().get("detail", [])
    refused = [d for d in detail if d.get("type") == "extra_forbidden" and d.get("loc", [])[-1:][0] in CLOSED_FIELDS]
    return f"422: {response.json().get('message')}" if refused else None


def _counts(warnings: list[dict]) -> dict[str, int]:
    return {w["code"]: w.get("count") or 0 for w in warnings}


def _train(client: httpx.Client, raw: bytes, shop: str, closed: dict, waits: list[float],
           future_expected: int) -> dict:
    part = {"shop_id": shop, "as_of": TRAIN_END, "periods": HORIZON, "csv": CSV_OPTIONS, **closed}
    started = time.perf_counter()
    accepted = _post(client, "models/train", part, raw, EXPORT.name, waits)
    accept_ms = (time.perf_counter() - started) * 1000
    refused = _fields_missing(accepted)
    if refused:
        return {"skipped": refused}
    if accepted.status_code != 202:
        raise SystemExit(f"training refused: {accepted.status_code} {accepted.text[:1000]}")
    timing = server_timing(accepted)
    job_id = accepted.json()["job_id"]
    state, _ = wait_for_job(client, job_id)
    seconds = time.perf_counter() - started
    job = client.get(f"/api/v1/jobs/{job_id}", params={"results": "false"}).json()
    if state != "succeeded":
        raise SystemExit(f"training job {state}: {json.dumps(job)[:3000]}")
    card = client.get(f"{PREFIX}/models/{shop}", params={"frequency": "daily"}).json()
    warnings = _counts(job["warnings"])
    return {"job_seconds": round(seconds, 1), "card_training_seconds": card["training_seconds"],
            "upload_accepted_ms": round(accept_ms, 1), "server_timing_ms": timing,
            "job_warnings": warnings, "future_sales_reported": warnings.get("future_sales", 0),
            "future_sales_in_file": future_expected,
            "as_of_drops_later_lines": warnings.get("future_sales", 0) == future_expected,
            "card": {"products": card["products"], "training_first_date": card["training_first_date"],
                     "training_last_date": card["training_last_date"], "methods_kept": card["methods_kept"],
                     "held_out": {k: card["held_out"][k] for k in ("first_date", "last_date", "products_scored")},
                     "held_out_auto": card["held_out"]["scores"]["auto"],
                     "held_out_scores": card["held_out"]["scores"],
                     "held_out_windows": card["held_out"].get("windows"),
                     "held_out_earlier": card["held_out"].get("earlier_windows", []),
                     "held_out_bands": card["held_out"].get("bands")}}


def _forecasts(client: httpx.Client, uploads: dict[str, bytes], later: dict[str, int], shop: str, closed: dict,
               waits: list[float]) -> dict:
    rows: list[tuple] = []
    http_ms: list[float] = []
    service_ms: list[float] = []
    methods: Counter = Counter()
    product_methods: dict[str, str] = {}
    warnings: Counter = Counter()
    served_by_model = 0
    future_mismatch: list[str] = []
    wrong_start: list[str] = []
    first_day = (pd.Timestamp(TRAIN_END) + pd.Timedelta(days=1)).date().isoformat()
    started = time.perf_counter()
    waited = sum(waits)
    for article, upload in uploads.items():
        for level in LEVELS:
            part = {"shop_id": shop, "product_id": article, "as_of": TRAIN_END, "periods": HORIZON,
                    "confidence_interval": level / 100, "csv": CSV_OPTIONS, **closed}
            sent = time.perf_counter()
            response = _post(client, "forecast", part, upload, f"{article}.csv", waits)
            http_ms.append((time.perf_counter() - sent) * 1000)
            refused = _fields_missing(response)
            if refused:
                return {"skipped": f"/forecast {refused}"}
            if response.status_code != 200:
                raise SystemExit(f"{article}: {response.status_code} {response.text[:1000]}")
            service_ms.append(server_timing(response)["total"])
            answer = response.json()
            forecast = answer["forecasts"][0]
            codes = _counts(answer.get("warnings", []) + forecast.get("warnings", []))
            if codes.get("future_sales", 0) != later[article]:
                future_mismatch.append(f"{article}: {codes.get('future_sales', 0)} of {later[article]}")
            if forecast["predictions"][0]["date"] != first_day or len(forecast["predictions"]) != HORIZON:
                wrong_start.append(f"{article}: {forecast['predictions'][0]['date']}, {len(forecast['predictions'])}")
            if level == LEVELS[0]:
                warnings.update(codes.keys())
                methods[forecast["method"]] += 1
                product_methods[article] = forecast["method"]
                served_by_model += answer["meta"].get("shop_model") is not None
            rows += [(article, p["date"], level, p["predicted_qty"], p["lower_ci"], p["upper_ci"])
                     for p in forecast["predictions"]]
    seconds = time.perf_counter() - started - (sum(waits) - waited)
    frame = pd.DataFrame(rows, columns=["unique_id", "ds", "level", "yhat", "lo", "hi"])
    frame["ds"] = pd.to_datetime(frame["ds"])
    pred = frame[frame.level == LEVELS[0]][["unique_id", "ds", "yhat"]]
    for level in LEVELS:
        bounds = frame[frame.level == level][["unique_id", "ds", "yhat", "lo", "hi"]]
        pred = pred.merge(bounds.rename(columns={"yhat": f"yhat{level}", "lo": f"lo{level}", "hi": f"hi{level}"}),
                          on=["unique_id", "ds"])
    differing = ~np.isclose(pred[f"yhat{LEVELS[0]}"], pred[f"yhat{LEVELS[-1]}"])
    pred = pred.drop(columns=[f"yhat{level}" for level in LEVELS])
    return {"pred": pred, "point_forecasts_differing_between_levels": int(differing.sum()),
            "forecast_seconds": round(seconds, 1), "requests": len(http_ms),
            "http_ms": {"p50": round(statistics.median(http_ms), 1), "p95": round(percentile(http_ms, 0.95), 1)},
            "service_ms": {"p50": round(statistics.median(service_ms), 1),
                           "p95": round(percentile(service_ms, 0.95), 1)},
            "served_by_shop_model": served_by_model, "methods": dict(methods.most_common(8)),
            "product_methods": product_methods,
            "warnings_products": dict(warnings.most_common()),
            "future_sales_mismatches": future_mismatch, "predictions_not_from_as_of": wrong_start}


def _insights(client: httpx.Client, raw: bytes, waits: list[float]) -> dict:
    """POST /insights with the whole export, INSIGHTS_REPEAT times: the server's parse, handler, total."""
    timings, ends = [], []
    caches = Counter()
    for _ in range(INSIGHTS_REPEAT):
        sent = time.perf_counter()
        response = _post(client, "insights", {"shop_id": "bakery", "csv": CSV_OPTIONS}, raw, EXPORT.name, waits)
        ends.append((time.perf_counter() - sent) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"insights: {response.status_code} {response.text[:1000]}")
        timings.append(server_timing(response))
        caches[str(response.json().get("meta", {}).get("cache"))] += 1

    def median(key: str) -> float:
        return round(statistics.median(t[key] for t in timings), 1)
    return {"requests": INSIGHTS_REPEAT, "parse_ms": median("parse"), "validate_ms": median("validate"),
            "handler_ms": median("handler"), "total_ms": median("total"),
            "http_ms": round(statistics.median(ends), 1), "cache": dict(caches)}


def smartshelf(raw: bytes, uploads: dict[str, bytes], later: dict[str, int], closed: dict, future_expected: int,
               progress: Callable[[str], None]) -> dict:
    """Both variants on one server (a shop id each), then /insights with the same upload."""
    waits: list[float] = []
    variants: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as model_dir, serving_process({"MODEL_DIR": model_dir}) as (client, pid):
        client.timeout = httpx.Timeout(600)
        for variant, shop in VARIANTS.items():
            sent = {"as detected": {}, "as sent": closed["past"], "as planned": closed["planned"]}[variant]
            progress(f"bakery: closed days {variant}: training from the upload")
            trained = _train(client, raw, shop, sent, waits, future_expected)
            if "skipped" in trained:
                variants[variant] = {"closed_days_sent": sent, **trained}
                progress(f"bakery: closed days {variant}: skipped ({trained['skipped']})")
                continue
            progress(f"bakery: closed days {variant}: trained in {trained['job_seconds']} s; "
                     f"{len(uploads)} articles x {len(LEVELS)} levels")
            outcome = _forecasts(client, uploads, later, shop, sent, waits)
            variants[variant] = {"closed_days_sent": sent, **trained, **outcome}
        progress("bakery: /insights with the same upload")
        insights = _insights(client, raw, waits)
        peak_mb = _vm_peak_mb(pid)
    return {"variants": variants, "insights": insights, "server_peak_mb": round(peak_mb),
            "rate_limit_wait_seconds": round(sum(waits), 1)}


def _vm_peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


# --- ingestion in this process (beside the server's figures, never instead of them) -----------------

def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    return round(timed(fn, repeat)["median_ms"], 1)


def ingestion_in_process(raw: bytes) -> dict:
    from app.config import Settings
    from app.schemas.sales import CsvOptions, SalesPayload
    from app.utils.dates import day_number
    from app.utils.sales_csv import read_sales_csv
    from app.utils.sales_frame import clean_sales, daily_net_units

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    options = CsvOptions.model_validate(CSV_OPTIONS)
    limit = (settings.batch_max_rows, "BATCH_MAX_ROWS")
    as_of_day = day_number(pd.Timestamp(TRAIN_END).date())

    def parse() -> Any:
        return read_sales_csv(raw, EXPORT.name, settings.max_csv_bytes, limit, options)

    block = parse()

    def clean() -> Any:
        return clean_sales(SalesPayload().attach_upload(block), as_of_day=as_of_day)

    sales, _ = clean()
    first = int(sales.day.min())

    def grid() -> np.ndarray:
        return daily_net_units(sales, len(sales.product_ids), first, as_of_day - first + 1)

    return {"pandas_read_csv_floor_ms": _median_ms(lambda: pd.read_csv(EXPORT), LOCAL_REPEAT),
            "read_sales_csv_ms": _median_ms(parse, LOCAL_REPEAT), "clean_sales_ms": _median_ms(clean, LOCAL_REPEAT),
            "daily_grid_ms": _median_ms(grid, LOCAL_REPEAT), "lines": block.values,
            "product_days": int(np.count_nonzero(grid())), "repeat": LOCAL_REPEAT}


# --- references, each in a process of its own ---------------------------------------------------------

REFERENCES = {"statsforecast SeasonalNaive(7)": "naive", "statsforecast AutoETS(7)": "ets",
              "statsforecast TSB(0.1, 0.1)": "tsb", "statsforecast CrostonOptimized": "croston",
              "statsforecast WindowAverage(28)": "window"}


def _reference(model: str) -> dict:
    from statsforecast import StatsForecast
    from statsforecast.models import TSB, AutoETS, CrostonOptimized, SeasonalNaive, WindowAverage

    holdout = bakery_holdout()
    built = {"naive": lambda: SeasonalNaive(SEASON), "ets": lambda: AutoETS(season_length=SEASON),
             "tsb": lambda: TSB(alpha_d=0.1, alpha_p=0.1), "croston": CrostonOptimized,
             "window": lambda: WindowAverage(28)}[model]()
    intervals = model in ("naive", "ets")
    engine = StatsForecast(models=[built], freq="D", n_jobs=2)
    started = time.perf_counter()
    pred = engine.forecast(df=from_first_sale(holdout.train), h=HORIZON,
                           **({"level": list(LEVELS)} if intervals else {}))
    seconds = time.perf_counter() - started
    name = next(c for c in pred.columns if c not in ("unique_id", "ds") and "-lo-" not in c and "-hi-" not in c)
    renames = {name: "yhat"} | {f"{name}-{side}-{level}": f"{side}{level}" for side in ("lo", "hi") for level in LEVELS}
    return {"pred": pred.rename(columns=renames), "seconds": seconds}


def run_reference(model: str) -> dict:
    """A reference engine on the bakery's holdout, in a process of its own."""
    return in_own_process(_reference, model)


def run(progress: Callable[[str], None] = print) -> dict:
    load_before = os.getloadavg()[0]
    lines = bakery_lines()
    holdout = bakery_holdout(lines)
    articles = sorted(holdout.train["unique_id"].unique())
    closed = {"past": closed_days(lines), "planned": closed_days(lines, str(lines["date"].max().date()))}
    raw = EXPORT.read_bytes()
    uploads, later = article_uploads(raw, articles)
    future_expected = int((lines["date"] > pd.Timestamp(TRAIN_END)).sum())
    bands = banding(holdout)
    outcome = smartshelf(raw, uploads, later, closed, future_expected, progress)
    engines: dict[str, dict] = {}
    for variant, measured in outcome["variants"].items():
        if "pred" in measured:
            pred = measured.pop("pred")
            measured.pop("product_methods")
            measured["scores"] = rounded(score(holdout, pred))
            measured["bands"] = band_scores(holdout, pred, bands)
            progress(f"bakery: closed days {variant}: {measured['scores']}")
        engines[SMARTSHELF.format(variant)] = measured
    references: dict[str, dict] = {}
    for name, model in REFERENCES.items():
        progress(f"bakery: {name}")
        result = run_reference(model)
        references[name] = rounded({**score(holdout, result["pred"]), "seconds": round(result["seconds"], 1),
                                     "peak_mb": round(result["peak_mb"]),
                                     "bands": band_scores(holdout, result["pred"], bands)})
        progress(f"bakery: {name}: {references[name]}")
    best = min(references, key=lambda k: references[k]["mase"])
    for measured in engines.values():
        if "scores" in measured:
            ours = measured["scores"]
            measured["ratios_to_best"] = {metric: round(ours[metric] / references[best][metric], 3)
                                          for metric in ("mase", "rmsse", "msis") if metric in references[best]}
    progress("bakery: ingestion in process")
    local = ingestion_in_process(raw)
    return {"name": holdout.name, "articles": len(articles), "export_bytes": len(raw),
            "export_lines": len(lines), "closed_days_derived": closed,
            "band_weights": [round(float(w), 4) for w in bands.weight],
            "test_days_without_sales": [d.date().isoformat() for d in
                                        sorted(set(holdout.test["ds"]) - set(lines["date"]))],
            "smartshelf": engines, "references": references, "best_reference": best,
            "insights": outcome["insights"], "ingestion_in_process": local,
            "server_peak_mb": outcome["server_peak_mb"], "rate_limit_wait_seconds": outcome["rate_limit_wait_seconds"],
            "load_average_1min": {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2),
                                  "cores": os.cpu_count()}}
