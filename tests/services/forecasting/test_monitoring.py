"""Realized accuracy and drift (app/services/forecasting/monitoring.py): scored on actual sales only, and a drift
is a miss by more than a margin, a promise of 0 included (review of the bakery export, finding 4)."""

from datetime import date, timedelta

import numpy as np

from app.models.panel import Panel
from app.schemas.forecast import Prediction, ProductForecast, RealizedAccuracy
from app.services.forecasting.latest import LastAnswers
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


def _stored(version: str, earlier: str | None, product_id: str = "p1") -> ProductForecast:
    realized = None if earlier is None else RealizedAccuracy(
        model_version=earlier, method="linear", periods=3, mae=1.0, mape=None, bias=0.0, coverage=1.0, mase=1.0,
        expected_mase=None, drift=False)
    return ProductForecast(product_id=product_id, predictions=[Prediction(date=LAST, predicted_qty=1.0, lower_ci=0.0,
                                                                          upper_ci=2.0)],
                           method="linear", model_version=version, trained_at="2025-04-10T00:00:00Z", rmse=None,
                           mase=None, backtest={}, drivers=[], history_periods=90, realized_accuracy=realized)


def test_a_previous_forecast_is_told_apart_by_its_own_version_not_the_one_it_was_scored_against():
    """`unlike` reads each cached latest forecast's version without decoding it: the one of the forecast itself,
    never `realized_accuracy`'s (the version before it). A request whose answer is that earlier version again (the
    same history sent back) still has a previous forecast, of another version, to score."""
    raws = [_stored("v2", earlier="v1").model_dump_json().encode(),
            _stored("v1", earlier=None).model_dump_json().encode(),
            _stored("v3", earlier=None, product_id='p "model_version":"v1"').model_dump_json().encode()]
    last = LastAnswers(keys=["a", "b", "c"], cached=list(raws), on_disk=[None, None, None])
    previous = last.unlike(["v1", "v1", "v1"])
    assert previous[0] is not None and previous[0].model_version == "v2"
    assert previous[1] is None  # the answer's own version: nothing to score
    assert previous[2] is not None and previous[2].model_version == "v3"  # a quote in an id is escaped
