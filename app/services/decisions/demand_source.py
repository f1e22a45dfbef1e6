"""Where a decision's demand comes from, named as it is, one wording for at-risk and promotions.

The demand the stock is judged with is the forecast's, except where a silence decides reorder's demand
(`planned_demand.planned_demand`): a product silent for its protection interval is judged by what followed its
earlier silences as long (`after_silence`), one selling again after a long silence by the demand it met before it
(`woken_level`). /forecast gives neither rate, so the answers do not quote them "by its forecast" (the bakery's
croutons: "0.21/day by its forecast (linear)" beside a /forecast of 0.0 on every day); they name them as
reorder's reasoning does.
"""

from typing import NamedTuple

from app.models.demand_distribution import WOKEN_SILENCE


class Source(NamedTuple):
    """An item's demand source: its name after "by" and what the brackets say of it."""

    name: str  # "its forecast", "what followed its earlier silences as long", ...
    note: str  # the forecast's method, or why reorder's demand stands in
    forecast: bool


AFTER_SILENCE = Source("what followed its earlier silences as long", "reorder's demand", False)
WOKEN = Source("the demand it met before its silence",
               f"reorder's demand: it sells again after {WOKEN_SILENCE} or more silent days", False)


def demand_source(method: str | None, silent: bool, woke: bool) -> Source | None:
    """The source of an item's demand: what followed its earlier silences or the demand it met before its silence
    where a silence decides reorder's demand, else its forecast (`method`: the forecast's method, None where it
    was not read); None where the demand is the sales rate the sentence already quotes."""
    if silent:
        return AFTER_SILENCE
    if woke:
        return WOKEN
    return Source("its forecast", method, True) if method else None
