"""Cron lines of the settings as schedules: shared by Celery beat and the embedded housekeeper."""

from celery.schedules import crontab


def cron(line: str) -> crontab:
    """`minute hour day-of-month month day-of-week` -> a crontab (beat reads it in the app's timezone).

    Plain, with no `nowfun`: beat pickles its schedule, and a crontab must compare equal to another
    built from the same line.
    """
    minute, hour, day_of_month, month, day_of_week = line.split()
    return crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month,
                   day_of_week=day_of_week)
