"""Forecasts served by the shop's model: no training per request, the same quality for one product
as for the whole catalogue.

`shop_answer` answers a forecast spec with the shop's model when one fits it: same frequency,
`periods` within the model's horizon, and the request's history ending within
SHOP_MODEL_MAX_AGE_DAYS of the model's training data. Otherwise it says why, and the caller
(`app.services.forecasting.pipeline`) answers with today's per-request models and that warning.
"""

import dataclasses
import hashlib
from datetime import date

import numpy as np

from app import __version__
from app.config import Settings
from app.models.panel import Panel
from app.models.shop_model import SHOP, ShopModel
from app.models.window_choice import ENSEMBLE_SEPARATOR
from app.schemas.common import DataWarning
from app.schemas.forecast import (
    BacktestScore,
    ForecastMeta,
    ForecastResponse,
    Prediction,
    PriceElasticityEstimate,
    ProductForecast,
    ShopModelRef,
)
from app.schemas.shop_models import ModelCard
from app.services.forecasting.drivers import drivers_digest
from app.services.forecasting.event_effects import blend_without, event_words, tree_shares
from app.services.forecasting.explanations import product_warnings, trends, weekday_patterns
from app.services.forecasting.shop_models import FREQUENCIES, Found, Refused, refusal
from app.services.forecasting.spec import ForecastSpec
from app.utils.dates import dates_of, from_day_number
from app.utils.rounding import scale_decimals

SCORED = ("mase", "rmse", "bias", "mape", "smape")


def _unfit(model: ShopModel, card: ModelCard, panel: Panel, spec: ForecastSpec, settings: Settings) -> str | None:
    """Why the model cannot serve this request, or None when it can."""
    if spec.periods > model.horizon:
        return (f"asks for {spec.periods} periods and the shop model ({card.model_version}) serves up to "
                f"{model.horizon}; train it with a longer `periods`")
    last_day = panel.first_day + (panel.n_periods - 1) * panel.step
    apart = last_day - model.last_day_
    if abs(apart) > settings.shop_model_max_age_days:
        return (f"the history ends {from_day_number(last_day)}, {abs(apart)} days "
                f"{'after' if apart > 0 else 'before'} the shop model's training data "
                f"({card.training_last_date}; SHOP_MODEL_MAX_AGE_DAYS={settings.shop_model_max_age_days})")
    return None


def shop_model_end(loaded: tuple[ShopModel, ModelCard] | None, last_sale_day: int) -> int | None:
    """The last day of the shop model's training data when it is later than the request's latest sale (the
    shop's data ran to then: a request whose products fell silent before it, a slow mover's, has no sales
    since); None otherwise, or without a shop model. A caller sending an old history says so with `as_of`."""
    if loaded is None:
        return None
    end = int(loaded[0].last_day_)
    return end if end > last_sale_day else None


def shop_answer(spec: ForecastSpec, loaded: Found, panel: Panel, wanted: list[str],
                warnings: list[DataWarning], settings: Settings) -> ForecastResponse | DataWarning:
    """The answer from the shop model (`loaded`: the shop's model of the panel's frequency, `Refused` when the
    one stored cannot be served, None when it has none), or the `shop_model_unused` warning saying why not."""
    if isinstance(loaded, Refused):
        reason = f"shop {spec.shop_id!r}: {refusal(loaded)}"
    elif loaded is None:
        reason = (f"shop {spec.shop_id!r} has no usable {FREQUENCIES[panel.step]} shop model "
                  "(POST /api/v1/smart-shelf/models/train)")
    else:
        model, card = loaded
        unfit = _unfit(model, card, panel, spec, settings)
        if unfit is None:
            return _respond(model, card, panel, wanted, spec, warnings)
        reason = unfit
    # the count is the products forecast without it: a decision reads the forecast of some items only (review 6
    # F15: 29, 30 and 26 for one 31-item inventory, with no word on what they counted)
    products = f"{len(wanted)} product{'' if len(wanted) == 1 else 's'}"
    return DataWarning(code="shop_model_unused", count=len(wanted), product_ids=list(wanted[:20]),
                       message=f"{reason}: {products} forecast with models fitted on this request's products only.")


def _respond(model: ShopModel, card: ModelCard, panel: Panel, wanted: list[str], spec: ForecastSpec,
             warnings: list[DataWarning]) -> ForecastResponse:
    index = {product_id: i for i, product_id in enumerate(panel.product_ids)}
    rows = np.array([index[p] for p in wanted], dtype=np.int64)
    asked = panel.take(rows)
    unread = _unread_drivers(model, card, asked)
    warnings = [*warnings, unread] if unread is not None else warnings
    forecast, methods = model.forecast(asked, spec.periods)
    bounds = model.intervals(forecast, asked, spec.confidence_interval)
    if bounds is None:
        scored = card.held_out.products_scored
        warnings = [*warnings, DataWarning(
            code="intervals_unavailable", count=asked.n_products,
            message=f"the shop model {card.model_version} has no intervals: its held-out window "
            f"({scored} product{'' if scored == 1 else 's'} scored x {card.held_out.periods} periods) holds too few "
            "errors to learn bounds and measure their coverage; lower_ci and upper_ci equal predicted_qty. Train "
            "it with more products or a longer history for intervals.")]
    lower, upper = bounds if bounds is not None else (forecast, forecast)
    dates = dates_of(asked.days(asked.n_periods, spec.periods))
    patterns, trend_words = weekday_patterns(asked), trends(asked)
    elasticities = _elasticities(model, asked)
    share = tree_shares(methods)
    price_words = _price_drivers(model, asked, spec.periods, forecast, share, elasticities)
    event_effects = event_words(model, asked, getattr(spec.sales, "calendar_events", None) or [], spec.periods,
                                forecast, share)
    top = ", ".join(f"{name} ({share * 100:.0f}%)" for name, share in model.importances[:3])
    shared = f"shop model {card.model_version} across {card.products} products; strongest signals: {top}"
    reference = ShopModelRef(model_version=card.model_version, trained_at=card.trained_at,
                             training_last_date=card.training_last_date)
    forecasts = []
    for k in range(asked.n_products):
        own = shared if SHOP in methods[k].split(ENSEMBLE_SEPARATOR) else (
            f"{methods[k]} (fitted on this request): the shop model's backtest windows chose it over the shop "
            "model's trees for this product, or for its whole sales-rate band where choosing per product lost on a "
            "window the choice never saw")
        drivers = [own] + [d for d in (*event_effects[k], *price_words[k], patterns[k], trend_words[k]) if d]
        forecasts.append(_product(model, card, asked, k, methods[k], forecast[k], lower[k], upper[k], dates, spec,
                                  drivers, elasticities[k]))
    return ForecastResponse(
        forecasts=forecasts,
        meta=ForecastMeta(shop_id=spec.shop_id, total_products=len(forecasts), periods=spec.periods,
                          frequency=card.frequency, confidence_interval=spec.confidence_interval, model=spec.model,
                          backtest_origins=1, backtest_horizon=model.horizon, shop_model=reference),
        warnings=warnings,
    )


def _unread_drivers(model: ShopModel, card: ModelCard, panel: Panel) -> DataWarning | None:
    """What of the caller's drivers the shop model's trees do not read, as a `driver_unused` warning."""
    drivers = panel.drivers
    if drivers is None or not drivers.read_by_trees:
        return None
    check = model.driver_check_
    if not model.reads_drivers and check is not None:
        return DataWarning(code="driver_unused", count=panel.n_products,
                           message=f"the shop model {card.model_version} does not read the prices, promotions, event "
                           f"types or event scopes sent: over its {check.windows} backtest windows its trees scored "
                           f"better without them "
                           f"({check.metric} {check.without_drivers:.3f} vs {check.with_drivers:.3f} with them); the "
                           "dates of unscoped events and prices derived from revenue still count")
    columns = model.trees_.columns
    sent = (("prices", drivers.price is not None, columns.prices),
            ("promotions", drivers.promotion is not None, columns.promotions))
    unread = ([name for name, given, read in sent if given and not read]
              + [f"events of type {kind}" for kind in drivers.kinds if kind not in columns.kinds])
    if not unread:
        return None
    return DataWarning(code="driver_unused", count=panel.n_products,
                       message=f"the shop model {card.model_version} was trained without {', '.join(unread)}: "
                       "train it with them (POST /api/v1/smart-shelf/models/train) for its forecasts to read them")


def _elasticities(model: ShopModel, panel: Panel) -> list[PriceElasticityEstimate | None]:
    found = model.elasticities(panel)
    estimates: list[PriceElasticityEstimate | None] = [None] * panel.n_products
    if found is not None:
        for k in np.flatnonzero(np.isfinite(found.value)):
            estimates[k] = PriceElasticityEstimate(value=round(float(found.value[k]), 3),
                                                   low=round(float(found.low[k]), 3),
                                                   high=round(float(found.high[k]), 3),
                                                   own_share=round(float(found.own_weight[k]), 3))
    return estimates


def _price_drivers(model: ShopModel, panel: Panel, periods: int, forecast: np.ndarray, share: np.ndarray,
                   elasticities: list[PriceElasticityEstimate | None]) -> list[list[str]]:
    """Per product: its price elasticity in words, and, where the trees take part in its forecast (`share`,
    `tree_shares`), what its planned prices did to the forecast (with them vs with the last known price held)."""
    words: list[list[str]] = [[] for _ in range(panel.n_products)]
    for k, found in enumerate(elasticities):
        if found is not None:
            source = (f"{found.own_share * 100:.0f}% from its own price changes, the rest the shop's"
                      if found.own_share > 0 else "the shop's: its own prices hardly moved")
            if found.high < 0:
                words[k].append(f"price elasticity {found.value:.1f} ({found.low:.1f} to {found.high:.1f}; {source}): "
                                f"10% off lifts units about {(0.9 ** found.value - 1) * 100:.0f}%")
            else:
                words[k].append(f"no clear price effect in its sales (elasticity {found.value:.1f}, {found.low:.1f} to "
                                f"{found.high:.1f}; {source})")
    drivers = panel.drivers
    if (drivers is None or drivers.price is None or drivers.price.shape[1] <= panel.n_periods
            or not model.reads_drivers):
        return words
    ahead = drivers.price[:, panel.n_periods:panel.n_periods + periods]
    rows = np.flatnonzero(np.isfinite(ahead).any(axis=1) & (share > 0))
    if rows.size == 0:
        return words
    asked = panel.take(rows)
    held = np.where(np.arange(drivers.price.shape[1])[None, :] < panel.n_periods, drivers.price[rows], np.nan)
    unplanned = dataclasses.replace(asked, drivers=dataclasses.replace(drivers.take(rows), price=held))
    without = blend_without(model, asked, unplanned, periods, forecast[rows], share[rows])
    known = held[:, :panel.n_periods]
    for i, k in enumerate(rows.tolist()):
        seen = known[i][np.isfinite(known[i])]
        if not seen.size or without[i].sum() <= 0:
            continue
        change = forecast[k].sum() / without[i].sum() - 1
        planned = float(np.nanmean(ahead[k]))
        words[k].append(f"planned price {planned:.2f} vs last {seen[-1]:.2f}: {change * 100:+.0f}% units over the "
                        "horizon")
    return words


def _number(value: float) -> float | None:
    return round(float(value), 4) if np.isfinite(value) else None


def _held_out_scores(model: ShopModel, seen: int) -> tuple[dict[str, BacktestScore], BacktestScore]:
    """A trained product's held-out scores (every candidate's, and the kept method's), built once per
    loaded model: they never change, and a request of many products would rebuild them each time."""
    cache: dict[int, tuple[dict[str, BacktestScore], BacktestScore]] = model.__dict__.setdefault("_score_cache", {})
    if seen not in cache:
        held = model.held_out_
        cache[seen] = ({name: BacktestScore(**{m: _number(values[m][seen]) for m in SCORED})
                        for name, values in held.scores.items() if name != "auto"},
                       BacktestScore(**{m: _number(held.scores["auto"][m][seen]) for m in SCORED}))
    return cache[seen]


def _product(model: ShopModel, card: ModelCard, panel: Panel, k: int, method: str, forecast: np.ndarray,
             lower: np.ndarray, upper: np.ndarray, dates: list[date], spec: ForecastSpec,
             drivers: list[str], elasticity: PriceElasticityEstimate | None) -> ProductForecast:
    product_id = panel.product_ids[k]
    seen = model.index_.get(product_id)
    held = model.held_out_
    scores: dict[str, BacktestScore] = {}
    chosen = None
    if seen is not None and held.scored[seen]:
        scores, chosen = _held_out_scores(model, seen)
    fingerprint = hashlib.sha256(panel.values[k, panel.start[k]:].tobytes())
    fingerprint.update(f"{card.model_version}|{spec.periods}|{panel.first_day + panel.start[k] * panel.step}|"
                       f"{__version__}".encode())
    fingerprint.update(drivers_digest(panel, k))  # planned prices and promotions change the forecast too
    warnings = product_warnings(panel, k, method, spec)
    decimals = scale_decimals(forecast)
    if seen is None:
        warnings.append(DataWarning(code="new_to_shop_model", count=int(panel.observed[k]),
                                    message="not in the shop model's training data: forecast by the shop model from "
                                    "its own history, with no held-out score of its own."))
    return ProductForecast(
        product_id=product_id,
        predictions=[Prediction(date=d, predicted_qty=round(float(f), decimals), lower_ci=round(float(lo), decimals),
                                upper_ci=round(float(hi), decimals))
                     for d, f, lo, hi in zip(dates, forecast, lower, upper, strict=True)],
        method=method, model_version=f"{method}-{__version__}-{fingerprint.hexdigest()[:12]}",
        trained_at=card.trained_at, rmse=chosen.rmse if chosen else None, mase=chosen.mase if chosen else None,
        short_term_rmse=_number(held.short_term_rmse[seen]) if seen is not None and method != "zero" else None,
        backtest=scores, drivers=drivers if method != "zero" else [], history_periods=int(panel.observed[k]),
        price_elasticity=elasticity, warnings=warnings,
    )

