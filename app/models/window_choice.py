"""Per-product method choice on errors pooled over several backtest windows, shrunk towards the band.

Each candidate's score for a product is its mean squared scaled error (RMSSE squared, the scale
being the MASE denominator) pooled over the windows where it was scored, shrunk towards the
candidate's mean score over the products of the same sales-rate band:
    (windows x own + SHRINKAGE x band) / (windows + SHRINKAGE)
so a product whose own few windows disagree follows what wins for products like it, and one
with a clear, repeated winner keeps it. The mean of a product's two best candidates is a candidate too
(scored the same way), and with `members` 3 the mean of its three best: a combination's errors partly cancel,
and a choice among a few noisy windows is itself noisy, which an average of the leaders hedges. The per-request
path (`app.models.selection`: no band to shrink towards, no guard) averages up to three; through HTTP
(`python -m bench.per_request`, one product a request) walmart-weekly's sample MASE went 0.744 -> 0.723, the
bakery's 66 articles 0.797 -> 0.792, M5's sample WRMSSE 0.740 -> 0.738, store-item's 0.703 -> 0.704. The shop
model keeps two: with three, in process (`python -m bench.shop_in_process`) walmart 0.749 -> 0.742, M5 and
store-item unchanged, the bakery 0.692 -> 0.698, and through its eight month ends (`python -m bench.run
bakery_origins`) 0.904 -> 0.911 (0.917 -> 0.976 at 2022-05-31). No candidate is favoured: the lowest shrunk
score wins (the fewer members on a tie); a product with no scored window gets `default`. Candidates are
compared on the same windows: a window that one of a product's candidates could not forecast (e.g. Holt-Winters
before two seasons of history) is left out of every candidate's score for that product, else a family would be
judged on its easier (recent) windows alone and the others on all.

`guarded` checks the choosing itself out of sample, per band: the choice made on the earlier windows against the
band's best single candidate on those same windows, both scored on the latest window, which neither saw. Where
the single candidate wins, the band's products all get it: per-product choices that chased the noise of a few
windows (the bakery's summer choices meeting its September, 0.707 against the trees' 0.658 MASE) do not serve.
"""

from dataclasses import dataclass

import numpy as np

ENSEMBLE_SEPARATOR = "+"
SHRINKAGE = 3.0  # weight of the band's mean, in windows
MEMBERS = 2  # the most candidates a product's forecast averages (the shop model's; a request's: 3)
POWER = 2  # squared errors: the choice aims at the mean (what stock and RMSSE need), not the median MASE rewards


@dataclass(frozen=True)
class Choice:
    """Per product: the candidates kept (one, or two or three averaged) and the forecast they make."""

    method: np.ndarray  # str[n]: a candidate's name, or "a+b" / "a+b+c" for the mean of two or three
    weights: np.ndarray  # float64[n, candidates]: the kept candidates' equal shares, each row summing to 1

    def combine(self, forecasts: np.ndarray) -> np.ndarray:
        """The chosen forecasts from every candidate's `forecasts` [n, candidates, ...]."""
        out = np.zeros(forecasts.shape[:1] + forecasts.shape[2:])
        for k in range(self.weights.shape[1]):
            share = self.weights[:, k].reshape((-1,) + (1,) * (forecasts.ndim - 2))
            out = out + np.where(share > 0, share * forecasts[:, k], 0.0)
        return out


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
           default: int = 0, power: int = POWER, shrinkage: float = SHRINKAGE, members: int = MEMBERS) -> Choice:
    """The choice among candidates `names` from backtest `actual` [n, windows, steps] (NaN = not scored) and
    `forecasts` [n, candidates, windows, steps] (NaN where a candidate cannot forecast), per product of
    sales-rate `band` int[n] (`shrinkage` 0: each product on its own windows alone), of one candidate or the mean
    of up to `members` best; MASE denominators `scale` float64[n]."""
    n, count = forecasts.shape[0], len(names)
    rows = np.arange(n)
    actual = _common_windows(actual, forecasts)
    own = np.empty((n, count))
    windows = np.zeros((n, count), dtype=np.int64)
    for k in range(count):
        own[:, k], windows[:, k] = _pooled(actual, forecasts[:, k], scale, power)
    shrunk = _shrunk(own, windows, band, shrinkage)
    order = np.argsort(shrunk, axis=1, kind="stable")
    leaders = order[:, :min(members, count)]  # [n, m]: the best, the runner-up, the third
    leader_scores = shrunk[rows[:, None], leaders]
    scores = np.full((n, leaders.shape[1]), np.inf)  # the mean of the 1, 2, 3 best, scored and shrunk alike
    scores[:, 0] = leader_scores[:, 0]
    for top in range(2, leaders.shape[1] + 1):
        mean = forecasts[rows[:, None], leaders[:, :top]].mean(axis=1)
        mean_own, mean_windows = _pooled(actual, mean, scale, power)
        mean_score = _shrunk(mean_own[:, None], mean_windows[:, None], band, shrinkage)[:, 0]
        scores[:, top - 1] = np.where(np.isfinite(leader_scores[:, :top]).all(axis=1), mean_score, np.inf)
    scored = np.isfinite(scores[:, 0])
    sizes = np.where(scored, np.argmin(scores, axis=1) + 1, 1)  # the first minimum: the fewer members on a tie
    weights = np.zeros((n, count))
    for k in range(leaders.shape[1]):
        kept = scored & (k < sizes)
        weights[rows[kept], leaders[kept, k]] = 1.0 / sizes[kept]
    weights[rows[~scored], default] = 1.0
    codes = (weights > 0) @ (1 << np.arange(count))  # one bit per kept candidate: a label per distinct set
    distinct, which = np.unique(codes, return_inverse=True)
    label = np.array(names, dtype=object)
    labels = [ENSEMBLE_SEPARATOR.join(label[(code >> np.arange(count)) & 1 == 1]) for code in distinct.tolist()]
    return Choice(np.array(labels, dtype=object)[which].astype(str), weights)


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
    method, weights = full.method.copy(), full.weights.copy()
    for b in np.unique(band):
        members = band == b
        single = int(np.argmin([_band_error(error, members) for error in earlier_error]))
        single_latest = latest_error[single]
        both = members & np.isfinite(chosen_latest) & np.isfinite(single_latest)
        if both.any() and _band_error(single_latest, both) < _band_error(chosen_latest, both):
            method[members], weights[members] = names[single], np.eye(len(names))[single]
    return Choice(method, weights)
