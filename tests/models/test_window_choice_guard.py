"""The guard on per-product choice (`window_choice.guarded`): a band where choosing lost on a window it never saw
gets the candidate that was best over the band before it."""

import numpy as np

from app.models.window_choice import choose, guarded

NAMES = ["trees", "local"]


def _forecasts(local_a_latest: float) -> tuple[np.ndarray, np.ndarray]:
    """Two products of one band, four windows of 7 days (latest first), sales 10 a day: `trees` 0.6 off on every
    window; `local` exact for product A on the older windows and `local_a_latest` off on the latest, 1.4 off for B
    on the older windows and 0.9 on the latest. Over the band's older windows the trees are the better single
    candidate (0.6 against 0.7)."""
    actual = np.full((2, 4, 7), 10.0)
    trees = actual + 0.6
    local = actual.copy()
    local[0, 0] += local_a_latest
    local[1, 1:] += 1.4
    local[1, 0] += 0.9
    return actual, np.stack([trees, local], axis=1)


def test_a_band_whose_choice_lost_on_the_unseen_window_gets_the_single_best_candidate():
    """A season change the older windows did not show: A chose `local` on them (exact there) and it misses by 0.9
    on the latest window, where the band's choices score 0.75 against the trees' 0.6: both products get the trees,
    though choosing on all four windows still keeps `local` for A."""
    actual, forecasts = _forecasts(local_a_latest=0.9)
    band = np.zeros(2, dtype=np.int64)
    assert list(choose(NAMES, actual, forecasts, np.ones(2), band, shrinkage=0.0).method) == ["local", "trees"]
    guard = guarded(NAMES, actual, forecasts, np.ones(2), band, shrinkage=0.0)
    assert list(guard.method) == ["trees", "trees"] and guard.weights.tolist() == [[1.0, 0.0], [1.0, 0.0]]


def test_the_choice_stands_where_it_wins_on_the_unseen_window():
    actual, forecasts = _forecasts(local_a_latest=0.1)  # A's choice holds: 0.35 for the band against 0.6
    band = np.zeros(2, dtype=np.int64)
    plain = choose(NAMES, actual, forecasts, np.ones(2), band, shrinkage=0.0)
    assert list(guarded(NAMES, actual, forecasts, np.ones(2), band, shrinkage=0.0).method) == list(plain.method)


def test_bands_are_guarded_apart_and_one_window_has_nothing_to_check():
    actual, forecasts = _forecasts(local_a_latest=0.9)
    kept_actual, kept = _forecasts(local_a_latest=0.1)
    both_actual, both = np.concatenate([actual, kept_actual]), np.concatenate([forecasts, kept])
    band = np.array([0, 0, 1, 1])
    guard = guarded(NAMES, both_actual, both, np.ones(4), band, shrinkage=0.0)
    assert list(guard.method) == ["trees", "trees", "local", "trees"]
    one = guarded(NAMES, both_actual[:, :1], both[:, :, :1], np.ones(4), band, shrinkage=0.0)
    assert list(one.method) == list(choose(NAMES, both_actual[:, :1], both[:, :, :1], np.ones(4), band,
                                           shrinkage=0.0).method)
