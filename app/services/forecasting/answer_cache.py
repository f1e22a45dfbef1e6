"""The answer cache around the forecast path: forecasts kept by what made them, for MODEL_CACHE_DAYS.

Keys cannot collide across tenants: a product's result key digests the shop, the product, the
model, horizon, interval level, frequency, code version, calendar events, drivers, the exact
history sent, the whole request's histories and prices (`request_digest`: the local families learn across the
request's products, the boosted one and the per-band choice, so a product's forecast depends on the others sent with
it; /at-risk, /reorder and /promotions forecast from every product of the sales sent, so the same sales give each of
them and /forecast the same forecast whatever items they answer for)
and the shop model version current when it was made ("none" without one): after a training
no answer made before it is served. The same request twice is a hit with the identical forecast; any
change to the history is a miss and a new model_version. Concurrent identical misses compute once (single flight). A
`POST /forecast` repeated byte for byte is answered before it is decoded (`body_key`), when the shop's
model versions (`shop_model_stamp`) are still those its answer was made under.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NotRequired

import numpy as np
from pydantic import TypeAdapter
from typing_extensions import TypedDict

from app import __version__
from app.config import Settings
from app.models.panel import Panel
from app.schemas.common import DataWarning
from app.schemas.forecast import ForecastMeta, ForecastResponse, ProductForecast
from app.services.forecasting.drivers import drivers_digest
from app.services.forecasting.spec import ForecastSpec
from app.utils.cache import Cache
from app.utils.metrics import FORECAST_CACHE


def digest(*parts: Any) -> str:
    """32 hex characters of SHA-256 over the parts (bytes as they are, anything else as its str)."""
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part if isinstance(part, bytes) else str(part).encode())
        sha.update(b"\x1f")
    return sha.hexdigest()[:32]


def request_digest(panel: Panel) -> str:
    """What every product of the request contributes to each product's forecast by the local families."""
    price = b"" if panel.price is None else np.ascontiguousarray(panel.price).tobytes()  # revenue / units
    return digest("\x1e".join(panel.product_ids), panel.first_day, panel.start.tobytes(),
                  np.ascontiguousarray(panel.values).tobytes(), price, drivers_digest(panel))


def result_key(spec: ForecastSpec, panel: Panel, row: int, shop_model_version: str, request: str) -> str:
    """A product's key; `request` is the panel's `request_digest`, computed once per request."""
    history = panel.values[row, panel.start[row]:]
    first_day = panel.first_day + int(panel.start[row]) * panel.step
    events = list(spec.event_days)  # sorted day numbers, digested as the list they always were
    return "ss:fc:" + digest(spec.shop_id, panel.product_ids[row], spec.model, spec.periods,
                             spec.confidence_interval, panel.step, first_day, __version__, events,
                             history.tobytes(), drivers_digest(panel, row), shop_model_version, request)


def artifact_id(result_keys: list[str]) -> str:
    """The disk artifact of a request: one per set of product result keys."""
    return digest(*result_keys)


def cached(cache: Cache, keys: list[str], spec: ForecastSpec, panel: Panel, warnings: list[DataWarning],
           settings: Settings, compute: Callable[[], ForecastResponse]) -> ForecastResponse:
    """The cached forecasts of `keys` (one per product) as the answer (`meta.cache`: hit), else `compute()`'s
    answer, kept for MODEL_CACHE_DAYS; identical concurrent misses compute once."""
    response = _response_from(cache.get_many(keys), spec, panel, warnings)
    if response is not None:
        return response
    with cache.single_flight(f"ss:flight:{artifact_id(keys)}"):
        response = _response_from(cache.get_many(keys), spec, panel, warnings)  # another request made it meanwhile
        if response is None:
            response = compute()
            entries = {k: f.model_dump_json().encode() for k, f in zip(keys, response.forecasts, strict=True)}
            cache.set_many(entries, settings.model_cache_days * 86400)
    return response


def _response_from(hits: list[bytes | None], spec: ForecastSpec, panel: Panel,
                   warnings: list[DataWarning]) -> ForecastResponse | None:
    """The answer made of cached forecasts when every product has one, else None."""
    if any(hit is None for hit in hits):
        return None
    forecasts = [ProductForecast.model_validate_json(hit) for hit in hits if hit is not None]
    return ForecastResponse(
        forecasts=forecasts,
        meta=ForecastMeta(shop_id=spec.shop_id, total_products=len(forecasts), periods=spec.periods,
                          frequency="daily" if panel.step == 1 else "weekly",
                          confidence_interval=spec.confidence_interval, model=spec.model,
                          backtest_origins=0, backtest_horizon=0, cache="hit"),
        warnings=warnings,
    )


@dataclass(frozen=True)
class CachedArrays:
    """Cached forecasts as numbers, row i = key i: `predicted_qty` as in the answer's JSON."""

    forecast: np.ndarray  # float64[n, periods]
    short_term_rmse: np.ndarray  # float64[n], NaN where none
    methods: list[str]
    versions: list[str]  # model_version


class _StoredPoint(TypedDict):
    predicted_qty: float


class _StoredForecast(TypedDict):
    """The fields of a cached ProductForecast that `cached_arrays` reads (the others are skipped unread)."""

    predictions: list[_StoredPoint]
    short_term_rmse: NotRequired[float | None]
    method: str
    model_version: str


_STORED = TypeAdapter(_StoredForecast)


def cached_arrays(cache: Cache, keys: list[str], periods: int) -> CachedArrays | None:
    """The cached forecasts of `keys` as arrays when every product has one (the same read as `cached`'s hit),
    else None. Decoded one product at a time into the arrays: a many-product hit leaves no answer-sized tree of
    objects behind (whose allocation made the collector sweep the whole heap); only the fields read become
    objects."""
    hits = cache.get_many(keys)
    if any(hit is None for hit in hits):
        return None
    forecast = np.empty((len(keys), periods), dtype=np.float64)
    rmse = np.empty(len(keys), dtype=np.float64)
    methods, versions = [], []
    for row, hit in enumerate(hits):
        stored = _STORED.validate_json(hit or b"")  # our own ProductForecast JSON: the fields read
        forecast[row] = [point["predicted_qty"] for point in stored["predictions"]]
        rmse[row] = np.nan if stored.get("short_term_rmse") is None else stored["short_term_rmse"]
        methods.append(stored["method"])
        versions.append(stored["model_version"])
    return CachedArrays(forecast, rmse, methods, versions)


def body_key(body: bytes) -> str:
    """Cache key of a whole forecast request by its raw bytes (and the code version)."""
    return "ss:body:" + digest(__version__, body)


def answer_by_body(cache: Cache, key: str, current_stamp: Callable[[str], str]) -> tuple[str, bytes] | None:
    """(shop_id, JSON answer) stored for exactly these request bytes, without decoding the request; None when
    the shop's model versions (`current_stamp(shop_id)`) changed since the answer was made."""
    stored = cache.get_many([key])[0]
    if stored is None:
        return None
    shop_id, _, rest = stored.partition(b"\n")
    stamp, _, answer = rest.partition(b"\n")
    if stamp.decode() != current_stamp(shop_id.decode()):
        return None
    FORECAST_CACHE.labels("hit").inc()
    return shop_id.decode(), answer


def remember_answer(cache: Cache, key: str, response: ForecastResponse, stamp: str, settings: Settings) -> None:
    """Keep the JSON answer under the request's byte key, as the hit it will be next time.

    A request repeated byte for byte is then answered before its JSON is even decoded, while the shop's
    model versions are still `stamp` (taken before the answer was made: a training landing meanwhile makes
    the next request a miss, never a stale hit). The shop id is stored with it so the caller's API key is
    still checked against the shop.
    """
    answer = response.model_copy(update={"meta": response.meta.model_copy(update={"cache": "hit"})})
    cache.set_many({key: response.meta.shop_id.encode() + b"\n" + stamp.encode() + b"\n"
                    + answer.model_dump_json().encode()}, settings.model_cache_days * 86400)
