"""What the next calendar event in the horizon does to a shop-model forecast, in words.

For each product the trees alone answer, the first horizon period holding an event that reaches it
(unscoped, or scoped to it or its category; benefit days are a flag, not an event) is taken: every
event of that period is removed (its date from the untyped events, its type's days, its scoped
days; benefit days stay) and the trees forecast again. "Big game (sporting) in 3 days,
2026-01-18: +9% units that day" is the forecast of that period with the events over the one
without them; "in N days" counts from the last period of history.
"""

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from app.models.drivers import BENEFIT_DAY, DAY_OFFSET, KEY_SPAN, OTHER, event_type
from app.models.panel import Panel
from app.models.shop_model import SHOP, ShopModel
from app.models.window_choice import ENSEMBLE_SEPARATOR
from app.schemas.forecast import ForecastEvent
from app.services.forecasting.drivers import Scopes
from app.utils.dates import day_number, from_day_number


def _name(event: ForecastEvent) -> str:
    return (event.title or event.id or "an event") + (f" ({event.type})" if event.type else "")


def _upcoming(events: Sequence[ForecastEvent], panel: Panel, first: int, periods: int,
              readable: Callable[[ForecastEvent], bool]) -> dict[int, list[tuple[int, str, np.ndarray | None]]]:
    """Horizon column -> (day, name, rows reached or None = all) of its `readable` events."""
    category = panel.drivers.category if panel.drivers is not None else None
    scopes = Scopes.of(panel.product_ids, category)
    found: dict[int, list[tuple[int, str, np.ndarray | None]]] = {}
    for event in events:
        day = day_number(event.date)
        column = (day - first) // panel.step
        if day - first >= 0 and column < periods and readable(event):
            found.setdefault(column, []).append((day, _name(event), scopes.rows(event)))
    return dict(sorted(found.items()))


def _without(panel: Panel, days: set[int]) -> Panel:
    """The panel without its events on `days` (untyped, typed, scoped); benefit days stay."""
    drivers = panel.drivers
    if drivers is not None:
        out = np.array(sorted(days), dtype=np.int64)
        drivers = dataclasses.replace(
            drivers,
            typed_days={kind: marked if kind == BENEFIT_DAY else marked[~np.isin(marked, out)]
                        for kind, marked in drivers.typed_days.items()},
            scoped={kind: keys if kind == BENEFIT_DAY else keys[~np.isin(keys % KEY_SPAN - DAY_OFFSET, out)]
                    for kind, keys in drivers.scoped.items()})
    return dataclasses.replace(panel, event_days=panel.event_days - days, drivers=drivers)


def tree_shares(methods: Sequence[str]) -> np.ndarray:
    """Each product's weight of the shop model's trees in its forecast: 1 (`shop_model`), 1/2 (the mean of
    the trees and a local family, `shop_model+holt_winters`) or 0 (a local family alone) -> float64[n]."""
    return np.array([parts.count(SHOP) / len(parts) for parts in (m.split(ENSEMBLE_SEPARATOR) for m in methods)])


def blend_without(model: ShopModel, panel: Panel, changed: Panel, periods: int, forecast: np.ndarray,
                  share: np.ndarray) -> np.ndarray:
    """The forecasts [n, periods] of `panel`'s products had the trees seen `changed` (a driver taken out)
    instead: only the trees' `share` of each forecast moves, the local family's part stays."""
    without = model.trees_.forecast(model.tree_history(changed), periods)
    if np.all(share == 1):
        return without  # the forecasts are the trees' own
    with_it = model.trees_.forecast(model.tree_history(panel), periods)
    return forecast - share[:, None] * (with_it - without)


def event_words(model: ShopModel, panel: Panel, events: Sequence[ForecastEvent], periods: int,
                forecast: np.ndarray, share: np.ndarray) -> list[list[str]]:
    """Per product of `panel`: the next event's effect on its forecast, in words (none without one);
    `share`: the trees' weight in each product's forecast (`tree_shares`); the local families read no event."""
    words: list[list[str]] = [[] for _ in range(panel.n_products)]
    first = panel.first_day + panel.n_periods * panel.step  # the horizon's first day
    waiting = share > 0  # products not named yet
    columns = model.trees_.columns
    by_type = model.reads_drivers  # a model that declined the drivers reads event dates only

    def readable(event: ForecastEvent) -> bool:
        kind = event_type(event.type)
        if kind == BENEFIT_DAY:
            return False
        if event.scoped:  # scoped events reach the trees as their type (`other` without one)
            return by_type and (kind or OTHER) in columns.kinds
        return columns.events or (by_type and kind in columns.kinds)

    for column, found in _upcoming(events, panel, first, periods, readable).items():
        reached = [(day, name, waiting.copy() if rows is None else np.isin(np.arange(panel.n_products), rows) & waiting)
                   for day, name, rows in found]
        rows = np.flatnonzero(np.any([mask for _, _, mask in reached], axis=0))
        if rows.size == 0:
            continue
        waiting[rows] = False
        days = {day for day, _, mask in reached if mask[rows].any()}
        asked = panel.take(rows)
        without = blend_without(model, asked, _without(asked, days), column + 1, forecast[rows, :column + 1],
                                share[rows])[:, column]
        ahead = column + 1
        when = f"in {ahead} day{'s' if ahead > 1 else ''}" if panel.step == 1 else f"in week {ahead}"
        for i, k in enumerate(rows.tolist()):
            if without[i] <= 0:
                continue
            names = ", ".join(dict.fromkeys(name for _, name, mask in reached if mask[k]))
            dates = ", ".join(sorted({from_day_number(day).isoformat() for day, _, mask in reached if mask[k]}))
            words[k].append(f"{names} {when}, {dates}: {(forecast[k, column] / without[i] - 1) * 100:+.0f}% units "
                            f"that {'day' if panel.step == 1 else 'week'}")
    return words
