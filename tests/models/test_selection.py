"""The backtest selection: the family with the lowest MASE wins, the mean of the best two wins
when it scores lower still, and no backtest forecast sees data after its origin."""

import numpy as np
import pytest

from app.models import metrics
from app.models.panel import Panel
from app.models.registry import FAMILIES, make
from app.models.selection import backtest_plan, select_and_forecast

WEEK = np.array([10.0, 12, 11, 13, 18, 25, 22])


def panel(rows: list[np.ndarray]) -> Panel:
    values = np.vstack(rows)
    return Panel([f"p{i}" for i in range(len(rows))], values, np.zeros(len(rows), dtype=np.int64), 19000, 1)


def noisy_weekly(seed: int, weeks: int = 16) -> np.ndarray:
    """A weak weekly shape under noise: neither repeating last week nor a flat mean is right alone."""
    rng = np.random.default_rng(seed)
    return np.clip(15 + (np.tile(WEEK, weeks) - WEEK.mean()) * 0.5 + rng.normal(0, 3, 7 * weeks), 0, None)


def test_backtest_plan_three_origins_a_horizon_apart():
    # 100 daily periods, 28 kept for training: 72 usable, horizon 14 fits three times
    origins, steps = backtest_plan(panel([np.ones(100)]), 14)
    assert (origins, steps) == ([86, 72, 58], 14)
    # 40 periods: 12 usable -> the horizon shrinks to 4 so that three origins fit
    assert backtest_plan(panel([np.ones(40)]), 14) == ([36, 32, 28], 4)
    assert backtest_plan(panel([np.ones(28)]), 14) == ([], 0)  # too short for any origin


def test_a_pure_weekly_pattern_picks_seasonal_naive_over_moving_average():
    selection = select_and_forecast(panel([np.tile(WEEK, 12)]), 14, ["moving_average", "seasonal_naive"])
    assert selection.method == ["seasonal_naive"]
    assert selection.scores["seasonal_naive"]["mase"][0] == pytest.approx(0.0, abs=1e-12)
    # the history repeats exactly, so the MASE scale falls back to the mean level; the moving average
    # (4 whole weeks) forecasts that mean flat and misses every day by its distance from it
    assert selection.scale[0] == pytest.approx(WEEK.mean())
    assert selection.scores["moving_average"]["mase"][0] == pytest.approx(np.abs(WEEK - WEEK.mean()).mean()
                                                                         / WEEK.mean())  # 0.314
    assert selection.chosen_scores["mase"][0] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(selection.weights, [[0.0, 1.0]])
    np.testing.assert_allclose(selection.predict(14)[0], np.tile(WEEK, 2))  # 84 periods: next is the week's day 0
    assert selection.backtested.tolist() == [True]


def test_holt_winters_also_beats_moving_average_on_a_weekly_pattern():
    selection = select_and_forecast(panel([np.tile(WEEK, 12)]), 14, ["moving_average", "holt_winters"])
    assert selection.method == ["holt_winters"]
    assert selection.scores["holt_winters"]["mase"][0] < 0.2 * selection.scores["moving_average"]["mase"][0]


def test_the_mean_of_the_best_two_wins_only_when_its_error_is_lower():
    families = ["seasonal_naive", "moving_average"]
    data = panel([noisy_weekly(1), np.tile(WEEK, 16)])
    selection = select_and_forecast(data, 14, families)
    origins, steps = selection.origins, selection.backtest_horizon
    each = {f: make(f, steps).forecast_origins(data, origins, steps) for f in families}
    actual = selection.backtest_actual.reshape(2, -1)
    single = {f: metrics.rmse(actual, each[f].reshape(2, -1)) for f in families}  # the choice's criterion
    pair = metrics.rmse(actual, ((each[families[0]] + each[families[1]]) / 2).reshape(2, -1))

    # product 0: the pair scores below both families, so it is chosen, half and half
    assert pair[0] < min(single[f][0] for f in families)
    assert set(selection.method[0].split("+")) == set(families)
    np.testing.assert_allclose(selection.weights[0], [0.5, 0.5])
    assert selection.chosen_scores["rmse"][0] == pytest.approx(pair[0])
    fitted = {f: make(f, 14).fit(data).predict(14) for f in families}
    np.testing.assert_allclose(selection.predict(14)[0], (fitted[families[0]][0] + fitted[families[1]][0]) / 2)
    # product 1: seasonal naive is exact, the pair is not lower, so the single family stays
    assert pair[1] > single["seasonal_naive"][1]
    assert selection.method[1] == "seasonal_naive"
    np.testing.assert_allclose(selection.weights[1], [1.0, 0.0])
    for f in families:  # the reported family scores are these very numbers
        np.testing.assert_allclose(selection.scores[f]["rmse"], single[f])


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_backtest_forecasts_never_see_data_after_their_origin(family):
    rows = [noisy_weekly(seed, weeks=20) for seed in range(4)]
    base = select_and_forecast(panel(rows), 14, [family])
    origins = base.origins
    assert len(origins) == 3
    for k, origin in enumerate(origins):  # latest origin first
        perturbed = [row.copy() for row in rows]
        for row in perturbed:
            row[origin:] = row[origin:] * 3 + 40
        changed = select_and_forecast(panel(perturbed), 14, [family])
        # this origin and every earlier one forecast exactly as before ...
        np.testing.assert_array_equal(changed.backtest_forecast[:, k:], base.backtest_forecast[:, k:])
        # ... while what came after is really different (the perturbation reached the data)
        assert not np.array_equal(changed.backtest_actual[:, k], base.backtest_actual[:, k])
