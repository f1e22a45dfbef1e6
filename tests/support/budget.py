"""The default work budget, for tests and benchmarks that call a service function directly."""

from app.config import Settings
from app.utils.work_budget import WorkBudget

BUDGET = WorkBudget(Settings(_env_file=None))  # type: ignore[call-arg]
