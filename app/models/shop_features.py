"""What the shop model knows about a target period, read only from data before its anchor.

A feature row is (product row r, target column t, anchor column a < t): every sales feature
reads columns <= a of row r, and the calendar ones read only the target's date and the
caller's event days (known ahead). `lead` = t - a, so one model serves every horizon step: a
near step sees the latest week, a far one only what was known that many periods earlier.

Levels are relative to the product's own `base` (its mean over the last 8 weeks before the
anchor, at least a tenth of its yearly mean), which the model takes as its base margin: the
trees learn multiplicative shapes shared by products of any size. A product's history starts at
its first sale (release trimming): the zeros before a launch are not demand.
"""

from dataclasses import dataclass

import numpy as np

from app.models.drivers import BENEFIT_DAY, DAY_OFFSET, KEY_SPAN, NO_KEYS, Drivers, scoped_keys
from app.utils.arrays import prefix_sums, strided_mean
from app.utils.dates import dates_of, weekday

WINDOWS = {1: (7, 28, 91, 182, 364), 7: (2, 4, 13, 26, 52)}
BASE_WINDOW = {1: 56, 7: 8}
YEAR = {1: 364, 7: 52}
SPREAD_WINDOW = {1: 28, 7: 8}
MIN_BASE = 1e-3
EVENT_REACH = {1: 14, 7: 4}


@dataclass(frozen=True)
class History:
    """A panel's sales as the features read them: running sums, release-trimmed starts."""

    values: np.ndarray  # float64[n, T]
    start: np.ndarray  # int64[n]: first record
    begin: np.ndarray  # int64[n]: first column that counts (first sale, or first record if none)
    first_day: int
    step: int
    event_days: np.ndarray  # int64[k] sorted day numbers
    price: np.ndarray | None  # float64[n, T] unit price from revenue / qty, NaN where unknown
    drivers: Drivers | None = None  # the caller's known-ahead prices, promotions and typed events
    imputed: np.ndarray | None = None  # bool[n, T]: closed days filled with the open-day level (no target there)

    @classmethod
    def of(cls, values: np.ndarray, start: np.ndarray, first_day: int, step: int, event_days: frozenset[int],
           price: np.ndarray | None, drivers: Drivers | None = None, imputed: np.ndarray | None = None) -> "History":
        sold = values > 0
        first_sale = np.where(sold.any(axis=1), sold.argmax(axis=1), values.shape[1])
        begin = np.where(first_sale < values.shape[1], np.maximum(start, first_sale), start)
        return cls(values, start.astype(np.int64), begin.astype(np.int64), first_day, step,
                   np.array(sorted(event_days), dtype=np.int64), price, drivers, imputed)

    def columns(self) -> "Columns":
        """The feature columns this history can fill: a model is trained (and then predicts) with them."""
        drivers = self.drivers
        return Columns(events=self.event_days.size > 0,
                       prices=self.price is not None or (drivers is not None and drivers.price is not None),
                       promotions=drivers is not None and drivers.promotion is not None,
                       kinds=drivers.kinds if drivers is not None else ())


@dataclass(frozen=True)
class Columns:
    """Which optional feature groups a model reads (fixed at training)."""

    events: bool
    prices: bool
    promotions: bool = False
    kinds: tuple[str, ...] = ()  # event types, each with its own days to / since (benefit days: a flag)


def _window_mean(cumulative: np.ndarray, first: np.ndarray, rows: np.ndarray, anchors: np.ndarray,
                 window: int) -> np.ndarray:
    """Mean of row r over columns (a - window, a] from column `first` on -> float64[k]; NaN when empty."""
    hi = anchors + 1
    lo = np.maximum(hi - window, first)
    count = hi - lo
    total = cumulative[rows, np.maximum(hi, 0)] - cumulative[rows, np.maximum(lo, 0)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _last_sale(values: np.ndarray) -> np.ndarray:
    """int64[n, T]: the latest column <= c with a sale, -1 before the first."""
    index = np.where(values > 0, np.arange(values.shape[1])[None, :], -1)
    return np.maximum.accumulate(index, axis=1)


def _gaps(events: np.ndarray, points: np.ndarray, same: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distance from each point to the next event at or after it and since the last one at or before it
    (10**9 when none; with `same`, keys of another row's events do not count)."""
    far = np.full(points.size, 10**9, dtype=np.int64)
    if events.size == 0:
        return far, far
    ahead_index = np.searchsorted(events, points, side="left")
    next_event = events[np.minimum(ahead_index, events.size - 1)]
    ahead_ok = (ahead_index < events.size) & (True if same is None else next_event // KEY_SPAN == same)
    behind_index = np.searchsorted(events, points, side="right") - 1
    last_event = events[np.maximum(behind_index, 0)]
    behind_ok = (behind_index >= 0) & (True if same is None else last_event // KEY_SPAN == same)
    return np.where(ahead_ok, next_event - points, far), np.where(behind_ok, points - last_event, far)


def _event_distances(days: np.ndarray, events: np.ndarray, reach: int, step: int,
                     rows: np.ndarray | None = None, keyed: np.ndarray = NO_KEYS) -> tuple[np.ndarray, np.ndarray]:
    """Periods from each day to the next event (0 on it) and since the last one, capped at `reach`: the
    events of every row, and (`keyed`, `scoped_keys` of `rows`) those of each day's own row."""
    if events.size == 0 and keyed.size == 0:
        return np.full(days.size, float(reach)), np.full(days.size, float(reach))
    ahead, behind = _gaps(events, days)
    if keyed.size and rows is not None:
        own_ahead, own_behind = _gaps(keyed, scoped_keys(rows, days), rows.astype(np.int64))
        ahead, behind = np.minimum(ahead, own_ahead), np.minimum(behind, own_behind)
    if step == 7:  # a weekly period holds an event when one falls in its 7 days
        ahead = np.where(ahead < 7, 0, ahead - 6)
    return np.minimum(ahead // step, reach).astype(np.float64), np.minimum(behind // step, reach).astype(np.float64)


def known_prices(price: np.ndarray | None, drivers: Drivers | None, length: int) -> np.ndarray | None:
    """float64[n, length]: the caller's price where sent, else revenue / qty (NaN where neither); None
    when there is no price at all."""
    caller = drivers.price[:, :length] if drivers is not None and drivers.price is not None else None
    if caller is None or price is None:
        return price if caller is None else caller
    return np.where(np.isfinite(caller), caller, price)


def _price_features(history: History, rows: np.ndarray, targets: np.ndarray,
                    anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(price at the target / usual price, price at the target / price a week before) -> two float64[k].

    A price the caller sent is known ahead and read at any date; one derived from revenue only up to
    the anchor (later dates take the last such price). The usual price is the mean over the year
    up to the anchor.
    """
    n, length = history.values.shape
    caller = history.drivers.price if history.drivers is not None else None
    known = known_prices(history.price, history.drivers, length)
    if known is None:
        known = np.full((n, length), np.nan)
    finite = np.isfinite(known)
    price_sum, price_count = prefix_sums(np.where(finite, known, 0.0)), prefix_sums(finite.astype(np.float64))
    hi, lo = anchors + 1, np.maximum(anchors + 1 - YEAR[history.step], 0)
    counted = price_count[rows, hi] - price_count[rows, lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        usual = np.where(counted > 0, (price_sum[rows, hi] - price_sum[rows, lo]) / np.maximum(counted, 1), np.nan)
    last_index = np.maximum.accumulate(np.where(finite, np.arange(length)[None, :], -1), axis=1)

    def price_at(columns: np.ndarray) -> np.ndarray:
        seen = last_index[rows, np.clip(np.minimum(columns, anchors), 0, None)]
        past = np.where((seen >= 0) & (columns >= 0), known[rows, np.maximum(seen, 0)], np.nan)
        if caller is None or history.drivers is None:
            return past
        planned = history.drivers.at(caller, rows, columns)
        return np.where(np.isfinite(planned), planned, past)

    at_target = price_at(targets)
    with np.errstate(invalid="ignore", divide="ignore"):
        return at_target / usual, at_target / price_at(targets - (7 if history.step == 1 else 1))


def _on_days(days: np.ndarray, marked: np.ndarray, step: int, rows: np.ndarray | None = None,
             keyed: np.ndarray = NO_KEYS) -> np.ndarray:
    """Share of each period's days that are marked (daily: 0 or 1): for every row, or (`keyed`) for its own."""
    count = np.zeros(days.size, dtype=np.int64)
    if marked.size:
        count = np.searchsorted(marked, days + step, side="left") - np.searchsorted(marked, days, side="left")
    if keyed.size and rows is not None:
        keyed = keyed[~np.isin(keyed % KEY_SPAN - DAY_OFFSET, marked)]  # a day marked for every row counts once
        keys = scoped_keys(rows, days)
        count = count + np.searchsorted(keyed, keys + step, side="left") - np.searchsorted(keyed, keys, side="left")
    return np.minimum(count, step) / step


def feature_rows(history: History, rows: np.ndarray, targets: np.ndarray, anchors: np.ndarray,
                 wanted: Columns) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features float32[k, f], base level float64[k] and the feature names for k (row, target, anchor) triples.

    `wanted` fixes the columns (a model predicts with the columns it was trained on): with events
    but no event days, the distances are all "far"; with prices but no price, NaN; with
    promotions but none sent, no promotion.
    """
    values, step = history.values, history.step
    # a product's history counts from its first sale; at an anchor before it (none known yet), from its first record
    begin = np.where(history.begin[rows] <= anchors, history.begin[rows], history.start[rows])
    cumulative = prefix_sums(values)
    squares = prefix_sums(values**2)
    zeros = prefix_sums((values == 0).astype(np.float64))
    lead = targets - anchors
    year_mean = _window_mean(cumulative, begin, rows, anchors, YEAR[step])
    recent = _window_mean(cumulative, begin, rows, anchors, BASE_WINDOW[step])
    base = np.maximum(np.fmax(recent, 0.1 * np.nan_to_num(year_mean)), MIN_BASE)
    base = np.where(np.isfinite(base), base, MIN_BASE)
    columns: dict[str, np.ndarray] = {"periods ahead": lead.astype(np.float64)}
    for window in WINDOWS[step]:
        columns[f"level over {window} {'days' if step == 1 else 'weeks'}"] = (
            _window_mean(cumulative, begin, rows, anchors, window) / base)
    spread = SPREAD_WINDOW[step]
    mean_square = _window_mean(squares, begin, rows, anchors, spread)
    mean = _window_mean(cumulative, begin, rows, anchors, spread)
    columns["spread (recent)"] = np.sqrt(np.maximum(mean_square - mean**2, 0.0)) / base
    columns["share of periods without sales"] = _window_mean(zeros, begin, rows, anchors, spread)
    last_sale = _last_sale(values)[rows, anchors]
    since = np.where(last_sale >= begin, anchors - last_sale, anchors - begin + 1)
    columns["periods since last sale"] = np.minimum(since, YEAR[step]).astype(np.float64)
    columns["sales size (log)"] = np.log1p(np.nan_to_num(year_mean))
    columns["history length"] = np.minimum(anchors - begin + 1, 3 * YEAR[step]).astype(np.float64)
    days = history.first_day + targets * step
    if step == 1:
        same_day = targets - 7 * np.ceil(lead / 7).astype(np.int64)  # the latest same weekday <= anchor
        columns["same weekday, last 4 weeks"] = strided_mean(values, begin, rows, same_day, 7, 4) / base
        columns["same weekday, last year"] = (strided_mean(values, begin, rows, same_day, 7, 52)
                                              / np.maximum(year_mean, MIN_BASE))
    year_ago = targets - YEAR[step]
    reach = 7 if step == 1 else 1
    known = year_ago + reach <= anchors
    columns["same time last year"] = np.where(
        known, _window_mean(cumulative, begin, rows, np.where(known, year_ago + reach, anchors), 2 * reach + 1), np.nan
    ) / base
    dates = np.array(dates_of(np.array([days.min(), days.max()])), dtype="datetime64[D]")
    calendar = np.arange(dates[0], dates[1] + 1, dtype="datetime64[D]")
    offset = days - int(dates[0].astype(np.int64))
    month = (calendar.astype("datetime64[M]").astype(np.int64) % 12 + 1)[offset]
    day_of_year = ((calendar - calendar.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64) + 1)[offset]
    columns["month"] = month.astype(np.float64)
    if step == 1:
        columns["day of week"] = weekday(days).astype(np.float64)
        columns["day of month"] = ((calendar - calendar.astype("datetime64[M]").astype("datetime64[D]"))
                                   .astype(np.int64) + 1)[offset].astype(np.float64)
        columns["day of year"] = day_of_year.astype(np.float64)
    else:
        columns["week of year"] = ((day_of_year - 1) // 7 + 1).astype(np.float64)
    if wanted.events:
        to_event, from_event = _event_distances(days, history.event_days, EVENT_REACH[step], step)
        columns["periods to next event"] = to_event
        columns["periods since last event"] = from_event
    if wanted.prices:
        columns["price vs usual"], columns["price vs last week"] = _price_features(history, rows, targets, anchors)
    drivers = history.drivers
    if wanted.promotions:
        depth = (drivers.at(drivers.promotion, rows, targets) if drivers is not None and drivers.promotion is not None
                 else np.zeros(rows.size))
        depth = np.nan_to_num(depth)
        columns["on promotion"] = (depth > 0).astype(np.float64)
        columns["promotion depth"] = depth
    for kind in wanted.kinds:
        marked = drivers.typed_days.get(kind, NO_KEYS) if drivers is not None else NO_KEYS
        keyed = drivers.scoped.get(kind, NO_KEYS) if drivers is not None else NO_KEYS
        if kind == BENEFIT_DAY:
            columns["benefit day"] = _on_days(days, marked, step, rows, keyed)
        else:
            columns[f"periods to next {kind}"], columns[f"periods since last {kind}"] = _event_distances(
                days, marked, EVENT_REACH[step], step, rows, keyed)
    names = list(columns)
    features = np.empty((rows.size, len(names)), dtype=np.float32)
    for k, name in enumerate(names):
        features[:, k] = columns[name]
    return features, base, names
