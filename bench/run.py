"""`make bench`: every benchmark, results saved to bench/results and written into the README.

Usage: python -m bench.run [service_speed|accuracy|inventory|cache_latency ...]   (default: all)
"""

import sys
import time

from bench import accuracy, cache_latency, forecast_latency, inventory, report, service_speed

SPEED_TARGETS_MS = {"at-risk": 10.0, "insights": 20.0, "promotions": 10.0}


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_service_speed() -> None:
    results = service_speed.run(progress)
    report.save("service_speed", results)
    report.update_readme("service_speed", report.service_speed_markdown(results, SPEED_TARGETS_MS))


def run_accuracy() -> None:
    latency = forecast_latency.run(progress)
    report.save("forecast_latency", latency)
    results = accuracy.run(progress)
    report.save("accuracy", results)
    report.update_readme("accuracy", report.accuracy_markdown(results, latency))


def run_inventory() -> None:
    results = inventory.run(progress)
    report.save("inventory", results)
    report.update_readme("inventory", report.inventory_markdown(results))


def run_cache_latency() -> None:
    results = cache_latency.run(progress)
    report.save("cache_latency", results)
    report.update_readme("cache_latency", report.cache_markdown(results))


BENCHMARKS = {"service_speed": run_service_speed, "accuracy": run_accuracy, "inventory": run_inventory,
              "cache_latency": run_cache_latency}


def main(names: list[str]) -> None:
    for name in names or list(BENCHMARKS):
        progress(f"{name}: start")
        BENCHMARKS[name]()
        progress(f"{name}: done")


if __name__ == "__main__":
    main(sys.argv[1:])
