"""The state-space ETS family: what it fits, for whom, and that its backtests see only the past."""

import numpy as np
import pandas as pd

from app.models.naive import MovingAverage
from app.models.panel import Panel
from bench.ets_family import Spec, StateSpaceETS, candidate_specs, eligible

WEEK = np.array([10.0, 12, 11, 13, 18, 25, 22])


def _panel(values: np.ndarray, step: int = 1) -> Panel:
    values = np.atleast_2d(values).astype(float)
    return Panel([f"p{i}" for i in range(values.shape[0])], values, np.zeros(values.shape[0], dtype=np.int64),
                 19000, step)


def test_multiplicative_candidates_only_for_strictly_positive_history_and_no_52_week_season():
    assert Spec("mul", None, "mul") in candidate_specs(7, positive=True, seasonal=True)
    assert all(spec.error == "add" for spec in candidate_specs(7, positive=False, seasonal=True))
    assert all(spec.season is None for spec in candidate_specs(52, positive=True, seasonal=True))
    assert [spec.label for spec in candidate_specs(7, positive=False, seasonal=False)] == ["ANN", "AAdN"]


def test_a_weekly_pattern_is_fitted_as_a_seasonal_model():
    rng = np.random.default_rng(3)
    values = rng.poisson(np.tile(WEEK * 3, 40)).astype(float)
    model = StateSpaceETS(horizon=14).fit(_panel(values))
    assert model.labels_[0].endswith(("A", "M"))  # a season was chosen
    assert "chosen by AICc" in model.drivers(0)[0]
    error = np.abs(model.predict(14)[0] - np.tile(WEEK * 3, 2)).mean()
    assert error < 0.1 * (WEEK * 3).mean()


def test_intermittent_and_short_histories_are_left_to_other_families():
    rng = np.random.default_rng(4)
    smooth = rng.poisson(20.0, 200)
    sparse = rng.poisson(0.2, 200)
    short = np.where(np.arange(200) >= 180, 20.0, 0.0)
    p = Panel(["smooth", "sparse", "short"], np.stack([smooth, sparse, short]).astype(float),
              np.array([0, 0, 180]), 19000, 1)
    assert eligible(p, 200).tolist() == [True, False, False]
    forecast = StateSpaceETS(horizon=7).fit(p).predict(7)
    assert np.isfinite(forecast[0]).all() and np.isnan(forecast[1:]).all()
    assert StateSpaceETS().fit(p).drivers(1) == []


def test_backtest_forecasts_never_see_data_after_their_origin():
    rng = np.random.default_rng(5)
    values = rng.poisson(np.tile(WEEK, 60), (2, 420)).astype(float)
    before = StateSpaceETS().forecast_origins(_panel(values), [392, 364], 28)
    perturbed = values.copy()
    perturbed[:, 392:] *= 3
    after = StateSpaceETS().forecast_origins(_panel(perturbed), [392, 364], 28)
    np.testing.assert_allclose(before, after)
    refit = StateSpaceETS(horizon=28).fit(_panel(values).head(364)).predict(28)
    np.testing.assert_allclose(before[:, 1], refit)


def test_beats_the_window_average_on_real_store_item_sales(store_item: pd.DataFrame):
    daily = store_item[(store_item["store"] == 1) & (store_item["item"] <= 4)].pivot(index="item", columns="date",
                                                                                     values="sales")
    values = daily.to_numpy(np.float64)[:, -400:]
    train, test = _panel(values[:, :-28]), values[:, -28:]
    ets = StateSpaceETS(horizon=28).fit(train).predict(28)
    window = MovingAverage(window=28).fit(train).predict(28)
    assert np.isfinite(ets).all()
    assert np.abs(ets - test).mean() < 0.95 * np.abs(window - test).mean()
