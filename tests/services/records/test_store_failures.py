"""A read-only or full model store is named in the failed training job and in readiness (issue #25):
before, the job said `internal error: OSError` and readiness said ready on a full disk."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.schemas.shop_models import TRAIN_EXAMPLE
from tests.support.jobs import follow

PREFIX = "/api/v1/smart-shelf"


def _mount_tmpfs(mount_point: Path, size: str) -> None:
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")


@pytest.fixture
def read_only_store(tmp_path) -> Iterator[tuple[Path, str]]:
    """(a model store that refuses writes, the words its failure is named with): a tmpfs remounted read-only
    as root (root ignores file modes), a folder without write permission otherwise."""
    store = tmp_path / "store"
    if os.geteuid() != 0:
        store.mkdir()
        store.chmod(0o555)
        yield store, "is not writable (permission denied)"
        store.chmod(0o755)
        return
    _mount_tmpfs(store, "1m")
    try:
        subprocess.run(["mount", "-o", "remount,ro", str(store)], check=True)
        yield store, "is read-only"
    finally:
        subprocess.run(["umount", str(store)], check=False)


@pytest.fixture
def full_store(tmp_path) -> Iterator[Path]:
    """A 256 KiB tmpfs filled to within 1 KiB (needs root): every artifact write runs out of space."""
    store = tmp_path / "full"
    _mount_tmpfs(store, "256k")
    try:
        (store / "filler").write_bytes(b"\0" * (shutil.disk_usage(store).free - 1024))
        yield store
    finally:
        subprocess.run(["umount", str(store)], check=False)


def _train_and_ready(model_dir: Path) -> tuple[dict, dict, int]:
    settings = Settings(_env_file=None, model_dir=str(model_dir), model_signing_key="k")  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as api:
        accepted = api.post(f"{PREFIX}/models/train", json=TRAIN_EXAMPLE)
        assert accepted.status_code == 202, accepted.text
        job, _ = follow(api, accepted.json()["job_id"])
        ready = api.get("/health/ready")
    return job, ready.json(), ready.status_code


def test_a_read_only_model_store_is_named_in_the_job_and_in_readiness(read_only_store):
    store, words = read_only_store
    job, ready, status = _train_and_ready(store)
    assert job["state"] == "failed"
    assert job["errors"][0]["stage"] == "train" and job["errors"][0]["message"] == f"model store {str(store)!r} {words}"
    assert status == 503 and ready["checks"]["model_store"] == "down"
    assert ready["reasons"] == [f"model store {str(store)!r} {words}"]


def test_a_full_model_store_is_named_in_the_job_and_in_readiness(full_store):
    job, ready, status = _train_and_ready(full_store)
    assert job["state"] == "failed"
    assert job["errors"][0]["message"] == f"model store {str(full_store)!r} has no space left on device"
    assert status == 503 and "MODEL_STORE_MIN_FREE_MB=100" in ready["reasons"][0]


def test_readiness_is_503_below_the_free_space_threshold(tmp_path):
    settings = Settings(_env_file=None, model_dir=str(tmp_path), model_signing_key="k",  # type: ignore[call-arg]
                        model_store_min_free_mb=10**9)  # more than any disk here has free
    with TestClient(create_app(settings)) as api:
        ready = api.get("/health/ready")
        settings.model_store_min_free_mb = 0
        again = api.get("/health/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["model_store"] == "down"
    assert "MB free, under MODEL_STORE_MIN_FREE_MB=1000000000" in ready.json()["reasons"][0]
    assert again.status_code == 200 and again.json()["status"] == "ready"
