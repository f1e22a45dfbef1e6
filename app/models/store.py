"""The disk model store: signed, atomically written joblib artifacts under MODEL_DIR.

Layout: MODEL_DIR/<shop digest>/<artifact id>/{model.joblib, meta.json, model.sig}. A shop model's
artifact id is `shop-model-<frequency>` (the clean-up leaves those to be replaced by training); it is
replaced in versions (`save_version`): MODEL_DIR/<shop digest>/shop-model-<frequency>/{current, v-.../}, each
version folder written whole first, then `current` (the name of the version served) replaced atomically, so
a reader always finds a complete version and two trainings of one shop both succeed (the last one wins).
`model.sig` is HMAC-SHA256(MODEL_SIGNING_KEY, shop id + artifact id + model bytes + meta bytes): an artifact
copied under another shop or artifact id does not verify. An artifact is unpickled only after its
signature verifies and its recorded library versions equal the running ones; otherwise
`ArtifactRejected` says why and the caller retrains. An artifact's files are written into a temporary
folder that is renamed into place, so a crash or a full disk never leaves half an artifact.
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
CURRENT = "current"  # in a versioned artifact's folder: the name of the version folder served
VERSION_PREFIX = "v-"
SUPERSEDED_SECONDS = 600  # a replaced version stays this long for the readers still reading it


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


def _signature(key: str, shop_id: str, artifact_id: str, model: bytes, meta: bytes) -> str:
    """Binds the bytes to their place: the shop and the artifact id they were written for."""
    place = json.dumps([shop_id, artifact_id]).encode() + b"\n"
    return hmac.new(key.encode(), place + model + meta, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class StoredArtifact:
    path: Path
    meta: dict[str, Any]


def _write_staging(parent: Path, prefix: str, shop_id: str, artifact_id: str, obj: Any, meta: dict[str, Any],
                   signing_key: str) -> tuple[Path, dict[str, Any]]:
    """A new folder under `parent` holding the signed artifact's three files, and its full meta."""
    buffer = io.BytesIO()
    joblib.dump(obj, buffer, compress=3)
    model = buffer.getvalue()
    full_meta = {**meta, "shop_id": shop_id, "artifact_id": artifact_id, "libraries": library_versions(),
                 "saved_at": time.time()}
    meta_bytes = json.dumps(full_meta, sort_keys=True).encode()
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=prefix))
    try:
        _write_atomic(staging / "model.joblib", model)
        _write_atomic(staging / "meta.json", meta_bytes)
        _write_atomic(staging / "model.sig", _signature(signing_key, shop_id, artifact_id, model, meta_bytes).encode())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, full_meta


def save(model_dir: str, shop_id: str, artifact_id: str, obj: Any, meta: dict[str, Any],
         signing_key: str) -> StoredArtifact:
    """Write `obj` with `meta` (plus library versions and time) as a signed artifact."""
    folder = shop_dir(model_dir, shop_id) / artifact_id
    staging, full_meta = _write_staging(folder.parent, f".{artifact_id}.", shop_id, artifact_id, obj, meta,
                                        signing_key)
    try:  # the three files appear together, by one rename of their folder, or not at all
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(staging, folder)
        except OSError:
            if not (folder / "model.sig").exists():
                raise
            shutil.rmtree(staging, ignore_errors=True)  # a concurrent writer put the same artifact there first
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return StoredArtifact(folder, full_meta)


def save_version(model_dir: str, shop_id: str, artifact_id: str, obj: Any, meta: dict[str, Any],
                 signing_key: str) -> StoredArtifact:
    """Write a new version of a replaceable artifact (a shop model), then serve it: the version folder is
    complete before `current` names it, and `current` is replaced in one rename, so readers see the old
    version until the new one is whole. Concurrent writers each write their own version; the last wins."""
    folder = shop_dir(model_dir, shop_id) / artifact_id
    version, full_meta = _write_staging(folder, f"{VERSION_PREFIX}{time.time_ns()}-", shop_id, artifact_id, obj,
                                        meta, signing_key)
    try:
        _write_atomic(folder / CURRENT, version.name.encode())
    except BaseException:
        shutil.rmtree(version, ignore_errors=True)
        raise
    _drop_superseded(folder)
    return StoredArtifact(version, full_meta)


def _drop_superseded(folder: Path) -> None:
    """Delete the versions replaced more than SUPERSEDED_SECONDS ago (never the current one, nor one being
    written), and the files of the layout before versions."""
    served = resolve(folder).name
    now = time.time()
    for version in folder.iterdir():
        if version.name.startswith(VERSION_PREFIX) and version.name != served:
            try:
                if now - version.stat().st_mtime > SUPERSEDED_SECONDS:
                    shutil.rmtree(version, ignore_errors=True)
            except OSError:
                continue  # another writer removed it meanwhile
    for name in ("model.joblib", "meta.json", "model.sig"):
        (folder / name).unlink(missing_ok=True)


def resolve(folder: Path) -> Path:
    """The folder holding an artifact's files: its current version when it has versions, else itself."""
    try:
        current = (folder / CURRENT).read_text().strip()
    except OSError:
        return folder
    return folder / current if current.startswith(VERSION_PREFIX) and "/" not in current else folder


def load(model_dir: str, shop_id: str, artifact_id: str, signing_key: str,
         folder: Path | None = None) -> tuple[Any, dict[str, Any]]:
    """The verified object and its meta, or ArtifactRejected. `folder`: the resolved folder to read (by default
    the artifact's current version)."""
    folder = folder or resolve(shop_dir(model_dir, shop_id) / artifact_id)
    try:
        model = (folder / "model.joblib").read_bytes()
        meta_bytes = (folder / "meta.json").read_bytes()
        signature = (folder / "model.sig").read_bytes().decode()
    except OSError as exc:
        raise ArtifactRejected(f"missing: {exc.strerror}") from exc
    if not hmac.compare_digest(signature, _signature(signing_key, shop_id, artifact_id, model, meta_bytes)):
        raise ArtifactRejected(_mismatch(signature, signing_key, shop_id, artifact_id, model, meta_bytes))
    meta = json.loads(meta_bytes)
    if meta.get("libraries") != library_versions():
        raise ArtifactRejected(f"written by other library versions {meta.get('libraries')}")
    return joblib.load(io.BytesIO(model)), meta


def _mismatch(signature: str, signing_key: str, shop_id: str, artifact_id: str, model: bytes, meta_bytes: bytes) -> str:
    """Why a signature does not verify: written for another shop or artifact (copied), else another key or
    tampered with (the two cannot be told apart)."""
    try:
        written = json.loads(meta_bytes)
        place = (str(written["shop_id"]), str(written["artifact_id"]))
    except (ValueError, KeyError, TypeError):
        place = (shop_id, artifact_id)
    if place != (shop_id, artifact_id) and hmac.compare_digest(
            signature, _signature(signing_key, *place, model, meta_bytes)):
        return f"signed for shop {place[0]!r}, artifact {place[1]!r}: copied from another shop's folder"
    return "signature does not match: signed with another MODEL_SIGNING_KEY, or tampered with"


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
