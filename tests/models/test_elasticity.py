"""Price elasticity: recovered on synthetic shops with known elasticities, pooled when a product cannot tell."""

import numpy as np

from app.models.elasticity import estimate, shrink
from tests.support.synthetic import priced_shop

DAYS = 420


def test_a_known_elasticity_is_recovered_within_its_interval() -> None:
    units, price = priced_shop(DAYS, 0, seed=3)
    found = estimate(units, price, np.zeros(len(units), dtype=np.int64), 1)
    assert abs(found.shop + 2) < 0.1
    assert np.mean((found.low <= -2) & (found.high >= -2)) >= 0.85
    assert found.lift(0, 0.9) == (0.9 ** found.value[0]) - 1


def test_products_keep_their_own_elasticity_when_their_data_says_so() -> None:
    truth = np.where(np.arange(60) % 2 == 0, -1.0, -3.0)
    units, price = priced_shop(DAYS, 0, elasticity=truth, seed=4)
    found = estimate(units, price, np.zeros(60, dtype=np.int64), 1)
    assert np.abs(found.value - truth).mean() < 0.25
    assert np.mean((found.low <= truth) & (found.high >= truth)) >= 0.8
    assert found.own_weight.min() > 0.5


def test_a_product_whose_price_never_moved_gets_the_shops() -> None:
    units, price = priced_shop(DAYS, 0, seed=5)
    price[7] = price[7].max()  # one regular price all along
    found = estimate(units, price, np.zeros(len(units), dtype=np.int64), 1)
    assert found.own_weight[7] == 0 and found.value[7] == found.shop
    assert found.high[7] - found.low[7] > found.high[0] - found.low[0]


def test_no_price_variation_anywhere_is_no_estimate() -> None:
    units, price = priced_shop(DAYS, 0, seed=6)
    found = estimate(units, np.ones_like(price), np.zeros(len(units), dtype=np.int64), 1)
    assert np.isnan(found.shop) and np.isnan(found.value).all()


def test_one_products_own_history_shrunk_towards_a_stored_shop_prior() -> None:
    truth = np.where(np.arange(60) % 2 == 0, -1.0, -3.0)  # a shop whose products differ
    truth[0] = -0.5
    units, price = priced_shop(DAYS, 0, elasticity=truth, seed=7)
    shop = estimate(units[1:], price[1:], np.zeros(59, dtype=np.int64), 1)
    alone = shrink(estimate(units[:1], price[:1], np.zeros(1, dtype=np.int64), 1, pool=False), shop)
    assert alone.value[0] > -1.0  # its own clear data wins over the shop's -2
    short = shrink(estimate(units[:1, -30:], price[:1, -30:], np.zeros(1, dtype=np.int64), 1, pool=False), shop)
    assert short.own_weight[0] < alone.own_weight[0]
