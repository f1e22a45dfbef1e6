"""The TypeScript client (clients/typescript): its types are current, its Node contract test (which
calls every operation of the OpenAPI document) passes against a live service, and `npm run example`
runs against one or says in one line that none answers. Needs Node and npm (under CI=true these
tests must run)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.export_openapi import openapi_json
from tests.support.server import free_port, serving

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"


@pytest.fixture(scope="module")
def npm() -> str:
    found = shutil.which("npm")
    if not (found and shutil.which("node")):
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Node.js and npm are not installed")
        pytest.skip("Node.js and npm are not installed")
    lock = CLIENT / "package-lock.json"
    installed = CLIENT / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run([found, "ci", "--no-audit", "--no-fund"], cwd=CLIENT, check=True, capture_output=True)
    return found


def test_committed_openapi_document_is_current():
    assert (CLIENT / "openapi.json").read_text() == openapi_json(), "API changed: run `make client` and commit"


def test_committed_types_are_generated_from_it(npm, tmp_path):
    generated = tmp_path / "schema.ts"
    subprocess.run([str(CLIENT / "node_modules" / ".bin" / "openapi-typescript"), "openapi.json", "--output",
                    str(generated)], cwd=CLIENT, check=True, capture_output=True)
    assert (CLIENT / "src" / "schema.ts").read_text() == generated.read_text(), "run `make client` and commit"


def test_node_contract_test_passes_against_a_live_service(npm, tmp_path):
    with serving({"MODEL_DIR": str(tmp_path / "models")}) as client:
        run = subprocess.run([npm, "test"], cwd=CLIENT, capture_output=True, text=True, timeout=300,
                             env={**os.environ, "SMARTSHELF_URL": str(client.base_url).rstrip("/")})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout


def run_example(npm: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([npm, "run", "example"], cwd=CLIENT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SMARTSHELF_URL": url})


def test_example_runs_against_a_live_service(npm, tmp_path):
    with serving({"MODEL_DIR": str(tmp_path / "models")}) as client:
        run = run_example(npm, str(client.base_url).rstrip("/"))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "at-risk: " in run.stdout
    assert "batch finished: succeeded, 8 forecasts, 0 errors" in run.stdout
    assert re.search(r"^shop model shop_model-daily-\S+: 8 products, held-out MASE \d", run.stdout, re.M), run.stdout


def test_example_without_a_server_says_so_in_one_line(npm):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    run = run_example(npm, url)
    assert run.returncode != 0
    npm_notes = ("npm warn", "npm notice")
    errors = [line for line in run.stderr.splitlines() if line.strip() and not line.startswith(npm_notes)]
    assert errors == [f"SmartShelf: no server answers at {url} (start one with `make run`, or set SMARTSHELF_URL)"], \
        run.stderr
    output = run.stdout + run.stderr
    assert "ECONNREFUSED" not in output and "fetch failed" not in output
    assert not re.search(r"^\s+at \S", output, re.M), output


def test_example_address_and_its_default_are_documented():
    readme = (CLIENT / "README.md").read_text()
    assert "SMARTSHELF_URL" in readme and "http://localhost:8000" in readme
