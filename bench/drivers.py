"""The gain each demand driver brings, through HTTP, beside references in the same run.

For each holdout with drivers (bench/accuracy_data.py), the shop model is trained and asked exactly as
in bench/accuracy.py (a real server with the default settings, `POST /models/train`, then one
`POST /forecast` per product at the 80 % level), once per variant: no driver (event dates without
types, today's contract), each driver alone, and all of them. References: statsforecast SeasonalNaive
and mlforecast LightGBM, each in a process of its own.

- m5-tx3-foods3: prices (`sell_prices`, the 28 forecast days as planned prices), the events with their
  types, SNAP_TX benefit days.
- walmart-weekly: the holidays with their types, the stores' big markdown weeks as promotions.
"""

import json
from collections.abc import Callable

from bench.accuracy import REFERENCES, run_reference, smartshelf
from bench.accuracy_data import HOLDOUTS
from bench.scoring import score

VARIANTS: dict[str, list[tuple[str, frozenset[str]]]] = {
    "m5-tx3-foods3": [("no drivers", frozenset()), ("prices", frozenset({"prices"})),
                      ("typed events", frozenset({"events"})), ("benefit days", frozenset({"benefit_days"})),
                      ("all drivers", frozenset({"prices", "events", "benefit_days"}))],
    "walmart-weekly": [("no drivers", frozenset()), ("typed holidays", frozenset({"events"})),
                       ("markdown promotions", frozenset({"promotions"})),
                       ("all drivers", frozenset({"events", "promotions"}))],
}
DRIVER_REFERENCES = ("statsforecast SeasonalNaive", "mlforecast LightGBM")


def run(progress: Callable[[str], None] = print) -> dict:
    results: dict[str, dict] = {}
    for key, variants in VARIANTS.items():
        holdout = HOLDOUTS[key]()
        rows: dict[str, dict] = {}
        for name, drivers in variants:
            progress(f"drivers: {key}: {name}")
            outcome = smartshelf(holdout, progress, drivers, levels=(80,))
            scores = score(holdout, outcome["pred"])
            rows[name] = {"drivers": sorted(drivers), "mase": round(scores["mase"], 4),
                          "rmsse": round(scores["rmsse"], 4),
                          **({"wrmsse": round(scores["wrmsse"], 4)} if "wrmsse" in scores else {}),
                          "coverage_80": round(scores["coverage_80"], 1), "train_seconds": outcome["train_seconds"],
                          "service_p50_ms": outcome["service_ms"]["p50"], "warnings": outcome["warnings"],
                          "drivers_check": outcome["card_drivers"]}
            progress(f"drivers: {key}: {name}: {json.dumps(rows[name])}")
        for engine in DRIVER_REFERENCES:
            assert engine in REFERENCES
            progress(f"drivers: {key}: {engine}")
            scores = score(holdout, run_reference(engine, key)["pred"])
            rows[engine] = {"mase": round(scores["mase"], 4), "rmsse": round(scores["rmsse"], 4),
                            **({"wrmsse": round(scores["wrmsse"], 4)} if "wrmsse" in scores else {})}
        results[key] = {"name": holdout.name, "metric": "wrmsse" if holdout.weights is not None else "mase",
                        "variants": rows}
    return results
