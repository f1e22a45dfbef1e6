"""The TypeScript client (clients/typescript): its types are current, and its Node contract test
passes against a live service. Needs Node and npm (under CI=true these tests must run)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.export_openapi import openapi_json
from tests.support.server import serving

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
