"""The model boundary refuses, in words, what no model can read (issue #23, item 2)."""

import numpy as np
import pytest

from app.models.model_inputs import ModelInputError, checked_inputs
from app.models.panel import build_panel
from app.utils.sales_frame import SalesColumns


def test_missing_features_pass_and_infinite_ones_are_named():
    names = ["recent level", "price vs usual"]
    checked_inputs(np.array([[1.0, np.nan], [2.0, 0.9]]), names, np.array([3.0, 4.0]), np.zeros(2))
    with pytest.raises(ModelInputError, match="'price vs usual' is infinite on 1"):
        checked_inputs(np.array([[1.0, np.inf], [2.0, 0.9]]), names)
    with pytest.raises(ModelInputError, match="target is not a finite number on 1"):
        checked_inputs(np.ones((2, 2)), names, np.array([1.0, np.nan]))


def test_units_sold_for_nothing_are_no_price():
    # day 0: one paid line and one free line (an average price); day 1: only free items; day 2: a refund
    sales = SalesColumns(product_ids=np.array(["a"], dtype=object), product=np.zeros(4, dtype=np.int64),
                         day=np.array([0, 0, 1, 2]), qty=np.array([1.0, 1.0, 2.0, 1.0]), row=np.arange(4),
                         revenue=np.array([3.0, 0.0, 0.0, -3.0]))
    panel, repairs = build_panel(sales, "daily", set())
    assert panel.price is not None
    np.testing.assert_array_equal(panel.price[0], [1.5, np.nan, np.nan])
    assert (repairs.unusable_prices, repairs.unusable_price_products) == (2, ["a"])
