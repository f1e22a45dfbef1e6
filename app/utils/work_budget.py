"""The work budget: what a request may cost, checked from its validated shape before the work.

A small body can ask for enormous work: one sale and a range over 9,000 years, 100,000 products
with one sale each and a year of forecasts, 10,000 items x 10,000 events. Each service computes
the dimensions of what it is about to build from the request (products x days of the dense grid
it will fill, products x periods of history a forecast trains on, values of the answer, item x
event pairs) and calls `WorkBudget.check` first: over a limit is a 413 `work_budget_exceeded`
naming the dimensions, the figure, the setting that bounds it and what to do instead.

Within the limit, a request whose figure is a large share of it is heavy: it is admitted through the
process's pool of heavy-request slots (`app/utils/admission.py`), or refused with 503 and Retry-After.

Defaults (app/config.py) are sized on the 2-core reference machine so that no request under
them takes more than about 10 s or 1 GB, and every benchmark and example workload passes.
"""

from dataclasses import dataclass
from typing import Protocol

from app.utils.admission import admit
from app.utils.errors import PayloadTooLargeError


class WorkBudgetExceeded(PayloadTooLargeError):
    error = "work_budget_exceeded"


class BudgetSettings(Protocol):
    max_grid_cells: int
    max_train_cells: int
    max_answer_values: int
    max_pairs: int
    shop_model_max_cells: int


LIMITS = {
    "grid": ("max_grid_cells", "MAX_GRID_CELLS"),
    "train": ("max_train_cells", "MAX_TRAIN_CELLS"),
    "answer": ("max_answer_values", "MAX_ANSWER_VALUES"),
    "pairs": ("max_pairs", "MAX_PAIRS"),
    "shop_model": ("shop_model_max_cells", "SHOP_MODEL_MAX_CELLS"),
}


@dataclass(frozen=True)
class WorkBudget:
    settings: BudgetSettings

    def check(self, kind: str, dimensions: dict[str, int], hint: str) -> None:
        """Refuse (413) when the product of `dimensions` exceeds the `kind` limit; admit a heavy request.

        `dimensions` names each factor, e.g. {"products": 10_000, "days": 3_653}.
        """
        attribute, setting = LIMITS[kind]
        limit: int = getattr(self.settings, attribute)
        figure = 1
        for size in dimensions.values():
            figure *= max(int(size), 0)
        shape = " x ".join(f"{size:,} {name}" for name, size in dimensions.items())
        if figure > limit:
            raise WorkBudgetExceeded(f"this request needs {figure:,} {kind} cells ({shape}), over "
                                     f"{setting}={limit:,}; {hint}")
        admit(figure / limit, f"{figure:,} {kind} cells ({shape}) of {setting}={limit:,}")
