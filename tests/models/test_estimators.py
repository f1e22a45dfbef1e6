"""Every family follows the scikit-learn estimator rules: parameters in, fitted `_` attributes out."""

import numpy as np
import pytest
from sklearn.base import clone

from app.models.holt_winters import ALPHAS, BETAS, GAMMAS, PHIS, HoltWinters
from app.models.naive import MovingAverage
from app.models.panel import Panel
from app.models.registry import FAMILIES, make

WEEK = np.array([10.0, 12, 11, 13, 18, 25, 22])


def _panel() -> Panel:
    rng = np.random.default_rng(11)
    values = rng.poisson(np.tile(WEEK, 158)[:1100], (4, 1100)).astype(float)  # two years and more: the profiles
    return Panel([f"p{i}" for i in range(4)], values, np.array([0, 10, 100, 300]), 19000, 1)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_sklearn_clone_gives_an_unfitted_copy_with_the_same_parameters(family):
    model = make(family, 14, random_state=3)
    copy = clone(model)
    assert type(copy) is type(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "fitted_")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_fit_returns_self_and_changes_no_parameter(family):
    model = make(family, 14)
    before = model.get_params()
    p = _panel()
    assert model.fit(p) is model
    assert model.get_params() == before
    assert np.isfinite(model.predict(14)[3]).all()
    model.forecast_origins(p, [1072, 1058, 1044], 28)  # a longer backtest horizon than the parameter
    assert model.get_params() == before


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_backtest_leaves_an_unfitted_model_unfitted(family):
    model = make(family, 14)
    model.forecast_origins(_panel(), [1072, 1058], 14)
    assert not hasattr(model, "fitted_")


def test_registry_passes_horizon_and_random_state_only_to_families_that_declare_them():
    assert make("boosted", 21, random_state=5).get_params() == {"horizon": 21, "random_state": 5}
    assert make("moving_average", 21).get_params() == {"window": None}
    assert make("linear", 21).get_params() == {}


def test_holt_winters_smoothing_grids_are_parameters():
    assert HoltWinters().get_params() == {"alphas": ALPHAS, "betas": BETAS, "gammas": GAMMAS, "phis": PHIS}
    p = _panel()
    narrow = HoltWinters(alphas=(0.5,), betas=(0.0,), gammas=(0.3,), phis=(0.9,)).fit(p)
    assert narrow.grid_.shape == (1, 4)
    assert "level weight 0.5" in narrow.drivers(0)[0]
    assert not np.allclose(narrow.predict(14), HoltWinters().fit(p).predict(14))


def test_set_params_refuses_unknown_names():
    with pytest.raises(ValueError, match="no parameters"):
        MovingAverage().set_params(windows=3)
    assert MovingAverage().set_params(window=3).window == 3
