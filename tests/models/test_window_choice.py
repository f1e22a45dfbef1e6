"""The per-product choice on several windows: pooled errors, shrunk towards the band, no favoured candidate."""

import numpy as np

from app.models.window_choice import choose

NAMES = ["trees", "local"]


def _arrays(errors: list[list[list[float]]]) -> tuple[np.ndarray, np.ndarray]:
    """actual [n, windows, 1] = 10 and forecasts [n, 2, windows, 1] = 10 + the given errors [n][candidate][window]."""
    forecasts = 10.0 + np.array(errors, dtype=float)[..., None]
    actual = np.full((forecasts.shape[0], forecasts.shape[2], 1), 10.0)
    return actual, forecasts


def test_the_lower_pooled_error_wins_even_against_the_first_candidate():
    """The local family is 20% better pooled over three windows while the trees win two of them: it is kept
    (a fixed margin in favour of the trees kept them unless another method halved their error)."""
    actual, forecasts = _arrays([[[1.0, 1.0, 3.0], [1.1, 1.1, 1.0]]])
    choice = choose(NAMES, actual, forecasts, np.ones(1), np.zeros(1, dtype=np.int64))
    assert choice.method.tolist() == ["local"]


def test_a_product_whose_windows_disagree_follows_its_band():
    """Product 0 has one window, where the local family is a little better; in its band the trees are far
    better on every other product: shrunk towards the band, it keeps the trees. Product 5, alone in another
    band, keeps what its own window says."""
    errors = [[[2.0], [1.9]]] + [[[1.0], [4.0]]] * 4 + [[[2.0], [1.9]]]
    actual, forecasts = _arrays(errors)
    band = np.array([0, 0, 0, 0, 0, 1])
    choice = choose(NAMES, actual, forecasts, np.ones(6), band)
    assert choice.method.tolist() == ["trees"] * 5 + ["local"]


def test_the_mean_of_the_two_best_is_kept_when_it_beats_both():
    actual, forecasts = _arrays([[[2.0, -2.0], [-2.0, 2.0]]])  # errors that cancel in the mean
    choice = choose(NAMES, actual, forecasts, np.ones(1), np.zeros(1, dtype=np.int64))
    assert choice.method.tolist() == ["trees+local"]
    np.testing.assert_allclose(choice.combine(forecasts), actual)


def test_with_three_members_the_mean_of_the_three_best_is_kept_when_it_beats_them_and_their_pairs():
    """Three candidates each 2 units off on a window of its own and 1 under on the others: any pair still misses
    (its mean squared error 0.5 against 2 for one alone), the mean of all three is exact."""
    errors = [[[2.0, -1.0, -1.0], [-1.0, 2.0, -1.0], [-1.0, -1.0, 2.0]]]
    forecasts = 10.0 + np.array(errors)[..., None]
    actual = np.full((1, 3, 1), 10.0)
    band = np.zeros(1, dtype=np.int64)
    assert len(choose(["trees", "local", "naive"], actual, forecasts, np.ones(1), band).method[0].split("+")) == 2
    choice = choose(["trees", "local", "naive"], actual, forecasts, np.ones(1), band, members=3)
    assert choice.method.tolist() == ["trees+local+naive"]
    np.testing.assert_allclose(choice.weights, [[1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(choice.combine(forecasts), actual)


def test_a_product_never_scored_gets_the_default():
    actual, forecasts = _arrays([[[1.0], [0.5]]])
    choice = choose(NAMES, np.full_like(actual, np.nan), forecasts, np.ones(1), np.zeros(1, dtype=np.int64))
    assert choice.method.tolist() == ["trees"]


def test_candidates_are_compared_on_the_windows_all_of_them_forecast():
    """The local family cannot forecast the two earlier windows (too little history before them), where the
    trees erred by 3; on the one window both forecast, the trees erred by 1 and the local family by 1.5. The
    trees are kept: pooling each over its own windows judged the trees on two hard windows the local family
    never faced (6.3 against 2.25 squared) and kept the local family."""
    actual, forecasts = _arrays([[[1.0, 3.0, 3.0], [1.5, np.nan, np.nan]]])
    choice = choose(NAMES, actual, forecasts, np.ones(1), np.zeros(1, dtype=np.int64))
    assert choice.method.tolist() == ["trees"]
