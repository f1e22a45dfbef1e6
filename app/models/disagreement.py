"""How much the candidate methods disagree about a product's coming level: the width its backtest errors miss.

A product's interval is read from its chosen method's errors over a few backtest windows (`app.models.rate_bands`).
Those windows hold the level moves that happened in them and no others: after a season turns (a shop's summer rush
ending, its winter closing days) the coming level is less certain than any recent window showed. The candidates
say so: when the recent mean, last year's season, the trend and the trees each read the history their own way and
land apart, the level they forecast is uncertain. On the bakery's export at its eight month ends (every article
in one request, in process) the spread of the families' 28-day means correlated 0.49 with the error of the chosen
forecast's 28-day mean, the spread of the product's own backtest errors 0.34; where the candidates disagreed by
more than that backtest spread, the error was 1.7-2.3 times it.

`spread_factor` is 1 + WEIGHT x the standard deviation, over the candidates, of log(mean forecast + OFFSET): the
error unit of each backtest window grows by its factor there, and a forecast's bounds by the factor now, so the
bands are read in units of what the candidates agreed and widen where they disagree more than they did.
"""

import warnings

import numpy as np

WEIGHT = 2.0
OFFSET = 0.5  # units per period: a slow mover's 0.02 against 0.2 a day is no disagreement worth a width


def spread_factor(forecasts: np.ndarray) -> np.ndarray:
    """float64[...]: 1 + WEIGHT x the candidates' disagreement, from `forecasts` [..., candidates, steps] (NaN: a
    candidate that could not forecast, left out; 1 where fewer than two could)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a candidate or product with no finite forecast: NaN
        level = np.log(np.nanmean(np.maximum(forecasts, 0.0), axis=-1) + OFFSET)  # [..., candidates]
        counted = np.isfinite(level).sum(axis=-1)
        spread = np.where(counted >= 2, np.nanstd(level, axis=-1), 0.0)
    return 1.0 + WEIGHT * np.nan_to_num(spread)
