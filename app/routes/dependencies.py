"""Dependencies shared by the resource routers."""

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError

from app.config import Settings, get_settings
from app.schemas.drivers import PricesPayload
from app.schemas.forecast import ForecastRequest
from app.schemas.jobs import JobAccepted
from app.schemas.sales import SalesPayload
from app.schemas.shop_models import TrainRequest
from app.services.jobs.batch_jobs import Context
from app.utils.access import ForbiddenError, Principal
from app.utils.cache import Cache
from app.utils.errors import PayloadTooLargeError
from app.utils.sales_upload import uploaded_sales

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
    """What batch work needs: settings, cache, job store, signing key and backend client of this process."""
    state = request.app.state
    return Context(settings, state.cache, state.jobs, state.signing_key, state.backend)


ContextDep = Annotated[Context, Depends(get_context)]


def check_row_limit(settings: Settings, payload: SalesPayload | None = None, *, require_sales: bool = False,
                    limit: int | None = None, limit_name: str = "MAX_PAYLOAD_ROWS",
                    **collections: Sequence[object]) -> None:
    """413 before any work when the request is larger than what bounds its parse.

    Sales lines (a row, a series cell, null or not, and an uploaded CSV line count one each) are bounded by
    MAX_SALES_LINES: a shop's export goes in as its lines, and what they cost once summed into product-days
    is each service's work budget (`app.utils.work_budget`). The request's other rows (inventory, items,
    events, prices, promotions, products, event scope entries) are bounded by MAX_PAYLOAD_ROWS. With `limit`
    (a batch's BATCH_MAX_ROWS) everything counts against that one limit. With `require_sales`, a request
    without any sales is a 422.
    """
    counts = {name: len(rows) for name, rows in collections.items()}
    lines = 0
    if payload is not None:
        lines = payload.sales_values()
        if require_sales and not lines:
            raise RequestValidationError([{"type": "missing", "loc": ("body", "sales"), "input": None,
                                           "msg": "no sales: send `sales` rows, `series` or a CSV file"}])
        if isinstance(payload, PricesPayload) and (drivers := payload.driver_values()):
            counts["prices, promotions and products"] = drivers
        scopes = sum(len(getattr(e, "product_ids", None) or []) + len(getattr(e, "categories", None) or [])
                     for e in getattr(payload, "calendar_events", None) or [])
        if scopes:
            counts["event scope entries"] = scopes
    if limit is not None:  # a batch: one limit for all
        counts = {"sales": lines, **counts} if payload is not None else counts
    elif lines > settings.max_sales_lines:
        raise PayloadTooLargeError(f"{lines} sales lines (rows, series cells and CSV lines) exceed MAX_SALES_LINES="
                                   f"{settings.max_sales_lines}; split the request by product, or use POST "
                                   "/api/v1/smart-shelf/forecast/batch (BATCH_MAX_ROWS) for forecasts")
    limit = settings.max_payload_rows if limit is None else limit
    total = sum(counts.values())
    if total > limit:
        listed = ", ".join(f"{name}={count}" for name, count in counts.items() if count)
        raise PayloadTooLargeError(f"{total} values ({listed}) exceed {limit_name}={limit}; split the request")


def attach_upload(payload: SalesPayload, http: Request) -> None:
    """Give the validated request the sales of its CSV upload, if it came as one; `csv` options without
    an upload are a 422 (they would read nothing)."""
    block = uploaded_sales(http)
    if block is None and payload.csv is not None:
        raise RequestValidationError([{"type": "value_error", "loc": ("body", "csv"), "input": None,
                                       "msg": "csv options need a CSV upload (multipart/form-data with a `request` "
                                       "part and a `sales` file); a JSON body's sales are read as sent"}])
    payload.attach_upload(block)


class ShopGuard:
    """Refuses (403) a shop the request's API key may not use; lets everything through when open."""

    def __init__(self, principal: Principal | None) -> None:
        self.principal = principal

    def __call__(self, shop_id: str | None, field: str = "shop_id") -> None:
        if self.principal is not None and not self.principal.allows(shop_id):
            raise ForbiddenError(f"API key {self.principal.name!r} may not use shop {shop_id!r}", field=field)

    def require_all_shops(self) -> None:
        if self.principal is not None and not self.principal.all_shops:
            raise ForbiddenError(f"API key {self.principal.name!r} is limited to some shops; this needs every shop")


def get_shop_guard(request: Request) -> ShopGuard:
    return ShopGuard(getattr(request.state, "principal", None))


ShopGuardDep = Annotated[ShopGuard, Depends(get_shop_guard)]


P = TypeVar("P", ForecastRequest, TrainRequest)


def start_job(payload: P, ctx: Context, guard: "ShopGuard", http: Request,
              submit: Callable[[P, Context, Any, str], JobAccepted]) -> JobAccepted:
    """A background job's intake: the shop's key, the uploaded CSV if any, BATCH_MAX_ROWS, then `submit`
    on the app's runner (Celery workers with REDIS_URL, a thread of this process otherwise)."""
    guard(payload.shop_id)
    attach_upload(payload, http)
    check_row_limit(ctx.settings, payload, require_sales=True, limit=ctx.settings.batch_max_rows,
                    limit_name="BATCH_MAX_ROWS", calendar_events=payload.calendar_events)
    runner = http.app.state.runner
    return submit(payload, ctx, runner, runner.backend)
