"""Schema fuzzing: schemathesis drives every operation of the app's own OpenAPI document with at
least 100 generated requests each (fixed seed), valid and invalid, under all of schemathesis's
checks (no 5xx; status, content type, headers and body as documented; schema-violating requests
rejected; required headers, unsupported methods, auth, resource availability) and one of ours
(no NaN or Infinity in JSON), except `positive_data_acceptance`: a schema-valid request may still
break a rule JSON Schema cannot state (revenue as long as qty, a range whose start is after its
end, the same product twice, the work budget), and those are refused by design with 400, 413 or
422 naming the field."""

import json
import math
import tempfile
from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from app.config import Settings
from app.main import create_app
from app.schemas.forecast import FORECAST_EXAMPLE

load_all_checks()
CHECKED = [check for check in CHECKS.get_all() if check.__name__ != "positive_data_acceptance"]
MODEL_DIR = tempfile.mkdtemp(prefix="smartshelf-fuzz-")
# the fuzzer sends every generated job of one shop at once: the per-shop queue limit (503 job_queue_full,
# tested in tests/tasks/test_job_queue.py) would refuse most of them
app = create_app(Settings(_env_file=None, model_dir=MODEL_DIR, rate_limit_per_minute=0,  # type: ignore[call-arg]
                          job_queue_per_shop=10_000))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} in a JSON answer")


def finite_json(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> bool:
    """No NaN or Infinity anywhere in a JSON answer (they are not JSON; JavaScript parsers reject them)."""
    if "json" in response.headers.get("content-type", [""])[0]:
        def walk(value: object) -> None:
            if isinstance(value, float) and not math.isfinite(value):
                raise AssertionError("non-finite number in a JSON answer")
            for child in value.values() if isinstance(value, dict) else value if isinstance(value, list) else []:
                walk(child)
        walk(json.loads(response.text, parse_constant=_reject_constant))
    return True


@pytest.fixture(scope="module", autouse=True)
def stored_forecast():
    """One stored forecast and job, so the read paths also answer 200 to some generated cases."""
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        start = date(2025, 1, 1)
        sales = [{"product_id": "p1", "date": (start + timedelta(days=d)).isoformat(), "qty": d % 7}
                 for d in range(60)]
        client.post("/api/v1/smart-shelf/forecast", json={"shop_id": "shop_123", "sales": sales})
        client.post("/api/v1/smart-shelf/forecast/batch", json=FORECAST_EXAMPLE)
        yield


@schema.parametrize()
@settings(max_examples=100, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_answer_matches_the_schema(case):
    case.call_and_validate(checks=[*CHECKED, finite_json])
