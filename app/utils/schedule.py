"""Cron lines of the settings as schedules: shared by Celery beat and the embedded housekeeper."""

from datetime import datetime
from zoneinfo import ZoneInfo

from celery.schedules import crontab


def cron(line: str, timezone: str = "UTC") -> crontab:
    """`minute hour day-of-month month day-of-week` -> a crontab read in `timezone`."""
    minute, hour, day_of_month, month, day_of_week = line.split()
    zone = ZoneInfo(timezone)
    return crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month,
                   day_of_week=day_of_week, nowfun=lambda: datetime.now(zone))
