"""Write-behind for the JSON files only monitoring reads back (each product's latest forecast).

A forecast answer must not wait for one file per product: `WriteBehind.write` keeps the payload in
memory and a background thread writes it (atomically, `app.models.store.write_json`), newest
payload per path, in arrival order. Reads in this process see pending payloads first
(`pending`), so nothing is read stale here; another process sees the file once written
(milliseconds). At most `max_pending` paths wait: beyond that a write happens inline (the caller
pays, memory stays bounded). `flush` waits for everything queued (a batch chunk before it is
recorded done, the app at shutdown). A full or read-only disk is logged, as before.
"""

import os
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
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked worker starts empty, with its own thread

    def _reset(self) -> None:
        self._pending: dict[Path, Any] = {}
        self._queue: queue.Queue[Path] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def write(self, path: Path, payload: Any) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
                self._thread.start()
            inline = len(self._pending) >= self.max_pending and path not in self._pending
            if not inline:
                if path not in self._pending:
                    self._queue.put(path)  # under the lock: a flush after this write waits for it
                self._pending[path] = payload
        if inline:
            self._safely(path, payload)

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
            payload = None
            try:
                with self._lock:
                    payload = self._pending.get(path)
                if payload is not None:
                    self._safely(path, payload)
            finally:
                with self._lock:
                    if self._pending.get(path) is payload:
                        self._pending.pop(path, None)
                    elif path in self._pending:  # written again meanwhile: write the newer one too
                        self._queue.put(path)
                self._queue.task_done()

    def _safely(self, path: Path, payload: Any) -> None:
        """Write, logging any failure: a full disk or a payload that cannot be written never stops the others."""
        try:
            self._write(path, payload)
        except OSError as exc:
            log.error("store_write_failed", file=path.name, error=exc.strerror)
        except Exception as exc:  # the writer thread must outlive any one payload
            log.error("store_write_failed", file=path.name, error=repr(exc))
