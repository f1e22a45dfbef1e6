"""Following a batch job through the jobs API, as a caller would."""

import time

from fastapi.testclient import TestClient


def follow(api: TestClient, job_id: str, timeout: float = 120) -> tuple[dict, list[int]]:
    """Poll GET /api/v1/jobs/{job_id} until it has finished: (the finished job, every progress.done seen)."""
    progress: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/api/v1/jobs/{job_id}").json()
        progress.append(job["progress"]["done"])
        if job["finished_at"]:
            return job, progress
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {job}")
