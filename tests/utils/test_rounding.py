"""Quantities keep their precision whatever the product's scale."""

import numpy as np
import pytest

from app.utils.rounding import scale_decimals


@pytest.mark.parametrize(("values", "decimals"), [
    ([0.0004123, 0.0002], 7),  # 4 significant digits of a product selling 0.0004 a day
    ([0.5, 0.04], 4),
    ([3.2, 0.0], 3),  # never fewer than 3 decimals: nothing an answer showed before is lost
    ([1234.5678, 800.0], 3),
    ([0.0, 0.0], 3),
    ([np.nan, np.inf], 3),
    ([1e-30], 3),  # residue (under RESIDUE): zero, at the fewest decimals
])
def test_decimals_follow_the_products_largest_value(values, decimals):
    assert scale_decimals(np.array(values)) == decimals
    kept = round(float(np.nanmax(np.abs(np.where(np.isfinite(values), values, 0)))), decimals)
    assert kept == 0 or abs(kept - np.nanmax(np.abs(np.where(np.isfinite(values), values, 0)))) <= 5e-4 * kept



def test_floating_point_residue_is_zero_not_twelve_decimals():
    """Owner review 6 F16: a single-product forecast of an out-of-season galette printed 2.8e-11 a day."""
    assert scale_decimals(np.full(14, 2.8e-11)) == 3
    assert round(2.8e-11, scale_decimals(np.full(14, 2.8e-11))) == 0.0
    assert scale_decimals(np.array([0.0004, 2.8e-11])) == 7  # a bulk item's real rate keeps its digits
    assert scale_decimals(np.array([3e-9, 2.8e-11])) == 3  # residue beside residue: still 0
