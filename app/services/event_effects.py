"""What the next calendar event in the horizon does to a shop-model forecast, in words.

For each product the trees answer, the first event inside the horizon that reaches it (unscoped,
or scoped to it or its category; benefit days are a flag, not an event) is taken out (every event
reaching it on that day: its date from the untyped events, its type's days, its scoped days) and
the trees forecast again: "Big game (sporting) in 3 days, 2026-01-18: +9% units that day" is the
forecast of that period with the event over the one without it.
"""

import dataclasses
from collections.abc import Sequence

import numpy as np

from app.models.drivers import BENEFIT_DAY, DAY_OFFSET, KEY_SPAN, event_type
from app.models.panel import Panel
from app.models.shop_model import ShopModel, shop_history
from app.schemas.forecast import ForecastEvent
from app.services.drivers import event_rows
from app.utils.dates import day_number, from_day_number


def _reached(events: Sequence[ForecastEvent], panel: Panel, first: int,
             end: int) -> list[tuple[int, list[str], np.ndarray]]:
    """(day, event names, rows reached) of each day in [first, end) with an event, earliest first."""
    index = {product_id: row for row, product_id in enumerate(panel.product_ids)}
    category = panel.drivers.category if panel.drivers is not None else None
    every = np.arange(panel.n_products)
    days: dict[int, tuple[list[str], set[int]]] = {}
    for event in events:
        day = day_number(event.date)
        if not first <= day < end or event_type(event.type) == BENEFIT_DAY:
            continue
        rows = event_rows(event, index, category)
        names, reached = days.setdefault(day, ([], set()))
        names.append(event.title or event.id or "an event")
        if event.type:
            names[-1] += f" ({event.type})"
        reached.update((every if rows is None else rows).tolist())
    return [(day, names, np.array(sorted(rows), dtype=np.int64)) for day, (names, rows) in sorted(days.items())]


def _without(panel: Panel, day: int) -> Panel:
    """The panel without any event on `day` (untyped, typed, scoped)."""
    drivers = panel.drivers
    if drivers is not None:
        drivers = dataclasses.replace(
            drivers, typed_days={kind: days[days != day] for kind, days in drivers.typed_days.items()},
            scoped={kind: keys[keys % KEY_SPAN - DAY_OFFSET != day] for kind, keys in drivers.scoped.items()})
    return dataclasses.replace(panel, event_days=panel.event_days - {day}, drivers=drivers)


def event_words(model: ShopModel, panel: Panel, events: Sequence[ForecastEvent], periods: int,
                forecast: np.ndarray, by_trees: np.ndarray) -> list[list[str]]:
    """Per product of `panel`: the next event's effect on its forecast, in words (none without one);
    `by_trees`: the products whose forecast is the trees' alone."""
    words: list[list[str]] = [[] for _ in range(panel.n_products)]
    first = panel.first_day + panel.n_periods * panel.step  # the horizon's first day
    named = np.zeros(panel.n_products, dtype=bool)
    for day, names, rows in _reached(events, panel, first, first + periods * panel.step):
        rows = rows[~named[rows] & by_trees[rows]]
        if rows.size == 0:
            continue
        named[rows] = True
        column = (day - first) // panel.step
        without = model.trees_.forecast(shop_history(_without(panel.take(rows), day)), periods)[:, column]
        period = "that day" if panel.step == 1 else "that week"
        for k, base in zip(rows.tolist(), without.tolist(), strict=True):
            if base > 0:
                ahead = day - first + 1
                words[k].append(f"{', '.join(names)} in {ahead} day{'s' if ahead > 1 else ''}, {from_day_number(day)}: "
                                f"{(forecast[k, column] / base - 1) * 100:+.0f}% units {period}")
    return words
