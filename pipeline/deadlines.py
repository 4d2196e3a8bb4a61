"""Legal deadlines: the days on which a document's status changes, and the alerts they call for (pure).

A deadline is a transition of ``pipeline.status.status_timeline``: a suspension window that ends
("暂停实施至…" — the document is back in force the next day), a future effective date, an expiry,
a repeal taking effect. Alerts are raised ahead of the day (the lead days of ``schedules.yaml``,
e.g. 30, 7, 1 and 0 days before) and once when the day has passed, each exactly once: the
dedup key names the document, the transition and the lead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from pipeline.classify import AlertRequest
from pipeline.records import LegalStatus

_ONE_DAY = timedelta(days=1)
# How long after a deadline a "passed" alert is still worth sending (a first run long after the
# day reports it once; older history is visible in `regwatch deadlines --since`).
PASSED_GRACE_DAYS = 60
_WHAT = {
    "in_force": "in force",
    "suspended": "suspended",
    "partly_suspended": "partly suspended",
    "expired": "expired",
    "repealed": "repealed",
    "not_yet_effective": "not yet effective",
    "unknown": "status unknown",
}


@dataclass(frozen=True, slots=True)
class Deadline:
    """The status of ``doc_key`` changes from ``before`` to ``after`` on ``starts`` (``last_day`` is the day before)."""

    doc_key: str
    starts: date
    before: LegalStatus
    after: LegalStatus
    announced: date | None = None  # publication of the document(s) that set this date, if known

    @property
    def scheduled(self) -> bool:
        """Announced ahead of time (a real deadline), not a change that took effect on publication
        ("自即日起", "自公布之日起施行"), which the new/status alerts already reported."""
        return self.announced is None or self.announced < self.starts

    @property
    def last_day(self) -> date:
        """The last day of the old status: the date printed in the law ("暂停实施至2026年11月10日")."""
        return self.starts - _ONE_DAY

    @property
    def day(self) -> date:
        """The date as the law prints it: the last day of a suspension, else the first day of the new status."""
        return self.last_day if self.before.status in ("suspended", "partly_suspended") else self.starts

    @property
    def by(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.before.by + self.after.by))

    def describe(self) -> str:
        """One line, e.g. ``mofcom+gacc:2025:56 suspended until 2026-11-10; in force from 2026-11-11``."""
        clauses = f" ({', '.join(self.before.clauses or self.after.clauses)})" if (
            self.before.clauses or self.after.clauses) else ""
        if self.before.status in ("suspended", "partly_suspended"):
            head = f"{self.doc_key}{clauses} {_WHAT[self.before.status]} until {self.last_day.isoformat()}"
        else:
            head = f"{self.doc_key}{clauses} {_WHAT.get(self.before.status, self.before.status)}"
        return f"{head}; {_WHAT.get(self.after.status, self.after.status)} from {self.starts.isoformat()}"


def deadlines_of(doc_key: str, timeline: Sequence[tuple[date, LegalStatus]],
                 announced: Callable[[Sequence[str]], date | None] = lambda by: None) -> list[Deadline]:
    """The transitions of one document's timeline (the first entry is the starting status).

    ``announced(by)`` gives the publication date of the documents causing a transition (the
    document itself when ``by`` is empty); it tells scheduled deadlines from immediate changes.

    A document known only from others' relations has no own dates: after its suspension ends its
    status reads ``unknown``; that transition is reported as "back in force" (the suspension is lifted).
    """
    out: list[Deadline] = []
    for (_, before), (day, after) in zip(timeline, timeline[1:]):
        if after.status == "unknown" and before.status in ("suspended", "partly_suspended"):
            after = LegalStatus(on=after.on, status="in_force", by=before.by,
                                note="inferred: the suspension ends; the document's own dates are unknown")
        by = tuple(dict.fromkeys(before.by + after.by))
        out.append(Deadline(doc_key, day, before, after, announced(by)))
    return out


def due_lead(days_left: int, lead_days: Iterable[int]) -> int | None:
    """The lead (days before) whose alert is due: the smallest lead that is ``>= days_left``.

    Example:
        >>> due_lead(4, [30, 7, 1, 0]), due_lead(31, [30, 7]), due_lead(0, [30, 7, 1, 0])
        (7, None, 0)
    """
    leads = sorted(d for d in lead_days if d >= days_left)
    return leads[0] if leads and days_left >= 0 else None


def deadline_alerts(deadlines: Iterable[Deadline], *, today: date, lead_days: Sequence[int],
                    source_of: dict[str, str] | None = None) -> list[AlertRequest]:
    """Alerts due on ``today`` (a day in the issuer's calendar) for ``deadlines``.

    Coming: one alert per (deadline, lead), for the smallest lead that is still ahead, so a first
    run four days before the day raises the 7-day alert once, not the 30-day one too.
    Passed: one alert when the new status has begun (within ``PASSED_GRACE_DAYS``).
    """
    out: list[AlertRequest] = []
    for d in deadlines:
        if not d.scheduled:
            continue
        target = d.day
        days_left = (target - today).days
        source = (source_of or {}).get(d.doc_key, d.doc_key.split(":")[0].split("+")[0])
        key = f"deadline:{d.doc_key}:{d.before.status}>{d.after.status}:{d.starts.isoformat()}"
        facts = (("Document", d.doc_key), ("Deadline", target.isoformat()),
                 ("Now", _WHAT.get(d.before.status, d.before.status)),
                 ("Then", _WHAT.get(d.after.status, d.after.status)),
                 *((("By", ", ".join(d.by)),) if d.by else ()))
        if today >= d.starts and (today - d.starts).days <= PASSED_GRACE_DAYS:
            out.append(AlertRequest(
                dedup_key=f"{key}:passed", kind="deadline", severity="critical", source=source,
                doc_key=d.doc_key, title=f"Deadline passed: {d.describe()}",
                summary=f"{d.describe()} (since {(today - d.starts).days} day(s))", url="",
                facts=facts, tags=("deadline:passed", f"status:{d.after.status}"),
            ))
            continue
        lead = due_lead(days_left, lead_days)
        if lead is None:
            continue
        when = "today" if days_left == 0 else f"in {days_left} day(s)"
        out.append(AlertRequest(
            dedup_key=f"{key}:lead{lead}", kind="deadline", severity="critical" if lead <= 1 else "warning",
            source=source, doc_key=d.doc_key, title=f"Deadline {when}: {d.describe()}",
            summary=f"{d.describe()} — {when}", url="", facts=facts,
            tags=("deadline:coming", f"lead:{lead}", f"status:{d.after.status}"),
        ))
    return out


__all__ = ["PASSED_GRACE_DAYS", "Deadline", "deadline_alerts", "deadlines_of", "due_lead"]
