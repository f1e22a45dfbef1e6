"""The per-request models: the local families fitted on a request's own products, auto-selected by backtest,
with calibrated intervals and drivers (`AutoForecaster`, app/models/auto.py). The forecast path
(`pipeline.py`) uses them when the shop model cannot answer; their answers are cached and their fitted
models stored signed (`answer_cache.py`, `artifacts.py`). The per-product rules are in `explanations.py`."""

import hashlib
from dataclasses import dataclass
from datetime import date

import numpy as np

from app import __version__
from app.models.auto import AUTO_FAMILIES, AutoForecaster
from app.models.panel import Panel
from app.schemas.common import DataWarning
from app.schemas.forecast import BacktestScore, ForecastMeta, ForecastResponse, Prediction, ProductForecast
from app.services.forecasting.explanations import product_warnings, trends, weekday_patterns
from app.services.forecasting.history import history_panel, sales_columns
from app.services.forecasting.spec import ForecastSpec, choice_spec
from app.utils.dates import dates_of, utc_now_iso
from app.utils.metrics import observe_training
from app.utils.rounding import scale_decimals
from app.utils.work_budget import WorkBudget


def first_periods(response: ForecastResponse, periods: int) -> ForecastResponse:
    """`response` cut to its first `periods` (in place; the answer made for `choice_spec`)."""
    for forecast in response.forecasts:
        del forecast.predictions[periods:]
    response.meta.periods = periods
    return response


@dataclass
class Trained:
    """A request's fitted forecast: what the disk store keeps and `respond` turns into an answer."""

    panel: Panel
    model: AutoForecaster
    wanted: list[str]
    trained_at: str


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
    """Forecast the requested products from the spec's own history with the local families (no shop model,
    no cache, no store)."""
    sales, warnings = sales_columns(spec)
    panel, wanted, more = history_panel(spec, sales, budget)
    full = choice_spec(spec, panel.step)
    return first_periods(respond(train(full, panel, wanted), full, warnings + more), spec.periods)


def unread_drivers(panel: Panel, wanted: list[str]) -> list[DataWarning]:
    """`driver_unused` when the caller sent drivers that only the shop model's trees read."""
    drivers = panel.drivers
    if drivers is None or not drivers.read_by_trees:
        return []
    return [DataWarning(
        code="driver_unused", count=len(wanted),
        message="the per-request models read event dates only: prices, promotions, event types and scopes are "
        "read by the shop model (POST /api/v1/smart-shelf/models/train)")]


def unread_events(panel: Panel, methods: list[str]) -> list[DataWarning]:
    """`driver_unused` for the products whose chosen per-request method reads no calendar event (the boosted family
    alone reads event dates): the bakery's holidays sent as events changed none of its forecasts from 2021-12-24
    (seasonal naive + linear, Holt-Winters chosen), New Year's Day 165 baguettes, and nothing said so (review 9
    F5)."""
    if not panel.event_days:
        return []
    unread = [m for m in methods if "boosted" not in m.split("+")]
    if not unread:
        return []
    shown = ", ".join(sorted(set(unread))[:3])
    return [DataWarning(
        code="driver_unused", count=len(unread),
        message=f"calendar_events: the methods chosen for {len(unread)} of {len(methods)} products ({shown}) do not "
        "read them: their forecasts do not plan with the events (among the per-request models only "
        "`boosted` reads event dates; a shop model reads them all: POST /api/v1/smart-shelf/models/train). A day "
        "the shop is closed is no event: send it in closed_dates.")]


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
    # the selection's own choice (a family or a mean) has scores; a fallback keeps its family's, if backtested
    own = selection.backtested[i] and method == selection.method[i]
    chosen = BacktestScore(**{k: _number(v[i]) for k, v in selection.chosen_scores.items()}) if own \
        else scores.get(method)
    short_term = _number(selection.short_term_rmse[i]) if own else None
    decimals = scale_decimals(forecast[i])
    fingerprint = hashlib.sha256()
    fingerprint.update(panel.values[i, panel.start[i]:].tobytes())
    fingerprint.update(f"{method}|{spec.periods}|{panel.step}|{panel.first_day + panel.start[i]}".encode())
    return ProductForecast(
        product_id=panel.product_ids[i],
        predictions=[Prediction(date=d, predicted_qty=round(float(f), decimals), lower_ci=round(float(lo), decimals),
                                upper_ci=round(float(hi), decimals))
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
