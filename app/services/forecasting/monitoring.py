"""Accuracy monitoring, around the forecast path: how each product's previous forecast did.

Before answering, each product's latest stored forecast is scored against the actual sales this request
carries for its dates (`realized_accuracy` on the product's forecast): its open days only, as a closed day's or
an unknown day's value in the panel (the days after an old export's end up to as_of, `app.utils.opening_days`)
is the level filled in for it, not a sale. When its MASE exceeds the backtest's by DRIFT_MARGIN of it, and by
DRIFT_FLOOR at least (a promise of 0 is missed by any error: a margin of 0 is none), the product is flagged
`drift_detected` (and retrained, as its history is new). Realized scores are kept per shop for
GET /accuracy/{shop_id}.
"""

from pathlib import Path
from typing import Any

import numpy as np
import structlog

from app.config import Settings
from app.models import store
from app.models.metrics import seasonal_scale
from app.models.panel import Panel
from app.schemas.common import DataWarning
from app.schemas.forecast import ForecastResponse, ProductForecast, RealizedAccuracy
from app.utils.dates import day_number
from app.utils.errors import NotFoundError
from app.utils.opening_days import OpeningDays

log = structlog.get_logger(__name__)

DRIFT_FLOOR = 0.25  # MASE: a quarter of the seasonal naive's error above the promise, however small it was


def _accuracy_path(settings: Settings, shop_id: str) -> Path:
    return store.shop_dir(settings.model_dir, shop_id) / "accuracy.json"


def _realized(previous: ProductForecast, panel: Panel, row: int, scale: float, margin: float,
              opening: OpeningDays) -> RealizedAccuracy | None:
    """The previous forecast scored on its dates inside the product's history that were open (daily data)."""
    days = np.array([day_number(p.date) for p in previous.predictions])
    column = (days - panel.first_day) // panel.step
    inside = (column >= panel.start[row]) & (column < panel.n_periods) & ((days - panel.first_day) % panel.step == 0)
    if panel.step == 1 and opening.any:
        inside &= ~opening.closed(days)
    if not inside.any():
        return None
    actual = panel.values[row, column[inside]]
    predicted = np.array([p.predicted_qty for p in previous.predictions])[inside]
    lower = np.array([p.lower_ci for p in previous.predictions])[inside]
    upper = np.array([p.upper_ci for p in previous.predictions])[inside]
    mae = float(np.mean(np.abs(actual - predicted)))
    sold = actual > 0
    mape = float(np.mean(np.abs(actual[sold] - predicted[sold]) / actual[sold]) * 100) if sold.any() else None
    realized_mase = mae / scale if scale > 0 else 0.0
    expected = previous.mase
    return RealizedAccuracy(
        model_version=previous.model_version, method=previous.method, periods=int(inside.sum()),
        mae=round(mae, 4),
        mape=None if mape is None else round(mape, 2),
        bias=round(float(np.mean(predicted - actual)), 4),
        coverage=round(float(np.mean((actual >= lower) & (actual <= upper))), 4),
        mase=round(realized_mase, 4), expected_mase=expected,
        drift=expected is not None and realized_mase > expected + max(expected * margin, DRIFT_FLOOR),
    )


def attach_realized(response: ForecastResponse, previous: list[ProductForecast | None], panel: Panel,
                    opening: OpeningDays, settings: Settings, shop_id: str) -> None:
    """Attach realized accuracy of the previous forecasts (of another model version) to the answer's
    forecasts, on the open days (`opening`) of the panel; record it for the shop's summary."""
    if all(stored is None for stored in previous):
        return
    index = {p: i for i, p in enumerate(panel.product_ids)}
    rows = np.array([index[f.product_id] for f in response.forecasts])
    scales: np.ndarray = (seasonal_scale(panel.values[rows], panel.start[rows], panel.season_length)
                          if len(rows) else np.zeros(0))
    log_entries: dict[str, Any] = {}
    for forecast, stored, scale in zip(response.forecasts, previous, scales, strict=True):
        if stored is None or stored.model_version == forecast.model_version:
            continue
        realized = _realized(stored, panel, index[forecast.product_id], float(scale), settings.drift_margin,
                             opening)
        if realized is None:
            continue
        forecast.realized_accuracy = realized
        log_entries[forecast.product_id] = realized.model_dump()
        if realized.drift:
            forecast.warnings.append(DataWarning(
                code="drift_detected", count=realized.periods,
                message=f"the last forecast ({realized.method}) scored MASE {realized.mase:.2f} on "
                f"{realized.periods} {'days' if panel.step == 1 else 'weeks'} of actual sales, worse than the "
                f"{realized.expected_mase:.2f} its backtest promised by more than the drift margin; retrained on "
                "the new history."))
    if log_entries:
        path = _accuracy_path(settings, shop_id)
        summary = store.read_json(path) or {}
        summary.update(log_entries)
        _write_or_log(path, summary)


def _write_or_log(path: Path, payload: Any) -> None:
    """Persist JSON; a full or read-only disk is logged, never turned into a failed answer."""
    try:
        store.write_json(path, payload)
    except OSError as exc:
        log.error("store_write_failed", file=path.name, error=exc.strerror)


def shop_accuracy(shop_id: str, settings: Settings) -> dict[str, Any]:
    """Realized accuracy per product and per model family for GET /accuracy/{shop_id}."""
    records: dict[str, dict[str, Any]] = store.read_json(_accuracy_path(settings, shop_id)) or {}
    if not records:
        raise NotFoundError(f"no realized accuracy yet for shop {shop_id!r}: it appears once a forecast's dates "
                            "have actual sales in a later request", field="shop_id")
    by_family: dict[str, list[dict[str, Any]]] = {}
    for record in records.values():
        by_family.setdefault(record["method"], []).append(record)
    families = {
        family: {"products": len(rows), "mean_mase": round(float(np.mean([r["mase"] for r in rows])), 4),
                 "mean_coverage": round(float(np.mean([r["coverage"] for r in rows])), 4),
                 "drifting": sum(bool(r["drift"]) for r in rows)}
        for family, rows in sorted(by_family.items())
    }
    return {"shop_id": shop_id, "products": records, "families": families}
