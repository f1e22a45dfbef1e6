"""Known-ahead demand drivers laid on a panel's columns: caller prices, promotions, typed events.

A `Drivers` covers a panel's columns from 0 to `width` (>= the history: the columns past it are
the horizon's planned values). Everything in it was sent by the caller as known ahead (a price
list, a promotion plan, a calendar), so a feature may read it at any target column; it is never
cut by `Panel.head` (a backtest origin knows the plan just as a forecast does).
"""

from dataclasses import dataclass, field

import numpy as np

EVENT_TYPES = ("holiday", "sporting", "cultural", "religious", "national", "benefit_day", "promotion")
OTHER = "other"
BENEFIT_DAY = "benefit_day"


def event_type(name: str | None) -> str | None:
    """The event type as the model groups it: a known type, `other` for free text, None when unsent."""
    if name is None:
        return None
    folded = name.strip().lower().replace(" ", "_").replace("-", "_")
    return folded if folded in EVENT_TYPES else OTHER


KEY_SPAN = 1 << 22  # a scoped event's key: row * KEY_SPAN + day + DAY_OFFSET (any ISO date fits)
DAY_OFFSET = 1 << 20


def scoped_keys(rows: np.ndarray, days: np.ndarray) -> np.ndarray:
    """int64 keys ordering (row, day) pairs row by row, then by day."""
    return rows.astype(np.int64) * KEY_SPAN + days.astype(np.int64) + DAY_OFFSET


NO_KEYS = np.zeros(0, np.int64)


def _rekeyed(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Sorted keys of the rows `rows` picks, re-keyed to their new positions (a row picked twice, twice)."""
    lo = np.searchsorted(keys, rows.astype(np.int64) * KEY_SPAN)
    hi = np.searchsorted(keys, (rows.astype(np.int64) + 1) * KEY_SPAN)
    counts = hi - lo
    position = np.repeat(np.arange(rows.size, dtype=np.int64), counts)
    taken = np.repeat(lo - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(int(counts.sum()))
    return np.sort(position * KEY_SPAN + keys[taken] % KEY_SPAN) if taken.size else NO_KEYS


@dataclass(frozen=True)
class Drivers:
    price: np.ndarray | None  # float64[n, width]: the caller's selling price, NaN where not sent
    promotion: np.ndarray | None  # float64[n, width]: 0 = none, else the discount fraction (0.001 without one)
    typed_days: dict[str, np.ndarray]  # event type -> sorted int64 day numbers (benefit days among them)
    scoped: dict[str, np.ndarray] = field(default_factory=dict)  # type -> sorted `scoped_keys` of scoped events
    category: np.ndarray | None = None  # object[n]: each row's category, None where not sent (event scopes)
    group: np.ndarray | None = None  # object[n]: the row's elasticity pooling group (category, else department)

    @property
    def width(self) -> int:
        grids = [g for g in (self.price, self.promotion) if g is not None]
        return grids[0].shape[1] if grids else 0

    @property
    def read_by_trees(self) -> bool:
        """Whether any of these drivers gives the trees a feature (categories alone pool elasticities only)."""
        return self.price is not None or self.promotion is not None or bool(self.typed_days) or bool(self.scoped)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The event types present, scoped or not."""
        return tuple(sorted(set(self.typed_days) | set(self.scoped)))

    def take(self, rows: np.ndarray) -> "Drivers":
        scoped = {kind: _rekeyed(keys, rows) for kind, keys in self.scoped.items()}
        return Drivers(None if self.price is None else self.price[rows],
                       None if self.promotion is None else self.promotion[rows], self.typed_days,
                       {k: v for k, v in scoped.items() if v.size},
                       None if self.category is None else self.category[rows],
                       None if self.group is None else self.group[rows])

    def at(self, grid: np.ndarray | None, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """grid[rows, columns], NaN past the grid's width (or without the grid)."""
        if grid is None:
            return np.full(rows.size, np.nan)
        inside = (columns >= 0) & (columns < grid.shape[1])
        return np.where(inside, grid[rows, np.clip(columns, 0, grid.shape[1] - 1)], np.nan)
