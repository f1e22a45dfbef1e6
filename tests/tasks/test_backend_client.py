"""The backend client against a real HTTP server on 127.0.0.1: signatures, retries, give-ups."""

import hmac
import time

import pytest

from app.config import Settings
from app.services.jobs.backend_contract import BackendError, idempotency_key
from app.tasks.backend_client import BackendClient, retry_after_seconds, sign
from tests.support.backend import BackendState, Fault, running_backend

SECRET = "webhook-secret"


@pytest.fixture
def backend():
    state = BackendState(shops=[{"shop_id": "s1", "product_ids": ["a"]}],
                         sales={("s1", "a"): [{"product_id": "a", "date": "2025-01-01", "qty": 1}]}, secret=SECRET)
    with running_backend(state) as url:
        yield state, url


def client(url: str, secret: str = SECRET, **overrides) -> tuple[BackendClient, list[float]]:
    delays: list[float] = []

    def sleep(seconds: float) -> None:  # really sleeps; records what the backoff chose
        delays.append(seconds)
        time.sleep(seconds)

    settings = Settings(_env_file=None, backend_api_url=url, backend_webhook_secret=secret,  # type: ignore[call-arg]
                        backend_retry_base_seconds=0.05, backend_max_attempts=4, **overrides)
    return BackendClient(settings, sleep=sleep), delays


def test_push_is_signed_and_a_repeated_key_is_delivered_once(backend):
    state, url = backend
    api, _ = client(url)
    key = idempotency_key("s1", "2026-11-22", 0, 2)
    assert api.push(b'{"x":1}', key) == 201
    assert api.push(b'{"x":1}', key) == 409  # the backend already has it: delivered, not an error
    assert list(state.accepted) == [key] and state.duplicates == 1 and state.bad_signatures == 0
    assert idempotency_key("s1", "2026-11-22", 0, 2) == key != idempotency_key("s1", "2026-11-22", 1, 2)


def test_5xx_then_success_is_retried_with_growing_jittered_backoff(backend):
    state, url = backend
    state.push_faults.append(Fault(times=3, status=503))
    api, delays = client(url)
    assert api.push(b"{}", "k") == 201
    assert state.attempts["k"] == 4 and len(delays) == 3
    assert all(0 <= d <= 0.05 * 2 ** i for i, d in enumerate(delays))


def test_429_honours_retry_after(backend):
    state, url = backend
    state.push_faults.append(Fault(times=1, status=429, retry_after="0.3"))
    api, delays = client(url)
    assert api.push(b"{}", "k") == 201 and delays == [0.3]


def test_other_4xx_is_not_retried(backend):
    state, url = backend
    state.push_faults.append(Fault(times=1, status=422))
    api, delays = client(url)
    with pytest.raises(BackendError) as failed:
        api.push(b"{}", "k")
    assert failed.value.attempts == 1 and failed.value.status == 422 and delays == []


def test_a_wrong_secret_is_refused_by_the_backend_and_not_retried(backend):
    state, url = backend
    api, _ = client(url, secret="not-the-secret")
    with pytest.raises(BackendError, match="401"):
        api.push(b"{}", "k")
    assert state.bad_signatures == 1 and state.accepted == {}


def test_timeouts_are_retried_then_fail_after_the_bounded_attempts(backend):
    state, url = backend
    state.push_faults.append(Fault(times=10, stall_seconds=0.5))
    api, delays = client(url, backend_timeout_seconds=0.2)
    with pytest.raises(BackendError, match="ReadTimeout") as failed:
        api.push(b"{}", "k")
    assert failed.value.attempts == 4 and len(delays) == 3 and state.accepted == {}


def test_connection_refused_is_retried_then_fails():
    api, delays = client("http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(BackendError, match="ConnectError"):
        api.shops()
    assert len(delays) == 3


def test_pull_shops_and_sales(backend):
    _, url = backend
    api, _ = client(url)
    assert api.shops() == [{"shop_id": "s1", "product_ids": ["a"]}]
    assert api.sales("s1", ["a"], "2024-01-01", "2025-12-31")["sales"][0]["qty"] == 1


def test_signature_and_retry_after_formats():
    assert sign("k", b"body") == "sha256=" + hmac.new(b"k", b"body", "sha256").hexdigest()
    assert retry_after_seconds("7") == 7.0 and retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert 0 <= retry_after_seconds(time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 5))) <= 5
