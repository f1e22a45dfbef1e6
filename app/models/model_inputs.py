"""The model boundary: what reaches a tree model is checked here, so a value no model can read fails in
words (the feature, how many rows) instead of in a library's C++ message.

Feature values may be NaN (missing: the trees' own rule for an unknown price or level) but never
infinite; targets and base margins must be finite. The data rules upstream (app/models/panel.py: prices
that are not positive are dropped, `price_unusable`) keep such values out; this check is the guard
behind them.
"""

import numpy as np

from app.utils.errors import SmartShelfError


class ModelInputError(SmartShelfError):
    """Data that would reach a model as an infinite or missing value where none is allowed."""


def checked_inputs(features: np.ndarray, names: list[str], target: np.ndarray | None = None,
                   margin: np.ndarray | None = None) -> None:
    """Raise `ModelInputError` naming the first feature with an infinite value, or a target / base margin
    that is not finite. `features` is [rows, len(names)]."""
    infinite = np.isinf(features)
    if infinite.any():
        column = int(np.argmax(infinite.any(axis=0)))
        count = int(infinite[:, column].sum())
        raise ModelInputError(f"the feature {names[column]!r} is infinite on {count} training or forecast rows; "
                              "the sales hold a value no model can read (report this with the request)")
    for what, values in (("target", target), ("base level", margin)):
        if values is not None and not np.isfinite(values).all():
            count = int((~np.isfinite(values)).sum())
            raise ModelInputError(f"the {what} is not a finite number on {count} rows; the sales hold a value no "
                                  "model can read (report this with the request)")
