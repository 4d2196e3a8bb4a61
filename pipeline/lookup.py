"""Read-side helpers shared by the CLI and alerts: records of stored versions, and legal status on a day
computed by ``pipeline.core.status`` over the relation graph gathered here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from collections.abc import Sequence
from typing import Any

from pipeline.core.records import DocumentRecord, LegalStatus, Relation, record_from_json
from pipeline.core.deadlines import Deadline, deadlines_of, transition_deadlines
from pipeline.core.status import StatusChange, document_start, legal_status, status_timeline
from store import Store


@dataclass(frozen=True)
class StoredVersion:
    document: Any  # store Document row
    version: Any  # store Version row
    record: DocumentRecord


def load_version(store: Store, key: str, number: int | None = None) -> StoredVersion:
    """The record of version ``number`` (default: latest) of the document ``key`` (raises NotFound)."""
    document = store.document(key)
    row = store.version(document.id, number) if number is not None else store.latest_version(document.id)
    record = record_from_json(row.fields, canonical_text=row.canonical_text, content_hash=row.content_hash)
    return StoredVersion(document, row, record)


def _relation(row: Any) -> Relation:
    return Relation(row.type, row.target_key, row.target_text or "", row.until, row.clause, row.evidence or "",
                    row.since)


def incoming_relations(store: Store, key: str) -> list[tuple[str, Relation]]:
    """The relations of other documents' latest versions that target ``key``, as ``(source_key, Relation)``."""
    return [(row.source_key, _relation(row)) for row in store.relations_to(key)]


def own_record(store: Store, key: str) -> DocumentRecord | None:
    """The latest stored record of ``key``, or None for a document regwatch has never fetched."""
    from store.errors import NotFound

    try:
        return load_version(store, key).record
    except NotFound:
        return None


# How far the relation graph is followed from a document: A suspends it (1), C extends A (2),
# D extends C (3), ... Real chains are short; the cap bounds a pathological store.
MAX_DEPTH = 8


def _followed(rel: Relation, depth: int) -> bool:
    """Whether acts on ``rel``'s source can reach the document: a suspender of it (its period is
    extended, it is repealed, lifted) and an extension (extended again, repealed)."""
    return (rel.type == "suspends" and depth == 0) or rel.type == "extends" or (
        rel.type == "amends" and rel.until is not None)


class StatusReader:
    """Store reads behind legal status, each done once per reader (one command or reminder run).

    ``graph(key)`` gathers the relation graph around a document: the relations targeting it, then
    the relations targeting each document that suspends or extends it, transitively (breadth
    first, at most ``MAX_DEPTH`` levels, each document visited once, so a cycle ends).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._records: dict[str, DocumentRecord | None] = {}
        self._relations: dict[str, list[tuple[str, Relation]]] = {}

    def record(self, key: str) -> DocumentRecord | None:
        if key not in self._records:
            self._records[key] = own_record(self.store, key)
        return self._records[key]

    def relations_to(self, key: str) -> list[tuple[str, Relation]]:
        if key not in self._relations:
            self._relations[key] = incoming_relations(self.store, key)
        return self._relations[key]

    def graph(self, key: str) -> list[tuple[str, Relation]]:
        out: list[tuple[str, Relation]] = []
        seen, frontier = {key}, [key]
        for depth in range(MAX_DEPTH):
            next_frontier: list[str] = []
            for node in frontier:
                for source, rel in self.relations_to(node):
                    out.append((source, rel))
                    if source and source not in seen and _followed(rel, depth):
                        seen.add(source)
                        next_frontier.append(source)
            if not next_frontier:
                break
            frontier = next_frontier
        return out

    def starts(self, graph: Sequence[tuple[str, Relation]]) -> dict[str, date | None]:
        """The day each source document of ``graph`` takes effect (None when not stored or undated)."""
        out: dict[str, date | None] = {}
        for source, _ in graph:
            if source and source not in out:
                record = self.record(source)
                out[source] = document_start(record.effective, record.published, record.dates) if record else None
        return out

    def published(self, key: str) -> date | None:
        record = self.record(key)
        return record.published if record else None

    def _inputs(self, key: str) -> dict[str, Any]:
        graph = self.graph(key)
        record = self.record(key)
        if record is None and not any(rel.target_key == key for _, rel in graph):
            self.store.document(key)  # raises NotFound with its hint
        return {"key": key, "incoming": graph, "starts": self.starts(graph),
                "effective": record.effective if record else None, "published": record.published if record else None,
                "dates": record.dates if record else ()}

    def status(self, key: str, on: date) -> LegalStatus:
        return legal_status(on=on, **self._inputs(key))

    def timeline(self, key: str, start: date | None) -> list[StatusChange]:
        return status_timeline(start=start, **self._inputs(key))


def status_of(store: Store, key: str, on: date) -> LegalStatus:
    """Legal status of ``key`` on ``on`` from its own latest version (if stored) and the relation graph around it.

    A document regwatch has never fetched can still be suspended or repealed by one it has
    (raises NotFound when neither is the case).
    """
    return StatusReader(store).status(key, on)


def timeline_of(store: Store, key: str, start: date | None) -> list[StatusChange]:
    """The status of ``key`` on ``start`` and every later change with the document behind it
    (``start=None``: from the first day anything is known)."""
    return StatusReader(store).timeline(key, start)


def _followed_type(kind: str, until: date | None) -> bool:
    """Whether a relation of this type can carry its source's acts to its target (``_followed`` at any depth)."""
    return kind in ("suspends", "extends") or (kind == "amends" and until is not None)


def deadline_candidates(store: Store, start: date) -> list[str]:
    """The keys that can have a status change after ``start``: a superset of the keys
    ``collect_deadlines`` reports, found without reading every document.

    A change after ``start`` falls on a candidate day of ``pipeline.core.status.status_timeline``: one
    of the document's own dates, a ``since``/``until`` of a relation in its graph, or the start
    (effective or publication date) of a document stating such a relation. So the candidates
    are the documents with an own date on or after ``start``, the targets of relations that are
    dated on or after it or stated by such a document, and the documents those targets act on
    through suspensions and extensions (an extension of a suspender moves the suspended
    document's dates), followed as far as ``StatusReader.graph`` follows them.
    """
    own, targets = store.dated_keys(start)
    found = own | targets
    frontier = targets
    for _ in range(MAX_DEPTH):
        reached = {target for _, kind, target, until in store.targets_of(frontier)
                   if _followed_type(kind, until)} - found
        if not reached:
            break
        found |= reached
        frontier = reached
    return sorted(found)


def collect_deadlines(store: Store, start: date, *, reader: StatusReader | None = None) -> list[Deadline]:
    """Every status change after ``start`` of every stored or acted-on document, by date.

    Only the ``deadline_candidates`` are read (work proportional to what is dated near or after
    ``start``, not to the database). Timelines are read from the beginning, so a deadline knows
    every earlier end date it moved from, however long ago the move was. ``reader`` shares its
    reads with other calls of the same run.
    """
    reader = reader or StatusReader(store)  # each document and its relations read once
    found = [d for key in deadline_candidates(store, start) for d in deadlines_of_key(reader, key, start)]
    return sorted(found, key=lambda d: (d.starts, d.doc_key, d.kind))


def deadlines_of_key(reader: StatusReader, key: str, start: date) -> list[Deadline]:
    """The deadlines of one document after ``start``: its status transitions and the ends of its
    transitional periods."""
    def announced(by: Sequence[str]) -> date | None:
        days = [d for d in (reader.published(k) for k in (by or (key,))) if d is not None]
        return max(days) if days else None

    found = [d for d in deadlines_of(key, reader.timeline(key, None), announced) if d.starts > start]
    record = reader.record(key)
    if record is not None and any(e.type == "transition_until" and e.date >= start for e in record.dates):
        found.extend(d for d in transition_deadlines(key, record.dates, lambda on: reader.status(key, on),
                                                     record.published) if d.starts > start)
    return found


def deadlines_around(store: Store, day: date, *, days: int, past: int) -> list[Deadline]:
    """The scheduled deadlines from ``past`` days before ``day`` to ``days`` after it (the
    ``deadlines`` command and the web view's page)."""
    end = day + timedelta(days=days)
    return [d for d in collect_deadlines(store, day - timedelta(days=past)) if d.scheduled and d.starts <= end]


def deadline_json(d: Deadline, day: date) -> dict[str, Any]:
    """One deadline as the CLI's and the web view's JSON show it, seen from ``day``."""
    return {"doc_key": d.doc_key, "kind": d.kind, "day": d.day, "starts": d.starts, "days_left": (d.day - day).days,
            "before": status_json(d.before), "after": status_json(d.after), "by": list(d.by), "cause": d.cause,
            "clause": d.clause, "description": d.describe(),
            "moves": [{"from": m.old, "to": m.new, "on": m.on, "by": m.by} for m in d.moves]}


def change_json(change: StatusChange) -> dict[str, Any]:
    return {"day": change.day.isoformat(), "cause": change.cause, **status_json(change.status)}


def status_json(status: LegalStatus) -> dict[str, Any]:
    return {
        "on": status.on.isoformat(),
        "status": status.status,
        "until": status.until.isoformat() if status.until else None,
        "by": list(status.by),
        "clauses": list(status.clauses),
        "note": status.note,
    }


__all__ = ["MAX_DEPTH", "StatusReader", "StoredVersion", "change_json", "collect_deadlines", "deadline_candidates", "deadline_json", "deadlines_around", "deadlines_of_key", "incoming_relations",
           "load_version", "own_record", "status_json", "status_of", "timeline_of"]
