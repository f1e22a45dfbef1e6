"""The deployment files are valid: compose config, .env.example covering every setting."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_setting():
    listed = {line.split("=", 1)[0].strip() for line in (ROOT / ".env.example").read_text().splitlines()
              if "=" in line and not line.startswith("#")}
    assert listed == {name.upper() for name in Settings.model_fields}


def test_docker_compose_config_is_accepted():
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        command = ["docker", "compose", "config", "--quiet"]
    elif shutil.which("docker-compose"):
        command = ["docker-compose", "config", "--quiet"]
    else:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    services = subprocess.run([*command[:-1], "--services"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert set(services.stdout.split()) == {"api", "worker", "beat", "redis"}


def test_readme_example_files_match_the_swagger_examples():
    from app.schemas.reorder import REORDER_EXAMPLE

    assert json.loads((ROOT / "examples" / "reorder.json").read_text()) == REORDER_EXAMPLE
