"""The forecast the decisions read: `read_forecast`, the one entry point, makes the forecast /forecast and /reorder
make for the same sales (the same cache keys, so /reorder, /at-risk and /promotions of one request's sales share
one entry), and `demand_path` puts it beside a rate's path where it is not read (no sales, a forecast that failed,
an in-process caller).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from app.config import Settings
from app.schemas.common import DataWarning
from app.schemas.forecast import ForecastEvent, ForecastEventsPayload
from app.schemas.sales import SalesPayload
from app.services.forecasting.pipeline import ForecastArrays, forecast_arrays
from app.services.forecasting.spec import ForecastSpec, event_fields
from app.utils.cache import Cache
from app.utils.errors import SmartShelfError

FORECAST_DAYS = 28  # the forecast's horizon the decisions read (`read_forecast`); its mean rate beyond it
FORECAST_LEVEL = 0.95  # reorder's interval level: one cache entry for every service level
INTERVAL_WARNINGS = frozenset({"intervals_uncalibrated", "intervals_unavailable"})
Forecaster = Callable[[ForecastSpec], ForecastArrays]


def shop_forecaster(settings: Settings, cache: Cache, signing_key: str) -> Forecaster:
    """The forecast as /forecast and /reorder make it for the shop: `forecast_arrays` with their cache and key."""
    return partial(forecast_arrays, settings=settings, cache=cache, signing_key=signing_key)


@dataclass(frozen=True)
class DemandPath:
    """Each item's expected daily units after `as_of` and where they come from."""

    daily: np.ndarray  # float64[n, days], day 1 = the day after as_of
    from_forecast: np.ndarray  # bool[n]: the forecast's path (else the recent sales rate's)
    methods: list[str]  # the forecast's method per item, "sales_rate" for the others
    short_term_rmse: np.ndarray  # float64[n]: the forecast's 7-day backtest error, NaN where none or not read

    @property
    def cumulative(self) -> np.ndarray:
        return np.cumsum(self.daily, axis=1)


class _ForecastSales(SalesPayload, ForecastEventsPayload):
    """The sales and calendar events a decision's forecast reads, and nothing else."""


def _sales_alone(payload: SalesPayload) -> _ForecastSales:
    """The request's sales and its calendar events (each endpoint's `calendar_events` is a `ForecastEvent` list, read
    as /forecast reads them) and nothing else: another endpoint's fields (at-risk's prices) are no forecast drivers.
    Built from the validated values, not validated again."""
    events: list[ForecastEvent] = list(getattr(payload, "calendar_events", None) or [])
    sales = _ForecastSales.model_construct(**{name: getattr(payload, name) for name in SalesPayload.model_fields},
                                           calendar_events=events)
    sales._series_values = payload.series_values  # the validated arrays of the same series
    sales._row_cache = payload.row_cache  # and the rows as read once
    return sales.attach_upload(payload.upload)


@dataclass(frozen=True)
class ForecastRead:
    """The forecast's daily demand of each item (rows in the caller's order; zeros where it was not read)."""

    daily: np.ndarray  # float64[n, periods], day 1 = the day after as_of
    short_term_rmse: np.ndarray  # float64[n]: the chosen model's 7-day backtest error, NaN where none or not read
    from_forecast: np.ndarray  # bool[n]
    methods: list[str]  # the forecast's method per item, `unread` for the others
    cache: str  # the forecast cache's state ("off": nothing was read)


def read_forecast(sales: SalesPayload, shop_id: str, product_ids: Sequence[str], wanted: np.ndarray, periods: int,
                  as_of_day: int | None, forecaster: Forecaster, warnings: list[DataWarning],
                  unread: str = "none", skip: frozenset[str] = frozenset()) -> ForecastRead:
    """The one place the decisions get the forecast's daily demand: the forecast /forecast makes for `sales` of
    the `wanted` items (bool[n]) over FORECAST_DAYS days at reorder's interval level (the same cache keys as
    POST /forecast of these products over 28 days at 95% with the same `calendar_events`, which the forecast reads
    where `sales` carries them, so /reorder, /at-risk and /promotions of the same sales share one entry and every
    service level reads one forecast), continued at its mean daily rate to `periods`
    days. One horizon whatever the items: an item's long shelf life or lead time neither changes the model chosen
    for the others nor asks a shop model for more days than it was trained for (28 by default). Appends the
    forecast's warnings whose codes are not already in `warnings` nor in `skip`. Raises the forecast's
    SmartShelfError."""
    n = len(product_ids)
    daily = np.zeros((n, periods))
    rmse = np.full(n, np.nan)
    from_forecast = np.zeros(n, dtype=bool)
    methods = [unread] * n
    if not wanted.any():
        return ForecastRead(daily, rmse, from_forecast, methods, "off")
    event_days, event_types = event_fields(sales.calendar_events if isinstance(sales, ForecastEventsPayload)
                                           else [])
    spec = ForecastSpec(shop_id=shop_id, sales=sales, product_ids=tuple(p for p, w in zip(product_ids, wanted,
                                                                                          strict=True) if w),
                        periods=min(periods, FORECAST_DAYS), model="auto", confidence_interval=FORECAST_LEVEL,
                        frequency="daily", event_days=event_days, event_types=event_types, as_of_day=as_of_day)
    answer = forecaster(spec)
    seen = {w.code for w in warnings} | skip  # the forecast applies the same sales rules: each reported once
    warnings += [w for w in answer.warnings if w.code not in seen]
    index = {p: i for i, p in enumerate(product_ids)}
    rows = np.array([index[p] for p in answer.product_ids], dtype=np.int64)
    read = answer.forecast[:, :periods]
    daily[rows] = read.mean(axis=1, keepdims=True)  # beyond the forecast's days: its mean daily rate
    daily[rows, :read.shape[1]] = read
    rmse[rows] = answer.short_term_rmse
    from_forecast[rows] = True
    for row, method in zip(rows, answer.methods, strict=True):
        methods[row] = method
    return ForecastRead(daily, rmse, from_forecast, methods, answer.cache)


def demand_path(sales: SalesPayload, shop_id: str, product_ids: Sequence[str], wanted: np.ndarray,
                rate_path: np.ndarray, periods: int, sent_as_of: int | None, forecaster: Forecaster | None,
                warnings: list[DataWarning]) -> DemandPath:
    """The daily demand path of each item: the forecast for the `wanted` items (bool[n]; at-risk's items with
    sales, promotions' with stock and a sell-by day ahead: the callers bound the request's cost), the rate's path
    `rate_path` (float64[n, days], days >= `periods`) for the others and wherever no forecast is read (`forecaster`
    None: an in-process caller). The rule for a caller's `avg_daily_sales`: the forecast wins where it is read; the
    rate path is the fallback (the callers build it from `avg_daily_sales` where sent, else the recent sales rate).

    The forecast is `read_forecast`'s (the one /forecast and /reorder produce for these sales, the shop model
    when one is trained, else the request's own families) over `periods` days (`forecast_days`: reorder's days
    for the same items) from the request's `as_of` as sent (`sent_as_of`, None: not sent), so a /reorder of the
    same sales and items leaves it cached; beyond its days it continues at its mean daily rate.
    The forecast's warnings not already reported are appended to `warnings` (not those about its intervals:
    only its means are read); a forecast that fails is reported there and the rate stands in.
    """
    n = len(product_ids)
    daily = rate_path.copy()
    if forecaster is None or not wanted.any():
        return DemandPath(daily, np.zeros(n, dtype=bool), ["sales_rate"] * n, np.full(n, np.nan))
    try:
        read = read_forecast(_sales_alone(sales), shop_id, product_ids, wanted, periods, sent_as_of,
                             forecaster, warnings, unread="sales_rate", skip=INTERVAL_WARNINGS)
    except SmartShelfError as error:  # the rate still answers: say why the forecast did not
        warnings.append(DataWarning(code="forecast_unused", count=int(wanted.sum()),
                                    product_ids=[p for p, w in zip(product_ids, wanted, strict=True) if w][:20],
                                    message=f"The forecast could not be read ({error}); the stock view uses the "
                                    "recent sales rate instead."))
        return DemandPath(daily, np.zeros(n, dtype=bool), ["sales_rate"] * n, np.full(n, np.nan))
    rows = read.from_forecast
    # the forecast's days, then its mean rate to the rate path's length
    daily[rows] = read.daily[rows].mean(axis=1, keepdims=True)
    daily[rows, :periods] = read.daily[rows]
    return DemandPath(daily, rows, read.methods, read.short_term_rmse)
