"""Heavy requests take turns through the process's admission slots; normal requests beside them are
answered while every slot is taken; a heavy request beyond the slots and queue is 503 with Retry-After.

Issue #25: eight 499 k-period insights requests at once peaked at 5.2 GB, and 17 heavy requests in 55 s
took the normal load's p99 from 0.93 s to 9.0 s. Insights are now capped at 3,653 periods; the heavy requests
here are bodies of many rows (heavy before they are validated, app/utils/fast_json.py).
A real uvicorn server, its own process."""

import json
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.support.server import serving

PREFIX = "/api/v1/smart-shelf"
PAYLOADS = Path(__file__).resolve().parents[2] / "examples" / "payloads"


def _at_risk(items: int) -> dict:
    """The example at-risk request with `items` inventory rows, each with 6 days of sales (6 x `items` sales rows,
    within MAX_PAYLOAD_ROWS=100,000): over 10,000 rows it is heavy before it is validated; 16,000 items take seconds
    (each forecast). Steady sellers: no silence can decide them, so no year of history is built and MAX_GRID_CELLS
    / 364 = 13,736 items (the cap while every item's year was read) does not bound them."""
    example = json.loads((PAYLOADS / "at-risk.json").read_text())
    inventory = example["inventory"]
    as_of = date.fromisoformat(example["as_of"])
    days = [(as_of - timedelta(days=d)).isoformat() for d in range(6)]
    return {**example, "inventory": [{**inventory[k % len(inventory)], "product_id": f"x{k}"} for k in range(items)],
            "sales": [{"product_id": f"x{k}", "date": day, "qty": float(1 + k % 5)}
                      for k in range(items) for day in days]}


EMPTY_ROWS = b'{"shop_id": "s", "inventory": [' + b",".join([b"{}"] * 100_000) + b"]}"  # 300,000 validation errors


def _admissions(client: httpx.Client) -> dict[str, float]:
    text = client.get("/metrics").text
    return {outcome: float(value) for outcome, value in
            re.findall(r'^smartshelf_admission_total\{outcome="(\w+)"\} (\S+)$', text, re.M)}


def _until_admitted(client: httpx.Client, heavy: "Future[httpx.Response]", count: int) -> None:
    """Wait until `count` heavy requests hold or held a slot (the server's own counter says so)."""
    deadline = time.monotonic() + 60
    while _admissions(client).get("admitted", 0) < count:
        assert not heavy.done(), heavy.result().text[:300]
        assert time.monotonic() < deadline, "the heavy request was never admitted"
        time.sleep(0.05)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"MODEL_DIR": str(tmp_path / "models"), "RATE_LIMIT_PER_MINUTE": "0"}


def test_normal_requests_are_answered_while_the_heavy_slot_is_taken_and_one_more_heavy_is_503(env):
    # another shop: a request of the heavy one's shop and sales waits for the forecast the heavy one is
    # training (one training of one shop's sales at a time), which is not what this test is about
    at_risk = {**json.loads((PAYLOADS / "at-risk.json").read_text()), "shop_id": "another_shop"}
    insights = json.loads((PAYLOADS / "insights.json").read_text())
    with serving({**env, "ADMISSION_SLOTS": "1", "ADMISSION_QUEUE": "0"}) as client, \
            httpx.Client(base_url=client.base_url, timeout=120) as other, ThreadPoolExecutor(1) as pool:
        heavy = pool.submit(other.post, f"{PREFIX}/at-risk", json=_at_risk(16_000))
        _until_admitted(client, heavy, 1)

        refused = client.post(f"{PREFIX}/at-risk", content=EMPTY_ROWS, headers={"content-type": "application/json"})
        normal = [client.post(f"{PREFIX}/at-risk", json=at_risk), client.post(f"{PREFIX}/insights", json=insights)]
        still_working = not heavy.done()

        assert refused.status_code == 503, refused.text[:300]
        assert int(refused.headers["Retry-After"]) >= 1
        answer = refused.json()
        assert answer["error"] == "server_busy"
        # refused before its 300,000 errors were built: its rows made it heavy
        assert "ADMISSION_SLOTS=1" in answer["message"] and "100,000 rows in the body" in answer["message"]
        assert [r.status_code for r in normal] == [200, 200]
        assert still_working, "the heavy request ended before the normal ones were answered: nothing was shown"
        assert heavy.result().status_code == 200
        counted = _admissions(client)
        assert counted.get("admitted") == 1 and counted.get("refused") == 1


def test_a_heavy_request_waits_for_the_slot_and_is_answered(env):
    with serving({**env, "ADMISSION_SLOTS": "1", "ADMISSION_QUEUE": "1", "ADMISSION_WAIT_SECONDS": "120"}) as client, \
            httpx.Client(base_url=client.base_url, timeout=120) as other, ThreadPoolExecutor(1) as pool:
        first = pool.submit(other.post, f"{PREFIX}/at-risk", json=_at_risk(16_000))
        _until_admitted(client, first, 1)
        second = client.post(f"{PREFIX}/at-risk", json=_at_risk(16_000))
        assert first.result().status_code == 200
        assert second.status_code == 200, second.text[:300]
        assert _admissions(client).get("waited") == 1


def test_requests_under_the_heavy_share_never_touch_the_slots(env):
    insights = json.loads((PAYLOADS / "insights.json").read_text())
    with serving({**env, "ADMISSION_SLOTS": "1", "ADMISSION_QUEUE": "0"}) as client:
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(client.post(f"{PREFIX}/insights", json=insights)))
                   for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [a.status_code for a in answers] == [200] * 4
        assert _admissions(client) == {}
