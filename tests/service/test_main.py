"""`uvicorn app.main:app`, the conventional command, serves the app; importing app.main does not build it."""

import subprocess
import sys

from tests.support.server import ROOT, serving


def test_uvicorn_app_main_app_serves_the_api(tmp_path):
    with serving({"MODEL_DIR": str(tmp_path / "models")}, target=("app.main:app",)) as api:
        health = api.get("/health")
        openapi = api.get("/openapi.json")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert openapi.json()["info"]["title"] == "SmartShelf ML Service"


def test_importing_app_main_builds_no_app_until_app_is_asked_for():
    probe = """
import app.main
assert app.main._environment_app.cache_info().currsize == 0, "app built at import"
assert app.main.app is app.main.app
print(type(app.main.app).__name__, app.main.app.state.settings.max_header_bytes, hasattr(app.main, "application"))
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "MAX_HEADER_BYTES": "2048", "MODEL_DIR": "/nonexistent"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["FastAPI", "2048", "False"]


def test_importing_the_app_and_the_celery_module_reads_no_setting():
    """A bad setting fails when the app or the Celery app is built, not when a module is imported."""
    probe = """
import app.main, app.tasks.celery_app, app.tasks.dispatch
try:
    app.tasks.celery_app.celery_app
except Exception as exc:
    print("built:", type(exc).__name__)
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "MAX_HEADER_BYTES": "not-a-number"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "built: ValidationError"


def test_the_start_up_heap_is_left_out_of_full_collections_while_serving(tmp_path):
    """A full collection walked the ~210,000 objects of start-up every ~20 large requests (120-230 ms each: the
    p95 of /promotions): they are frozen while the app serves, and given back to the collector when it stops."""
    import gc

    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    before = gc.get_freeze_count()
    settings = Settings(_env_file=None, model_dir=str(tmp_path))  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_freeze_count() > before + 50_000
    assert gc.get_freeze_count() == 0
