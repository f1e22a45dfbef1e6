"""A real HTTP server on 127.0.0.1 standing in for the calling Node backend.

It implements the backend contract of docs/backend.md: it lists shops, answers sales queries from the
rows it was given, and takes forecast-batch pushes, checking the HMAC signature and
de-duplicating by Idempotency-Key (a repeated key answers 409 and changes nothing). Faults can
be scripted: the first N pushes answer a status (500, 429 with Retry-After) or stall past the
client's timeout. Everything it saw is recorded for the tests and the benchmark to read.
"""

import hashlib
import hmac
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    """What the next `times` pushes get instead of a normal answer."""

    times: int
    status: int = 503
    retry_after: str | None = None
    stall_seconds: float = 0.0


@dataclass
class BackendState:
    shops: list[dict[str, Any]]
    sales: dict[tuple[str, str], list[dict[str, Any]]]  # (shop_id, product_id) -> rows in date order
    secret: str
    push_faults: list[Fault] = field(default_factory=list)
    shop_faults: list[Fault] = field(default_factory=list)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> body
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    duplicates: int = 0
    bad_signatures: int = 0
    sales_queries: int = 0
    drivers: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)  # shop -> prices, products...
    lock: threading.Lock = field(default_factory=threading.Lock)
    _encoded: dict[tuple[str, str], tuple[str, str, bytes]] = field(default_factory=dict)

    def sales_json(self, shop_id: str, product_id: str, since: str, until: str) -> bytes:
        """The product's rows in [since, until] as JSON array items (whole histories encoded once)."""
        rows = self.sales.get((shop_id, product_id), [])
        if not rows:
            return b""
        key = (shop_id, product_id)
        if key not in self._encoded:
            self._encoded[key] = (rows[0]["date"], rows[-1]["date"], json.dumps(rows)[1:-1].encode())
        first, last, encoded = self._encoded[key]
        if since <= first and last <= until:
            return encoded
        return json.dumps([r for r in rows if since <= r["date"] <= until])[1:-1].encode()

    def take_fault(self, faults: list[Fault]) -> Fault | None:
        with self.lock:
            while faults and faults[0].times <= 0:
                faults.pop(0)
            if not faults:
                return None
            faults[0].times -= 1
            return faults[0]


def _handler(state: BackendState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            return None

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            self._send_raw(status, json.dumps(payload).encode(), headers)

        def _send_raw(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _fault(self, faults: list[Fault]) -> bool:
            fault = state.take_fault(faults)
            if fault is None:
                return False
            if fault.stall_seconds:
                time.sleep(fault.stall_seconds)
            self._send(fault.status, {"error": "scripted fault"},
                       {"Retry-After": fault.retry_after} if fault.retry_after else None)
            return True

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def do_GET(self) -> None:
            if self.path != "/smart-shelf/shops":
                self._send(404, {"error": "not found"})
            elif not self._fault(state.shop_faults):
                self._send(200, {"shops": state.shops})

        def do_POST(self) -> None:
            body = self._body()
            if self.path == "/smart-shelf/sales/query":
                query = json.loads(body)
                with state.lock:
                    state.sales_queries += 1
                parts = [state.sales_json(query["shop_id"], p, query["since"], query["until"])
                         for p in query["product_ids"]]
                wanted = set(query["product_ids"])
                drivers = {name: [e for e in entries if e["product_id"] in wanted]
                           for name, entries in state.drivers.get(query["shop_id"], {}).items()}
                extra = b"".join(b',"' + name.encode() + b'":' + json.dumps(entries).encode()
                                 for name, entries in drivers.items())
                self._send_raw(200, b'{"sales":[' + b",".join(p for p in parts if p) + b'],"calendar_events":[]'
                               + extra + b"}")
            elif self.path == "/smart-shelf/forecast-batches":
                self._push(body)
            else:
                self._send(404, {"error": "not found"})

        def _push(self, body: bytes) -> None:
            key = self.headers.get("Idempotency-Key", "")
            with state.lock:
                state.attempts[key] += 1
            expected = "sha256=" + hmac.new(state.secret.encode(), body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, self.headers.get("X-SmartShelf-Signature", "")):
                with state.lock:
                    state.bad_signatures += 1
                self._send(401, {"error": "bad signature"})
                return
            if self._fault(state.push_faults):
                return
            with state.lock:
                if key in state.accepted:
                    state.duplicates += 1
                    duplicate = True
                else:
                    state.accepted[key] = json.loads(body)
                    duplicate = False
            self._send(409 if duplicate else 201, {"idempotency_key": key, "duplicate": duplicate})

    return Handler


@contextmanager
def running_backend(state: BackendState) -> Iterator[str]:
    """Serve `state` on an ephemeral 127.0.0.1 port; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
