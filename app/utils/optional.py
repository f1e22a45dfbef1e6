"""Heavy optional libraries, imported on first use so start-up stays fast."""

from types import ModuleType


def xgboost() -> ModuleType:
    try:
        import xgboost as xgb
    except ImportError as exc:  # pragma: no cover - the pinned requirements install it
        raise RuntimeError("the boosted forecaster needs xgboost: pip install -r requirements.txt") from exc
    return xgb
