"""The forecast service: selection on real data, odd histories, determinism, intervals, errors."""

from datetime import date, timedelta

import numpy as np
import pytest

from app.models import metrics
from app.schemas.forecast import FORECAST_EXAMPLE, ForecastRequest
from app.services.forecasting.local_models import forecast_products
from app.services.forecasting.spec import spec_of
from app.utils.errors import SmartShelfError
from tests.conftest import sales_rows
from tests.support.budget import BUDGET


def run(sales: list[dict], **body):
    return forecast_products(spec_of(ForecastRequest.model_validate({"shop_id": "s", "sales": sales, **body})), BUDGET)


def daily(product_id: str, values, start: date = date(2025, 1, 1)) -> list[dict]:
    return [{"product_id": product_id, "date": (start + timedelta(days=k)).isoformat(), "qty": float(v)}
            for k, v in enumerate(values) if v is not None]


def codes(forecast) -> set[str]:
    return {w.code for w in forecast.warnings}


@pytest.mark.slow
def test_auto_beats_seasonal_naive_on_real_store_item_series(store_item):
    chosen = store_item[(store_item.store == 3) & (store_item.item <= 12) & (store_item.date >= "2015-01-01")]
    train, test = chosen[chosen.date <= "2017-11-30"], chosen[chosen.date > "2017-11-30"]
    response = run(sales_rows(train), periods=31)
    forecasts = {f.product_id: f for f in response.forecasts}
    assert all(f.mase < f.backtest["seasonal_naive"].mase for f in forecasts.values())
    actual = test.pivot_table(index="item", columns="date", values="sales").to_numpy()
    predicted = np.array([[p.predicted_qty for p in forecasts[f"p{i}"].predictions] for i in range(1, 13)])
    history = train.pivot_table(index="item", columns="date", values="sales").to_numpy()
    scale = metrics.seasonal_scale(history, np.zeros(12, dtype=np.int64), 7)
    naive = np.tile(history[:, -7:], 5)[:, :31]
    assert metrics.mase(actual, predicted, scale).mean() < 0.8 * metrics.mase(actual, naive, scale).mean()
    inside = [(p.lower_ci <= a <= p.upper_ci) for f_i, f in enumerate(forecasts.values())
              for p, a in zip(f.predictions, actual[f_i], strict=True)]
    # 95% intervals, 372 checks. December sells under the three backtest windows' range: every miss is under
    # the lower bound (15%, 0.8% over the upper). 0.839; 0.887 while bounds took the horizon buckets' running
    # maximum, whose upward bias hid the shift (rate_bands now fits them monotone: the bakery's MSIS 5.93 -> 5.44)
    assert 0.82 <= np.mean(inside) <= 1.0


def test_every_forecast_has_ordered_non_negative_intervals_and_dates():
    response = forecast_products(spec_of(ForecastRequest.model_validate(FORECAST_EXAMPLE)), BUDGET)
    forecast = response.forecasts[0]
    assert len(forecast.predictions) == 14
    assert forecast.predictions[0].date == date(2025, 11, 14)  # the day after the last sale
    for p in forecast.predictions:
        assert 0 <= p.lower_ci <= p.predicted_qty <= p.upper_ci
    assert all(family in forecast.backtest for family in forecast.method.split("+"))  # a family or a scored pair
    assert forecast.trained_at.endswith("Z")
    assert any(d.startswith("weekday pattern: ") for d in forecast.drivers)


def test_same_request_same_answer():
    first = forecast_products(spec_of(ForecastRequest.model_validate(FORECAST_EXAMPLE)), BUDGET).forecasts[0]
    second = forecast_products(spec_of(ForecastRequest.model_validate(FORECAST_EXAMPLE)), BUDGET).forecasts[0]
    assert first.predictions == second.predictions
    assert first.model_version == second.model_version and first.method == second.method


def test_model_version_changes_with_the_history():
    changed = dict(FORECAST_EXAMPLE, sales=[*FORECAST_EXAMPLE["sales"][:-1], {
        "product_id": "p001", "date": FORECAST_EXAMPLE["sales"][-1]["date"], "qty": 99.0}])
    a = forecast_products(spec_of(ForecastRequest.model_validate(FORECAST_EXAMPLE)), BUDGET).forecasts[0]
    b = forecast_products(spec_of(ForecastRequest.model_validate(changed)), BUDGET).forecasts[0]
    assert a.model_version != b.model_version


def test_short_history_uses_a_moving_average_with_a_warning():
    forecast = run(daily("a", [3, 5, 4, 6, 5]), periods=7).forecasts[0]
    assert forecast.method == "moving_average"
    assert [p.predicted_qty for p in forecast.predictions] == [4.6] * 7
    assert {"short_history", "limited_history"} <= codes(forecast)


def test_all_zero_history_forecasts_zero_with_a_warning():
    forecast = run(daily("a", [0] * 60), periods=5).forecasts[0]
    assert [p.predicted_qty for p in forecast.predictions] == [0.0] * 5
    assert "all_zero" in codes(forecast)


def test_gaps_are_zero_sales_and_reported():
    values = [5 if k % 3 == 0 else None for k in range(120)]
    response = run(daily("a", values), periods=7)
    gap = next(w for w in response.warnings if w.code == "gaps_filled")
    assert gap.count == 78  # days 0..117 between the first and last rows, 40 of them with rows
    assert response.forecasts[0].predictions[0].predicted_qty < 5


def test_negative_net_days_are_clipped_and_reported():
    sales = [*daily("a", [5] * 60), {"product_id": "a", "date": "2025-01-10", "qty": -9}]
    response = run(sales, periods=7)
    assert {"returns_netted", "negative_periods_clipped"} <= {w.code for w in response.warnings}


def test_named_model_is_used_and_falls_back_when_it_cannot_run():
    rows = daily("a", np.tile([1, 2, 3, 4, 5, 6, 7], 20)) + daily("b", [2] * 20, start=date(2025, 5, 1))
    response = run(rows, periods=7, model="linear")  # needs 14 warm-up days + 18 rows to fit
    forecasts = {f.product_id: f for f in response.forecasts}
    assert forecasts["a"].method == "linear"
    assert forecasts["b"].method == "moving_average"
    assert "model_fallback" in codes(forecasts["b"])


def test_product_selection_and_unknown_product():
    rows = daily("a", [1] * 30) + daily("b", [2] * 30) + daily("c", [3] * 30)
    assert [f.product_id for f in run(rows, product_ids=["c", "a"]).forecasts] == ["c", "a"]
    assert [f.product_id for f in run(rows, product_id="b").forecasts] == ["b"]
    assert len(run(rows).forecasts) == 3
    partly = run(rows, product_ids=["a", "zz"])  # an unknown id is left out and named, the others forecast
    assert [f.product_id for f in partly.forecasts] == ["a"]
    assert {w.code: w for w in partly.warnings}["items_without_sales"].product_ids == ["zz"]
    with pytest.raises(SmartShelfError) as error:
        run(rows, product_ids=["zz"])
    assert error.value.field == "product_ids[0]"


@pytest.mark.slow
def test_weekly_walmart_series_are_inferred_weekly(walmart_weekly):
    frame = walmart_weekly
    chosen = frame[(frame.Store == 1) & (frame.Dept.isin([1, 2, 3]))]
    rows = [{"product_id": f"d{d}", "date": day, "qty": float(q)}
            for d, day, q in zip(chosen.Dept, chosen.Date, chosen.Weekly_Sales, strict=True)]
    response = run(rows, periods=13)
    assert response.meta.frequency == "weekly"
    first = response.forecasts[0].predictions
    assert (first[1].date - first[0].date).days == 7
    assert first[0].date == date(2012, 11, 2)  # the Friday after the last week
    assert all(f.mase is not None for f in response.forecasts)


def test_a_tiny_and_a_large_products_forecasts_keep_their_digits(client):
    """A product sold by the tonne in kilo-units (0.0004 a day) was forecast 0 with 3 fixed decimals; a large
    one keeps its 3 decimals as before."""
    rng = np.random.default_rng(3)
    tiny = (0.0004 * (1 + 0.2 * rng.standard_normal(90))).round(7).tolist()
    large = (1234.5678 * (1 + 0.05 * rng.standard_normal(90))).round(4).tolist()
    series = [{"product_id": "tiny", "start": "2025-01-01", "qty": tiny},
              {"product_id": "large", "start": "2025-01-01", "qty": large}]
    answer = client.post("/api/v1/smart-shelf/forecast", json={"shop_id": "s", "series": series, "periods": 7})
    assert answer.status_code == 200, answer.text
    by_product = {f["product_id"]: f["predictions"] for f in answer.json()["forecasts"]}
    for p in by_product["tiny"]:
        assert 0.0002 < p["predicted_qty"] < 0.0008 and p["lower_ci"] <= p["predicted_qty"] <= p["upper_ci"]
        assert p["predicted_qty"] == round(p["predicted_qty"], 7) != round(p["predicted_qty"], 3)
    for p in by_product["large"]:
        assert 1000 < p["predicted_qty"] < 1500 and p["predicted_qty"] == round(p["predicted_qty"], 3)


def test_events_the_chosen_methods_do_not_read_are_named(client):
    """Review 9 F5: the bakery's holidays sent as calendar_events changed none of its per-request forecasts (the
    methods chosen read no event) and nothing said so. The products whose chosen method reads no event are
    counted in a `driver_unused` warning; without events there is none."""
    rng = np.random.default_rng(5)
    start = date(2025, 1, 1)
    rows = [{"product_id": f"p{k}", "date": (start + timedelta(days=d)).isoformat(),
             "qty": float(rng.poisson(20 + 8 * ((start + timedelta(days=d)).weekday() == 5)))}
            for k in range(3) for d in range(150)]
    body = {"shop_id": "events-unread", "sales": rows, "periods": 14}
    events = [{"date": (start + timedelta(days=d)).isoformat(), "title": "holiday"} for d in (40, 95, 155)]
    answer = client.post("/api/v1/smart-shelf/forecast", json={**body, "calendar_events": events}).json()
    unread = [f["product_id"] for f in answer["forecasts"] if "boosted" not in f["method"].split("+")]
    said = [w for w in answer["warnings"] if w["code"] == "driver_unused" and "calendar_events" in w["message"]]
    assert unread, [f["method"] for f in answer["forecasts"]]  # smooth weekly series: a local family wins
    assert len(said) == 1 and said[0]["count"] == len(unread)
    plain = client.post("/api/v1/smart-shelf/forecast", json=body).json()
    assert not [w for w in plain["warnings"] if "calendar_events" in w["message"]]
