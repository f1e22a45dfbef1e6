"""`make bench`: every benchmark, results saved to bench/results and written into the README.

Usage: python -m bench.run [service_speed ...]   (default: all)
"""

import sys
import time

from bench import report, service_speed

SPEED_TARGETS_MS = {"at-risk": 10.0, "insights": 20.0, "promotions": 10.0}


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_service_speed() -> None:
    results = service_speed.run(progress)
    report.save("service_speed", results)
    report.update_readme("service_speed", report.service_speed_markdown(results, SPEED_TARGETS_MS))


BENCHMARKS = {"service_speed": run_service_speed}


def main(names: list[str]) -> None:
    for name in names or list(BENCHMARKS):
        progress(f"{name}: start")
        BENCHMARKS[name]()
        progress(f"{name}: done")


if __name__ == "__main__":
    main(sys.argv[1:])
