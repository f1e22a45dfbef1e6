"""The shop model reads the caller's known-ahead drivers: planned prices move the forecast the way the
shop's own price history says, promotions and benefit days are learned, and nothing sent changes nothing."""

import copy

import numpy as np
import pytest

from app.models.drivers import Drivers
from app.models.panel import Panel
from app.models.shop_model import DriverCheck, ShopModel, _driver_check
from tests.support.synthetic import priced_shop


def synthetic_shop() -> tuple[Panel, np.ndarray]:
    units, price = priced_shop(DAYS, HORIZON)
    panel = Panel([f"p{k:03d}" for k in range(len(units))], units[:, :DAYS], np.zeros(len(units), dtype=np.int64),
                  19000, 1, frozenset(), None, Drivers(price, None, {}))
    return panel, price

HORIZON = 14
DAYS = 420


@pytest.fixture(scope="module")
def trained() -> tuple[Panel, np.ndarray, ShopModel]:
    panel, price = synthetic_shop()
    return panel, price, ShopModel(horizon=HORIZON).fit(panel)


def with_planned(panel: Panel, price: np.ndarray, factor: float) -> Panel:
    """The same history with the horizon's planned prices at `factor` x the product's regular price."""
    planned = price.copy()
    regular = price[:, :DAYS].max(axis=1)
    planned[:, DAYS:] = regular[:, None] * factor
    return Panel(panel.product_ids, panel.values, panel.start, panel.first_day, 1, frozenset(), None,
                 Drivers(planned, None, {}))


def test_planned_price_cut_lifts_the_forecast_by_about_the_learned_amount(trained) -> None:
    panel, price, model = trained
    assert "price vs usual" in model.trees_.names
    regular, _ = model.forecast(with_planned(panel, price, 1.0), HORIZON)
    cut, _ = model.forecast(with_planned(panel, price, 0.8), HORIZON)
    lift = cut.sum() / regular.sum()
    assert 1.3 < lift < 1.9, lift  # truth: 0.8 ** -2 = 1.56


def test_a_price_rise_lowers_it(trained) -> None:
    panel, price, model = trained
    regular, _ = model.forecast(with_planned(panel, price, 1.0), HORIZON)
    dearer, _ = model.forecast(with_planned(panel, price, 1.2), HORIZON)
    assert dearer.sum() < 0.9 * regular.sum()


def test_without_planned_prices_the_last_price_holds(trained) -> None:
    """A request without prices for the horizon reads the last known price: the same forecast as planning it."""
    panel, price, model = trained
    last = price[:, DAYS - 1]
    planned = price.copy()
    planned[:, DAYS:] = last[:, None]
    unplanned = price.copy()
    unplanned[:, DAYS:] = np.nan
    same, _ = model.forecast(Panel(panel.product_ids, panel.values, panel.start, panel.first_day, 1, frozenset(),
                                   None, Drivers(planned, None, {})), HORIZON)
    held, _ = model.forecast(Panel(panel.product_ids, panel.values, panel.start, panel.first_day, 1, frozenset(),
                                   None, Drivers(unplanned, None, {})), HORIZON)
    np.testing.assert_allclose(same, held)


def test_drivers_that_help_on_the_held_out_window_are_kept(trained) -> None:
    _, _, model = trained
    check = model.driver_check_
    assert check is not None and check.used and check.with_drivers < check.without_drivers, check
    assert check.metric == "mase"  # no revenue: no weights
    assert check.windows == 4  # the selection's windows: min(4, (420 - 56) // 14)


def test_the_driver_check_pools_the_selection_windows() -> None:
    """Drivers that win the latest window only by luck, and lose the three before it, are dropped."""
    panel, _ = synthetic_shop()
    origins = [DAYS - k * HORIZON for k in range(1, 5)]
    actual = np.stack([panel.values[:, o:o + HORIZON] for o in origins], axis=1)
    scale = np.ones(panel.n_products)
    close, far = actual + 0.5, actual + 2.0
    lucky = np.concatenate([close[:, :1], far[:, 1:]], axis=1)  # drivers: best on the latest window only
    steady = np.concatenate([far[:, :1] - 1.0, close[:, 1:]], axis=1)  # error 1.0 there, 0.5 on the earlier ones
    check = _driver_check(panel, origins, actual, lucky, steady, scale, scale)
    assert check.windows == 4 and not check.used
    assert check.with_drivers == pytest.approx((0.5 + 3 * 2.0) / 4)
    assert check.without_drivers == pytest.approx((1.0 + 3 * 0.5) / 4)


def test_drivers_with_no_window_to_judge_them_on_are_not_read() -> None:
    """No window where both forecasts exist: nothing shows the drivers help, so they are not read (no IndexError)."""
    panel, _ = synthetic_shop()
    origins = [DAYS - k * HORIZON for k in range(1, 3)]
    actual = np.stack([panel.values[:, o:o + HORIZON] for o in origins], axis=1)
    missing = np.full_like(actual, np.nan)
    check = _driver_check(panel, origins, actual, missing, actual, np.ones(panel.n_products),
                          np.ones(panel.n_products))
    assert check.windows == 0 and not check.used


def test_drivers_that_did_not_help_are_not_read(trained) -> None:
    """A model whose held-out check dropped the drivers forecasts the same whatever prices are planned."""
    panel, price, model = trained
    dropped = copy.copy(model)
    dropped.driver_check_ = DriverCheck("mase", 1.0, 0.9, used=False)
    assert not dropped.reads_drivers
    regular, _ = dropped.forecast(with_planned(panel, price, 1.0), HORIZON)
    cut, _ = dropped.forecast(with_planned(panel, price, 0.8), HORIZON)
    np.testing.assert_array_equal(regular, cut)
