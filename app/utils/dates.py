"""Day numbers: dates as int64 days since 1970-01-01, so date maths is integer maths."""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

import numpy as np

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_number(value: date) -> int:
    """Days since 1970-01-01 of the calendar date written in `value` (a datetime keeps its own date)."""
    return value.toordinal() - _EPOCH_ORDINAL


def day_numbers(values: Iterable[date], count: int) -> np.ndarray:
    """Vector form of `day_number` -> int64 array of length `count`."""
    # datetime subclasses date, so date.toordinal reads the written date of both.
    return np.fromiter(map(date.toordinal, values), np.int64, count) - _EPOCH_ORDINAL


def iso_day_numbers(values: Sequence[str]) -> np.ndarray:
    """Day numbers of ISO date strings (a datetime's first ten characters: its written date).

    Parsed by numpy a column at a time. Raises `ValueError` naming the index of the first string
    that is not a real date (e.g. 2025-02-30); the format itself was checked by the schema.
    """
    try:
        return np.array(values, dtype="U10").astype("datetime64[D]").astype(np.int64)
    except ValueError:
        for index, value in enumerate(values):
            try:
                date.fromisoformat(value[:10])
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a date: {exc}", index) from None
        raise


def from_day_number(day: int) -> date:
    return date.fromordinal(int(day) + _EPOCH_ORDINAL)


def as_date(value: date) -> date:
    """The calendar date written in a date or datetime."""
    return value.date() if isinstance(value, datetime) else value


def today_utc() -> date:
    return datetime.now(UTC).date()


def utc_now_iso(timespec: str = "seconds") -> str:
    """The current UTC time as ISO 8601 with a `Z`, e.g. 2025-09-01T12:00:00Z (`timespec` as in
    `datetime.isoformat`: "seconds", "milliseconds", ...)."""
    return utc_iso(datetime.now(UTC), timespec)


def utc_iso(moment: datetime | float, timespec: str = "seconds") -> str:
    """A UTC moment (or Unix seconds) as ISO 8601 with a `Z`, as `utc_now_iso` writes it."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


def weekday(days: np.ndarray) -> np.ndarray:
    """Day of the week of day numbers [k] -> int64[k], Monday 0 ... Sunday 6 (day 0, 1970-01-01,
    was a Thursday)."""
    return (days + 3) % 7


def month_of_year(days: np.ndarray) -> np.ndarray:
    """Month of the year of day numbers [k] -> int64[k], January 0 ... December 11."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12


def dates_of(days: np.ndarray) -> list[date]:
    """int64 day numbers -> datetime.date objects."""
    return days.astype("datetime64[D]").astype(object).tolist()


HORIZON_DAYS = 3653  # ten years: a predicted date further out than this is reported as null
LAST_DAY = day_number(date.max)  # 9999-12-31, the last date a response can carry


def date_after(day: int, days_ahead: float) -> date | None:
    """The date `days_ahead` (rounded up) after day number `day`; None when not finite, past ten
    years, or past 9999-12-31."""
    if not np.isfinite(days_ahead) or days_ahead > HORIZON_DAYS:
        return None
    target = day + int(np.ceil(days_ahead))
    return from_day_number(target) if target <= LAST_DAY else None
