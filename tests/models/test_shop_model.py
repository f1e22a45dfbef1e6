"""The shop model on real M5 slow movers: no feature reads the future, the backtest is out of sample,
a product's forecast does not depend on the other products of a request, intervals are banded."""

import copy
import dataclasses
from datetime import date

import numpy as np
import pandas as pd
import pytest

from app.models import metrics
from app.models.drivers import Drivers
from app.models.panel import Panel
from app.models.registry import make
from app.models.shop_features import History, feature_rows
from app.models.shop_model import SHOP, ShopModel, _training_rows, _window_actuals, most_training_rows, shop_history
from app.utils.dates import day_number

HORIZON = 28


def m5_panel(m5_sales: pd.DataFrame, days: int = 500, events: frozenset[int] = frozenset()) -> Panel:
    units = m5_sales[[f"d_{k}" for k in range(1914 - days, 1914)]].to_numpy(float)
    first_day = day_number(date(2011, 1, 29)) + 1913 - days
    return Panel([str(i) for i in m5_sales["id"]], units, np.zeros(len(units), dtype=np.int64), first_day, 1, events)


@pytest.fixture(scope="module")
def fitted(m5_sales: pd.DataFrame) -> tuple[Panel, ShopModel]:
    panel = m5_panel(m5_sales)
    return panel, ShopModel(horizon=HORIZON).fit(panel)


def test_no_feature_reads_past_its_anchor(m5_sales: pd.DataFrame) -> None:
    """Sales and revenue-derived prices after the anchor change no feature; the caller's drivers
    (planned prices, promotions, typed events) are known ahead and may be read on any date."""
    panel = m5_panel(m5_sales, events=frozenset({day_number(date(2015, 12, 25))}))
    rng = np.random.default_rng(1)
    price = np.where(panel.values > 0, rng.uniform(1, 3, panel.values.shape), np.nan)
    width = panel.n_periods + HORIZON
    planned = np.where(rng.random((panel.n_products, width)) < 0.3, rng.uniform(1, 3, (panel.n_products, width)),
                       np.nan)
    drivers = Drivers(planned, np.where(rng.random((panel.n_products, width)) < 0.05, 0.2, 0.0),
                      {"benefit_day": panel.first_day + np.arange(0, width, 30), "sporting": panel.first_day +
                       np.arange(3, width, 90)})
    history = History.of(panel.values, panel.start, panel.first_day, 1, panel.event_days, price, drivers)
    rows = rng.integers(0, panel.n_products, 500)
    anchors = rng.integers(150, 450, panel.n_products)[rows]  # one anchor per product
    targets = anchors + rng.integers(1, HORIZON + 1, 500)
    features, base, names = feature_rows(history, rows, targets, anchors, history.columns())
    changed, changed_price = panel.values.copy(), price.copy()
    for row, anchor in set(zip(rows.tolist(), anchors.tolist(), strict=True)):
        changed[row, anchor + 1:] += rng.integers(1, 50, panel.n_periods - anchor - 1)
        changed_price[row, anchor + 1:] = rng.uniform(5, 9, panel.n_periods - anchor - 1)
    later = History.of(changed, panel.start, panel.first_day, 1, panel.event_days, changed_price, drivers)
    features_after, base_after, _ = feature_rows(later, rows, targets, anchors, later.columns())
    # each triple's own product was perturbed after its anchor: nothing it reads may change
    np.testing.assert_array_equal(np.nan_to_num(features, nan=-1), np.nan_to_num(features_after, nan=-1))
    np.testing.assert_array_equal(base, base_after)
    for name in ("periods ahead", "periods to next event", "price vs usual", "price vs last week", "on promotion",
                 "benefit day", "periods to next sporting"):
        assert name in names
    # a planned price is read at the target date: changing it moves the target's price feature
    replanned = Drivers(np.where(np.isfinite(planned), planned * 2, 2.0), drivers.promotion, drivers.typed_days)
    moved, _, _ = feature_rows(History.of(panel.values, panel.start, panel.first_day, 1, panel.event_days, price,
                                          replanned), rows, targets, anchors, history.columns())
    assert not np.allclose(np.nan_to_num(moved[:, names.index("price vs usual")]),
                           np.nan_to_num(features[:, names.index("price vs usual")]))


def test_held_out_window_changes_scores_not_backtest_forecasts(m5_sales: pd.DataFrame,
                                                               fitted: tuple[Panel, ShopModel]) -> None:
    panel, model = fitted
    values = panel.values.copy()
    values[:, -HORIZON:] = values[:, -HORIZON:] * 3 + 1
    other = ShopModel(horizon=HORIZON).fit(Panel(panel.product_ids, values, panel.start, panel.first_day, 1))
    for name, forecast in model.held_out_.forecasts.items():
        np.testing.assert_allclose(forecast, other.held_out_.forecasts[name], err_msg=name)
    assert not np.allclose(model.held_out_.scores[SHOP]["mase"], other.held_out_.scores[SHOP]["mase"])


def test_the_cards_auto_was_chosen_without_its_window(fitted: tuple[Panel, ShopModel]) -> None:
    """The card's `auto` is what the choice made on the earlier windows forecast for the last one: other sales in
    that window change its score, never its forecasts (the choice made on that very window overstated it)."""
    panel, model = fitted
    held = model.held_out_
    assert held.windows == 4
    values = panel.values.copy()
    favour_trees = held.forecasts["moving_average"] > held.forecasts[SHOP]  # a window that would sway a choice
    values[:, -HORIZON:] = np.where(favour_trees, 0.0, 3 * values[:, -HORIZON:] + 5)
    other = ShopModel(horizon=HORIZON).fit(Panel(panel.product_ids, values, panel.start, panel.first_day, 1))
    np.testing.assert_allclose(held.forecasts["auto"], other.held_out_.forecasts["auto"])
    assert not np.allclose(held.scores["auto"]["mase"], other.held_out_.scores["auto"]["mase"])
    assert set(held.scores) == {"auto", SHOP, "moving_average", "seasonal_naive", "linear", "holt_winters",
                                "intermittent"}


def test_each_earlier_windows_auto_was_chosen_without_it(fitted: tuple[Panel, ShopModel]) -> None:
    """The windows between the card's and the earliest are scored as the card's is: other sales in a window change
    its scores, never `auto`'s choice for it (made on the windows before it alone)."""
    panel, model = fitted
    earlier = model.held_out_.earlier
    end = panel.first_day + panel.n_periods
    assert [(w.origin_day, w.chosen_on) for w in earlier] == [(end - 2 * HORIZON, 2), (end - 3 * HORIZON, 1)]
    values = panel.values.copy()
    origin = panel.n_periods - 2 * HORIZON  # the window sold what seasonal naive forecast: a choice made on it
    naive = make("seasonal_naive", HORIZON).forecast_origins(panel, [origin], HORIZON)[:, 0]  # would sway to it
    values[:, origin:origin + HORIZON] = naive
    other = ShopModel(horizon=HORIZON).fit(Panel(panel.product_ids, values, panel.start, panel.first_day, 1))
    np.testing.assert_array_equal(earlier[0].method, other.held_out_.earlier[0].method)
    np.testing.assert_array_equal(earlier[1].method, other.held_out_.earlier[1].method)
    assert not np.allclose(earlier[0].scores["auto"]["mase"], other.held_out_.earlier[0].scores["auto"]["mase"],
                           equal_nan=True)
    assert set(earlier[0].scores) == set(model.held_out_.scores)


def test_an_earlier_windows_scales_and_weights_are_read_before_it(fitted: tuple[Panel, ShopModel]) -> None:
    panel, _ = fitted
    price = np.full(panel.values.shape, 2.0)
    model = ShopModel(horizon=HORIZON).fit(dataclasses.replace(panel, price=price))
    window = model.held_out_.earlier[0]
    origin = panel.n_periods - 2 * HORIZON
    head = panel.head(origin)
    forecast = make("moving_average", HORIZON).forecast_origins(panel, [origin], HORIZON)[:, 0]
    actual = panel.values[:, origin:origin + HORIZON]
    expected = metrics.mase(actual, forecast, metrics.seasonal_scale(head.values, head.start, 7))
    scored = window.counted
    np.testing.assert_allclose(window.scores["moving_average"]["mase"][scored], expected[scored])
    revenue = panel.values[:, origin - HORIZON:origin].sum(axis=1)
    np.testing.assert_allclose(window.weights, revenue / revenue.sum())


def test_one_product_forecast_equals_its_row_in_the_catalogue(fitted: tuple[Panel, ShopModel]) -> None:
    panel, model = fitted
    everything, methods = model.forecast(panel, HORIZON)
    for row in (0, 7, 29):
        alone, method = model.forecast(panel.take(np.array([row])), HORIZON)
        np.testing.assert_allclose(alone[0], everything[row])
        assert method == [methods[row]]


def test_unseen_product_and_never_sold_product(fitted: tuple[Panel, ShopModel]) -> None:
    panel, model = fitted
    renamed = Panel(["new-1", "new-2"], np.vstack([panel.values[3], np.zeros(panel.n_periods)]),
                    np.zeros(2, dtype=np.int64), panel.first_day, 1)
    forecast, methods = model.forecast(renamed, 14)
    assert methods == [SHOP, "zero"]
    assert forecast[0].sum() > 0 and not forecast[1].any()


def test_intervals_widen_with_the_sales_rate_and_hold_on_the_held_out_window(fitted: tuple[Panel, ShopModel]) -> None:
    panel, model = fitted
    forecast, _ = model.forecast(panel, HORIZON)
    lower, upper = model.intervals(forecast, panel, 0.95) or (forecast, forecast)
    assert (lower <= forecast).all() and (forecast <= upper).all() and (lower >= 0).all()
    width = (upper - lower).mean(axis=1)
    rate = panel.values[:, -56:].mean(axis=1)
    assert np.corrcoef(width, rate)[0, 1] > 0.5  # slow movers get narrow bands, busy products wide ones
    coverage = model.held_out_.intervals["auto"]  # bands from the earlier windows, judged on the last one
    assert 0.9 <= coverage["coverage_95"] <= 1.0 and 0.72 <= coverage["coverage_80"] <= 0.9
    with pytest.raises(ValueError, match="horizons up to 28"):
        model.forecast(panel, HORIZON + 1)


@pytest.mark.parametrize("step", [1, 7])
def test_the_training_row_bound_never_undercounts(step: int) -> None:
    """`most_training_rows` (the up-front check) is never below what `_training_rows` draws, whatever the
    products' first sales and the history's length, so a training the trees can do is never refused."""
    rng = np.random.default_rng(step)
    for _ in range(200):
        n, length, horizon = int(rng.integers(1, 6)), int(rng.integers(2, 900)), int(rng.integers(1, 60))
        begin = rng.integers(0, length, n)
        values = np.where(np.arange(length)[None, :] >= begin[:, None], 1.0, 0.0)
        history = History.of(values, begin, 0, step, frozenset(), None, None)
        rows, _, _ = _training_rows(history, horizon, rng)
        assert most_training_rows(begin, length, step) >= rows.size


def test_served_trees_average_two_seeds_and_two_training_ends(fitted: tuple[Panel, ShopModel]) -> None:
    panel, model = fitted
    trees = model.trees_
    assert len(trees.also) == 2 and len({id(b) for b in (trees.booster, *trees.also)}) == 3
    history = model.tree_history(panel)
    served = trees.forecast(history, HORIZON)
    latest, twin, earlier = (dataclasses.replace(trees, booster=b, also=()).forecast(history, HORIZON)
                             for b in (trees.booster, *trees.also))
    np.testing.assert_allclose(served, (latest + twin + earlier) / 3, rtol=1e-6)
    assert not np.allclose(latest, twin) and not np.allclose(latest, earlier)  # three fits, none counted twice
    saved_before = copy.copy(trees)
    del saved_before.__dict__["also"]  # a model pickled before the field existed
    np.testing.assert_allclose(saved_before.forecast(model.tree_history(panel), HORIZON), latest)


def test_a_closed_day_is_no_training_target_and_no_backtest_score():
    """Closed days are not demand: their value is the open-day level filled in (`Panel.imputed`), so the trees
    take no target there and the backtest windows score none of them."""
    rng = np.random.default_rng(5)
    values = rng.poisson(6.0, size=(3, 200)).astype(float)
    imputed = np.zeros_like(values, dtype=bool)
    imputed[:, 6::7] = True  # every seventh day shut
    panel = Panel(["a", "b", "c"], values, np.zeros(3, dtype=np.int64), day_number(date(2025, 1, 1)), 1,
                  imputed=imputed)
    rows, targets, _ = _training_rows(shop_history(panel), 28, np.random.default_rng(0))
    assert rows.size > 400 and not imputed[rows, targets].any()
    actual = _window_actuals(panel, [172, 144], 28, np.zeros(3, dtype=np.int64))
    columns = np.array([172, 144])[:, None] + np.arange(28)[None, :]
    assert np.isnan(actual[imputed[:, columns]]).all() and np.isfinite(actual[~imputed[:, columns]]).all()
