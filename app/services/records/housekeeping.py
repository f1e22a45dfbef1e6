"""The embedded default's housekeeping: without a broker there is no Celery beat, so a thread of
the API process runs the model-store clean-up on the same CLEANUP_CRON schedule (keep
MODEL_KEEP_VERSIONS artifacts per product, delete those older than MODEL_MAX_AGE_DAYS).

Jobs and cached answers need no sweep here: the in-process job store and cache are bounded in
bytes and drop expired entries as they are written (`app/services/jobs/job_store.py`, `app/utils/cache.py`).
"""

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from app.config import Settings
from app.models import store
from app.utils.schedule import cron

log = structlog.get_logger(__name__)
MAX_SLEEP_SECONDS = 3600.0


def clean_models(settings: Settings) -> dict[str, Any]:
    """The clean-up itself (also the body of the Celery `cleanup_old_models` task)."""
    report = store.cleanup(settings.model_dir, settings.model_keep_versions, settings.model_max_age_days)
    log.info("models_cleaned", removed=len(report["removed"]), kept=report["kept"])
    return report


class Housekeeper:
    """Runs `clean_models` whenever CLEANUP_CRON falls due, until stopped."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        zone = ZoneInfo(settings.schedule_timezone)
        self.clock = clock or (lambda: datetime.now(zone))
        self.schedule = cron(settings.cleanup_cron)
        self.schedule.nowfun = self.clock  # read in SCHEDULE_TIMEZONE, like beat
        self.last_run = self.clock()
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="smartshelf-housekeeping", daemon=True)

    def tick(self) -> float:
        """Run the clean-up if it is due; the seconds until the next check."""
        remaining = self.schedule.remaining_estimate(self.last_run).total_seconds()
        if remaining <= 0:
            self.last_run = self.clock()
            try:
                clean_models(self.settings)
            except OSError as exc:  # a missing or unreadable MODEL_DIR must not stop the thread
                log.error("models_clean_failed", error=str(exc))
            self.runs += 1
            remaining = self.schedule.remaining_estimate(self.last_run).total_seconds()
        return min(max(remaining, 1.0), MAX_SLEEP_SECONDS)

    def _loop(self) -> None:
        while not self._stop.wait(self.tick()):
            pass

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
