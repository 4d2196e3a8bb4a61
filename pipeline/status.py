"""Legal status of a document on a given day, from its own dates and the relations pointing at it.

Pure functions: the caller passes the day (``on``), the document's dates and the relations of
*other* documents that target it (looked up in the store as ``(source_key, Relation)`` pairs).

Precedence, first match wins:

1. ``repealed``: the document's own ``repealed`` date is on or before ``on``, or an incoming
   ``repeals``/``supersedes`` relation (for the whole document) applies: its ``since`` is on or
   before ``on``, or ``since`` is unknown (then the repealing document is assumed in force;
   callers that know the repealing document's effective date should put it in ``since``).
2. ``expired``: the own ``expires`` date (有效期至, the last valid day) is before ``on``.
3. ``not_yet_effective``: ``on`` is before the effective date (the published date when no
   effective date is known).
4. ``suspended`` / ``partly_suspended``: an incoming ``suspends`` relation is active, i.e.
   ``since <= on <= until``. Both ends are inclusive: "自即日起至2026年11月10日暂停实施" means the
   document is suspended through 10 November and back in force on 11 November. Unknown ``since``
   means "already started"; unknown ``until`` means open-ended. A suspension with a clause
   (``第二条``) makes the document ``partly_suspended`` with that clause listed; any whole-document
   suspension makes it ``suspended``.
   An incoming ``extends`` relation moves ``until`` of the suspensions it extends to its own
   ``until`` (the latest one wins when several extend the same window). It applies to the
   suspensions made by the document it targets (``延长第70号公告的暂停期限``; the caller includes
   such relations in ``incoming``) or, when it targets this document, to its suspensions with the
   same clause (all of them when the extension names no clause).
5. ``in_force``: effective (or published) on or before ``on``.
6. ``unknown``: nothing above applies and neither an effective nor a published date is known.

``until`` on the result is the last day of the current suspension (None when open-ended),
``by`` the keys of the documents causing the status, ``clauses`` the suspended clauses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from pipeline.records import DatedEvent, LegalStatus, Relation

Incoming = Sequence[tuple[str, Relation]]
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Suspension:
    source: str
    clause: str | None
    since: date | None
    until: date | None  # after extensions
    extended_by: tuple[str, ...] = ()

    def active(self, on: date) -> bool:
        return (self.since is None or self.since <= on) and (self.until is None or on <= self.until)


def _own_date(dates: Sequence[DatedEvent], kind: str) -> date | None:
    found = [d.date for d in dates if d.type == kind and d.clause is None]
    return min(found) if found else None


def _start_date(effective: date | None, published: date | None, dates: Sequence[DatedEvent]) -> date | None:
    return effective or _own_date(dates, "effective") or published or _own_date(dates, "published")


def _suspensions(incoming: Incoming) -> list[_Suspension]:
    suspends = [(src, rel) for src, rel in incoming if rel.type == "suspends"]
    extends = [(src, rel) for src, rel in incoming if rel.type == "extends" and rel.until is not None]
    suspender_keys = {src for src, _ in suspends}
    result: list[_Suspension] = []
    for src, rel in suspends:
        until, by = rel.until, []
        for ext_src, ext in extends:
            via_suspender = ext.target_key == src
            direct = ext.target_key not in suspender_keys and (ext.clause is None or ext.clause == rel.clause)
            if (via_suspender or direct) and ext.until is not None and (until is None or ext.until > until):
                until, by = ext.until, [*by, ext_src]
        result.append(_Suspension(src, rel.clause, rel.since, until, tuple(by)))
    return result


def _repealers(incoming: Incoming, on: date) -> list[str]:
    return [
        src
        for src, rel in incoming
        if rel.type in ("repeals", "supersedes") and rel.clause is None and (rel.since is None or rel.since <= on)
    ]


def legal_status(
    *,
    on: date,
    effective: date | None,
    published: date | None,
    dates: Sequence[DatedEvent] = (),
    incoming: Incoming = (),
) -> LegalStatus:
    """The legal status of one document on day ``on``.

    Example:
        >>> from pipeline.records import Relation
        >>> rel = Relation("suspends", "x:2025:1", "2025年第1号", until=date(2026, 11, 10))
        >>> legal_status(on=date(2026, 1, 1), effective=date(2025, 11, 8), published=date(2025, 10, 9),
        ...              dates=(), incoming=[("y:2025:9", rel)]).status
        'suspended'
    """
    repealed_on = _own_date(dates, "repealed")
    if repealed_on is not None and repealed_on <= on:
        return LegalStatus(on=on, status="repealed", note=f"repealed on {repealed_on.isoformat()}")
    repealers = _repealers(incoming, on)
    if repealers:
        return LegalStatus(on=on, status="repealed", by=tuple(repealers), note=f"repealed by {', '.join(repealers)}")
    expires = _own_date(dates, "expires")
    if expires is not None and expires < on:
        return LegalStatus(on=on, status="expired", note=f"valid until {expires.isoformat()}")
    start = _start_date(effective, published, dates)
    if start is not None and on < start:
        return LegalStatus(on=on, status="not_yet_effective", note=f"takes effect on {start.isoformat()}")
    active = [s for s in _suspensions(incoming) if s.active(on)]
    whole = [s for s in active if s.clause is None]
    if active:
        chosen = whole or active
        untils = [s.until for s in chosen]
        until = None if None in untils else max(u for u in untils if u is not None)
        by = tuple(dict.fromkeys([s.source for s in chosen] + [e for s in chosen for e in s.extended_by]))
        clauses = () if whole else tuple(dict.fromkeys(s.clause for s in active if s.clause))
        through = f" through {until.isoformat()}" if until else " until further notice"
        label = "suspended" if whole else "partly_suspended"
        what = "" if whole else f" ({', '.join(clauses)})"
        return LegalStatus(on=on, status=label, until=until, by=by, clauses=clauses,
                           note=f"{label}{what} by {', '.join(by)}{through}")
    if start is None:
        return LegalStatus(on=on, status="unknown", note="no effective or published date known")
    pending = sorted({d.date for d in dates if d.type == "effective" and d.clause and d.date > on})
    note = f"some clauses take effect on {pending[0].isoformat()}" if pending else ""
    return LegalStatus(on=on, status="in_force", note=note)


def _candidate_days(effective: date | None, published: date | None, dates: Sequence[DatedEvent],
                    incoming: Incoming) -> set[date]:
    days: set[date] = set()
    start = _start_date(effective, published, dates)
    if start:
        days.add(start)
    for d in dates:
        if d.type in ("repealed", "effective", "published"):
            days.add(d.date)
        elif d.type == "expires":
            days.add(d.date + _ONE_DAY)
    for s in _suspensions(incoming):
        if s.since:
            days.add(s.since)
        if s.until:
            days.add(s.until + _ONE_DAY)
    for _, rel in incoming:
        if rel.type in ("repeals", "supersedes") and rel.since:
            days.add(rel.since)
    return days


def status_timeline(
    *,
    start: date,
    effective: date | None,
    published: date | None,
    dates: Sequence[DatedEvent] = (),
    incoming: Incoming = (),
) -> list[tuple[date, LegalStatus]]:
    """The status on ``start`` followed by every later day on which it changes.

    Example:
        >>> [(d.isoformat(), s.status) for d, s in status_timeline(start=date(2025, 1, 1),
        ...     effective=date(2025, 3, 1), published=date(2025, 2, 1))]
        [('2025-01-01', 'not_yet_effective'), ('2025-03-01', 'in_force')]
    """
    def at(day: date) -> LegalStatus:
        return legal_status(on=day, effective=effective, published=published, dates=dates, incoming=incoming)

    current = at(start)
    timeline = [(start, current)]
    for day in sorted(d for d in _candidate_days(effective, published, dates, incoming) if d > start):
        status = at(day)
        if (status.status, status.clauses) != (current.status, current.clauses):
            timeline.append((day, status))
            current = status
    return timeline


def next_transition(
    *,
    on: date,
    effective: date | None,
    published: date | None,
    dates: Sequence[DatedEvent] = (),
    incoming: Incoming = (),
) -> tuple[date, str] | None:
    """The first day after ``on`` on which the status changes, and the new status; None if none is known.

    A suspension "至2026年11月10日" ends with the document back in force on 11 November.

    Example:
        >>> next_transition(on=date(2025, 1, 1), effective=date(2025, 3, 1), published=None)
        (datetime.date(2025, 3, 1), 'in_force')
    """
    timeline = status_timeline(start=on, effective=effective, published=published, dates=dates, incoming=incoming)
    if len(timeline) < 2:
        return None
    day, status = timeline[1]
    return day, status.status


__all__ = ["legal_status", "next_transition", "status_timeline"]
