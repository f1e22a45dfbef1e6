"""When the shop is open: closed days are not demand.

A shop says when it is closed (`closed_weekdays`, `closed_dates` on every sales request; the shop model
remembers what its training was told). A day on which the catalogue sold is open whatever was declared (a shop
closed on Wednesdays in winter only, declared closed on Wednesdays: its summer Wednesdays' sales are demand;
`sales_on_closed_days` says so), and a declared closed weekday holds on its days that sold nothing and from the
sales' end on. What the request leaves out (either field, or both) is detected from the sales of a
catalogue of at least MIN_CATALOGUE products selling at least MIN_DAILY_UNITS units a day: a day inside the
sales' range on which no product sold is a closed day, and a weekday on which the shop sold nothing on any of
its last WEEKDAY_WEEKS occurrences is a closed weekday from the sales' end on (it stays closed in the forecast
horizon; its earlier days that sold were open, its empty ones are closed dates). So is a weekday closed on at
least half of its last WEEKDAY_WEEKS occurrences whose next SEASON_WEEKS occurrences a year earlier (52 weeks
back, inside the sales) were closed too, up to where that closure ended a year earlier (its days ahead become
closed dates, to the first of them that sold after the same date a year ago, 52 weeks on), unless one of its
recent open days was closed a year earlier (a reopening, not the season's holiday opening): a seasonal closure
with holiday openings (the french bakery shuts on
Wednesdays from November to February but opened the two Wednesdays before New Year: on 4 January 2022 five of
its last eight Wednesdays sold nothing, as did every Wednesday of January 2021, and the rule on the last eight
alone forecast 99 baguettes for the closed 5 January and every Wednesday to 23 February). A weekday closed on
half of its recent weeks or more that is taken as open is named in the warning, so the shop can declare it.
Detection is
reported (`closed_days_detected`, with the weekdays, the weeks they were judged on, and the dates). A smaller or
sparser catalogue cannot tell a closed day from a quiet one, and weekly totals (every date on one weekday) say
nothing of the days between. Decisions that answer for a few products judge on every product the request sent
(`catalogue_opening_days`), as the forecaster does.

The same rule holds after the sales' end: when such a catalogue's last sale is before as_of (an export downloaded
days before, or a shop shut since), the days between sold nothing anywhere, so they are unknown, closed dates
whatever the shop declared, not a collapse of demand (`unknown_tail`, warning `stale_sales`).

What the services do with them: forecasting does not learn them as demand (a closed day's zero is replaced
by the product's open-day level around it) and forecasts 0 for them (`meta.closed_dates`);
anomalies never flag them; insights leave them out of weekday and month patterns.
"""

from dataclasses import dataclass, field

import numpy as np

from app.schemas.common import DataWarning
from app.schemas.sales import WEEKDAY_NAMES, SalesPayload
from app.utils.dates import day_numbers, from_day_number, weekday
from app.utils.sales_frame import SalesColumns, clean_sales

MIN_CATALOGUE = 20
MIN_DAILY_UNITS = 20.0  # a catalogue selling fewer units a day may sell nothing on an open day by chance
WEEKDAY_WEEKS = 8
SEASON_WEEKS = 4  # the weeks after the same date a year earlier that tell a seasonal closure
STALE_DAYS = 28  # sales ending more days before as_of than this forecast from old data: the warning says so
_LISTED = 10


@dataclass(frozen=True)
class OpeningDays:
    """The shop's closed weekdays (Monday 0) and closed dates (sorted day numbers since 1970-01-01)."""

    closed_weekdays: frozenset[int] = frozenset()
    closed_dates: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    weekdays_from: int | None = None  # the first day the closed weekdays hold; None: every day (declared ones)

    def closed(self, days: np.ndarray) -> np.ndarray:
        """bool mask of the given day numbers that are closed days."""
        days = np.asarray(days, dtype=np.int64)
        on_weekday = np.isin(weekday(days), list(self.closed_weekdays)) if self.closed_weekdays else \
            np.zeros(days.shape, dtype=bool)
        if self.weekdays_from is not None:
            on_weekday &= days >= self.weekdays_from
        return on_weekday | np.isin(days, self.closed_dates)

    def open_days_between(self, first: np.ndarray | int, last: np.ndarray | int) -> np.ndarray:
        """int64: the open days from day number `first` to `last`, both included (0 where `last` < `first`);
        counted by weekday arithmetic, so a sell-by day years away costs no calendar array."""
        first, last = np.broadcast_arrays(np.asarray(first, dtype=np.int64), np.asarray(last, dtype=np.int64))
        closed = np.zeros(first.shape, dtype=np.int64)
        start = first if self.weekdays_from is None else np.maximum(first, self.weekdays_from)
        for day in self.closed_weekdays:  # that weekday's dates from `start` to `last`
            first_one = start + (day - weekday(start)) % 7
            closed += np.where(last >= first_one, (last - first_one) // 7 + 1, 0)
        dates = self.closed_dates[~self._on_closed_weekday(self.closed_dates)]  # not counted twice
        closed += np.searchsorted(dates, last, side="right") - np.searchsorted(dates, first, side="left")
        return np.maximum(last - first + 1 - closed, 0)

    def nth_open_day(self, after: int, n: np.ndarray, last: np.ndarray) -> np.ndarray:
        """int64: the `n`-th open day after day number `after` (n >= 1), found by bisection up to `last`, a day
        with at least n open days up to it."""
        low, high = np.full(n.shape, after, dtype=np.int64), np.asarray(last, dtype=np.int64).copy()
        while np.any(high - low > 1):  # fewer than n open days up to `low`, n or more up to `high`
            middle = (low + high) // 2
            reached = self.open_days_between(after + 1, middle) >= n
            low, high = np.where(reached, low, middle), np.where(reached, middle, high)
        return high

    def _on_closed_weekday(self, days: np.ndarray) -> np.ndarray:
        on_weekday = np.isin(weekday(days), list(self.closed_weekdays))
        return on_weekday & (days >= self.weekdays_from) if self.weekdays_from is not None else on_weekday

    @property
    def any(self) -> bool:
        return bool(self.closed_weekdays) or self.closed_dates.size > 0

    def weekday_names(self) -> list[str]:
        return [WEEKDAY_NAMES[d] for d in sorted(self.closed_weekdays)]


OPEN_EVERY_DAY = OpeningDays()


def declared(payload: SalesPayload) -> OpeningDays | None:
    """What the request says, or None when it says nothing (then detect)."""
    if payload.closed_weekdays is None and payload.closed_dates is None:
        return None
    dates = payload.closed_dates or []
    return OpeningDays(frozenset(WEEKDAY_NAMES.index(name) for name in payload.closed_weekdays or []),
                       np.unique(day_numbers(dates, len(dates))))


def tells_closures(sales: SalesColumns) -> bool:
    """Whether a day on which none of these sales' products sold is a closed day, not a quiet one: daily sales
    (weekly totals say nothing of the days between them) of a `busy` catalogue."""
    return busy(sales) and not weekly_totals(sales)


def busy(sales: SalesColumns) -> bool:
    """Whether these sales' catalogue sells something every period it is open: MIN_CATALOGUE products or more
    selling MIN_DAILY_UNITS units a period or more on the periods they sell (e^-20: no empty period by chance)."""
    sold = sales.qty > 0
    if sales.size == 0 or _distinct(sales.product[sold]) < MIN_CATALOGUE:
        return False
    return bool(sales.qty[sold].sum() / _distinct(sales.day[sold]) >= MIN_DAILY_UNITS)


def weekly_totals(sales: SalesColumns) -> bool:
    return _distinct(weekday(sales.day)) == 1


def _distinct(values: np.ndarray) -> int:
    """How many distinct integers `values` (int64) holds: counted per value where their span is small (product
    codes, day numbers, weekdays), which costs a tenth of sorting 90,000 of them (`np.unique`)."""
    if values.size == 0:
        return 0
    low = int(values.min())
    if int(values.max()) - low > 4 * values.size + 4096:
        return int(np.unique(values).size)
    return int(np.count_nonzero(np.bincount(values - low)))


def detect(sales: SalesColumns) -> tuple[OpeningDays, list[DataWarning]]:
    """Closed days of a catalogue's sales (see the module docstring), with the `closed_days_detected` warning."""
    if not tells_closures(sales):
        return OPEN_EVERY_DAY, []
    first, last = int(sales.day.min()), int(sales.day.max())
    days = np.arange(first, last + 1)
    selling = np.zeros(days.size, dtype=bool)
    selling[sales.day[sales.qty > 0] - first] = True
    empty = days[~selling]
    recent = days[-7 * WEEKDAY_WEEKS:]
    recent_empty = ~selling[-7 * WEEKDAY_WEEKS:]
    # the SEASON_WEEKS weeks after the sales' end, 52 weeks earlier (the same weekdays), where the sales hold them
    offsets = np.arange(1, 7 * SEASON_WEEKS + 1) + last - first - 364
    year_ago = offsets[(offsets >= 0) & (offsets < days.size)]
    always, seasonal, doubtful = [], [], []  # closed on every recent one; on half, as a year ago; on half alone
    for d in range(7):
        on_day = weekday(recent) == d
        shut, weeks = int(recent_empty[on_day].sum()), int(on_day.sum())
        if weeks < WEEKDAY_WEEKS // 2 or 2 * shut < weeks:
            continue
        then = year_ago[weekday(days[year_ago]) == d]
        # its recent open days were open a year earlier too, where the sales hold them: the season repeats (the
        # bakery's Christmas Wednesdays); one open now where it was closed then is a reopening (2 March 2022)
        opened = recent[on_day & ~recent_empty] - first - 364
        repeats = not (opened >= 0).any() or bool(selling[opened[opened >= 0]].all())
        if shut == weeks:
            always.append(d)
        elif then.size == SEASON_WEEKS and not selling[then].any() and repeats:
            seasonal.append((d, shut, weeks))
        else:
            doubtful.append((d, shut, weeks))
    # a seasonal closure ends where it ended a year earlier: its weekday's days after the sales' end, up to the
    # first one that sold after the same date a year ago, 52 weeks on (without one, it holds as a closed weekday)
    ahead: dict[int, np.ndarray] = {}
    for d, _, _ in seasonal:
        later = np.flatnonzero(selling & (weekday(days) == d) & (np.arange(days.size) > last - first - 364))
        if later.size:
            ahead[d] = np.arange(last + 1, int(days[later[0]]) + 364)
            ahead[d] = ahead[d][weekday(ahead[d]) == d]
    closed_weekdays = set(always) | {d for d, _, _ in seasonal if d not in ahead}
    every = set(always) | {d for d, _, _ in seasonal}
    dates = empty[~np.isin(weekday(empty), list(every))] if every else empty
    # a weekday closed lately holds from the sales' end on: its earlier days that sold were open (the empty ones
    # are closed dates like any other empty day)
    closed_dates = np.sort(np.concatenate([empty, *ahead.values()])).astype(np.int64)
    found = OpeningDays(frozenset(closed_weekdays), closed_dates, last + 1 if closed_weekdays else None)
    if not found.any:
        return found, []
    parts = []
    window = f"{from_day_number(int(recent[0])).isoformat()} to {from_day_number(last).isoformat()}"
    if always:  # judged on the last WEEKDAY_WEEKS weeks only: say so (earlier ones may have sold)
        names = [WEEKDAY_NAMES[d] for d in always]
        parts.append(f"any {' or '.join(names)} of the last {WEEKDAY_WEEKS} weeks ({window}; every "
                     f"{' and every '.join(names)} from now on is taken as closed, earlier ones that sold as open)")
    for d, shut, weeks in seasonal:
        name = WEEKDAY_NAMES[d]
        if d not in ahead:
            until = f"every {name} from now on is taken as closed"
        elif ahead[d].size:
            until = (f"the {name}s to {from_day_number(int(ahead[d][-1])).isoformat()} are taken as closed, as they "
                     "were a year earlier")
        else:
            until = f"a year earlier it reopened by this week, so the {name}s ahead are taken as open"
        parts.append(f"{shut} of the last {weeks} {name}s ({window}) nor on the {SEASON_WEEKS} {name}s after the "
                     f"same date a year ago (a seasonal closure: {until}, earlier ones that sold as open)")
    if dates.size:  # the latest first: the owner checks the weeks just past
        shown = ", ".join(from_day_number(int(d)).isoformat() for d in dates[::-1][:_LISTED])
        other = " other" if closed_weekdays else ""  # besides the weekdays named before
        parts.append(f"{dates.size}{other} days ({shown}{', ...' if dates.size > _LISTED else ''})")
    still_open = "".join(f" {WEEKDAY_NAMES[d].capitalize()}s sold nothing on {shut} of the last {weeks} ({window}) "
                         "but are taken as open ahead: declare closed_weekdays if the shop is closed on them."
                         for d, shut, weeks in doubtful)
    message = (f"no product sold on {' and on '.join(parts)}: taken as closed days (no demand: no training target, a "
               f"forecast of 0, never an anomaly).{still_open} Send closed_weekdays / closed_dates to say when the "
               "shop is closed, or [] if it is open every day.")
    return found, [DataWarning(code="closed_days_detected", count=int(empty.size), message=message)]


def catalogue_opening_days(payload: SalesPayload, sales: SalesColumns, n_known: int,
                           as_of_day: int | None) -> tuple[OpeningDays, list[DataWarning], SalesColumns]:
    """`opening_days` judged on every product the request sent up to `as_of_day`, as the forecaster judges them,
    where `sales` holds only a decision's `n_known` products (`clean_sales` dropped the others' rows): a closed day
    is one on which the whole catalogue sold nothing, and a few products cannot tell it (MIN_CATALOGUE). Also the
    catalogue's sales (`sales` itself when it holds every product sent): what the catalogue says of every product,
    whichever items the decision answers for (its rate of waking up after a silence, `planned_demand`)."""
    if len(sales.product_ids) > n_known:
        sales, _ = clean_sales(payload, as_of_day=as_of_day)  # its warnings are the caller's, reported already
    return *opening_days(payload, sales, origin_day=as_of_day), sales


def opening_days(payload: SalesPayload, sales: SalesColumns, remembered: OpeningDays | None = None,
                 origin_day: int | None = None,
                 remembered_until: int | None = None) -> tuple[OpeningDays, list[DataWarning]]:
    """The request's closed days: as it declares them (`as_declared`), else as the shop model remembers them
    (`remembered`, to its training's last day `remembered_until`) with those detected in the request's sales after
    it (`_after_training`), else as detected from its sales; and, whichever it is, the days after the catalogue's
    last sale up to `origin_day` (`unknown_tail`)."""
    said = declared(payload)
    found, warnings = as_declared(payload, said, sales) if said is not None else \
        _after_training(remembered, remembered_until, sales) if remembered is not None else detect(sales)
    tail, stale = unknown_tail(sales, origin_day, found)
    if tail.size == 0:
        return found, warnings
    return OpeningDays(found.closed_weekdays, np.union1d(found.closed_dates, tail), found.weekdays_from), \
        warnings + stale


def _after_training(remembered: OpeningDays, until: int | None,
                    sales: SalesColumns) -> tuple[OpeningDays, list[DataWarning]]:
    """A shop model's closed days, and the days after its training's last day (`until`) on which the request's
    catalogue sold nothing, as `detect` finds them: a closure after the training is no demand either (review 9 F2:
    the bakery closed on Monday 2022-09-19, after a model trained to 09-16; /forecast read the day as demand, 3-17 %
    under its forecasts with the day declared closed, while /at-risk, detecting it, said closed)."""
    if until is None:
        return remembered, []
    detected, _ = detect(sales)
    new = detected.closed_dates[(detected.closed_dates > until) & ~remembered.closed(detected.closed_dates)]
    if not new.size:
        return remembered, []
    shown = ", ".join(from_day_number(int(d)).isoformat() for d in new[::-1][:_LISTED])
    return OpeningDays(remembered.closed_weekdays, np.union1d(remembered.closed_dates, new).astype(np.int64),
                       remembered.weekdays_from), [DataWarning(
        code="closed_days_detected", count=int(new.size),
        message=f"no product sold on {new.size} day{'s' if new.size != 1 else ''} after the shop model's training "
        f"({shown}{', ...' if new.size > _LISTED else ''}): taken as closed days besides those the model remembers "
        "(no demand: a forecast of 0, never an anomaly). Send closed_weekdays / closed_dates to say when the shop is "
        "closed.")]


def as_declared(payload: SalesPayload, said: OpeningDays,
                sales: SalesColumns) -> tuple[OpeningDays, list[DataWarning]]:
    """The declared closures against the sales: a declared closed day on which the catalogue sold is open (its
    sales are demand, `sales_on_closed_days`); a declared weekday is closed on its days inside the sales that sold
    nothing and on every one after the sales' end; the field the request left out (`closed_weekdays` or
    `closed_dates`) is detected as without a declaration."""
    if sales.size == 0 or weekly_totals(sales):  # a week's total on its label day says nothing of the days
        return said, []
    detected, warnings = detect(sales) if payload.closed_weekdays is None or payload.closed_dates is None else \
        (OPEN_EVERY_DAY, [])
    first, last = int(sales.day.min()), int(sales.day.max())
    days = np.arange(first, last + 1)
    sold = np.zeros(days.size, dtype=bool)
    sold[sales.day[sales.qty > 0] - first] = True
    shut = said.closed(days)
    contradicted = days[shut & sold]
    dates = [said.closed_dates[said.closed_dates > last], days[shut & ~sold]]
    if payload.closed_weekdays is None:
        weekdays, since = detected.closed_weekdays, detected.weekdays_from
    else:
        weekdays, since = said.closed_weekdays, last + 1
    if payload.closed_dates is None:  # a declared closed_weekdays ([] too) also decides a seasonal weekday ahead
        dates.append(detected.closed_dates if payload.closed_weekdays is None else
                     detected.closed_dates[detected.closed_dates <= last])
    found = OpeningDays(weekdays, np.unique(np.concatenate(dates)).astype(np.int64), since if weekdays else None)
    if contradicted.size:
        units = float(sales.qty[np.isin(sales.day, contradicted) & (sales.qty > 0)].sum())
        shown = ", ".join(from_day_number(int(d)).isoformat() for d in contradicted[:_LISTED])
        warnings = [*warnings, DataWarning(
            code="sales_on_closed_days", count=int(contradicted.size),
            message=f"sales were recorded on {contradicted.size} day{'s' if contradicted.size != 1 else ''} "
            f"declared closed ({shown}{', ...' if contradicted.size > _LISTED else ''}; {units:g} units): the shop "
            "was open on them, so they count as open days and their sales as demand. The declared closures hold on "
            "the days that sold nothing and after the sales' end; declare the dates the shop is closed when it "
            "closes on a weekday only part of the year.")]
    return found, warnings


def unknown_tail(sales: SalesColumns, origin_day: int | None,
                 known: OpeningDays = OPEN_EVERY_DAY) -> tuple[np.ndarray, list[DataWarning]]:
    """The days after the catalogue's last sale up to `origin_day` (as_of) when the catalogue is `busy` (daily
    sales or weekly totals): no product sold on them, so, as on a closed day, they are no demand and no slump (the
    export ended before as_of, or the shop was shut), never zero sales; with the `stale_sales` warning. Their day
    numbers (int64, sorted; empty when the sales run to the origin up to days the shop is closed anyway (`known`),
    or the catalogue cannot tell). A product that fell silent while others sold is not concerned: its zeros up to
    the catalogue's last sale are sales (history_extended)."""
    none = np.zeros(0, dtype=np.int64)
    if origin_day is None or not busy(sales):
        return none, []
    last = int(sales.day[sales.qty > 0].max())
    days = np.arange(last + 1, origin_day + 1, dtype=np.int64)
    days = days[~known.closed(days)] if known.any else days  # a closed day the shop has anyway is no gap
    if days.size == 0:
        return none, []
    gap = origin_day - last
    old = (f" The forecasts are extrapolated from sales {gap} days old: send a recent export for a forecast of "
           "today's demand." if gap > STALE_DAYS else
           " as_of is the last day the sales cover: with a morning export of yesterday's sales, send yesterday's "
           "date, and today is forecast (and stock expiring today still sells)." if gap == 1 else "")
    message = (f"no product sold after {from_day_number(last).isoformat()}, {gap} day{'s' if gap != 1 else ''} before "
               f"{from_day_number(origin_day).isoformat()} (as_of): the sales end early (an export downloaded "
               "earlier, or the shop closed), so those days are unknown, not zero sales; like closed days they are "
               "no demand (each product's level before them stands in for them) and the forecasts start after "
               f"{from_day_number(origin_day).isoformat()}.{old}")
    return days, [DataWarning(code="stale_sales", count=gap, message=message)]
