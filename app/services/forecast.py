"""Forecasts per product: auto-selected by backtest, with calibrated intervals and drivers.

Per-product rules (applied by `AutoForecaster`, app/models/auto.py; reported in that product's `warnings`):
- under 14 observed periods: moving average, no backtest (`short_history`);
- under 90 days (13 weeks) of history: accuracy is limited (`limited_history`);
- never sold in its history: zero forecast (`all_zero`);
- a named `model` that cannot forecast the product (too little history): moving average
  (`model_fallback`).
"""

import hashlib
from dataclasses import dataclass
from datetime import date

import numpy as np

from app import __version__
from app.models.auto import AUTO_FAMILIES, MIN_PERIODS, AutoForecaster
from app.models.drivers import BENEFIT_DAY, event_type
from app.models.panel import Panel, build_panel, history_periods
from app.schemas.common import DataWarning
from app.schemas.forecast import (
    BacktestScore,
    ForecastEvent,
    ForecastMeta,
    ForecastRequest,
    ForecastResponse,
    Frequency,
    ModelName,
    Prediction,
    ProductForecast,
)
from app.schemas.sales import SalesPayload
from app.services.drivers import attach_drivers
from app.services.forecast_panel import repair_warnings
from app.utils.arrays import least_squares_slopes
from app.utils.dates import LAST_DAY, dates_of, day_number, from_day_number, utc_now_iso, weekday
from app.utils.errors import SmartShelfError
from app.utils.metrics import observe_training
from app.utils.sales_frame import clean_sales, first_seen
from app.utils.work_budget import WorkBudget

LIMITED = {1: 90, 7: 13}
WEEKDAYS = ["Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"]


@dataclass(frozen=True)
class ForecastSpec:
    """What the forecast pipeline needs, as plain values: its internal entry point.

    HTTP requests become one through `spec_of`; services that forecast for their own purposes
    (reorder) build one directly from their already validated sales. `product_ids` None means
    every product sold; `product_id_first` says the first of them came as `product_id` (it names
    the field in a 400). `event_days` are days since 1970-01-01, sorted, as sent (the result
    keys digest them so). The sales' series step follows the payload (`SalesPayload.series_step`).
    """

    shop_id: str
    sales: SalesPayload
    product_ids: tuple[str, ...] | None = None
    periods: int = 14
    model: ModelName = "auto"
    confidence_interval: float = 0.95
    frequency: Frequency = "auto"
    event_days: tuple[int, ...] = ()
    event_types: tuple[tuple[int, str], ...] = ()  # (day, type) of the typed events, benefit days included
    as_of_day: int | None = None
    product_id_first: bool = False


def spec_of(request: ForecastRequest) -> ForecastSpec:
    """The forecast a validated request asks for (its sales are the request's own)."""
    named = request.product_id is not None or request.product_ids is not None
    wanted = ([request.product_id] if request.product_id else []) + list(request.product_ids or [])
    event_days, event_types = event_fields(request.calendar_events)
    return ForecastSpec(
        shop_id=request.shop_id, sales=request, product_ids=tuple(wanted) if named else None,
        periods=request.periods, model=request.model, confidence_interval=request.confidence_interval,
        frequency=request.frequency, event_days=event_days, event_types=event_types,
        as_of_day=day_number(request.as_of) if request.as_of else None, product_id_first=bool(request.product_id))


def event_fields(events: list[ForecastEvent]) -> tuple[tuple[int, ...], tuple[tuple[int, str], ...]]:
    """A spec's `event_days` (every unscoped event but benefit days, which come too often to mark "an event
    is near") and `event_types` (the typed unscoped events)."""
    shared = [e for e in events if not e.scoped]  # scoped events reach only their products: app.services.drivers
    return (tuple(sorted(day_number(e.date) for e in shared if event_type(e.type) != BENEFIT_DAY)),
            tuple(sorted((day_number(e.date), e.type) for e in shared if e.type)))


def requested_products(spec: ForecastSpec, sold: list[str]) -> list[str]:
    """The products to answer for, in request order; 400 for one without sales."""
    if spec.product_ids is None:
        return sold
    known = set(sold)
    for index, product_id in enumerate(spec.product_ids):
        if product_id not in known:
            field = "product_id" if spec.product_id_first and index == 0 else (
                f"product_ids[{index - (1 if spec.product_id_first else 0)}]")
            raise SmartShelfError(f"no sales history for product {product_id!r} in `sales`", field=field)
    return list(dict.fromkeys(spec.product_ids))


@dataclass
class Trained:
    """A request's fitted forecast: what the disk store keeps and `respond` turns into an answer."""

    panel: Panel
    model: AutoForecaster
    wanted: list[str]
    trained_at: str


def prepare(spec: ForecastSpec, budget: WorkBudget) -> tuple[Panel, list[str], list[DataWarning]]:
    """The spec's panel, the products to answer for, and the data-rule warnings.

    The panel's size, the answer's and the last forecast date are checked before the panel is built.
    """
    sales, warnings = clean_sales(spec.sales, as_of_day=spec.as_of_day, with_revenue=True)
    if sales.size == 0:
        raise SmartShelfError("no sales rows left to learn from (all were after as_of)", field="sales")
    step, periods = history_periods(sales.day, spec.frequency)
    first, last = int(sales.day.min()), int(sales.day.max())
    budget.check("train", {"products": len(sales.product_ids), "periods of history": periods},
                 "split the products over several requests, send less history, or use POST /forecast/batch")
    answered = len(sales.product_ids) if spec.product_ids is None else len(spec.product_ids)
    budget.check("answer", {"products": answered, "periods ahead": spec.periods},
                 "ask for fewer products or periods per request, or use POST /forecast/batch")
    if last - first - (last - first) % step + spec.periods * step > LAST_DAY - first:
        raise SmartShelfError(f"{spec.periods} periods after the last sale ({from_day_number(last)}) run past "
                              "9999-12-31", field="periods")
    panel, repairs = build_panel(sales, "daily" if step == 1 else "weekly", set(spec.event_days))
    panel, unused = attach_drivers(spec.sales, spec.event_types, panel, spec.periods, budget)
    return panel, requested_products(spec, first_seen(sales)), warnings + repair_warnings(repairs, panel.step) + unused


def train(spec: ForecastSpec, panel: Panel, wanted: list[str]) -> Trained:
    """Backtest, select and fit (the expensive part)."""
    families = AUTO_FAMILIES if spec.model == "auto" else (spec.model,)
    model = AutoForecaster(families=families, horizon=spec.periods).fit(panel)
    observe_training(model.selection_.train_seconds)
    trained_at = utc_now_iso()
    return Trained(panel, model, wanted, trained_at)


def respond(trained: Trained, spec: ForecastSpec, warnings: list[DataWarning]) -> ForecastResponse:
    """Forecasts with rules, intervals and drivers, from fitted models (cheap)."""
    panel, model = trained.panel, trained.model
    selection = model.selection_
    warnings = list(warnings)
    forecast = model.predict(spec.periods)
    lower, upper, calibrated = model.intervals(forecast, spec.confidence_interval)
    if not calibrated:
        warnings.append(DataWarning(
            code="intervals_uncalibrated", count=panel.n_products,
            message="history too short for a backtest: intervals are +-z x sqrt(step) x half the forecast, "
            "not calibrated on this data.",
        ))
    index = {product_id: i for i, product_id in enumerate(panel.product_ids)}
    dates = dates_of(panel.days(panel.n_periods, spec.periods))
    rows = [index[p] for p in trained.wanted]
    patterns, trend_words = weekday_patterns(panel), trends(panel)
    return ForecastResponse(
        forecasts=[_product(panel, model, i, forecast, lower, upper, dates, trained.trained_at, spec,
                            patterns, trend_words) for i in rows],
        meta=ForecastMeta(
            shop_id=spec.shop_id, total_products=len(rows), periods=spec.periods,
            frequency="daily" if panel.step == 1 else "weekly", confidence_interval=spec.confidence_interval,
            model=spec.model, backtest_origins=len(selection.origins), backtest_horizon=selection.backtest_horizon,
        ),
        warnings=warnings,
    )


def forecast_products(spec: ForecastSpec, budget: WorkBudget) -> ForecastResponse:
    """Forecast the requested products from the spec's own history (no cache)."""
    panel, wanted, warnings = prepare(spec, budget)
    return respond(train(spec, panel, wanted), spec, warnings)


def product_warnings(panel: Panel, i: int, method: str, spec: ForecastSpec) -> list[DataWarning]:
    observed = int(panel.observed[i])
    unit = "days" if panel.step == 1 else "weeks"
    warnings = []
    if method == "zero":
        warnings.append(DataWarning(code="all_zero", count=observed,
                                    message="no sales in its history: the forecast is zero."))
    elif observed < MIN_PERIODS:
        warnings.append(DataWarning(code="short_history", count=observed,
                                    message=f"only {observed} {unit} of history: moving average, no backtest."))
    elif spec.model != "auto" and method != spec.model:
        warnings.append(DataWarning(code="model_fallback", count=observed,
                                    message=f"{spec.model} needs more history than {observed} {unit}; "
                                    "used a moving average."))
    if observed < LIMITED[panel.step] and method != "zero":
        warnings.append(DataWarning(code="limited_history", count=observed,
                                    message=f"{observed} {unit} of history (under {LIMITED[panel.step]}): "
                                    "accuracy is limited, and yearly patterns cannot be learned."))
    return warnings


def weekday_patterns(panel: Panel) -> list[str | None]:
    """Per product: 'weekday pattern: Saturdays +38%, Mondays -22%' from its last 8 weeks (daily data,
    at least 28 days of history, some sales); None otherwise. All rows at once."""
    if panel.step != 1:
        return [None] * panel.n_products
    tail_start = max(0, panel.n_periods - 56)
    tail = panel.values[:, tail_start:]
    inside = np.arange(tail.shape[1])[None, :] >= (np.maximum(panel.start, tail_start) - tail_start)[:, None]
    on_day = np.eye(7)[weekday(panel.first_day + np.arange(tail_start, panel.n_periods))]  # [columns, 7]
    observed_tail = np.where(inside, tail, 0.0)
    mean = observed_tail.sum(axis=1) / np.maximum(inside.sum(axis=1), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (observed_tail @ on_day) / np.maximum(inside @ on_day, 1) / mean[:, None] - 1  # [n, 7]
    patterns: list[str | None] = []
    for row, high, low in zip(ratio, np.argmax(ratio, axis=1), np.argmin(ratio, axis=1), strict=True):
        if row[high] < 0.1 and row[low] > -0.1:
            patterns.append("weekday pattern: flat (no day differs by 10% or more)")
        else:
            patterns.append(f"weekday pattern: {WEEKDAYS[high]} {row[high] * 100:+.0f}%, "
                            f"{WEEKDAYS[low]} {row[low] * 100:+.0f}%")
    usable = (panel.observed >= 28) & (mean > 0)
    return [pattern if ok else None for pattern, ok in zip(patterns, usable, strict=True)]


def trends(panel: Panel) -> list[str | None]:
    """Per product: 'trend: +4.2% per month over the last 90 days', the least-squares slope of its last
    90 days (13 weeks) relative to their mean; None under 8 periods or without sales. All rows at once."""
    window = 90 if panel.step == 1 else 13
    tail_start = max(0, panel.n_periods - window)
    tail = panel.values[:, tail_start:]
    first = np.maximum(panel.start, tail_start) - tail_start  # first observed column inside the tail
    length = tail.shape[1] - first
    mean = np.where(np.arange(tail.shape[1])[None, :] >= first[:, None], tail, 0.0).sum(axis=1) / np.maximum(length, 1)
    slope = least_squares_slopes(tail, first)
    per, unit, word = (30, "month", "days") if panel.step == 1 else (4, "4 weeks", "weeks")
    return [f"trend: {s * per / m * 100:+.1f}% per {unit} over the last {k} {word}" if k >= 8 and m > 0 else None
            for s, m, k in zip(slope, mean, length, strict=True)]


def _number(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 4)


def _product(panel: Panel, model: AutoForecaster, i: int, forecast: np.ndarray, lower: np.ndarray,
             upper: np.ndarray, dates: list[date], trained_at: str, spec: ForecastSpec,
             patterns: list[str | None], trend_words: list[str | None]) -> ProductForecast:
    selection, method = model.selection_, model.method_[i]
    drivers = model.drivers(i)
    drivers += [d for d in (patterns[i], trend_words[i]) if d]
    scores = {family: BacktestScore(**{k: _number(v[i]) for k, v in s.items()})
              for family, s in selection.scores.items()}
    # the selection's own choice (family or pair) has scores; a fallback keeps its family's, if backtested
    own = selection.backtested[i] and method == selection.method[i]
    chosen = BacktestScore(**{k: _number(v[i]) for k, v in selection.chosen_scores.items()}) if own \
        else scores.get(method)
    short_term = _number(selection.short_term_rmse[i]) if own else None
    fingerprint = hashlib.sha256()
    fingerprint.update(panel.values[i, panel.start[i]:].tobytes())
    fingerprint.update(f"{method}|{spec.periods}|{panel.step}|{panel.first_day + panel.start[i]}".encode())
    return ProductForecast(
        product_id=panel.product_ids[i],
        predictions=[Prediction(date=d, predicted_qty=round(float(f), 3), lower_ci=round(float(lo), 3),
                                upper_ci=round(float(hi), 3))
                     for d, f, lo, hi in zip(dates, forecast[i], lower[i], upper[i], strict=True)],
        method=method,
        model_version=f"{method}-{__version__}-{fingerprint.hexdigest()[:12]}",
        trained_at=trained_at,
        rmse=chosen.rmse if chosen else None,
        mase=chosen.mase if chosen else None,
        short_term_rmse=short_term,
        backtest=scores,
        drivers=drivers,
        history_periods=int(panel.observed[i]),
        warnings=product_warnings(panel, i, method, spec),
    )
