"""A real uvicorn server of the app on a free loopback port (end-to-end tests and benchmarks)."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[2]
FACTORY = ("app.main:create_app", "--factory")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


STARTUP_SECONDS = 60


@contextmanager
def serving(env: dict[str, str], target: Sequence[str] = FACTORY) -> Iterator[httpx.Client]:
    """Start the app with `env` (plus PATH), yield a client once /health answers, stop it after.

    `target`: uvicorn's app argument(s), the factory by default, or e.g. `("app.main:app",)`.
    """
    with serving_process(env, target) as (client, _):
        yield client


@contextmanager
def serving_process(env: dict[str, str], target: Sequence[str] = FACTORY) -> Iterator[tuple[httpx.Client, int]]:
    """As `serving`, also yielding the server's process id (to read its memory)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", *target, "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "LOG_LEVEL": "WARNING", **env}, stdout=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            deadline = time.monotonic() + STARTUP_SECONDS  # a loaded 2-core machine has taken over 12 s
            while True:
                try:
                    client.get("/health")
                    break
                except httpx.TransportError as err:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the server on port {port} did not start (exit {server.poll()})") from err
                    time.sleep(0.1)
            yield client, server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)


def raw_exchange(client: httpx.Client, request: bytes, timeout: float = 20) -> tuple[int, dict[str, str], bytes]:
    """Send `request` as raw bytes to the server behind `client`; read until the server closes.

    For what an HTTP client will not send: a body shorter than its Content-Length, a huge header.
    Returns the status, the headers (lower-case names) and the body.
    """
    url = client.base_url
    with socket.create_connection((url.host, url.port), timeout=timeout) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body
