"""Stage 2b: deadline reminders — the legal deadlines coming or just passed go to the outbox.

Runs after ``process`` (and daily from the daemon). Idempotent: every reminder has a dedup key,
so running it twice a day sends nothing twice. "Today" is the issuer's calendar day
(Asia/Shanghai for Chinese issuers, Asia/Tokyo for METI), since that is the calendar the law's
dates are written in.

The deadlines come from ``pipeline.lookup.collect_deadlines``, the same status computation as
``status-of`` and ``deadlines``: when an extension (of the suspending notice, or of an extension
of it) moves an end date, the old date's reminders stop — none is sent for it, not even "passed"
— and the new date's reminders are new alerts that say "moved from … to …"
(``pipeline.core.deadlines.deadline_alerts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crawlers.sources import SOURCES
from pipeline.core.deadlines import PASSED_GRACE_DAYS, deadline_alerts
from pipeline.lookup import collect_deadlines
from pipeline.outbox import Routing, enqueue_request
from store import Store

# Issuers that are also sources (mofcom, miit, meti) use the source's zone; other issuers
# (gacc, ndrc, state-council, ...) are Chinese.
_DEFAULT_TZ = "Asia/Shanghai"


def issuer_timezone(doc_key: str) -> str:
    """Example: ``issuer_timezone("meti:press:20260109-001")`` -> ``'Asia/Tokyo'``."""
    issuer = doc_key.split(":")[0].split("+")[0]
    return SOURCES[issuer].timezone if issuer in SOURCES else _DEFAULT_TZ


def check_deadlines(store: Store, *, now: datetime, lead_days: Sequence[int], routing: Routing | None = None) -> int:
    """Queue the deadline alerts due at ``now``; returns how many new alerts were queued."""
    days = {tz: now.astimezone(ZoneInfo(tz)).date() for tz in {_DEFAULT_TZ, *(s.timezone for s in SOURCES.values())}}
    start = min(days.values()) - timedelta(days=PASSED_GRACE_DAYS + 1)
    queued = 0
    deadlines = collect_deadlines(store, start)
    for tz, today in days.items():
        mine = [d for d in deadlines if issuer_timezone(d.doc_key) == tz]
        for request in deadline_alerts(mine, today=today, lead_days=lead_days):
            queued += enqueue_request(store, request, now, routing)
    return queued


__all__ = ["check_deadlines", "issuer_timezone"]
