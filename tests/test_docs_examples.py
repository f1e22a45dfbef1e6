"""Every curl example in README.md and docs/*.md runs as written against a live server (STYLE.md rule 22,
issue #22), so the examples cannot go stale.

- An example is a ```bash fence that mentions `curl`. The examples of one file run in order in one
  `bash -euo pipefail` session from the repository root (a job id one example reads is there for the next),
  against a fresh uvicorn server of the app (tests/support/server.py: its own MODEL_DIR, no Redis): the
  text's `http://localhost:8000` becomes the server's address and `/tmp/smartshelf-` a temporary folder.
- `curl` in the session adds `-S --fail-with-body`, so a 4xx or 5xx answer fails the test naming the file
  and the example; an example that shows an error on purpose prints its status with `-w '%{http_code}'`
  and shows it in its output block (below), which is then what is checked.
- A ```text fence right after an example is its output: each of its lines must be a line of what the
  example printed (this is how "the same forecasts", a version or a status is held to the text).
- A file fails when a `curl` appears outside a runnable example (another fence, inline code) or an example
  holds a `...` (an example that cannot be pasted as it is).
- Everywhere: each "N operations" says the count of `/openapi.json`, and each SmartShelf version shown
  (`"version": "x.y.z"`, a `model_version` such as `holt_winters-x.y.z-<hash>`) is `app.__version__`;
  every relative link points at a file that exists.
"""

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from app import __version__
from tests.support.server import serving

ROOT = Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
MARK = "@@smartshelf-example"
WRAPPER = r"""
curl() {  # the test's curl: a 4xx or 5xx fails the example, unless it prints its own status
  case " $* " in *http_code*) command curl "$@" ;; *) command curl -S --fail-with-body "$@" ;; esac
}
"""


@dataclass
class Example:
    line: int  # where its fence starts in the file, counted from 1
    code: str
    output: list[str]  # the lines of the ```text fence right after it, if any


def fences(text: str) -> list[tuple[int, str, str, int]]:
    """(line, language, body, end offset) of every fenced block."""
    return [(text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2), m.end()) for m in FENCE.finditer(text)]


def examples(text: str) -> list[Example]:
    found: list[Example] = []
    blocks = fences(text)
    for i, (line, language, body, end) in enumerate(blocks):
        if language != "bash" or "curl" not in body:
            continue
        output: list[str] = []
        if i + 1 < len(blocks):
            _, next_language, next_body, _ = blocks[i + 1]
            gap = text[end:].split("```", 1)[0]
            if next_language == "text" and not gap.strip():
                output = [out.strip() for out in next_body.splitlines() if out.strip()]
        found.append(Example(line, body, output))
    return found


def stray_curls(text: str) -> list[str]:
    """curl commands the test would not run: in other fences or in inline code."""
    stray = []
    rest = text
    for line, language, body, _ in fences(text):
        if language != "bash" and re.search(r"^\s*(\$ )?curl\s", body, re.M):
            stray.append(f"line {line}: a curl in a ```{language or 'plain'} fence")
        rest = rest.replace(body, "")
    stray += [f"inline `{m.group(0)}`" for m in re.finditer(r"`curl\s[^`]*`", rest)]
    return stray


def run_examples(path: Path, base_url: str, tmp: Path) -> None:
    found = examples(path.read_text())
    script = [WRAPPER]
    for n, example in enumerate(found):
        code = example.code.replace("http://localhost:8000", base_url).replace("localhost:8000", base_url)
        code = code.replace("/tmp/smartshelf-", f"{tmp}/smartshelf-")
        script += [f"printf '\\n{MARK} {n}\\n'", code]
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(script)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    parts = result.stdout.split(f"\n{MARK} ")
    printed = {int(part.split("\n", 1)[0]): part.split("\n", 1)[1] if "\n" in part else ""
               for part in parts[1:]}
    name = path.relative_to(ROOT)
    if result.returncode != 0:
        failed = found[max(printed)] if printed else found[0]
        pytest.fail(f"{name}: the example at line {failed.line} failed (exit {result.returncode}):\n"
                    f"{failed.code}\n--- its output:\n{printed.get(max(printed, default=0), '')[-3000:]}\n"
                    f"--- stderr:\n{result.stderr[-3000:]}")
    for n, example in enumerate(found):
        lines = {out.strip() for out in printed[n].splitlines()}
        missing = [out for out in example.output if out not in lines]
        assert not missing, (f"{name}: the example at line {example.line} did not print {missing}; it printed:\n"
                             f"{printed[n][-3000:]}")


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_every_curl_example_runs_as_written(path: Path, tmp_path: Path) -> None:
    text = path.read_text()
    assert not stray_curls(text), f"{path.name}: curl outside a runnable ```bash example: {stray_curls(text)}"
    found = examples(text)
    dotted = [e.line for e in found if "..." in e.code or "…" in e.code]
    assert not dotted, f"{path.name}: examples at lines {dotted} hold a '...': they cannot run as written"
    if not found:
        return
    with serving({"MODEL_DIR": str(tmp_path / "models"), "RATE_LIMIT_PER_MINUTE": "0"}) as api:
        run_examples(path, str(api.base_url).rstrip("/"), tmp_path)


def test_counts_versions_and_links_match_the_service(client) -> None:
    document = client.get("/openapi.json").json()
    operations = sum(method in {"get", "post", "put", "patch", "delete"}
                     for path in document["paths"].values() for method in path)
    assert document["info"]["version"] == __version__
    for path in FILES:
        text = path.read_text()
        name = path.relative_to(ROOT)
        for m in re.finditer(r"(\d+)(?:/\d+)? (?:API )?operations", text):
            assert int(m.group(1)) == operations, f"{name}: '{m.group(0)}', /openapi.json has {operations}"
        shown = re.findall(r'"version":\s*"(\d+\.\d+\.\d+)"', text)
        shown += re.findall(r"\b[a-z_]+-(\d+\.\d+\.\d+)-[0-9a-f]{12}\b", text)
        shown += re.findall(r"SmartShelf (?:version )?(\d+\.\d+\.\d+)", text)
        assert all(v == __version__ for v in shown), f"{name}: versions {shown}, the service is {__version__}"
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if not re.match(r"[a-z]+:", target):
                assert (path.parent / target).exists(), f"{name}: link to {target}, which does not exist"


def test_the_payloads_the_examples_send_are_json() -> None:
    for payload in (ROOT / "examples" / "payloads").glob("*.json"):
        json.loads(payload.read_text())
