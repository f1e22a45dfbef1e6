"""A real uvicorn server of the app on a free loopback port (end-to-end tests and benchmarks)."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(env: dict[str, str]) -> Iterator[httpx.Client]:
    """Start the app with `env` (plus PATH), yield a client once /health answers, stop it after."""
    with serving_process(env) as (client, _):
        yield client


@contextmanager
def serving_process(env: dict[str, str]) -> Iterator[tuple[httpx.Client, int]]:
    """As `serving`, also yielding the server's process id (to read its memory)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "LOG_LEVEL": "WARNING", **env}, stdout=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for _ in range(100):
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield client, server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)
