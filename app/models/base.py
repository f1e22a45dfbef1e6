"""The forecaster shape every model family follows (scikit-learn style, batched over products).

`__init__` only stores its arguments (the parameters); `fit(panel)` learns from every row of a
`Panel`, sets the attributes ending in `_` and returns self; `predict(horizon)` gives
float64[n_products, horizon], NaN for rows the family cannot forecast (too little history).
`forecast_origins` gives the forecasts a backtest needs, each from data before its origin, and
changes no parameter; families with a causal one-pass filter override it to get every origin
from one pass. `get_params`/`set_params` follow scikit-learn's protocol, so `sklearn.base.clone`
works on every family without importing scikit-learn here (it costs a second at start-up).
"""

import copy
import inspect
from typing import Any, ClassVar, Self

import numpy as np

from app.models.panel import Panel


class NotFittedError(RuntimeError):
    pass


class Forecaster:
    family: ClassVar[str]

    @classmethod
    def param_names(cls) -> list[str]:
        """The `__init__` arguments, in order (none for a family without parameters)."""
        if cls.__init__ is object.__init__:
            return []
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The `__init__` arguments, read back from the attributes of the same name."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params: Any) -> Self:
        unknown = set(params) - set(self.param_names())
        if unknown:
            raise ValueError(f"{type(self).__name__} has no parameters {sorted(unknown)}")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def clone(self) -> Self:
        """A new, unfitted forecaster with the same parameters (as `sklearn.base.clone`)."""
        return type(self)(**{k: copy.deepcopy(v) for k, v in self.get_params().items()})

    def fit(self, panel: Panel) -> Self:
        raise NotImplementedError

    def predict(self, horizon: int) -> np.ndarray:
        raise NotImplementedError

    def check_fitted(self) -> None:
        if not getattr(self, "fitted_", False):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")

    def forecast_origins(self, panel: Panel, origins: list[int], horizon: int) -> np.ndarray:
        """float64[n, len(origins), horizon]: forecasts made at each origin column."""
        out = np.full((panel.n_products, len(origins), horizon), np.nan)
        for k, origin in enumerate(origins):
            out[:, k, :] = self.clone().fit(panel.head(origin)).predict(horizon)
        return out

    def drivers(self, row: int) -> list[str]:
        """Plain-words explanation of row `row`'s forecast."""
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"
