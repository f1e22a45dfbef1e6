"""The forecaster shape every model family follows (scikit-learn style, batched over products).

`fit(panel)` learns from every row of a `Panel` and returns self; `predict(horizon)` gives
float64[n_products, horizon], NaN for rows the family cannot forecast (too little history).
`forecast_origins` gives the forecasts a backtest needs, each from data before its origin;
families with a causal one-pass filter override it to get every origin from one pass.
"""

import inspect
from typing import Any, ClassVar, Self

import numpy as np

from app.models.panel import Panel


class NotFittedError(RuntimeError):
    pass


class Forecaster:
    family: ClassVar[str]

    def get_params(self) -> dict[str, Any]:
        """The `__init__` arguments, read back from the attributes of the same name."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p not in ("self", "args", "kwargs")]
        return {name: getattr(self, name) for name in names}

    def clone(self) -> Self:
        return type(self)(**self.get_params())

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
