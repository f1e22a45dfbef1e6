"""How many decimals an answer's quantities keep: relative to the product's scale, never a fixed count.

A product selling 0.0004 units a day (a bulk item sold by the gram, a weekly rate in thousands) keeps
its 4 significant digits; one selling 1,234 keeps 3 decimals, as every answer did before. One count
per product, from its largest forecast, so its predictions and bounds share one precision.
"""

import math

import numpy as np

SIGNIFICANT = 4
MIN_DECIMALS = 3
MAX_DECIMALS = 12
RESIDUE = 1e-6  # units: below this a value is a model's residue, not a rate of sales (one unit in 2,700 years)


def scale_decimals(values: np.ndarray) -> int:
    """Decimals that keep SIGNIFICANT digits of the largest finite |value| of `values` (any shape), at least
    MIN_DECIMALS (at most MAX_DECIMALS); MIN_DECIMALS when every value is under RESIDUE or not finite (an
    out-of-season galette's trees said 2.8e-11 a day, printed as such: it is 0)."""
    finite = np.abs(values[np.isfinite(values)])
    finite = finite[finite >= RESIDUE]
    largest = float(finite.max()) if finite.size else 0.0
    if largest <= 0:
        return MIN_DECIMALS
    return int(min(MAX_DECIMALS, max(MIN_DECIMALS, SIGNIFICANT - 1 - math.floor(math.log10(largest)))))
