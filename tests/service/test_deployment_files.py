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


# --- issue 25 item 2: the documented deployment as written (Docker itself is not run here) ---

APP_SERVICES = ("api", "worker", "beat")
NO_KEY_ENV = {"PATH": "/usr/bin:/bin", "REDIS_URL": "redis://127.0.0.1:9/0", "MODEL_SIGNING_KEY": ""}


def compose() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dockerfile() -> dict[str, list[str]]:
    """The Dockerfile's instructions by name (continuation lines joined)."""
    found: dict[str, list[str]] = {}
    for line in (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, rest = line.strip().partition(" ")
            found.setdefault(name.upper(), []).append(rest.strip())
    return found


def env_file_values(service: dict) -> dict[str, str]:
    files = service.get("env_file") or []
    values: dict[str, str] = {}
    for name in [files] if isinstance(files, str) else files:
        path = ROOT / (name if isinstance(name, str) else name["path"])
        for line in path.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
    return values


def effective_environment(service: dict) -> dict[str, str]:
    """What the container sees: the Dockerfile's ENV, then env_file, then environment (compose's precedence)."""
    image_env = dict(part.split("=", 1) for line in dockerfile()["ENV"] for part in line.split())
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {**image_env, **env_file_values(service), **{k: str(v) for k, v in environment.items()}}


def test_every_app_service_keeps_its_models_on_the_named_volume():
    config = compose()
    for name in APP_SERVICES:
        service = config["services"][name]
        model_dir = effective_environment(service)["MODEL_DIR"]
        mounts = {target: source for source, _, target in (v.partition(":") for v in service["volumes"])}
        assert model_dir in mounts, f"{name}: MODEL_DIR={model_dir} is not a mounted volume ({mounts})"
        assert mounts[model_dir] in config["volumes"], f"{name}: {mounts[model_dir]} is not a named volume"
    assert len({effective_environment(config["services"][n])["MODEL_DIR"] for n in APP_SERVICES}) == 1


def test_every_app_service_must_be_given_one_signing_key():
    config = compose()
    for name in APP_SERVICES:
        environment = effective_environment(config["services"][name])
        assert environment["REDIS_URL"].startswith("redis://"), name
        # compose refuses to start when the variable is unset or empty (`:?`), and all take the same one
        assert environment["MODEL_SIGNING_KEY"].startswith("${MODEL_SIGNING_KEY:?"), name


def test_one_image_built_once_runs_api_worker_and_beat():
    services = compose()["services"]
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1
    assert [name for name in services if "build" in services[name]] == ["api"]


def test_the_compose_health_check_asks_for_readiness():
    check = " ".join(compose()["services"]["api"]["healthcheck"]["test"])
    assert "/health/ready'" in check


def test_the_image_user_owns_the_model_store():
    instructions = dockerfile()
    user = instructions["USER"][-1]
    model_dir = effective_environment({})["MODEL_DIR"]
    run = " ".join(instructions["RUN"])
    assert f"--uid 10001 {user}" in run
    owned = [words.split()[-1] for words in run.split("&&") if words.split()[:1] == ["chown"]
             and words.split()[-2] in (user, "10001")]
    assert any(model_dir == path or model_dir.startswith(path.rstrip("/") + "/") for path in owned), run
    assert f"mkdir -p {model_dir}" in run


def test_the_build_context_leaves_out_the_heavy_and_the_secret():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".venv", "node_modules", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache", "test-artifacts",
            ".env", "**/__pycache__"} <= ignored


@pytest.mark.parametrize("command", [
    ["-m", "uvicorn", "app.main:create_app", "--factory", "--port", "0"],
    ["-m", "uvicorn", "app.main:app", "--port", "0"],
    ["-m", "celery", "-A", "app.tasks.celery_app", "worker", "--concurrency=1", "--pool=solo"],
])
def test_a_process_sharing_redis_refuses_to_start_without_the_key(command):
    import sys

    result = subprocess.run([sys.executable, *command], cwd=ROOT, env=NO_KEY_ENV, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    refusal = [line for line in result.stderr.splitlines() if "MODEL_SIGNING_KEY" in line]
    assert len(refusal) == 1 and "refuses to start: REDIS_URL is set and MODEL_SIGNING_KEY is empty" in refusal[0]
    assert "Traceback" not in result.stderr
