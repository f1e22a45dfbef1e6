"""Shop models as the service keeps them: trained from a request or a job, stored signed, loaded once.

One model per shop and frequency, at MODEL_DIR/<shop digest>/shop-model-<frequency>/ as a
signed, versioned artifact (`app.models.store.save_version`) whose meta holds the model card; a training
swaps its new version in atomically (the old one serves until then), and the clean-up of per-request
artifacts never touches it. Each process keeps the models it has loaded, verified or refused (`MAX_LOADED`,
least recently used out), and loads one again whenever its current version, signature or model file
changed, so serving a forecast costs a stat and a small read, not an unpickling. A model stored but refused
(another key, other library versions, tampered, another shop's) is named as such (`Refused`), never as
missing.
"""

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import structlog

from app import __version__
from app.config import Settings
from app.models import store
from app.models.panel import Panel, build_panel, history_periods
from app.models.shop_model import MIN_ORIGIN, MIN_TRAIN_ROWS, SHOP, ShopModel, most_training_rows
from app.schemas.common import DataWarning
from app.schemas.sales import WEEKDAY_NAMES
from app.schemas.shop_models import (
    BandScore,
    DriversCheck,
    FeatureImportance,
    HeldOut,
    HeldOutScore,
    ModelCard,
    PointScore,
    PriceElasticity,
    TrainRequest,
    WindowScore,
)
from app.services.forecasting.drivers import attach_drivers, drivers_digest
from app.services.forecasting.history import repair_warnings
from app.services.forecasting.spec import ForecastSpec, event_fields
from app.services.records import audit
from app.utils.dates import day_number, day_numbers, from_day_number, utc_now_iso
from app.utils.errors import ConflictError, NotFoundError, SmartShelfError
from app.utils.opening_days import OpeningDays, opening_days
from app.utils.sales_frame import SalesColumns, clean_sales
from app.utils.work_budget import WorkBudget

log = structlog.get_logger(__name__)

MAX_LOADED = 16
FREQUENCIES = {1: "daily", 7: "weekly"}
NO_MODEL = "none"  # the model version of a shop without a usable model, in cache keys


@dataclass(frozen=True)
class Refused:
    """A shop model stored but not served, and why."""

    frequency: str
    reason: str


Found = tuple[ShopModel, ModelCard] | Refused | None
_loaded: "OrderedDict[tuple[str, str, str], tuple[bytes, Found]]" = OrderedDict()
_lock = threading.Lock()


def artifact_id(step: int) -> str:
    return f"{store.SHOP_MODEL_PREFIX}{FREQUENCIES[step]}"


def train_spec(request: TrainRequest) -> ForecastSpec:
    """The training a validated request asks for, as the forecast pipeline's spec."""
    event_days, event_types = event_fields(request.calendar_events)
    return ForecastSpec(shop_id=request.shop_id, sales=request, periods=request.periods, frequency=request.frequency,
                        event_days=event_days, event_types=event_types,
                        as_of_day=day_number(request.as_of) if request.as_of else None)


def check_training(sales: SalesColumns, frequency: str, periods: int, settings: Settings,
                   origin_day: int | None = None) -> int:
    """The step of a training on these sales (running to `origin_day`, `as_of`, when later): 413 over
    SHOP_MODEL_MAX_CELLS, 400 when the history is too short to hold out `periods` and still learn, or holds
    too few product-periods for the trees (`most_training_rows` from each product's first row: never refuses a
    training the model could do)."""
    days = sales.day
    if days.size == 0:
        raise SmartShelfError("no sales rows left to learn from", field="sales")
    step, span = history_periods(days, frequency, origin_day)
    WorkBudget(settings).check("shop_model", {"products": len(sales.product_ids), "periods of history": span},
                               "send less history (two years are plenty) or split the catalogue by department")
    needed = MIN_ORIGIN[step] + periods
    unit = "days" if step == 1 else "weeks"
    if span < needed:
        raise SmartShelfError(f"a shop model serving {periods} {unit} ahead needs at least {needed} {unit} of "
                              f"history (the last {periods} are held out to score it); the sales span {span}",
                              field="periods")
    most = most_training_rows(_first_row_columns(sales, step), span - periods, step)
    if most < MIN_TRAIN_ROWS:
        raise SmartShelfError(f"a shop model learns from at least {MIN_TRAIN_ROWS} product-{unit} of sales history "
                              f"(from each product's first sale to the {periods} held out); these sales hold at most "
                              f"{most}: send more products or a longer history", field="sales")
    return step


def _first_row_columns(sales: SalesColumns, step: int) -> np.ndarray:
    """int64[n]: each product's first period with a sales row, counted from the first day of all sales (one
    past the last period for a product without rows). The trees' history of a product begins there or later
    (at its first sale), so counting from here never undercounts their training rows."""
    first_day, last_day = int(sales.day.min()), int(sales.day.max())
    first_row = np.full(len(sales.product_ids), last_day + step, dtype=np.int64)
    np.minimum.at(first_row, sales.product, sales.day)
    return (first_row - first_day) // step


def training_panel(spec: ForecastSpec, settings: Settings) -> tuple[Panel, OpeningDays, list[DataWarning]]:
    """The spec's whole catalogue as a panel, within SHOP_MODEL_MAX_CELLS and long enough for `periods`; the
    shop's closed days (as sent, else detected: the model remembers them; not the unknown days between an
    export's end and as_of, which the panel fills as closed ones)."""
    sales, warnings = clean_sales(spec.sales, as_of_day=spec.as_of_day, with_revenue=True)
    step = check_training(sales, spec.frequency, spec.periods, settings, spec.as_of_day)
    opening, found = opening_days(spec.sales, sales, origin_day=spec.as_of_day)
    panel, repairs = build_panel(sales, FREQUENCIES[step], set(spec.event_days), spec.as_of_day, opening.closed)
    panel, unused = attach_drivers(spec.sales, spec.event_types, panel, spec.periods, WorkBudget(settings))
    shop_days = opening_days(spec.sales, sales)[0] if spec.as_of_day is not None else opening
    return panel, shop_days, warnings + found + repair_warnings(repairs, panel.step) + unused


def card_opening(card: ModelCard) -> OpeningDays:
    """The closed days a shop model's training was told or found, as its card lists them."""
    dates = [date.fromisoformat(d) for d in card.closed_dates]
    since = card.closed_weekdays_from
    return OpeningDays(frozenset(WEEKDAY_NAMES.index(name) for name in card.closed_weekdays),
                       np.unique(day_numbers(dates, len(dates))),
                       None if since is None else day_number(date.fromisoformat(since)))


def _counted(model: ShopModel) -> np.ndarray:
    """bool[n]: the products the card's scores average: those scored that had something to forecast (a product
    that sold nothing in the window nor in the 8 weeks before it scores ~0 for every method, a headline of dead
    articles); a model trained before `idle` existed counts every scored product."""
    held = model.held_out_
    idle = getattr(held, "idle", None)
    return held.scored if idle is None else held.scored & ~idle


def _point(scores: dict[str, np.ndarray], counted: np.ndarray, weights: np.ndarray | None) -> PointScore:
    """A window's MASE and RMSSE averaged over the `counted` products, and RMSSE weighted by revenue."""

    def mean(values: np.ndarray) -> float | None:
        finite = values[counted & np.isfinite(values)]
        return round(float(finite.mean()), 4) if finite.size else None

    weighted = None
    if weights is not None:
        rmsse = np.nan_to_num(scores["rmsse"])
        weighted = round(float((weights * rmsse).sum() / max(weights[counted].sum(), 1e-12)), 4)
    return PointScore(mase=mean(scores["mase"]), rmsse=mean(scores["rmsse"]), wrmsse=weighted)


def _score(model: ShopModel, name: str) -> HeldOutScore:
    held = model.held_out_
    intervals = held.intervals.get(name, {})
    return HeldOutScore(**_point(held.scores[name], _counted(model), held.weights).model_dump(),
                        coverage_80=_rounded(intervals.get("coverage_80")),
                        coverage_95=_rounded(intervals.get("coverage_95")), msis=_rounded(intervals.get("msis")))


def _earlier_window_scores(model: ShopModel) -> list[WindowScore]:
    """The backtest's earlier windows scored as the held-out one."""
    step, horizon = model.step_, model.held_out_.horizon
    return [WindowScore(first_date=from_day_number(w.origin_day).isoformat(),
                        last_date=from_day_number(w.origin_day + (horizon - 1) * step).isoformat(),
                        products_scored=int(w.counted.sum()), chosen_on=w.chosen_on,
                        scores={name: _point(s, w.counted, w.weights) for name, s in w.scores.items()})
            for w in model.held_out_.earlier]


def _band_scores(model: ShopModel) -> list[BandScore]:
    """The held-out scores per sales-rate band, with each band's share of the weights."""
    held = model.held_out_
    counted = _counted(model)
    weights = held.weights if held.weights is not None else np.ones(held.scored.size)
    total = max(float(weights[counted].sum()), 1e-12)
    edges = [None, *held.band_edges.tolist(), None]
    out = []
    for b in range(len(edges) - 1):
        members = counted & (held.band == b)
        out.append(BandScore(
            rate_from=_rounded(edges[b]), rate_to=_rounded(edges[b + 1]), products_scored=int(members.sum()),
            weight=round(float(weights[members].sum()) / total, 4),
            mase={name: _rounded(float(np.nanmean(s["mase"][members])) if np.isfinite(s["mase"][members]).any()
                                 else None) for name, s in held.scores.items()}))
    return out


def _rounded(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 4)


def model_card(model: ShopModel, shop_id: str, version: str, trained_at: str, seconds: float,
               opening: OpeningDays) -> ModelCard:
    held = model.held_out_
    step = model.step_
    methods: dict[str, int] = {}
    for method in model.method_.values():
        methods[method] = methods.get(method, 0) + 1
    last_held = held.origin_day + (held.horizon - 1) * step
    return ModelCard(
        shop_id=shop_id, model_version=version, trained_at=trained_at, frequency=FREQUENCIES[step],
        horizon=model.horizon, training_first_date=from_day_number(model.first_day_).isoformat(),
        training_last_date=from_day_number(model.last_day_).isoformat(), products=len(model.product_ids_),
        training_seconds=round(seconds, 2),
        features=[FeatureImportance(name=name, importance=round(share, 4)) for name, share in model.importances],
        methods_kept=dict(sorted(methods.items(), key=lambda kv: -kv[1])),
        held_out=HeldOut(first_date=from_day_number(held.origin_day).isoformat(),
                         last_date=from_day_number(last_held).isoformat(), periods=held.horizon,
                         products_scored=int(_counted(model).sum()),
                         products_idle=int(held.scored.sum() - _counted(model).sum()), windows=held.windows,
                         scores={name: _score(model, name) for name in held.scores},
                         bands=_band_scores(model), earlier_windows=_earlier_window_scores(model)),
        drivers=_driver_check(model),
        price_elasticity=_elasticity(model),
        closed_weekdays=opening.weekday_names(),
        closed_dates=[from_day_number(int(d)).isoformat() for d in opening.closed_dates],
        closed_weekdays_from=None if opening.weekdays_from is None else from_day_number(
            opening.weekdays_from).isoformat(),
    )


def _driver_check(model: ShopModel) -> DriversCheck | None:
    check = model.driver_check_
    if check is None:
        return None
    return DriversCheck(metric=check.metric, with_drivers=round(check.with_drivers, 4),
                        without_drivers=round(check.without_drivers, 4), used=check.used,
                        windows=check.windows)


def _elasticity(model: ShopModel) -> PriceElasticity | None:
    found = model.elasticity_
    if found is None or not np.isfinite(found.shop):
        return None
    low, high = found.shop_range()
    return PriceElasticity(shop=round(found.shop, 3), low=round(low, 3), high=round(high, 3),
                           products_with_own_estimate=int(np.isfinite(found.own).sum()),
                           median=round(float(np.nanmedian(found.value)), 3),
                           categories={name: round(mean, 3) for name, (mean, _) in found.groups.items()})


def train_shop_model(spec: ForecastSpec, settings: Settings, signing_key: str) -> tuple[ModelCard, list[DataWarning]]:
    """Train, store (signed) and return the card of the spec's shop model; the data rules' warnings."""
    panel, opening, warnings = training_panel(spec, settings)
    started = time.perf_counter()
    try:
        model = ShopModel(horizon=spec.periods).fit(panel)
    except ValueError as exc:  # too little usable history (e.g. products that hardly ever sold)
        raise SmartShelfError(str(exc), field="sales") from exc
    seconds = time.perf_counter() - started
    digest = hashlib.sha256(panel.values.tobytes())
    digest.update(f"{panel.first_day}|{panel.step}|{spec.periods}|{spec.event_days}|{__version__}".encode())
    digest.update(drivers_digest(panel))
    digest.update(f"{opening.weekday_names()}|".encode() + opening.closed_dates.tobytes())
    trained_at = utc_now_iso()
    version = f"{SHOP}-{FREQUENCIES[panel.step]}-{digest.hexdigest()[:12]}"
    card = model_card(model, spec.shop_id, version, trained_at, seconds, opening)
    store.save_version(settings.model_dir, spec.shop_id, artifact_id(panel.step), model,
               {"card": card.model_dump(mode="json")}, signing_key)
    audit.append(settings.model_dir, "shop_model_trained", {
        "shop_id": spec.shop_id, "model_version": version, "trained_at": trained_at, "products": panel.n_products,
        "seconds": round(seconds, 2)})
    log.info("shop_model_trained", shop_id=spec.shop_id, model_version=version, products=panel.n_products,
             seconds=round(seconds, 2))
    return card, warnings


def loaded_model(shop_id: str, step: int, settings: Settings, signing_key: str) -> tuple[ShopModel, ModelCard] | None:
    """The shop's verified model of this frequency, or None (none stored, or refused: then logged)."""
    found = find_model(shop_id, step, settings, signing_key)
    return found if isinstance(found, tuple) else None


def find_model(shop_id: str, step: int, settings: Settings, signing_key: str) -> Found:
    """The shop's verified model of this frequency; `Refused` when one is stored but cannot be served; None
    when none is stored."""
    base = store.shop_dir(settings.model_dir, shop_id) / artifact_id(step)
    folder = store.resolve(base)
    try:  # the version, its signature and its model file's size and time: any write to it loads it again
        stat = (folder / "model.joblib").stat()
        signature = (folder.name.encode() + (folder / "model.sig").read_bytes()
                     + f"|{stat.st_size}|{stat.st_mtime_ns}".encode())
    except OSError:
        return None
    key = (settings.model_dir, shop_id, artifact_id(step))
    with _lock:
        cached = _loaded.get(key)
        if cached is not None and cached[0] == signature:
            _loaded.move_to_end(key)
            return cached[1]
    found = _verified(shop_id, step, settings, signing_key, folder)
    with _lock:
        _loaded[key] = (signature, found)
        _loaded.move_to_end(key)
        while len(_loaded) > MAX_LOADED:
            _loaded.popitem(last=False)
    return found


def _verified(shop_id: str, step: int, settings: Settings, signing_key: str, folder: Path) -> Found:
    try:
        model, meta = store.load(settings.model_dir, shop_id, artifact_id(step), signing_key, folder)
    except store.ArtifactRejected as rejected:
        if str(rejected).startswith("missing"):  # replaced and removed while read: the next request reads anew
            return None
        log.warning("shop_model_rejected", shop_id=shop_id, reason=str(rejected))
        return Refused(FREQUENCIES[step], str(rejected))
    if not isinstance(model, ShopModel):
        log.warning("shop_model_rejected", shop_id=shop_id, reason="not a shop model")
        return Refused(FREQUENCIES[step], "not a shop model")
    return model, ModelCard.model_validate(meta["card"])


def model_version(found: Found) -> str:
    """The version of the model found (its card's), or "none": what cached answers are keyed by."""
    return found[1].model_version if isinstance(found, tuple) else NO_MODEL


def shop_model_stamp(shop_id: str, settings: Settings, signing_key: str) -> str:
    """The versions of the shop's current models of every frequency: an answer cached under another stamp was
    made by (or without) a model that is no longer current."""
    return ",".join(f"{name}={model_version(find_model(shop_id, step, settings, signing_key))}"
                    for step, name in FREQUENCIES.items())


def refusal(refused: Refused) -> str:
    """Why a stored model is not served, for the card's error and the forecast's warning."""
    return (f"its {refused.frequency} shop model is stored but refused ({refused.reason}); retrain it "
            "(POST /api/v1/smart-shelf/models/train) or serve it with the MODEL_SIGNING_KEY that signed it")


def read_card(shop_id: str, settings: Settings, signing_key: str, frequency: str | None) -> ModelCard:
    """The card of the shop's model (the newest one when `frequency` is None); 404 when there is none, 409
    when the one stored is refused."""
    found = [find_model(shop_id, step, settings, signing_key) for step, name in FREQUENCIES.items()
             if frequency in (None, name)]
    cards = [item[1] for item in found if isinstance(item, tuple)]
    if cards:
        return max(cards, key=lambda card: card.trained_at)
    refused = [item for item in found if isinstance(item, Refused)]
    if refused:
        raise ConflictError(f"shop {shop_id!r}: {refusal(refused[0])}", field="shop_id")
    raise NotFoundError(f"shop {shop_id!r} has no {frequency + ' ' if frequency else ''}shop model; "
                        "POST /api/v1/smart-shelf/models/train first", field="shop_id")
