"""Write benchmark results to bench/results/*.json and into the README between markers."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def save(name: str, results: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def update_readme(section: str, markdown: str) -> None:
    """Replace the README text between `<!-- bench:{section} -->` and `<!-- /bench:{section} -->`."""
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = f"<!-- bench:{section} -->", f"<!-- /bench:{section} -->"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no {start} ... {end} block")
    readme.write_text(pattern.sub(lambda _: f"{start}\n{markdown.strip()}\n{end}", text))


def service_speed_markdown(results: dict, targets: dict[str, float]) -> str:
    lines = [
        "| endpoint | payload | service time median (p95) | target | pandas reference | speed-up | "
        "HTTP end to end median (p95) | of which parse+validate | serialise |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    payloads = {"at-risk": "1,000 products, 90 days of sales (90,000 rows)",
                "insights": "9,990 sales rows, daily, top 10",
                "promotions": "1,000 items x 50 events"}
    for path, r in results["standard"].items():
        met = "met" if r["service"]["median_ms"] <= targets[path] else (
            f"missed by {r['service']['median_ms'] / targets[path]:.1f}x")
        lines.append(
            f"| {path} | {payloads[path]} | {r['service']['median_ms']:.1f} ms ({r['service']['p95_ms']:.1f}) | "
            f"<= {targets[path]:g} ms, {met} | {r['pandas_reference']['median_ms']:.1f} ms | "
            f"{r['speedup_vs_pandas']:.2f}x | {r['http']['median_ms']:.1f} ms ({r['http']['p95_ms']:.1f}) | "
            f"{r['parse_validate']['median_ms']:.1f} ms | {r['serialise']['median_ms']:.1f} ms |")
    lines += ["", "Scaling (service time, median of 3):", "",
              "| endpoint | size | rows in request | median ms | us per row |", "|---|---|---|---|---|"]
    for path, points in results["scaling"].items():
        for p in points:
            lines.append(f"| {path} | {p['size']:,} | {p['rows']:,} | {p['median_ms']:.1f} | {p['us_per_row']:.3f} |")
    return "\n".join(lines)
