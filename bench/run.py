"""`make bench`: every benchmark, results saved to bench/results and written into docs/benchmarks.md.

Usage: python -m bench.run [service_speed|accuracy|drivers|elasticity|shop_latency|inventory|cache_latency|
                            payload_formats|batch|load|batch_memory|bakery|bakery_origins|catalogue_year|
                            anomalies ...]
(default: all)
"""

import sys
import time
from collections.abc import Callable

from bench import (
    accuracy,
    anomalies,
    bakery,
    bakery_origins,
    batch,
    batch_memory,
    cache_latency,
    catalogue_year,
    drivers,
    elasticity,
    inventory,
    load,
    payload_formats,
    report,
    service_speed,
    shop_latency,
)

SPEED_TARGETS_MS = {"at-risk": 10.0, "insights": 20.0, "promotions": 10.0}


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# name -> (what runs it, how its docs/benchmarks.md block is written)
BENCHMARKS: dict[str, tuple[Callable[[Callable[[str], None]], dict], Callable[[dict], str]]] = {
    "service_speed": (service_speed.run,
                      lambda r: report.service_speed_markdown(r, SPEED_TARGETS_MS)),
    "accuracy": (accuracy.run, report.accuracy_markdown),
    "drivers": (drivers.run, report.drivers_markdown),
    "elasticity": (elasticity.run, report.elasticity_markdown),
    "shop_latency": (shop_latency.run, report.shop_latency_markdown),
    "inventory": (inventory.run, report.inventory_markdown),
    "cache_latency": (cache_latency.run, report.cache_markdown),
    "payload_formats": (payload_formats.run, report.payload_formats_markdown),
    "batch": (batch.run, report.batch_markdown),
    "load": (load.run, report.load_markdown),
    "batch_memory": (batch_memory.run, report.batch_memory_markdown),
    "bakery": (bakery.run, report.bakery_markdown),
    "bakery_origins": (bakery_origins.run, report.bakery_origins_markdown),
    "catalogue_year": (catalogue_year.run, report.catalogue_year_markdown),
    "anomalies": (anomalies.run, report.anomalies_markdown),
}


def main(names: list[str]) -> None:
    for name in names or list(BENCHMARKS):
        progress(f"{name}: start")
        run, markdown = BENCHMARKS[name]
        results = run(progress)
        report.save(name, results)
        report.update_docs(name, markdown(results))
        progress(f"{name}: done")


if __name__ == "__main__":
    main(sys.argv[1:])
