"""Write-behind for the JSON files only monitoring reads back (each product's latest forecast).

A forecast answer must not wait for one file per product: `WriteBehind.write` keeps the payload in
memory and a background thread writes it (atomically, `app.models.store.write_json`), newest
payload per path, in arrival order. Reads in this process see pending payloads first
(`pending`), so nothing is read stale here; another process sees the file once written
(milliseconds). At most `max_pending` paths wait: beyond that a write happens inline (the caller
pays, memory stays bounded). `flush` waits for everything queued (a batch chunk before it is
recorded done, the app at shutdown). A full or read-only disk is logged, as before.
"""

import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class WriteBehind:
    def __init__(self, write: Callable[[Path, Any], None], max_pending: int = 20_000) -> None:
        self._write = write
        self.max_pending = max_pending
        self._pending: dict[Path, Any] = {}
        self._queue: queue.Queue[Path] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def write(self, path: Path, payload: Any) -> None:
        with self._lock:
            inline = len(self._pending) >= self.max_pending and path not in self._pending
            fresh = path not in self._pending
            if not inline:
                self._pending[path] = payload
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
                    self._thread.start()
        if inline:
            self._safely(path, payload)
        elif fresh:
            self._queue.put(path)

    def pending(self, path: Path) -> Any | None:
        """The payload waiting to be written to `path`, or None."""
        with self._lock:
            return self._pending.get(path)

    def flush(self) -> None:
        """Return once every write queued so far is on disk."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            path = self._queue.get()
            try:
                with self._lock:
                    payload = self._pending.get(path)
                if payload is not None:
                    self._safely(path, payload)
                with self._lock:
                    if self._pending.get(path) is payload:
                        del self._pending[path]
                    elif path in self._pending:  # written again meanwhile: write the newer one too
                        self._queue.put(path)
            finally:
                self._queue.task_done()

    def _safely(self, path: Path, payload: Any) -> None:
        try:
            self._write(path, payload)
        except OSError as exc:
            log.error("store_write_failed", file=path.name, error=exc.strerror)
