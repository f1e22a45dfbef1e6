"""/anomalies on real series through HTTP with the default settings (issue #24, item 5).

Three real sets, each product as a daily series from its first sale (a day without a line is 0):
- store-item: the 500 series, the last 730 days (2016-01-01 .. 2017-12-31);
- M5 public split (m5-tx3-foods3): the 823 items, the last 730 days (2014-05-23 .. 2016-05-22);
- french-bakery: the export's daily units per article (sum of its lines' quantities; returns net), every article
  as exported, 2021-01-02 .. 2022-09-30; closed days left for the service to detect, as a shop would send it.

1. As recorded (no injected anomaly), default request: the share of scored product-days (open days from each
   product's first sale, `meta.product_days`) flagged as a spike or a drop (`meta.flagged`, listed or not).
   Target: at most 1%.
2. 400 injected anomalies per set (seed 0), on open days (some product sold) at least 28 days after the
   product's first sale, one per product-day; `level` = the product's mean daily units over the 28 days before:
   200 spikes on products with level >= 2: the day's units + k x level, k = 2, 4 and 6 (about 3, 5 and 7 times
   a usual day; the same product-days for every k);
   200 drops on products with level >= 10, on days the product sold something: the day's units set to 0 (nothing
   sold on an open day; a day already without a sale is not a drop, and was eligible before 2026-12-06: 20 of M5's
   200 drops were such days).
   Recall = injected product-days found with the right type: all found (`max_alerts` 366) and as listed with the
   default `max_alerts` (5; the cut applied here to the same answer, strongest first per product). Target: >= 0.9.
   Beside it, `natural`: the share of eligible days of the unmodified data already that far out (>= (1 + k) x
   level; 0 at level >= 10), which no detector flagging at most 1% of days can tell from an injected one; and
   `listed_ceiling`: the listed recall if every injection made the top `max_alerts` of its product (several
   injections fall on one product: M5's 200 drops sit on 56 products, the bakery's on 19).
   `detectable`: the injected days that any count model flagging at the default tail (1 / 365 / 2 each side)
   could flag at all: the injected units are in that tail of a Poisson (the least spread a count has) around the
   product's mean on the same weekday in the DETECT_WEEKS weeks before and after, as recorded. A day outside it
   (a drop to 0 of a day expected to sell fewer than 6.6 units, a spike of +2 x 2 units) cannot be told from
   normal demand at that rate whatever the model; recall over the detectable days is reported beside the raw
   recall, not instead of it.
   A run of days without a sale is one drop (`end_date` after `date`): an injected day counts as found when it
   lies inside a drop's date .. end_date.
2b. What a retailer calls a drop is as often a shelf gap of a few days as one empty day: 200 runs of DROP_RUN_DAYS
   consecutive open days set to 0 (products with level >= 10, no spikes injected), found when every day of the
   run lies inside a listed drop. The single-day drops of 2. stay beside it.
3. Latency: a 4,000-product year (bench/catalogue_year.py's shop: 1.46 M daily values as series), seconds.

Reference in the same run: the textbook recipe (statsmodels STL of each series, period 7, robust; |robust z| of the
residual >= 3.5), in process on the same series: its flag rate and recall (k = 2) beside ours.
"""

import time
from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd

from bench.catalogue_year import DAYS, PRODUCTS, START, _shop
from bench.data import SHARED_DATA, store_item
from bench.payload_formats import PREFIX, compact
from tests.support.server import httpx, serving

DAYS_KEPT = 730
INJECTED = 400
WARMUP = 28
SPIKE_MIN_LEVEL, DROP_MIN_LEVEL = 2.0, 10.0
SPIKE_SIZES = (2.0, 4.0, 6.0)
DEFAULT_MAX_ALERTS = 5
DROP_RUN_DAYS = 3
REFERENCE_Z = 3.5
DETECT_WEEKS = 4
DEFAULT_TAIL = 1 / 365 / 2


def _store_item() -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
    wide = store_item().pivot_table(index="date", columns=["store", "item"], values="sales").sort_index()
    wide = wide.iloc[-DAYS_KEPT:]
    names = np.array([f"s{s}_i{i}" for s, i in wide.columns])
    return names, wide.to_numpy(dtype=float).T, wide.index


def _m5() -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
    wide = pd.read_csv(SHARED_DATA / "m5-tx3-foods3" / "sales.csv.gz")
    dates = pd.date_range("2011-01-29", periods=wide.shape[1] - 1)
    units = wide.drop(columns="id").to_numpy(dtype=float)[:, -DAYS_KEPT:]
    return wide["id"].str.removesuffix("_TX_3_validation").to_numpy(), units, dates[-DAYS_KEPT:]


def _bakery() -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
    lines = pd.read_csv(SHARED_DATA / "french-bakery" / "sales.csv.gz", parse_dates=["date"])
    daily = lines.groupby(["article", "date"])["quantity"].sum().unstack(fill_value=0.0)
    dates = pd.date_range(lines["date"].min(), lines["date"].max())
    daily = daily.reindex(columns=dates, fill_value=0.0)
    return daily.index.to_numpy().astype(str), daily.to_numpy(dtype=float), dates


SETS: dict[str, Callable[[], tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]]] = {
    "store-item": _store_item, "m5-tx3-foods3": _m5, "french-bakery": _bakery}


def _first_sale(units: np.ndarray) -> np.ndarray:
    sold = units != 0
    return np.where(sold.any(axis=1), np.argmax(sold, axis=1), units.shape[1])


def _body(names: np.ndarray, units: np.ndarray, dates: pd.DatetimeIndex) -> dict:
    first = _first_sale(units)
    series = [{"product_id": str(name), "start": dates[f].date().isoformat(), "qty": units[i, f:].tolist()}
              for i, (name, f) in enumerate(zip(names, first, strict=True)) if f < units.shape[1]]
    return {"shop_id": "bench", "series": series}


def _eligible(units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each product-day's level (mean units over the WARMUP days before; NaN before) and whether it may carry an
    injection (an open day, some product sold, WARMUP days or more after the product's first sale)."""
    n, length = units.shape
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(units, axis=1)], axis=1)
    level = np.full((n, length), np.nan)
    level[:, WARMUP:] = (cumulative[:, WARMUP:-1] - cumulative[:, :-WARMUP - 1]) / WARMUP
    after_first = np.arange(length)[None, :] >= _first_sale(units)[:, None] + WARMUP
    return level, after_first & (units > 0).any(axis=0)[None, :]


def inject(units: np.ndarray, spike_levels: float = 2.0, seed: int = 0) -> tuple[np.ndarray, set[tuple[int, int, str]]]:
    """Units with INJECTED / 2 spikes and INJECTED / 2 drops (see the module docstring), and where: (row, day,
    type)."""
    rng = np.random.default_rng(seed)
    level, eligible = _eligible(units)
    out, where = units.copy(), set()
    taken = np.zeros_like(eligible)
    for kind, minimum in (("spike", SPIKE_MIN_LEVEL), ("drop", DROP_MIN_LEVEL)):
        sold = units > 0 if kind == "drop" else np.ones_like(eligible)
        rows, days = np.nonzero(eligible & ~taken & sold & (np.nan_to_num(level) >= minimum))
        pick = rng.choice(rows.size, min(INJECTED // 2, rows.size), replace=False)
        for r, d in zip(rows[pick], days[pick], strict=True):
            out[r, d] = units[r, d] + spike_levels * level[r, d] if kind == "spike" else 0.0
            taken[r, d] = True
            where.add((int(r), int(d), kind))
    return np.round(out), where


def inject_drop_runs(units: np.ndarray, seed: int = 0) -> tuple[np.ndarray, list[list[tuple[int, int, str]]]]:
    """Units with INJECTED / 2 runs of DROP_RUN_DAYS consecutive open days set to 0 (not overlapping, on
    products with level >= DROP_MIN_LEVEL on the run's first day), and each run's (row, day, "drop") days."""
    rng = np.random.default_rng(seed)
    level, eligible = _eligible(units)
    open_days = np.flatnonzero((units > 0).any(axis=0))
    starts = open_days[:-(DROP_RUN_DAYS - 1)]
    runs = np.stack([open_days[k:open_days.size - DROP_RUN_DAYS + 1 + k] for k in range(DROP_RUN_DAYS)], axis=1)
    start_ok = eligible[:, starts] & (np.nan_to_num(level[:, starts]) >= DROP_MIN_LEVEL)
    rows, which = np.nonzero(start_ok)
    out, where = units.copy(), []
    taken = np.zeros(units.shape, dtype=bool)
    for k in rng.permutation(rows.size):
        days = runs[which[k]]
        if taken[rows[k], days[0] - 1:days[-1] + 2].any():
            continue
        out[rows[k], days] = 0.0
        taken[rows[k], days] = True
        where.append([(int(rows[k]), int(d), "drop") for d in days])
        if len(where) == INJECTED // 2:
            break
    return out, where


def detectable(units: np.ndarray, injected_units: np.ndarray, injected: set[tuple[int, int, str]],
               tail: float = DEFAULT_TAIL) -> set[tuple[int, int, str]]:
    """The injections in the `tail` of a Poisson around the product's mean on the same weekday in the DETECT_WEEKS
    weeks before and after (open days from its first sale, as recorded; the module docstring)."""
    from scipy import stats

    first, shop_open = _first_sale(units), (units > 0).any(axis=0)
    out = set()
    for r, d, kind in injected:
        around = [d + 7 * k for k in range(-DETECT_WEEKS, DETECT_WEEKS + 1) if k != 0]
        around = [t for t in around if first[r] <= t < units.shape[1] and shop_open[t]]
        mean = float(units[r, around].mean()) if around else 0.0
        value = injected_units[r, d]
        p = stats.poisson.cdf(value, mean) if kind == "drop" else stats.poisson.sf(value - 1, mean)
        if p <= tail:
            out.add((r, d, kind))
    return out


def listed_ceiling(injected: set[tuple[int, int, str]], max_alerts: int = DEFAULT_MAX_ALERTS) -> dict[str, float]:
    """Per type, the recall if each product's injections all made its first `max_alerts` (its other alerts
    and the other type's injections aside)."""
    out = {}
    for kind in ("spike", "drop"):
        per_product = Counter(row for row, _, k in injected if k == kind)
        out[kind] = round(sum(min(max_alerts, c) for c in per_product.values()) / max(sum(per_product.values()), 1),
                          3)
    return out


def _listed(anomalies: list[dict], names: np.ndarray, dates: pd.DatetimeIndex,
            max_alerts: int | None = None) -> set[tuple[int, int, str]]:
    """(row, day, type) of the answer's spikes and drops (every day of a run), the first `max_alerts` of each
    product when given."""
    row = {str(name): i for i, name in enumerate(names)}
    shown: dict[str, int] = {}
    out = set()
    for a in anomalies:
        if a["type"] not in ("spike", "drop"):
            continue
        shown[a["product_id"]] = shown.get(a["product_id"], 0) + 1
        if max_alerts is None or shown[a["product_id"]] <= max_alerts:
            first = (pd.Timestamp(a["date"]) - dates[0]).days
            last = (pd.Timestamp(a.get("end_date") or a["date"]) - dates[0]).days
            out |= {(row[a["product_id"]], day, a["type"]) for day in range(first, last + 1)}
    return out


def natural_share(units: np.ndarray, spike_levels: float) -> dict[str, float]:
    """Share of the days eligible for injection that the unmodified data already has that far out."""
    level, eligible = _eligible(units)
    spikes = eligible & (np.nan_to_num(level) >= SPIKE_MIN_LEVEL)
    drops = eligible & (np.nan_to_num(level) >= DROP_MIN_LEVEL)
    return {"spike": round(float((units[spikes] >= (1 + spike_levels) * level[spikes]).mean()), 4),
            "drop": round(float((units[drops] == 0).mean()), 4) if drops.any() else 0.0}


def reference(units: np.ndarray) -> set[tuple[int, int, str]]:
    """statsmodels STL (period 7, robust) of each series from its first sale; |robust z| of the residual >= 3.5."""
    from statsmodels.tsa.seasonal import STL

    found = set()
    for i, f in enumerate(_first_sale(units)):
        y = units[i, f:]
        if y.size < 14:
            continue
        residual = STL(y, period=7, robust=True).fit().resid
        scale = 1.4826 * np.median(np.abs(residual - np.median(residual)))
        if scale <= 0:
            continue
        z = (residual - np.median(residual)) / scale
        found |= {(i, int(f + d), "spike" if z[d] > 0 else "drop") for d in np.flatnonzero(np.abs(z) >= REFERENCE_Z)}
    return found


def _post(client, body: dict) -> tuple[dict, float]:
    started = time.perf_counter()
    answer = client.post(f"{PREFIX}/anomalies", content=compact(body), headers={"content-type": "application/json"})
    seconds = time.perf_counter() - started
    if answer.status_code != 200:
        raise SystemExit(f"anomalies: {answer.status_code} {answer.text[:500]}")
    return answer.json(), seconds


def _recall(injected: set, hits: set) -> dict[str, float]:
    out = {kind: round(len({h for h in injected if h[2] == kind} & hits) /
                       max(sum(h[2] == kind for h in injected), 1), 3) for kind in ("spike", "drop")}
    return out | {"all": round(len(injected & hits) / len(injected), 3)}


def _detectable_recall(units: np.ndarray, injected_units: np.ndarray, injected: set, hits: set) -> dict:
    """How many injections are detectable (per type), and the recall found over those."""
    able = detectable(units, np.clip(injected_units, 0, None), injected)
    return {"detectable": {kind: sum(h[2] == kind for h in able) for kind in ("spike", "drop")},
            "recall_found_detectable": _recall(able, hits) if able else {}}


def _one_set(client, name: str, progress: Callable[[str], None]) -> dict:
    names, units, dates = SETS[name]()
    progress(f"anomalies: {name} as recorded ({len(names)} products)")
    clean, seconds = _post(client, _body(names, units, dates))
    meta = clean["meta"]
    out: dict = {"products": len(names), "product_days": meta["product_days"], "seconds": round(seconds, 2),
                 "flagged": meta["flagged"], "flagged_share": round(meta["flagged"] / meta["product_days"], 5),
                 "flagged_days": meta["flagged_days"],
                 "flagged_days_share": round(meta["flagged_days"] / meta["product_days"], 5),
                 "listed": meta["anomalies"], "not_shown": meta["not_shown"],
                 "warnings": [w["code"] for w in clean["warnings"]], "injected": {}}
    positive = np.clip(units, 0, None)
    for size in SPIKE_SIZES:
        progress(f"anomalies: {name} with {INJECTED} injected (spikes + {size:g} x level)")
        injected_units, injected = inject(units, size)
        answer, _ = _post(client, {**_body(names, injected_units, dates), "max_alerts": 366})
        out["injected"][f"{size:g}"] = {
            "spikes": sum(h[2] == "spike" for h in injected), "drops": sum(h[2] == "drop" for h in injected),
            "recall_found": _recall(injected, _listed(answer["anomalies"], names, dates)),
            "recall_listed": _recall(injected, _listed(answer["anomalies"], names, dates, DEFAULT_MAX_ALERTS)),
            "listed_ceiling": listed_ceiling(injected), "natural": natural_share(positive, size),
            **_detectable_recall(positive, injected_units, injected, _listed(answer["anomalies"], names, dates))}
    progress(f"anomalies: {name} with {INJECTED // 2} injected runs of {DROP_RUN_DAYS} days without a sale")
    run_units, runs = inject_drop_runs(units)
    answer, _ = _post(client, {**_body(names, run_units, dates), "max_alerts": 366})
    found = _listed(answer["anomalies"], names, dates)
    listed = _listed(answer["anomalies"], names, dates, DEFAULT_MAX_ALERTS)
    out["drop_runs"] = {"runs": len(runs), "days": DROP_RUN_DAYS,
                        "recall_found": round(sum(set(run) <= found for run in runs) / len(runs), 3),
                        "recall_listed": round(sum(set(run) <= listed for run in runs) / len(runs), 3),
                        "listed_ceiling": listed_ceiling({run[0] for run in runs})["drop"]}
    progress(f"anomalies: {name} reference (STL + robust z, in process)")
    injected_units, injected = inject(units, SPIKE_SIZES[0])
    ref_clean = reference(units)
    out["reference"] = {"flagged": len(ref_clean), "flagged_share": round(len(ref_clean) / meta["product_days"], 5),
                        "recall": _recall(injected, reference(injected_units))}
    return out


def latency(client, repeat: int = 3) -> dict:
    units = _shop()
    series = [{"product_id": f"p{i:04d}", "start": str(START), "qty": units[i].tolist()} for i in range(PRODUCTS)]
    times = []
    for _ in range(repeat):
        answer, seconds = _post(client, {"shop_id": "big", "series": series})
        times.append(seconds)
    return {"products": PRODUCTS, "days": DAYS, "seconds_median": round(float(np.median(times)), 2),
            "seconds": [round(t, 2) for t in times], "anomalies_listed": len(answer["anomalies"]),
            "flagged": answer["meta"].get("flagged")}


def _wait_until_up(client, seconds: int = 120) -> None:
    """The server may take longer than `serving`'s 10 s to start on a loaded 2-core machine."""
    for _ in range(seconds):
        try:
            client.get("/health")
            return
        except httpx.TransportError:
            time.sleep(1)
    raise SystemExit(f"the server did not answer /health within {seconds} s")


def run(progress: Callable[[str], None] = print, sets: tuple[str, ...] = tuple(SETS)) -> dict:
    results: dict = {"sets": {}}
    with serving({}) as client:
        client.timeout = 600
        _wait_until_up(client)
        for name in sets:
            results["sets"][name] = _one_set(client, name, progress)
        progress("anomalies: a 4,000-product year")
        results["catalogue_year"] = latency(client)
    return results


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sets=tuple(sys.argv[1:]) or tuple(SETS)), indent=2))
