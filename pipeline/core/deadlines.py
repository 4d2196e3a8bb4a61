"""Legal deadlines: the days on which a document's status changes, and the alerts they call for (pure).

A deadline is a transition of ``pipeline.core.status.status_timeline``: a suspension window that ends
("暂停实施至…" — the document is back in force the next day), a future effective date, an expiry,
a repeal taking effect. Alerts are raised ahead of the day (the lead days of ``schedules.yaml``,
e.g. 30, 7, 1 and 0 days before) and once when the day has passed, each exactly once: the
dedup key names the document, the transition, its date and the lead.

When the end of a suspension moves (an extension of the suspending notice, a resumption that
ends it early), the old date is no longer a deadline at all: none of its reminders, not even
"passed", goes out after the move. The new date has its own dedup keys, so its reminders are new
alerts at their lead days; every one of them says "moved from OLD to NEW", and when no lead of
the new date is due yet a one-off "moved" reminder goes out as soon as the move is known.

A transitional period (``过渡期至D``, ``Dまでの間、従前の例による``: a ``transition_until`` date) is a
deadline too, of kind ``transition``: the document's status does not change, but from the day
after D the old rules no longer apply to what the period covers (``transition_deadlines``). It is
reminded at the same lead days, unless the document is repealed or expired by then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from pipeline.core.classify import AlertRequest
from pipeline.core.records import DatedEvent, LegalStatus
from pipeline.core.status import StatusChange

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


_SUSPENDED = ("suspended", "partly_suspended")


@dataclass(frozen=True, slots=True)
class Move:
    """The last day of a suspension moved from ``old`` to ``new`` on ``on``, by the document ``by``
    (published on ``announced``, when known)."""

    old: date
    new: date
    on: date
    by: str | None = None
    announced: date | None = None

    @property
    def known_from(self) -> date:
        """The first day the move could be known: its publication, or the day it took effect."""
        return min(self.on, self.announced) if self.announced else self.on

    def describe(self) -> str:
        """Example: ``moved from 2031-11-10 to 2032-01-10 by mofcom:2031:77``."""
        return f"moved from {self.old.isoformat()} to {self.new.isoformat()}" + (f" by {self.by}" if self.by else "")


@dataclass(frozen=True, slots=True)
class Deadline:
    """The status of ``doc_key`` changes from ``before`` to ``after`` on ``starts`` (``last_day`` is the day before).

    ``moves`` are the earlier end dates of this suspension, oldest first; ``cause`` is the document
    whose act or date makes the change (None: the document's own dates).
    """

    doc_key: str
    starts: date
    before: LegalStatus
    after: LegalStatus
    announced: date | None = None  # publication of the document(s) that set this date, if known
    moves: tuple[Move, ...] = ()
    cause: str | None = None
    kind: str = "status"  # "status": the status changes; "transition": a transitional period ends
    clause: str | None = None  # transition: the clause the period is printed in

    @property
    def moved(self) -> Move | None:
        """The latest move of this date, if it was moved."""
        return self.moves[-1] if self.moves else None

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
        """The date as the law prints it: the last day of a suspension or transitional period, else the
        first day of the new status."""
        return self.last_day if self.kind == "transition" or self.before.status in _SUSPENDED else self.starts

    @property
    def dedup_stem(self) -> str:
        """What identifies this deadline in the alerts' dedup keys (document, change, date)."""
        change = "transition" if self.kind == "transition" else f"{self.before.status}>{self.after.status}"
        return f"deadline:{self.doc_key}:{change}:{self.starts.isoformat()}"

    @property
    def what(self) -> tuple[str, str]:
        """(now, then) in words."""
        if self.kind == "transition":
            return "transitional period (old rules apply)", "transitional period over"
        return _WHAT.get(self.before.status, self.before.status), _WHAT.get(self.after.status, self.after.status)

    @property
    def by(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.before.by + self.after.by))

    def describe(self) -> str:
        """One line, e.g. ``mofcom+gacc:2025:56 suspended until 2026-11-10; in force from 2026-11-11``."""
        if self.kind == "transition":
            where = f" ({self.clause})" if self.clause else ""
            return (f"{self.doc_key}{where} transitional period until {self.last_day.isoformat()}; "
                    f"the old rules no longer apply from {self.starts.isoformat()}")
        clauses = f" ({', '.join(self.before.clauses or self.after.clauses)})" if (
            self.before.clauses or self.after.clauses) else ""
        if self.before.status in ("suspended", "partly_suspended"):
            head = f"{self.doc_key}{clauses} {_WHAT[self.before.status]} until {self.last_day.isoformat()}"
        else:
            head = f"{self.doc_key}{clauses} {_WHAT.get(self.before.status, self.before.status)}"
        return f"{head}; {_WHAT.get(self.after.status, self.after.status)} from {self.starts.isoformat()}"


def deadlines_of(doc_key: str, timeline: Sequence[StatusChange],
                 announced: Callable[[Sequence[str]], date | None] = lambda by: None) -> list[Deadline]:
    """The transitions of one document's timeline (the first entry is the starting status).

    ``announced(by)`` gives the publication date of the documents causing a transition (the
    document itself when ``by`` is empty); it tells scheduled deadlines from immediate changes.
    A change of the end of a suspension (an extension) is no transition: it becomes a ``Move`` of
    the transition that ends the suspension, and so does an end earlier than the printed one (a
    resumption, a repeal of the suspending document).

    Example:
        >>> from pipeline.core.status import StatusChange
        >>> s = lambda day, status, until=None: StatusChange(day, LegalStatus(day, status, until, ("x:1",)), "x:2")
        >>> [d] = deadlines_of("y:1", [s(date(2031, 1, 1), "suspended", date(2031, 5, 1)),
        ...                           s(date(2031, 3, 1), "suspended", date(2031, 8, 31)),
        ...                           s(date(2031, 9, 1), "in_force")])
        >>> d.day.isoformat(), d.moved.describe()
        ('2031-08-31', 'moved from 2031-05-01 to 2031-08-31 by x:2')
    """
    out: list[Deadline] = []
    moves: list[Move] = []

    def when(cause: str | None) -> date | None:
        return announced((cause,)) if cause else None

    for prev, change in zip(timeline, timeline[1:]):
        before, after, day = prev.status, change.status, change.day
        if (before.status, before.clauses) == (after.status, after.clauses):
            if before.status in _SUSPENDED and before.until and after.until and before.until != after.until:
                moves.append(Move(before.until, after.until, day, change.cause, when(change.cause)))
            elif after.until is None:
                moves = []  # now open-ended: no end date left to move
            continue
        if before.status in _SUSPENDED and before.until and before.until != day - _ONE_DAY:
            moves.append(Move(before.until, day - _ONE_DAY, day, change.cause, when(change.cause)))
        by = tuple(dict.fromkeys(before.by + after.by))
        setters = (*by, change.cause) if change.cause and change.cause != doc_key else by
        out.append(Deadline(doc_key, day, before, after, announced(setters), tuple(moves), change.cause))
        moves = []
    return out


_ENDED = ("repealed", "expired")


def transition_deadlines(doc_key: str, dates: Iterable[DatedEvent], status_on: Callable[[date], LegalStatus],
                         announced: date | None = None) -> list[Deadline]:
    """The transitional periods of a document (its ``transition_until`` dates) as deadlines, one per
    day and clause; none for a period the document does not live to end (repealed or expired).

    Example:
        >>> ev = DatedEvent("transition_until", date(2031, 6, 30), "第五条", "过渡期至2031年6月30日")
        >>> [d] = transition_deadlines("x:1", [ev], lambda day: LegalStatus(day, "in_force"), date(2031, 1, 5))
        >>> d.day.isoformat(), d.starts.isoformat(), d.describe()
        ('2031-06-30', '2031-07-01', 'x:1 (第五条) transitional period until 2031-06-30; the old rules no longer apply from 2031-07-01')
    """
    out: dict[tuple[date, str | None], Deadline] = {}
    for event in dates:
        if event.type != "transition_until" or (event.date, event.clause) in out:
            continue
        before, after = status_on(event.date), status_on(event.date + _ONE_DAY)
        if before.status in _ENDED:
            continue
        out[(event.date, event.clause)] = Deadline(doc_key, event.date + _ONE_DAY, before, after, announced,
                                                   kind="transition", clause=event.clause)
    return sorted(out.values(), key=lambda d: (d.starts, d.clause or ""))


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
    Moved: for a date that was moved, every alert says so; while no lead of the new date is due
    yet, one "moved" alert (within ``PASSED_GRACE_DAYS`` of the move).
    """
    out: list[AlertRequest] = []
    for d in deadlines:
        if not d.scheduled:
            continue
        target = d.day
        days_left = (target - today).days
        source = (source_of or {}).get(d.doc_key, d.doc_key.split(":")[0].split("+")[0])
        key = d.dedup_stem
        move = d.moved
        moved = f" ({move.describe()})" if move else ""
        now, then = d.what
        facts = (("Document", d.doc_key), ("Deadline", target.isoformat()), ("Now", now), ("Then", then),
                 *((("By", ", ".join(d.by)),) if d.by else ()),
                 *((("Moved", move.describe().removeprefix("moved ")),) if move else ()))
        tags = (("deadline:moved",) if move else ()) + (("deadline:transition",) if d.kind == "transition" else ())
        if today >= d.starts:
            if (today - d.starts).days <= PASSED_GRACE_DAYS:
                out.append(AlertRequest(
                    dedup_key=f"{key}:passed", kind="deadline", severity="critical", source=source,
                    doc_key=d.doc_key, title=f"Deadline passed: {d.describe()}{moved}",
                    summary=f"{d.describe()} (since {(today - d.starts).days} day(s)){moved}", url="",
                    facts=facts, tags=("deadline:passed", f"status:{d.after.status}", *tags),
                ))
            continue
        lead = due_lead(days_left, lead_days)
        when = "today" if days_left == 0 else f"in {days_left} day(s)"
        if lead is None:
            if move and move.known_from <= today and (today - move.known_from).days <= PASSED_GRACE_DAYS:
                out.append(AlertRequest(
                    dedup_key=f"{key}:moved", kind="deadline", severity="warning", source=source,
                    doc_key=d.doc_key, title=f"Deadline {move.describe()}: {d.describe()}",
                    summary=f"{d.describe()} — {when} ({move.describe()})", url="", facts=facts,
                    tags=("deadline:coming", f"status:{d.after.status}", *tags),
                ))
            continue
        out.append(AlertRequest(
            dedup_key=f"{key}:lead{lead}", kind="deadline", severity="critical" if lead <= 1 else "warning",
            source=source, doc_key=d.doc_key, title=f"Deadline {when}: {d.describe()}{moved}",
            summary=f"{d.describe()} — {when}{moved}", url="", facts=facts,
            tags=("deadline:coming", f"lead:{lead}", f"status:{d.after.status}", *tags),
        ))
    return out


__all__ = ["PASSED_GRACE_DAYS", "Deadline", "Move", "deadline_alerts", "deadlines_of", "due_lead", "transition_deadlines"]
