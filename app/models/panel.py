"""A panel of regular sales series: one row per product, one column per day or week.

Columns are periods `first_day + c * step` (step 1 = daily, 7 = weekly). Every row ends at the
panel's last column; `start[i]` is row i's first observed column, and values before it are 0
and never read as history.
"""

from dataclasses import dataclass, field

import numpy as np

SEASON_LENGTH = {1: 7, 7: 52}


@dataclass(frozen=True)
class Panel:
    product_ids: list[str]
    values: np.ndarray  # float64[n, T], net units per period, >= 0
    start: np.ndarray  # int64[n]
    first_day: int  # day number (days since 1970-01-01) of column 0
    step: int  # 1 = daily, 7 = weekly
    event_days: frozenset[int] = field(default_factory=frozenset)  # days with a caller's calendar event
    price: np.ndarray | None = None  # float64[n, T] unit price, NaN where unknown

    @property
    def n_products(self) -> int:
        return self.values.shape[0]

    @property
    def n_periods(self) -> int:
        return self.values.shape[1]

    @property
    def season_length(self) -> int:
        return SEASON_LENGTH[self.step]

    @property
    def observed(self) -> np.ndarray:
        """Observed periods per product -> int64[n]."""
        return self.n_periods - self.start

    def days(self, first_column: int, count: int) -> np.ndarray:
        """Day numbers of columns first_column .. first_column + count - 1 (may run past the end)."""
        return self.first_day + (first_column + np.arange(count)) * self.step

    def head(self, columns: int) -> "Panel":
        """The panel as it was before column `columns` (a backtest origin)."""
        return Panel(
            self.product_ids,
            self.values[:, :columns],
            np.minimum(self.start, columns),
            self.first_day,
            self.step,
            self.event_days,
            None if self.price is None else self.price[:, :columns],
        )

    def observed_mask(self) -> np.ndarray:
        """bool[n, T]: True where the column is inside the product's history."""
        return np.arange(self.n_periods)[None, :] >= self.start[:, None]
