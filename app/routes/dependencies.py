"""Dependencies shared by the resource routers."""

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings, get_settings
from app.tasks.batch import Context
from app.utils.cache import Cache
from app.utils.errors import PayloadTooLargeError

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_cache(request: Request) -> Cache:
    """The result cache the lifespan created (Redis or in-process)."""
    cache: Cache = request.app.state.cache
    return cache


def get_signing_key(request: Request) -> str:
    key: str = request.app.state.signing_key
    return key


CacheDep = Annotated[Cache, Depends(get_cache)]
SigningKeyDep = Annotated[str, Depends(get_signing_key)]


def get_context(request: Request, settings: SettingsDep) -> Context:
    """What batch work needs: settings, cache, job store and signing key of this process."""
    state = request.app.state
    return Context(settings, state.cache, state.jobs, state.signing_key)


ContextDep = Annotated[Context, Depends(get_context)]


def check_row_limit(settings: Settings, **collections: Sequence[object]) -> None:
    """413 when the request's rows together exceed MAX_PAYLOAD_ROWS."""
    rows = sum(len(rows) for rows in collections.values())
    if rows > settings.max_payload_rows:
        counts = ", ".join(f"{name}={len(rows)}" for name, rows in collections.items())
        raise PayloadTooLargeError(
            f"{rows} rows ({counts}) exceed MAX_PAYLOAD_ROWS={settings.max_payload_rows}; "
            "split the request"
        )
