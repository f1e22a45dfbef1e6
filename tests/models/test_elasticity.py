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


def test_products_with_little_history_lean_on_their_category() -> None:
    """Two categories (-1 and -3); products released 35 days ago can hardly tell their own elasticity:
    pooled within their category they land near its value, pooled only within the shop near -2."""
    truth = np.where(np.arange(60) < 30, -1.0, -3.0)
    groups = np.where(np.arange(60) < 30, "bakery", "snacks").astype(object)
    units, price = priced_shop(DAYS, 0, elasticity=truth, seed=8)
    begin = np.where(np.arange(60) % 10 == 0, DAYS - 35, 0)  # six new products, three per category
    new = begin > 0
    by_category = estimate(units, price, begin, 1, groups=groups)
    by_shop = estimate(units, price, begin, 1)
    assert set(by_category.groups) == {"bakery", "snacks"}
    assert abs(by_category.groups["bakery"][0] + 1) < 0.3 and abs(by_category.groups["snacks"][0] + 3) < 0.3
    category_error = np.abs(by_category.value[new] - truth[new]).mean()
    shop_error = np.abs(by_shop.value[new] - truth[new]).mean()
    assert category_error < 0.5 < shop_error, (category_error, shop_error)
    # served later from the stored priors, a product's category comes with the request
    raw = estimate(units[new], price[new], begin[new], 1, pool=False)
    served = shrink(raw, by_category, groups[new])
    assert np.allclose(served.value, by_category.value[new])
    unknown = shrink(raw, by_category)  # no category: the shop's prior
    assert np.allclose(unknown.value, by_shop.value[new], atol=0.3)
