"""The forecast path, top to bottom: `forecast` names every step in order (`_history`: those before any answer;
`_finish`: the answer and what follows it).

    spec -> sales columns -> (shop model?) -> closed days -> origin -> panel -> (shop model | local families)
         -> answer (closed days 0)

Each step is one call into the module that does it: `history.py` (the sales rules, the work budget, the
panel and the caller's drivers), `app.utils.opening_days` (the shop's closed days: sent, remembered by the
shop model, or detected), `shop_forecast.py` (the shop's trained model, when it fits the request),
`local_models.py` (the families fitted on the request's own products, made for at least 28 days and cut to
`periods`), `closed_days.py` (0 on closed days).
Around the local families sit the answer cache (`answer_cache.py`) and the signed disk store
(`artifacts.py`); around the whole answer, each product's latest forecast (`latest.py`) and accuracy
monitoring (`monitoring.py`). `POST /forecast`, batch chunks, `/reorder`, `/at-risk` and `/promotions` (through
`forecast_arrays`, which reads a cached answer as arrays without building it) all come through here.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from app.config import Settings
from app.models.panel import Panel, infer_step
from app.schemas.common import DataWarning
from app.schemas.forecast import ForecastResponse
from app.services.forecasting import answer_cache, latest, monitoring
from app.services.forecasting.artifacts import stored_or_trained
from app.services.forecasting.closed_days import close_days
from app.services.forecasting.history import history_panel, sales_columns
from app.services.forecasting.local_models import first_periods, unread_drivers, unread_events
from app.services.forecasting.shop_forecast import shop_answer, shop_model_end
from app.services.forecasting.shop_models import Found, card_opening, find_model, model_version
from app.services.forecasting.spec import ForecastSpec, choice_spec
from app.utils.cache import Cache
from app.utils.dates import day_number
from app.utils.metrics import FORECAST_CACHE
from app.utils.opening_days import OpeningDays, opening_days
from app.utils.sales_frame import SalesColumns
from app.utils.work_budget import WorkBudget


@dataclass(frozen=True)
class _History:
    """A request's history, ready to answer from: the shop's model found (or why refused), its closed days,
    the panel, the products to answer for and the data-rule warnings so far."""

    found_model: Found
    opening: OpeningDays
    panel: Panel
    wanted: list[str]
    warnings: list[DataWarning]


def forecast(spec: ForecastSpec, settings: Settings, cache: Cache, signing_key: str,
             clock: Callable[[], float] = time.time) -> ForecastResponse:
    """Forecast the spec's products, every step in order. `clock` (seconds since the epoch) dates a stored
    artifact's age."""
    history = _history(spec, settings, signing_key)
    last = latest.last_answers(cache, settings, spec.shop_id, history.wanted)  # before this answer replaces them
    return _finish(spec, history, last, settings, cache, signing_key, clock)


def _history(spec: ForecastSpec, settings: Settings, signing_key: str) -> _History:
    """The steps before any answer: the sales rules, the shop's model, closed days, origin and panel."""
    sales, warnings = sales_columns(spec)  # the sales rules, reported in `warnings`
    found_model = _shop_model(spec, sales, settings, signing_key)  # the shop's model, if any (`auto` only)
    shop = found_model if isinstance(found_model, tuple) else None  # (a model stored but refused is named below)
    origin = spec.as_of_day if spec.as_of_day is not None else shop_model_end(shop, int(sales.day.max()))
    # closed days (the shop model's and those after its training), and the days after the catalogue's last sale up
    # to the origin
    opening, found = opening_days(spec.sales, sales, card_opening(shop[1]) if shop else None, origin,
                                  day_number(date.fromisoformat(shop[1].training_last_date)) if shop else None)
    panel, wanted, repairs = history_panel(spec, sales, WorkBudget(settings), origin, opening)  # budget first
    return _History(found_model, opening, panel, wanted, warnings + found + repairs)


def _finish(spec: ForecastSpec, history: _History, last: latest.LastAnswers, settings: Settings, cache: Cache,
            signing_key: str, clock: Callable[[], float]) -> ForecastResponse:
    """The answer, its closed days, kept as each product's latest, scored against the previous ones."""
    panel = history.panel
    response, source = _answer(spec, history.found_model, panel, history.wanted, history.warnings, settings, cache,
                               signing_key, clock)
    close_days(response, panel, spec.periods, history.opening)  # no demand on closed days
    latest.remember(response, last, spec.shop_id, panel, spec.periods, settings, cache)
    monitoring.attach_realized(response, last.unlike([f.model_version for f in response.forecasts]), panel,
                               history.opening, settings, spec.shop_id)
    FORECAST_CACHE.labels(source).inc()
    return response


def _shop_model(spec: ForecastSpec, sales: SalesColumns, settings: Settings, signing_key: str) -> Found:
    """The shop's model of the sales' frequency (or why it is refused), for `auto`; None without one (or for a
    named model)."""
    if spec.model != "auto":
        return None
    return find_model(spec.shop_id, infer_step(sales.day, spec.frequency), settings, signing_key)


def _answer(spec: ForecastSpec, shop: Found, panel: Panel, wanted: list[str],
            warnings: list[DataWarning], settings: Settings, cache: Cache, signing_key: str,
            clock: Callable[[], float]) -> tuple[ForecastResponse, str]:
    """The shop model's answer when it fits the request (`auto` only), else the local families' through the
    answer cache and the disk store, keyed by the shop model version that could have answered; and where it
    came from (the cache metric's label)."""
    if spec.model == "auto":
        served = shop_answer(spec, shop, panel, wanted, warnings, settings)
        if isinstance(served, ForecastResponse):
            return served, "shop_model"
        warnings = [*warnings, served]  # shop_model_unused: why it could not answer
    warnings = warnings + unread_drivers(panel, wanted)
    full = choice_spec(spec, panel.step)  # made for at least 28 days, cut to `periods`
    keys = _result_keys(full, shop, panel, wanted)
    response = answer_cache.cached(cache, keys, full, panel, warnings, settings, lambda: stored_or_trained(
        full, settings, panel, wanted, warnings, answer_cache.artifact_id(keys), signing_key, clock))
    response.warnings = [*response.warnings, *unread_events(panel, [f.method for f in response.forecasts])]
    return first_periods(response, spec.periods), response.meta.cache


def _result_keys(spec: ForecastSpec, shop: Found, panel: Panel, wanted: list[str]) -> list[str]:
    """The answer cache's key of each wanted product, by the shop model version that could have answered."""
    index = {p: i for i, p in enumerate(panel.product_ids)}
    version, request = model_version(shop), answer_cache.request_digest(panel)
    return [answer_cache.result_key(spec, panel, index[p], version, request) for p in wanted]


@dataclass(frozen=True)
class ForecastArrays:
    """A forecast as numbers, for services that compute with it (reorder), not serve it.

    Row i is `product_ids[i]`, in the spec's product order. The values are the answer's own
    (`predicted_qty` rounded as in its JSON), so a hit, a stored model and a fresh training give
    the same numbers.
    """

    product_ids: list[str]
    forecast: np.ndarray  # float64[n, periods], predicted_qty
    short_term_rmse: np.ndarray  # float64[n], NaN where the chosen method has none
    methods: list[str]
    cache: Literal["hit", "disk", "miss", "off"]
    warnings: list[DataWarning]


def forecast_arrays(spec: ForecastSpec, settings: Settings, cache: Cache, signing_key: str,
                    clock: Callable[[], float] = time.time) -> ForecastArrays:
    """`forecast` as arrays: the same steps, keys, cached entries, monitoring and answer.

    A cached answer is read as arrays straight from the cache (`answer_cache.cached_arrays`: only the
    fields read here, one product at a time), without building the answer it would be: when no shop model was
    found to answer instead (`auto`) and no product has a previous forecast of another version to score
    (monitoring). Otherwise, and on a miss, the whole answer is made as `forecast` makes it.
    """
    history = _history(spec, settings, signing_key)
    last = latest.last_answers(cache, settings, spec.shop_id, history.wanted)  # before this answer replaces them
    if not isinstance(history.found_model, tuple):
        read = _cached_arrays(spec, history, last, settings, cache)
        if read is not None:
            FORECAST_CACHE.labels("hit").inc()
            return read
    response = _finish(spec, history, last, settings, cache, signing_key, clock)
    forecasts = response.forecasts
    n = len(forecasts)
    values = np.fromiter((p.predicted_qty for f in forecasts for p in f.predictions), np.float64, n * spec.periods)
    rmse = np.fromiter((np.nan if f.short_term_rmse is None else f.short_term_rmse for f in forecasts), np.float64, n)
    return ForecastArrays(product_ids=[f.product_id for f in forecasts], forecast=values.reshape(n, spec.periods),
                          short_term_rmse=rmse, methods=[f.method for f in forecasts], cache=response.meta.cache,
                          warnings=response.warnings)


def _cached_arrays(spec: ForecastSpec, history: _History, last: latest.LastAnswers, settings: Settings,
                   cache: Cache) -> ForecastArrays | None:
    """The local families' cached answer as arrays (no shop model found: `_answer`'s warnings without
    computing anything), its closed days 0 as `close_days` makes them; None when a product is not cached or
    has a previous forecast to score."""
    panel, warnings = history.panel, history.warnings
    if spec.model == "auto":
        unused = shop_answer(spec, history.found_model, panel, history.wanted, warnings, settings)
        if not isinstance(unused, DataWarning):  # never: no model was found, or the one stored is refused
            return None
        warnings = [*warnings, unused]
    full = choice_spec(spec, panel.step)
    read = answer_cache.cached_arrays(cache, _result_keys(full, history.found_model, panel, history.wanted),
                                      full.periods)
    if read is None or any(previous is not None for previous in last.unlike(read.versions)):
        return None
    forecast = read.forecast[:, :spec.periods]
    if panel.step == 1 and history.opening.any:
        forecast[:, history.opening.closed(panel.days(panel.n_periods, spec.periods))] = 0.0
    return ForecastArrays(product_ids=list(history.wanted), forecast=forecast,
                          short_term_rmse=read.short_term_rmse, methods=read.methods, cache="hit",
                          warnings=warnings + unread_drivers(panel, history.wanted)
                          + unread_events(panel, read.methods))
