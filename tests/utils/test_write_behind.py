"""Write-behind: answers do not wait for the latest-forecast files, reads never see them stale, memory
stays bounded, and a flush puts everything on disk."""

import json
import threading
from pathlib import Path
from typing import Any

from app.models.store import write_json
from app.utils.write_behind import WriteBehind


class Gated:
    """store.write_json, held back until the test opens the gate (to see what waits meanwhile)."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.written: list[Path] = []

    def __call__(self, path: Path, payload: Any) -> None:
        self.gate.wait(10)
        write_json(path, payload)
        self.written.append(path)


def test_a_write_is_readable_at_once_and_on_disk_after_a_flush(tmp_path: Path) -> None:
    gated = Gated()
    files = WriteBehind(gated)
    path = tmp_path / "latest" / "a.json"
    files.write(path, {"v": 1})
    files.write(path, {"v": 2})  # the newer payload wins
    assert files.pending(path) == {"v": 2} and not path.exists()
    gated.gate.set()
    files.flush()
    assert json.loads(path.read_text()) == {"v": 2} and files.pending(path) is None


def test_beyond_max_pending_the_caller_writes_inline(tmp_path: Path) -> None:
    gated = Gated()
    files = WriteBehind(gated, max_pending=2)
    for name in ("a", "b"):
        files.write(tmp_path / f"{name}.json", {"name": name})
    gated.gate.set()  # the third write must not wait for the queue: it is written by the caller
    files.write(tmp_path / "c.json", {"name": "c"})
    assert json.loads((tmp_path / "c.json").read_text()) == {"name": "c"}
    files.flush()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json", "c.json"]


def test_a_failed_write_is_logged_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    files = WriteBehind(write_json)
    files.write(blocker / "under-a-file.json", {"v": 1})  # a directory that cannot exist
    files.flush()
    assert files.pending(blocker / "under-a-file.json") is None


def test_a_payload_that_cannot_be_written_does_not_stop_the_others(tmp_path: Path) -> None:
    files = WriteBehind(write_json)
    files.write(tmp_path / "bad.json", {"v": 1, 2: 3})  # keys json cannot sort (TypeError): logged, the thread lives
    files.write(tmp_path / "good.json", {"v": 1})
    files.flush()
    assert json.loads((tmp_path / "good.json").read_text()) == {"v": 1}
    assert files.pending(tmp_path / "bad.json") is None
