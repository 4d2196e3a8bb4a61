"""Legal status of a document on a given day, computed over the graph of relations around it.

Pure functions. The caller passes the day (``on``), the document's own dates, its ``key`` and
``incoming``: the relations of the graph around it as ``(source_key, Relation)`` pairs, i.e. the
relations that target the document *and* the relations that target a document relating to it
(A suspends the document; C extends A's suspension; D extends C's; R repeals A; ...). ``starts``
gives the day each source document takes effect (its effective date, else its publication), used
for a relation that states no ``since`` of its own. ``pipeline.lookup`` gathers both from the store.

Precedence, first match wins:

1. ``repealed``: the document's own ``repealed`` date is on or before ``on``, or a ``repeals`` /
   ``supersedes`` relation (for the whole document) targeting it has begun (its start is on or
   before ``on``; an unknown start means "already in effect").
2. ``expired``: the own ``expires`` date (有效期至, the last valid day) is before ``on``.
3. ``not_yet_effective``: ``on`` is before the effective date (the published date when no
   effective date is known).
4. ``suspended`` / ``partly_suspended``: a suspension window is open on ``on`` (see below). A
   window with a clause (``第二条``) makes the document ``partly_suspended`` with that clause
   listed; any whole-document window makes it ``suspended``.
5. ``in_force``: effective (or published) on or before ``on``. A document whose own dates are
   unknown (known only from the documents acting on it) is inferred back in force once a
   suspension of it has ended, and said so in the note.
6. ``unknown``: nothing above applies and neither an effective nor a published date is known.

Suspension windows. Each ``suspends`` relation of a document A on this document opens a window
from its ``since`` (unknown: already started) *through* its ``until``: both ends are inclusive,
"自即日起至2026年11月10日暂停实施" is suspended on 10 November and back in force on 11 November
(unknown ``until``: open-ended). The end of the window is then moved by the events that reach it,
each from its own start day (the relation's ``since``, else the start of the document stating it):

* ``extends`` (or an ``amends`` that states a new end date) targeting A, or targeting a document
  that itself extends A's window (a chain: D extends C, C extends A), or targeting this document
  directly (same clause, or no clause): the end becomes the extension's ``until``.
* ``resumes`` (恢复实施) targeting this document (same clause, or no clause) or A: the window ends
  the day before the resumption starts.
* ``repeals`` / ``supersedes`` of A: the window ends the day before the repeal starts. A repealed
  extension stops counting from its repeal.

An ``extends`` targeting this document with no known suspension of it changes nothing: the
tagger gives the same relation for "extends the suspension of X" and "extends the period set by
X", and X is then usually the suspending notice. A window closed by a resumption or a repeal of its suspender stays closed: a later extension of
A's period acts on what A still suspends, not on what was lifted (only a new ``suspends`` does).

On a day ``on`` only the events that have started by then count, applied in the order they
start: the latest one in force on that day decides. So an extension published before the old end
moves it with no gap; one published after the old end does not reach back (the document was in
force in between, and is suspended again from the extension's start through its new end); and the
status on a day before an extension was published gives the end date as known on that day (the
timeline shows the move as a change of ``until``).

``until`` on the result is the last day of the current suspension (None when open-ended),
``by`` the keys of the documents causing the status (the suspender first, then the extensions
that moved the end), ``clauses`` the suspended clauses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from pipeline.core.records import DatedEvent, LegalStatus, Relation

Incoming = Sequence[tuple[str, Relation]]
Starts = Mapping[str, date | None]
_ONE_DAY = timedelta(days=1)
_ENDS = ("repeals", "supersedes")
_SUSPENDED = ("suspended", "partly_suspended")


@dataclass(frozen=True, slots=True)
class StatusChange:
    """On ``day`` the status becomes ``status``; ``cause`` is the key of the document whose act
    (or date) made it change, None for the document's own dates (and for a first entry that is not
    the first day anything is known)."""

    day: date
    status: LegalStatus
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class _Event:
    kind: str  # "extend" (sets the end) | "end" (closes the window from ``start``)
    source: str
    start: date | None  # None: in effect from the beginning
    until: date | None = None

    def order(self) -> tuple[date, int, date]:
        return (self.start or date.min, 0 if self.kind == "extend" else 1, self.until or date.min)


@dataclass(frozen=True, slots=True)
class _Window:
    source: str
    clause: str | None
    since: date | None
    until: date | None
    events: tuple[_Event, ...] = ()
    stops: Mapping[str, date | None] = field(default_factory=dict)  # repeal start of an extension

    def state(self, on: date) -> _WindowState | None:
        """The window as it stands on ``on`` (None before it starts)."""
        if self.since is not None and on < self.since:
            return None
        end, by, ended_by = self.until, [self.source], None
        for ev in self.events:
            if ev.start is not None and ev.start > on:
                continue
            if ev.kind == "extend":
                if ev.source in self.stops and (self.stops[ev.source] is None or self.stops[ev.source] <= on):
                    continue
                end, ended_by = ev.until, None
                by.append(ev.source)
            elif ev.start is None:
                return _WindowState(False, None, tuple(dict.fromkeys(by)), ev.source, ended=True)
            else:  # lifted or its suspender repealed: closed for good, later extensions do not reopen it
                if end is None or ev.start - _ONE_DAY < end:
                    end, ended_by = ev.start - _ONE_DAY, ev.source
                break
        active = end is None or on <= end
        return _WindowState(active, end, tuple(dict.fromkeys(by)), ended_by, ended=not active)

    def days(self) -> list[tuple[date, int, str]]:
        """Candidate days on which this window may change the status: (day, priority, cause)."""
        out: list[tuple[date, int, str]] = []
        if self.since:
            out.append((self.since, 2, self.source))
        if self.until:
            out.append((self.until + _ONE_DAY, 3, self.source))
        for ev in self.events:
            if ev.start:
                out.append((ev.start, 0 if ev.kind == "end" else 1, ev.source))
            if ev.kind == "extend" and ev.until:
                out.append((ev.until + _ONE_DAY, 3, ev.source))
        out.extend((stop, 1, src) for src, stop in self.stops.items() if stop)
        return out


@dataclass(frozen=True, slots=True)
class _WindowState:
    active: bool
    end: date | None
    by: tuple[str, ...]
    ended_by: str | None  # the document that closed the window early (resumption, repeal of the suspender)
    ended: bool


@dataclass(frozen=True, slots=True)
class _Graph:
    """What the relations around one document say about it, computed once per call."""

    windows: tuple[_Window, ...]
    repeals: tuple[tuple[str, date | None], ...]  # (repealing document, start)

    @classmethod
    def build(cls, key: str | None, incoming: Incoming, starts: Starts) -> _Graph:
        sources = {src for src, _ in incoming}

        def direct(rel: Relation) -> bool:
            if key is not None:
                return rel.target_key == key
            return rel.target_key is not None and rel.target_key not in sources

        def start(src: str, rel: Relation) -> date | None:
            return rel.since or starts.get(src)

        windows = [_window(src, rel, incoming, direct, start)
                   for src, rel in incoming if rel.type == "suspends" and direct(rel)]
        repeals = tuple((src, start(src, rel)) for src, rel in incoming
                        if rel.type in _ENDS and rel.clause is None and direct(rel))
        return cls(tuple(windows), repeals)

    def repealers(self, on: date) -> list[str]:
        return list(dict.fromkeys(src for src, begins in self.repeals if begins is None or begins <= on))

    def days(self) -> list[tuple[date, int, str]]:
        out = [d for w in self.windows for d in w.days()]
        out.extend((begins, 0, src) for src, begins in self.repeals if begins)
        return out


def _moves_end(rel: Relation) -> bool:
    return rel.until is not None and rel.type in ("extends", "amends")


def _window(src: str, susp: Relation, incoming: Incoming, direct: Callable[[Relation], bool],
            start: Callable[[str, Relation], date | None]) -> _Window:
    """The window opened by ``src``'s suspension ``susp``, with every event of the graph that reaches it."""

    def same_clause(rel: Relation) -> bool:
        return rel.clause is None or rel.clause == susp.clause

    def after_start(begins: date | None) -> bool:  # acts on this window, not on an earlier one
        return begins is None or susp.since is None or begins >= susp.since

    def extends_it(x: str, rel: Relation, members: set[str]) -> bool:
        if not _moves_end(rel) or x == rel.target_key:
            return False
        if rel.target_key in members:
            return True
        return rel.type == "extends" and direct(rel) and same_clause(rel) and after_start(start(x, rel))

    members = {src}
    grown = True
    while grown:  # the documents extending the window, transitively (a cycle only re-adds members)
        grown = False
        for x, rel in incoming:
            if x not in members and extends_it(x, rel, members):
                members.add(x)
                grown = True
    events: list[_Event] = []
    stops: dict[str, date | None] = {}
    for x, rel in incoming:
        begins = start(x, rel)
        if x != src and extends_it(x, rel, members):
            events.append(_Event("extend", x, begins, rel.until))
        elif rel.type == "resumes" and (rel.target_key in members or (direct(rel) and same_clause(rel))):
            if after_start(begins):
                events.append(_Event("end", x, begins))
        elif rel.type in _ENDS and rel.clause is None and rel.target_key in members:
            if rel.target_key == src:
                events.append(_Event("end", x, begins))
            else:
                known = stops.get(rel.target_key, date.max)
                stops[rel.target_key] = None if begins is None or known is None else min(begins, known)
    return _Window(src, susp.clause, susp.since, susp.until, tuple(sorted(events, key=_Event.order)), stops)


def _own_date(dates: Sequence[DatedEvent], kind: str) -> date | None:
    found = [d.date for d in dates if d.type == kind and d.clause is None]
    return min(found) if found else None


def document_start(effective: date | None, published: date | None, dates: Sequence[DatedEvent] = ()) -> date | None:
    """The day a document takes effect: its effective date, else its publication (None if unknown).

    Example:
        >>> document_start(None, date(2031, 5, 6))
        datetime.date(2031, 5, 6)
    """
    return effective or _own_date(dates, "effective") or published or _own_date(dates, "published")


def _status(on: date, effective: date | None, published: date | None, dates: Sequence[DatedEvent],
            graph: _Graph) -> LegalStatus:
    repealed_on = _own_date(dates, "repealed")
    if repealed_on is not None and repealed_on <= on:
        return LegalStatus(on=on, status="repealed", note=f"repealed on {repealed_on.isoformat()}")
    repealers = graph.repealers(on)
    if repealers:
        return LegalStatus(on=on, status="repealed", by=tuple(repealers), note=f"repealed by {', '.join(repealers)}")
    expires = _own_date(dates, "expires")
    if expires is not None and expires < on:
        return LegalStatus(on=on, status="expired", note=f"valid until {expires.isoformat()}")
    start = document_start(effective, published, dates)
    if start is not None and on < start:
        return LegalStatus(on=on, status="not_yet_effective", note=f"takes effect on {start.isoformat()}")
    states = [(w, s) for w in graph.windows if (s := w.state(on)) is not None]
    active = [(w, s) for w, s in states if s.active]
    if active:
        whole = [(w, s) for w, s in active if w.clause is None]
        chosen = whole or active
        ends = [s.end for _, s in chosen]
        until = None if None in ends else max(e for e in ends if e is not None)
        by = tuple(dict.fromkeys(k for _, s in chosen for k in s.by))
        clauses = () if whole else tuple(dict.fromkeys(w.clause for w, _ in active if w.clause))
        through = f" through {until.isoformat()}" if until else " until further notice"
        label = "suspended" if whole else "partly_suspended"
        what = "" if whole else f" ({', '.join(clauses)})"
        return LegalStatus(on=on, status=label, until=until, by=by, clauses=clauses,  # type: ignore[arg-type]
                           note=f"{label}{what} by {', '.join(by)}{through}")
    if start is None:
        ended = [(w, s) for w, s in states if s.ended and s.end is not None]
        if not ended:
            return LegalStatus(on=on, status="unknown", note="no effective or published date known")
        window, last = max(ended, key=lambda item: item[1].end or date.min)
        how = f"lifted by {last.ended_by} from {(last.end + _ONE_DAY).isoformat()}" if last.ended_by else (  # type: ignore[operator]
            f"ended {last.end.isoformat()}")  # type: ignore[union-attr]
        by = tuple(dict.fromkeys((*last.by, *((last.ended_by,) if last.ended_by else ()))))
        return LegalStatus(on=on, status="in_force", by=by,
                           note=f"inferred: suspension by {window.source} {how}; the document's own dates are unknown")
    pending = sorted({d.date for d in dates if d.type == "effective" and d.clause and d.date > on})
    note = f"some clauses take effect on {pending[0].isoformat()}" if pending else ""
    return LegalStatus(on=on, status="in_force", note=note)


def legal_status(
    *,
    on: date,
    effective: date | None,
    published: date | None,
    dates: Sequence[DatedEvent] = (),
    incoming: Incoming = (),
    key: str | None = None,
    starts: Starts | None = None,
) -> LegalStatus:
    """The legal status of one document on day ``on``.

    ``key`` is the document's own key: relations targeting it act on it, the others are the graph
    around it. Without ``key``, relations targeting a document that is not a source in ``incoming``
    are taken as acting on it.

    Example:
        >>> from pipeline.core.records import Relation
        >>> a = Relation("suspends", "x:2031:1", "2031年第1号", since=date(2031, 1, 5), until=date(2031, 11, 10))
        >>> c = Relation("extends", "x:2031:9", "2031年第9号", until=date(2032, 1, 10))
        >>> graph = [("x:2031:9", a), ("x:2031:30", c)]
        >>> day = lambda d: legal_status(on=d, effective=date(2031, 1, 1), published=None, key="x:2031:1",
        ...                              incoming=graph, starts={"x:2031:30": date(2031, 10, 30)})
        >>> [(s.status, s.until and s.until.isoformat()) for s in (day(date(2031, 10, 1)), day(date(2031, 11, 11)))]
        [('suspended', '2031-11-10'), ('suspended', '2032-01-10')]
    """
    return _status(on, effective, published, dates, _Graph.build(key, incoming, starts or {}))


def _candidate_days(effective: date | None, published: date | None, dates: Sequence[DatedEvent],
                    graph: _Graph) -> dict[date, list[tuple[int, str | None]]]:
    days: dict[date, list[tuple[int, str | None]]] = {}
    start = document_start(effective, published, dates)
    own = [start] if start else []
    for d in dates:
        if d.type in ("repealed", "effective", "published"):
            own.append(d.date)
        elif d.type == "expires":
            own.append(d.date + _ONE_DAY)
    for day in own:
        days.setdefault(day, []).append((4, None))
    for day, priority, cause in graph.days():
        days.setdefault(day, []).append((priority, cause))
    return days


def _cause(candidates: list[tuple[int, str | None]], before: LegalStatus, after: LegalStatus) -> str | None:
    """The document behind a change: the most direct act of the day that the statuses name; else the
    document the new status names first (taking effect while suspended: the suspender); else the
    most direct act of the day (None: the document's own dates)."""
    ordered = [c for _, c in sorted(candidates, key=lambda pc: pc[0])]
    named = set(before.by) | set(after.by)
    found = next((c for c in ordered if c in named), None)
    if found is None and after.by and after.status in _SUSPENDED:
        return after.by[0]
    return found or (ordered[0] if ordered else None)


def status_timeline(
    *,
    start: date | None,
    effective: date | None,
    published: date | None,
    dates: Sequence[DatedEvent] = (),
    incoming: Incoming = (),
    key: str | None = None,
    starts: Starts | None = None,
) -> list[StatusChange]:
    """The status on ``start`` followed by every later day on which it changes (status, clauses or
    end of the suspension), with the document that caused each change. ``start=None`` starts on the
    first day anything is known (an empty list when nothing is).

    Example:
        >>> [(c.day.isoformat(), c.status.status) for c in status_timeline(start=date(2031, 1, 1),
        ...     effective=date(2031, 3, 1), published=date(2031, 2, 1))]
        [('2031-01-01', 'not_yet_effective'), ('2031-03-01', 'in_force')]
    """
    graph = _Graph.build(key, incoming, starts or {})
    candidates = _candidate_days(effective, published, dates, graph)
    if start is None:
        if not candidates:
            return []
        start = min(candidates)
    current = _status(start, effective, published, dates, graph)
    first = _cause(candidates[start], LegalStatus(start, "unknown"), current) if start in candidates else None
    timeline = [StatusChange(start, current, first)]
    for day in sorted(d for d in candidates if d > start):
        status = _status(day, effective, published, dates, graph)
        if (status.status, status.clauses, status.until) != (current.status, current.clauses, current.until):
            timeline.append(StatusChange(day, status, _cause(candidates[day], current, status)))
            current = status
    return timeline


def next_transition(
    *,
    on: date,
    effective: date | None,
    published: date | None,
    dates: Sequence[DatedEvent] = (),
    incoming: Incoming = (),
    key: str | None = None,
    starts: Starts | None = None,
) -> tuple[date, str] | None:
    """The first day after ``on`` on which the status (or its clauses) changes, and the new status;
    None if none is known. A moved end date is not a transition.

    A suspension "至2026年11月10日" ends with the document back in force on 11 November.

    Example:
        >>> next_transition(on=date(2031, 1, 1), effective=date(2031, 3, 1), published=None)
        (datetime.date(2031, 3, 1), 'in_force')
    """
    timeline = status_timeline(start=on, effective=effective, published=published, dates=dates,
                               incoming=incoming, key=key, starts=starts)
    first = timeline[0].status
    for change in timeline[1:]:
        if (change.status.status, change.status.clauses) != (first.status, first.clauses):
            return change.day, change.status.status
    return None


__all__ = ["StatusChange", "document_start", "legal_status", "next_transition", "status_timeline"]
