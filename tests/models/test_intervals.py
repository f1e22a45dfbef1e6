"""The per-request interval's count floor: the whole unit nearest the level, not the smallest reaching it."""

import numpy as np

from app.models.intervals import nearest_count


def test_the_count_floor_is_the_unit_whose_probability_is_nearest_the_level():
    # Poisson(0.4): P(X <= 0) = 0.670, P(X <= 1) = 0.938; Poisson(2.5): P(X <= 4) = 0.891, P(X <= 5) = 0.958
    level = np.array([[0.8, 0.9, 0.95, 0.9, 0.8]])
    mean = np.array([[0.4, 0.4, 2.5, 2.5, 0.0]])
    np.testing.assert_array_equal(nearest_count(level, mean), [[0.0, 1.0, 5.0, 4.0, 0.0]])
