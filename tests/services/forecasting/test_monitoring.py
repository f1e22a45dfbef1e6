"""Realized accuracy and drift (app/services/forecasting/monitoring.py): scored on actual sales only, and a drift
is a miss by more than a margin, a promise of 0 included (review of the bakery export, finding 4)."""

from datetime import date, timedelta

import numpy as np

from app.models.panel import Panel
from app.schemas.forecast import Prediction, ProductForecast
from app.services.forecasting.monitoring import _realized
from app.utils.dates import day_number
from app.utils.opening_days import OPEN_EVERY_DAY

PREFIX = "/api/v1/smart-shelf"
LAST = date(2025, 4, 10)


def catalogue(days: int) -> list[dict]:
    """24 products selling 10 + a weekday bump a day each, for `days` days to LAST + (days - 120)."""
    end = LAST + timedelta(days=days - 120)
    return [{"product_id": f"p{p:02d}", "date": day.isoformat(), "qty": 10.0 + (day.weekday() == 5) * 4}
            for k in range(days) for day in [end - timedelta(days=days - 1 - k)] for p in range(24)]


def test_a_forecast_is_not_scored_on_the_unknown_days_after_an_old_exports_end(client):
    body = {"shop_id": "s", "periods": 7, "product_ids": ["p00"], "model": "holt_winters"}
    client.post(f"{PREFIX}/forecast", json={**body, "sales": catalogue(120), "as_of": LAST.isoformat()})
    stale = client.post(f"{PREFIX}/forecast", json={**body, "sales": catalogue(120),
                                                    "as_of": (LAST + timedelta(days=5)).isoformat()}).json()
    p00 = stale["forecasts"][0]
    assert p00["realized_accuracy"] is None  # five unknown days: no actual sales to score on
    assert "drift_detected" not in {w["code"] for w in p00["warnings"]}
    fresh = client.post(f"{PREFIX}/forecast", json={**body, "sales": catalogue(127),
                                                    "as_of": (LAST + timedelta(days=7)).isoformat()}).json()
    realized = fresh["forecasts"][0]["realized_accuracy"]
    assert realized["periods"] == 2 and realized["drift"] is False  # the first forecast's two days since


def forecast(mase: float, predicted: list[float]) -> ProductForecast:
    days = [date(2025, 1, 1) + timedelta(days=60 + k) for k in range(len(predicted))]
    return ProductForecast(
        product_id="a", method="moving_average", model_version="v1", trained_at="2025-03-01T00:00:00Z", rmse=None,
        mase=mase, short_term_rmse=None, backtest={}, drivers=[], history_periods=60,
        predictions=[Prediction(date=d, predicted_qty=q, lower_ci=0.0, upper_ci=q + 1) for d, q in
                     zip(days, predicted, strict=True)])


def test_a_promise_of_zero_drifts_only_on_a_miss_larger_than_the_floor():
    first = day_number(date(2025, 1, 1))
    panel = Panel(["a"], np.full((1, 67), 4.0), np.zeros(1, dtype=np.int64), first, 1)
    near = _realized(forecast(0.0, [4.004] * 7), panel, 0, 1.0, 0.5, OPEN_EVERY_DAY)
    assert near is not None and near.mase == 0.004 and near.drift is False
    far = _realized(forecast(0.0, [5.0] * 7), panel, 0, 1.0, 0.5, OPEN_EVERY_DAY)
    assert far is not None and far.mase == 1.0 and far.drift is True
    promised = _realized(forecast(0.8, [5.1] * 7), panel, 0, 1.0, 0.5, OPEN_EVERY_DAY)
    assert promised is not None and promised.drift is False  # 1.1 is within 0.8 x 1.5
