"""The admission pool on its own: slots, the bounded queue, Retry-After, and tickets."""

import threading
import time

import pytest

from app.utils.admission import AdmissionPool, AdmissionSettings, ServerBusy, Ticket


def _pool(slots: int = 1, queue: int = 0, wait_seconds: float = 0.0) -> AdmissionPool:
    return AdmissionPool(AdmissionSettings(heavy_share=0.1, slots=slots, queue=queue, wait_seconds=wait_seconds))


def test_a_heavy_ticket_takes_the_slot_and_the_next_is_refused_naming_the_settings():
    pool = _pool()
    first, second = Ticket(pool), Ticket(pool)
    first.claim(0.5, "250,000 answer cells")
    with pytest.raises(ServerBusy) as refused:
        second.claim(0.5, "300,000 answer cells")
    assert refused.value.status_code == 503 and int(refused.value.headers["Retry-After"]) >= 1
    assert "ADMISSION_SLOTS=1" in refused.value.message and "ADMISSION_QUEUE=0" in refused.value.message
    first.release()
    second.claim(0.5, "300,000 answer cells")  # the slot is free again
    second.release()


def test_a_cheap_ticket_never_takes_a_slot_and_a_released_one_claims_nothing():
    pool = _pool()
    holder = Ticket(pool)
    holder.claim(0.9, "heavy")
    Ticket(pool).claim(0.1, "at the share, not over it")  # would raise if it needed the slot
    holder.release()
    holder.claim(0.9, "work that outlived its request")
    assert holder.held_since is None
    Ticket(pool).claim(0.9, "the slot is still free")


def test_a_waiting_ticket_gets_the_slot_when_it_is_released():
    pool = _pool(queue=1, wait_seconds=30)
    holder, waiter = Ticket(pool), Ticket(pool)
    holder.claim(0.9, "heavy")
    admitted = threading.Event()

    def wait_for_slot() -> None:
        waiter.claim(0.9, "heavy too")
        admitted.set()

    thread = threading.Thread(target=wait_for_slot)
    thread.start()
    assert not admitted.wait(0.2)
    holder.release()
    thread.join(30)
    assert admitted.is_set() and waiter.held_since is not None
    waiter.release()


def _after_a_heavy_request_of(seconds: float, wait_seconds: float, others: int = 1) -> float:
    """How long the next heavy request waits for a free slot after one held it `seconds`, with `others`
    requests arriving meanwhile (the middleware counts every request: `enter` / `leave`)."""
    pool = _pool(queue=1, wait_seconds=wait_seconds)
    holder = Ticket(pool)
    pool.enter()
    holder.claim(0.9, "heavy")
    for _ in range(others):
        pool.enter()  # a normal request, answered while the heavy one works
        pool.leave()
    time.sleep(seconds)
    holder.release()
    pool.leave()
    pool.enter()  # the next heavy request
    waited = pool.acquire("the next heavy request")  # the slot is free, the pool may rest
    pool.release(0.0)
    pool.leave()
    return waited


def test_the_pool_rests_after_a_heavy_request_as_long_as_it_held_its_slot():
    assert _after_a_heavy_request_of(0.3, wait_seconds=30) >= 0.25


def test_the_rest_is_at_most_the_longest_wait():
    assert _after_a_heavy_request_of(0.3, wait_seconds=0.05) <= 0.05


def test_a_lone_client_sending_heavy_requests_one_after_another_is_not_made_to_rest():
    assert _after_a_heavy_request_of(0.3, wait_seconds=30, others=0) == 0.0
