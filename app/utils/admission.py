"""The admission budget: heavy requests take turns through a small pool of slots; cheap ones never wait.

A request's cost is what the work budget computes before the work starts (`app/utils/work_budget.py`:
products x days of a grid, values of an answer, ...). A request whose figure is over
ADMISSION_HEAVY_SHARE of the limit it is checked against is heavy: before its work starts it takes one of
the process's ADMISSION_SLOTS slots. When none is free it waits at most ADMISSION_WAIT_SECONDS, with at most
ADMISSION_QUEUE others; otherwise, or when the queue is full, it is refused with 503 `server_busy` and a
`Retry-After` estimated from how long heavy requests have held their slots. Requests under the share never
touch the pool, so they never queue behind heavy ones.

Why a pool of one slot by default: the process runs Python under one GIL on a 2-core machine. A heavy
answer (499 k insights periods) is seconds of Python in a worker thread, then its serialisation on the event
loop; two of them at once leave the normal requests a third of the interpreter. The slot is held until the
answer has been sent (`AdmissionMiddleware` releases it), so serialising and sending a large answer count
as the heavy request's work. Waiting requests each hold a threadpool thread: ADMISSION_QUEUE bounds them,
leaving the rest of the threadpool to the cheap requests.

The pool rests after each heavy request for as long as that request held its slot (at most
ADMISSION_WAIT_SECONDS) when other requests need the interpreter: the next heavy request starts only then, so
heavy requests have the interpreter at most half of the time, whatever their number. Much of their work is one
call into pydantic-core or numpy that keeps the GIL for hundreds of milliseconds; without the rest, two clients
sending them one after another held it nearly always and every normal request waited (bench/load.py, heavy
phase). A lone client sending heavy requests one after another (a backend's nightly reorder of its shops) is
not made to wait: the pool rests only when another request is in flight or arrived since the last heavy request
was admitted (the middleware counts them), and resting for nobody halved such a client's speed.

Request bodies are admitted too, before they are validated (app/utils/fast_json.py): a body whose lists fill
over ADMISSION_HEAVY_SHARE of MAX_PAYLOAD_ROWS (its sales: of MAX_SALES_LINES) is heavy whatever it asks for,
since validating it (or listing its 300,000 errors) is the heavy part.

Only requests of this process are admitted: the work budget checked in a Celery worker or a batch job's
thread has no request (no ticket) and runs as before.
"""

import math
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from app.utils.errors import SmartShelfError

ADMISSIONS = Counter("smartshelf_admission_total", "Heavy requests (over ADMISSION_HEAVY_SHARE of a work budget) "
                     "by outcome: admitted at once, admitted after waiting, refused with 503.", ["outcome"])


class ServerBusy(SmartShelfError):
    """Every heavy-request slot is taken and stayed taken (HTTP 503, with Retry-After)."""

    status_code = 503
    error = "server_busy"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


@dataclass(frozen=True)
class AdmissionSettings:
    heavy_share: float
    slots: int
    queue: int
    wait_seconds: float


class AdmissionPool:
    """ADMISSION_SLOTS slots for heavy requests, at most ADMISSION_QUEUE waiting for one."""

    def __init__(self, settings: AdmissionSettings) -> None:
        self.settings = settings
        self._slots = threading.BoundedSemaphore(settings.slots)
        self._lock = threading.Lock()
        self._waiting = 0
        self._rest_until = 0.0  # monotonic time before which a released slot is not handed out again
        self._mean_hold = settings.wait_seconds  # seconds a heavy request keeps its slot, moving average
        self._in_flight = 0  # HTTP requests of this process being answered (`enter` / `leave`)
        self._entered = 0  # HTTP requests ever entered
        self._entered_at_admission = 0  # `_entered` when the last heavy request was admitted

    def enter(self) -> None:
        """An HTTP request starts (the middleware's count of the traffic a rest makes room for)."""
        with self._lock:
            self._in_flight += 1
            self._entered += 1

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def acquire(self, what: str) -> float:
        """Take a slot (blocking this thread at most ADMISSION_WAIT_SECONDS, plus its rest); the time waited,
        or ServerBusy."""
        if self._slots.acquire(blocking=False):
            ADMISSIONS.labels("admitted").inc()
            return self._rest()
        with self._lock:
            queued = self._waiting < self.settings.queue
            self._waiting += queued
        started = time.monotonic()
        if queued:
            try:
                got = self._slots.acquire(timeout=self.settings.wait_seconds)
            finally:
                with self._lock:
                    self._waiting -= 1
            if got:
                ADMISSIONS.labels("waited").inc()
                self._rest()
                return time.monotonic() - started
        ADMISSIONS.labels("refused").inc()
        raise self._busy(what, queued)

    def _rest(self) -> float:
        """Sleep, holding the slot just taken, until the rest of the last heavy request is over, when another
        request is in flight or arrived since that one was admitted (else nobody needs the rest); the time
        slept."""
        with self._lock:
            others = self._in_flight > 1 or self._entered - self._entered_at_admission > 1
            self._entered_at_admission = self._entered
        resting = self._rest_until - time.monotonic() if others else 0.0
        if resting > 0:
            time.sleep(resting)
        return max(resting, 0.0)

    def release(self, held_seconds: float) -> None:
        with self._lock:
            self._mean_hold = 0.8 * self._mean_hold + 0.2 * held_seconds
            self._rest_until = time.monotonic() + min(held_seconds, self.settings.wait_seconds)
        self._slots.release()

    def _busy(self, what: str, queued: bool) -> ServerBusy:
        s = self.settings
        with self._lock:
            retry_after = max(1, math.ceil(2 * self._mean_hold * (self._waiting + 1) / s.slots))  # held, then rested
        why = (f"none came free within ADMISSION_WAIT_SECONDS={s.wait_seconds:g}" if queued
               else f"ADMISSION_QUEUE={s.queue} requests are already waiting for one")
        return ServerBusy(f"this request is heavy ({what}, over ADMISSION_HEAVY_SHARE={s.heavy_share:g} of the "
                          f"limit): heavy requests take turns through ADMISSION_SLOTS={s.slots} and {why}; retry "
                          f"after {retry_after} s, or make the request smaller", retry_after)


@dataclass
class Ticket:
    """One request's claim on the pool: at most one slot, released when its answer has been sent."""

    pool: AdmissionPool
    held_since: float | None = field(default=None)
    closed: bool = False  # the answer is sent: work that outlives the request (a thread it started) claims nothing

    def claim(self, share: float, what: str) -> None:
        if self.closed or self.held_since is not None or share <= self.pool.settings.heavy_share:
            return
        self.pool.acquire(what)
        self.held_since = time.monotonic()

    def release(self) -> None:
        self.closed = True
        if self.held_since is not None:
            self.pool.release(time.monotonic() - self.held_since)
            self.held_since = None


_ticket: ContextVar[Ticket | None] = ContextVar("smartshelf_admission_ticket", default=None)


def admit(share: float, what: str) -> None:
    """Called by the work budget once a request's cost is known: a heavy request takes (or waits for) a slot.

    `share` is the figure over its limit (0.8 = 80 % of MAX_ANSWER_VALUES); `what` words the figure for the
    refusal. Outside a request (a worker, a job's thread) there is no ticket and nothing to admit.
    """
    ticket = _ticket.get()
    if ticket is not None:
        ticket.claim(share, what)


class AdmissionMiddleware:
    """Gives every HTTP request a ticket (the work budget claims a slot on it) and frees its slot once the
    answer is sent. Sync handlers run in threads that copy the request's context, so they see the ticket."""

    def __init__(self, app: ASGIApp, settings: AdmissionSettings) -> None:
        self.app = app
        self.pool = AdmissionPool(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ticket = Ticket(self.pool)
        token = _ticket.set(ticket)
        self.pool.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            _ticket.reset(token)
            ticket.release()
            self.pool.leave()
