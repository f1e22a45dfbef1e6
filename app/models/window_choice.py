"""Per-product method choice on errors pooled over several backtest windows, shrunk towards the band.

Each candidate's score for a product is its mean squared scaled error (RMSSE squared, the scale
being the MASE denominator) pooled over the windows where it was scored, shrunk towards the
candidate's mean score over the products of the same sales-rate band:
    (windows x own + SHRINKAGE x band) / (windows + SHRINKAGE)
so a product whose own few windows disagree follows what wins for products like it, and one
with a clear, repeated winner keeps it. The mean of a product's two best candidates is a
candidate too (scored the same way). No candidate is favoured: the lowest shrunk score wins;
a product with no scored window gets `default`. Candidates are compared on the same windows: a window
that one of a product's candidates could not forecast (e.g. Holt-Winters before two seasons of history)
is left out of every candidate's score for that product, else a family would be judged on its easier
(recent) windows alone and the others on all.

`guarded` checks the choosing itself out of sample, per band: the choice made on the earlier windows against the
band's best single candidate on those same windows, both scored on the latest window, which neither saw. Where
the single candidate wins, the band's products all get it: per-product choices that chased the noise of a few
windows (the bakery's summer choices meeting its September, 0.707 against the trees' 0.658 MASE) do not serve.
"""

from dataclasses import dataclass

import numpy as np

ENSEMBLE_SEPARATOR = "+"
SHRINKAGE = 3.0  # weight of the band's mean, in windows
POWER = 2  # squared errors: the choice aims at the mean (what stock and RMSSE need), not the median MASE rewards


@dataclass(frozen=True)
class Choice:
    """Per product: the candidates kept (one, or two averaged) and the forecast they make."""

    method: np.ndarray  # str[n]: a candidate's name, or "a+b" for the mean of two
    first: np.ndarray  # int64[n], index of the (first) kept candidate
    second: np.ndarray  # int64[n], the second one (== first when one is kept)

    def combine(self, forecasts: np.ndarray) -> np.ndarray:
        """The chosen forecasts from every candidate's `forecasts` [n, candidates, ...]."""
        rows = np.arange(forecasts.shape[0])
        return (forecasts[rows, self.first] + forecasts[rows, self.second]) / 2


def _pooled(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray,
            power: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Mean scaled |error| ** power over every scored step of `actual`/`forecast` [n, windows, steps] (MASE, or
    the square of RMSSE with `power` 2) -> (float64[n] (inf where none), int64[n] windows scored)."""
    error = np.abs(actual - forecast) ** power
    scale = scale ** power
    seen = np.isfinite(error)
    count = seen.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        mase = np.where(seen, error, 0.0).sum(axis=(1, 2)) / count / scale
    windows = seen.any(axis=2).sum(axis=1)
    return np.where(np.isfinite(mase), mase, np.inf), windows


def _common_windows(actual: np.ndarray, forecasts: np.ndarray) -> np.ndarray:
    """`actual` [n, windows, steps] left out (NaN) on each product's windows that one of its candidates
    (`forecasts` [n, candidates, windows, steps]) forecasting some window did not forecast."""
    forecast = np.isfinite(forecasts).any(axis=3)  # [n, candidates, windows]
    able = forecast.any(axis=2, keepdims=True)
    common = (forecast | ~able).all(axis=1)  # [n, windows]
    return np.where(common[:, :, None], actual, np.nan)


def _shrunk(own: np.ndarray, windows: np.ndarray, band: np.ndarray, shrinkage: float) -> np.ndarray:
    """`own` float64[n, k] scores shrunk towards each column's mean over the row's band."""
    out = own.copy()
    if shrinkage <= 0:
        return out
    for b in np.unique(band):
        members = band == b
        for k in range(own.shape[1]):
            values = own[members, k]
            finite = values[np.isfinite(values)]
            if finite.size:
                target = float(np.mean(finite))
                own_part = windows[members, k] * np.where(np.isfinite(values), values, 0.0)
                out[members, k] = np.where(np.isfinite(values), (own_part + shrinkage * target)
                                           / (windows[members, k] + shrinkage), np.inf)
    return out


def choose(names: list[str], actual: np.ndarray, forecasts: np.ndarray, scale: np.ndarray, band: np.ndarray,
           default: int = 0, power: int = POWER, shrinkage: float = SHRINKAGE) -> Choice:
    """The choice among candidates `names` from backtest `actual` [n, windows, steps] (NaN = not scored) and
    `forecasts` [n, candidates, windows, steps] (NaN where a candidate cannot forecast), per product of
    sales-rate `band` int[n] (`shrinkage` 0: each product on its own windows alone); MASE denominators `scale`
    float64[n]."""
    n, count = forecasts.shape[0], len(names)
    rows = np.arange(n)
    actual = _common_windows(actual, forecasts)
    own = np.empty((n, count))
    windows = np.zeros((n, count), dtype=np.int64)
    for k in range(count):
        own[:, k], windows[:, k] = _pooled(actual, forecasts[:, k], scale, power)
    shrunk = _shrunk(own, windows, band, shrinkage)
    order = np.argsort(shrunk, axis=1, kind="stable")
    best, runner_up = order[:, 0], order[:, min(1, count - 1)]
    pair_own, pair_windows = _pooled(actual, (forecasts[rows, best] + forecasts[rows, runner_up]) / 2, scale, power)
    pair = _shrunk(pair_own[:, None], pair_windows[:, None], band, shrinkage)[:, 0]
    scored = np.isfinite(shrunk[rows, best])
    use_pair = scored & (count > 1) & np.isfinite(shrunk[rows, runner_up]) & (pair < shrunk[rows, best])
    first = np.where(scored, best, default)
    second = np.where(use_pair, runner_up, first)
    label = np.array(names, dtype=object)
    low, high = np.minimum(first, second), np.maximum(first, second)  # one name per pair, whichever won
    method = np.where(use_pair, label[low] + ENSEMBLE_SEPARATOR + label[high], label[first])
    return Choice(method.astype(str), first, second)


def _band_error(error: np.ndarray, members: np.ndarray) -> float:
    """Mean over a band's `members` of the per-product root of `error` (pooled squared scaled errors), inf where
    none is finite."""
    values = error[members]
    finite = values[np.isfinite(values)]
    return float(np.mean(np.sqrt(finite))) if finite.size else float("inf")


def guarded(names: list[str], actual: np.ndarray, forecasts: np.ndarray, scale: np.ndarray, band: np.ndarray,
            default: int = 0, shrinkage: float = SHRINKAGE) -> Choice:
    """`choose` on every window, except in a sales-rate band where choosing lost on a window it never saw: there,
    the single candidate that scored best over the band on the earlier windows, for every product of the band.
    The check per band: the choice made on the windows before the latest (`actual` [:, 1:]) and that candidate,
    both scored on the latest window (RMSSE-like: the root of each product's mean squared scaled error, averaged
    over the band's products scored by both). With one window there is nothing to check it on."""
    full = choose(names, actual, forecasts, scale, band, default, shrinkage=shrinkage)
    if actual.shape[1] < 2:
        return full
    common = _common_windows(actual, forecasts)
    earlier = choose(names, actual[:, 1:], forecasts[:, :, 1:], scale, band, default, shrinkage=shrinkage)
    latest = common[:, :1]
    chosen_latest, _ = _pooled(latest, earlier.combine(forecasts)[:, :1], scale, POWER)
    earlier_error = [_pooled(common[:, 1:], forecasts[:, k, 1:], scale, POWER)[0] for k in range(len(names))]
    latest_error = [_pooled(latest, forecasts[:, k, :1], scale, POWER)[0] for k in range(len(names))]
    method, first, second = full.method.copy(), full.first.copy(), full.second.copy()
    for b in np.unique(band):
        members = band == b
        single = int(np.argmin([_band_error(error, members) for error in earlier_error]))
        single_latest = latest_error[single]
        both = members & np.isfinite(chosen_latest) & np.isfinite(single_latest)
        if both.any() and _band_error(single_latest, both) < _band_error(chosen_latest, both):
            method[members], first[members], second[members] = names[single], single, single
    return Choice(method, first, second)
