"""The model families by name, as requests and responses spell them."""

from app.models.base import Forecaster
from app.models.boosted import GlobalBoosted
from app.models.holt_winters import HoltWinters
from app.models.intermittent import IntermittentTSB
from app.models.linear import LinearLags
from app.models.naive import MovingAverage, SeasonalNaive

FAMILIES: dict[str, type[Forecaster]] = {
    cls.family: cls for cls in (SeasonalNaive, MovingAverage, LinearLags, HoltWinters, IntermittentTSB, GlobalBoosted)
}


def make(family: str, horizon: int, random_state: int = 0) -> Forecaster:
    """A new, unfitted forecaster of `family` for forecasts up to `horizon` periods."""
    cls = FAMILIES[family]
    return cls(horizon=horizon, random_state=random_state) if cls is GlobalBoosted else cls()
