"""APScheduler triggers from schedules.yaml values: crontab expressions and intervals.

The config validates every ``cron`` with :func:`cron_trigger` itself, so an expression that
loads is one the daemon can schedule (``99 * * * *`` is an error naming its line, not a daemon
that dies at start).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_trigger(expr: str, *, timezone: str, jitter: int | None) -> CronTrigger:
    """A CronTrigger with crontab semantics: day-of-week 0 and 7 are Sunday.

    APScheduler's own ``from_crontab`` counts 0 as Monday (agronholm/apscheduler#286), so
    numeric weekdays are translated to names here. A bad expression raises ValueError.

    Example:
        >>> str(cron_trigger("0 9 * * 1-5", timezone="Asia/Tokyo", jitter=None).fields[4])
        'mon-fri'
        >>> cron_trigger("99 * * * *", timezone="UTC", jitter=None)
        Traceback (most recent call last):
        ...
        ValueError: Error validating expression '99': the last value (99) is higher than the maximum value (59)
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"cron {expr!r} has {len(fields)} fields, not 5: minute hour day month day-of-week")
    minute, hour, day, month, dow = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_named_days(dow),
                       timezone=ZoneInfo(timezone), jitter=jitter or None)


def _named_days(field: str) -> str:
    def name(token: str) -> str:
        return _CRON_DAYS[int(token)] if token.isdigit() and int(token) <= 7 else token

    parts = []
    for part in field.split(","):
        step = ""
        if "/" in part:
            part, step = part.split("/", 1)
            step = "/" + step
        parts.append("-".join(name(t) for t in part.split("-")) + step)
    return ",".join(parts)


def interval_trigger(minutes: int, *, timezone: str, jitter: int | None) -> IntervalTrigger:
    """An IntervalTrigger of ``minutes`` in ``timezone``."""
    return IntervalTrigger(minutes=minutes, timezone=ZoneInfo(timezone), jitter=jitter or None)


def schedule_trigger(cron: str | None, interval_minutes: int | None, *, timezone: str, jitter: int | None) -> Any:
    """The trigger of a source: its cron expression, else its interval."""
    if cron:
        return cron_trigger(cron, timezone=timezone, jitter=jitter)
    return interval_trigger(interval_minutes or 0, timezone=timezone, jitter=jitter)


__all__ = ["cron_trigger", "interval_trigger", "schedule_trigger"]
