"""The key that signs model artifacts: MODEL_SIGNING_KEY, or in the embedded default one kept in the store.

Without MODEL_SIGNING_KEY and without Redis (one host), the first process generates a key once and keeps it
in MODEL_DIR/signing.key (owner-only, 0600), so a restart, or another worker process of the same host, verifies
what the earlier ones signed. A process sharing Redis (API replicas, Celery workers, possibly on other hosts)
must be given MODEL_SIGNING_KEY: it refuses to start without it.
"""

import os
import secrets
import stat
from pathlib import Path

import structlog

from app.config import Settings

log = structlog.get_logger(__name__)

KEY_FILE = "signing.key"


class MissingSigningKey(SystemExit):
    """A process that shares Redis started without MODEL_SIGNING_KEY (exits with this one line)."""


def require_shared_key(settings: Settings, role: str) -> None:
    """Refuse to start (`role`: "API", "worker") when the process shares Redis but has no MODEL_SIGNING_KEY."""
    if settings.redis_url and not settings.model_signing_key:
        raise MissingSigningKey(f"SmartShelf {role} refuses to start: REDIS_URL is set and MODEL_SIGNING_KEY is "
                                "empty; give every API and worker sharing this Redis the same MODEL_SIGNING_KEY "
                                "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')")


def signing_key(settings: Settings) -> str:
    """MODEL_SIGNING_KEY, else (embedded default) the store's key, generated on first use. A store that cannot
    hold it (read-only, full) gives a random key for this process, logged: its models last until it stops."""
    if settings.model_signing_key:
        return settings.model_signing_key
    require_shared_key(settings, "process")
    try:
        return stored_key(Path(settings.model_dir))
    except OSError as exc:
        log.warning("model_signing_key_unstored", model_dir=settings.model_dir, error=exc.strerror,
                    effect="random per-process key: models trained by this process are refused after a restart")
        return secrets.token_hex(32)


def stored_key(model_dir: Path) -> str:
    """The key kept in `model_dir`, created (0600) when there is none; concurrent first starts agree on one."""
    path = model_dir / KEY_FILE
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    model_dir.mkdir(parents=True, exist_ok=True)
    draft = model_dir / f".{KEY_FILE}.{secrets.token_hex(8)}"
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:  # appears whole or not at all; the first of several starting processes wins, the others read it
            os.link(draft, path)
            log.info("model_signing_key_created", path=str(path))
        except FileExistsError:
            pass
    finally:
        draft.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        os.chmod(path, 0o600)  # others must not read it: it is what makes an artifact trusted
        log.warning("model_signing_key_permissions_tightened", path=str(path), was=oct(stat.S_IMODE(mode)))
    key = path.read_text().strip()
    if not key:
        raise OSError(0, f"{path} is empty")
    return key
