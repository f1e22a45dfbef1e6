"""The disk model store: signed, atomically written joblib artifacts under MODEL_DIR.

Layout: MODEL_DIR/<shop digest>/<artifact id>/{model.joblib, meta.json, model.sig}; a shop model's
artifact id is `shop-model-<frequency>` (the clean-up leaves those to be replaced by training).
`model.sig` is HMAC-SHA256(MODEL_SIGNING_KEY, model bytes + meta bytes). An artifact is
unpickled only after its signature verifies and its recorded library versions equal the running
ones; otherwise `ArtifactRejected` says why and the caller retrains. An artifact's files are
written into a temporary folder that is renamed into place, so a crash or a full disk never
leaves half an artifact.
"""

import hashlib
import hmac
import io
import json
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from app import __version__

SHOP_MODEL_PREFIX = "shop-model-"  # a shop's model (one per frequency): replaced by training, never cleaned up


class ArtifactRejected(Exception):
    """A stored artifact that must not be loaded (missing, tampered, or other library versions)."""


def library_versions() -> dict[str, str]:
    import xgboost

    return {"python": platform.python_version(), "numpy": np.__version__, "joblib": joblib.__version__,
            "xgboost": xgboost.__version__, "smartshelf": __version__}


def shop_dir(model_dir: str, shop_id: str) -> Path:
    return Path(model_dir) / hashlib.sha256(shop_id.encode()).hexdigest()[:16]


def _write_atomic(path: Path, data: bytes, sync: bool = True) -> None:
    """Write to a temporary name and rename into place (never a torn file); `sync` also flushes it to disk
    first, so that it survives a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            if sync:
                out.flush()
                os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _signature(key: str, model: bytes, meta: bytes) -> str:
    return hmac.new(key.encode(), model + meta, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class StoredArtifact:
    path: Path
    meta: dict[str, Any]


def save(model_dir: str, shop_id: str, artifact_id: str, obj: Any, meta: dict[str, Any],
         signing_key: str) -> StoredArtifact:
    """Write `obj` with `meta` (plus library versions and time) as a signed artifact."""
    folder = shop_dir(model_dir, shop_id) / artifact_id
    buffer = io.BytesIO()
    joblib.dump(obj, buffer, compress=3)
    model = buffer.getvalue()
    full_meta = {**meta, "artifact_id": artifact_id, "libraries": library_versions(), "saved_at": time.time()}
    meta_bytes = json.dumps(full_meta, sort_keys=True).encode()
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{artifact_id}."))
    try:  # the three files appear together, by one rename of their folder, or not at all
        _write_atomic(staging / "model.joblib", model)
        _write_atomic(staging / "meta.json", meta_bytes)
        _write_atomic(staging / "model.sig", _signature(signing_key, model, meta_bytes).encode())
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return StoredArtifact(folder, full_meta)


def load(model_dir: str, shop_id: str, artifact_id: str, signing_key: str) -> tuple[Any, dict[str, Any]]:
    """The verified object and its meta, or ArtifactRejected."""
    folder = shop_dir(model_dir, shop_id) / artifact_id
    try:
        model = (folder / "model.joblib").read_bytes()
        meta_bytes = (folder / "meta.json").read_bytes()
        signature = (folder / "model.sig").read_bytes().decode()
    except OSError as exc:
        raise ArtifactRejected(f"missing: {exc.strerror}") from exc
    if not hmac.compare_digest(signature, _signature(signing_key, model, meta_bytes)):
        raise ArtifactRejected("signature does not match (tampered, or signed with another key)")
    meta = json.loads(meta_bytes)
    if meta.get("libraries") != library_versions():
        raise ArtifactRejected(f"written by other library versions {meta.get('libraries')}")
    return joblib.load(io.BytesIO(model)), meta


def cleanup(model_dir: str, keep_per_product: int, max_age_days: float, now: float | None = None) -> dict[str, Any]:
    """Delete artifacts older than `max_age_days`, and those not among the newest
    `keep_per_product` of any product they forecast. Returns {"removed": [paths], "kept": count}.
    """
    now = time.time() if now is None else now
    removed: list[str] = []
    kept = 0
    root = Path(model_dir)
    if not root.exists():
        return {"removed": removed, "kept": 0}
    for shop in (p for p in root.iterdir() if p.is_dir()):
        for staging in (p for p in shop.iterdir() if p.is_dir() and p.name.startswith(".")):
            if now - staging.stat().st_mtime > 3600:  # left by a process that died while saving
                shutil.rmtree(staging, ignore_errors=True)
                removed.append(str(staging))
        artifacts = []
        for folder in (p for p in shop.iterdir() if p.is_dir() and (p / "meta.json").exists()
                       and not p.name.startswith(SHOP_MODEL_PREFIX)):
            try:
                meta = json.loads((folder / "meta.json").read_bytes())
            except (OSError, ValueError):
                meta = {}  # unreadable: oldest, and counts for no product
            artifacts.append((float(meta.get("saved_at", 0.0)), folder, meta.get("product_ids", [])))
        artifacts.sort(key=lambda item: -item[0])
        newer: dict[str, int] = {}
        for saved, folder, product_ids in artifacts:
            wanted = any(newer.get(p, 0) < keep_per_product for p in product_ids)
            for product_id in product_ids:
                newer[product_id] = newer.get(product_id, 0) + 1
            if not wanted or now - saved > max_age_days * 86400:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(str(folder))
            else:
                kept += 1
    return {"removed": removed, "kept": kept}


def write_json(path: Path, payload: Any) -> None:
    """Atomically write JSON written by us (latest forecasts, accuracy records), without waiting for the
    disk: a crash may lose the last such write, never tear it (artifacts, which must survive, are synced)."""
    _write_atomic(path, json.dumps(payload, sort_keys=True, default=str).encode(), sync=False)


def read_json(path: Path) -> Any:
    """What `write_json` wrote, or None when the file is missing or unreadable."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
