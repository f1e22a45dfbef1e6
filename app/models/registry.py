"""The model families by name, as requests and responses spell them.

Every family is built the same way: `make` offers `horizon` and `random_state` to each, and a
family receives those its `__init__` declares (the rest keep their defaults).
"""

from app.models.base import Forecaster
from app.models.boosted import GlobalBoosted
from app.models.calendar_profile import CalendarProfile, WeekdayProfile
from app.models.holt_winters import HoltWinters
from app.models.intermittent import IntermittentTSB
from app.models.linear import LinearLags
from app.models.naive import MovingAverage, SeasonalNaive

FAMILIES: dict[str, type[Forecaster]] = {
    cls.family: cls for cls in (SeasonalNaive, MovingAverage, LinearLags, HoltWinters, IntermittentTSB, GlobalBoosted,
                              WeekdayProfile, CalendarProfile)
}


def make(family: str, horizon: int, random_state: int = 0) -> Forecaster:
    """A new, unfitted forecaster of `family` for forecasts up to `horizon` periods."""
    cls = FAMILIES[family]
    offered = {"horizon": horizon, "random_state": random_state}
    return cls(**{name: value for name, value in offered.items() if name in cls.param_names()})
