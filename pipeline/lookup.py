"""Read-side helpers shared by the CLI and alerts: records of stored versions and legal status on a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from collections.abc import Sequence
from typing import Any

from pipeline.records import DocumentRecord, LegalStatus, Relation, record_from_json
from pipeline.deadlines import Deadline, deadlines_of
from pipeline.status import legal_status, status_timeline
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


def incoming_relations(store: Store, key: str) -> list[tuple[str, Relation]]:
    out = []
    for row in store.relations_to(key):
        out.append((row.source_key, Relation(row.type, row.target_key, row.target_text or "", row.until,
                                             row.clause, row.evidence or "", row.since)))
    return out


def own_record(store: Store, key: str) -> DocumentRecord | None:
    """The latest stored record of ``key``, or None for a document regwatch has never fetched."""
    from store.errors import NotFound

    try:
        return load_version(store, key).record
    except NotFound:
        return None


def status_of(store: Store, key: str, on: date) -> LegalStatus:
    """Legal status of ``key`` on ``on`` from its own latest version (if stored) and relations pointing at it.

    A document regwatch has never fetched can still be suspended or repealed by one it has.
    """
    incoming = incoming_relations(store, key)
    record = own_record(store, key)
    if record is None:
        if not incoming:
            store.document(key)  # raises NotFound with its hint
        status = legal_status(on=on, effective=None, published=None, dates=(), incoming=incoming)
        return _inferred_after_suspension(status, incoming)
    return legal_status(on=on, effective=record.effective, published=record.published, dates=record.dates,
                        incoming=incoming)


def _inferred_after_suspension(status: LegalStatus, incoming: list[tuple[str, Relation]]) -> LegalStatus:
    """For a document known only from others' relations: once every suspension of it has ended
    (and nothing repealed it), it is back in force. Said so in the note, since its own dates are unknown."""
    if status.status != "unknown":
        return status
    ended = [(key, rel) for key, rel in incoming
             if rel.type in ("suspends", "extends") and rel.until is not None and rel.until < status.on]
    if not ended or any(rel.type in ("repeals", "supersedes") for _, rel in incoming):
        return status
    key, last = max(ended, key=lambda item: item[1].until)  # type: ignore[arg-type, return-value]
    return LegalStatus(on=status.on, status="in_force", by=(key,),
                       note=f"inferred: suspension by {key} ended {last.until.isoformat()}; "  # type: ignore[union-attr]
                            "the document itself has not been fetched")


def timeline_of(store: Store, key: str, start: date,
                record: DocumentRecord | None = None) -> list[tuple[date, LegalStatus]]:
    """The status of ``key`` on ``start`` and every later change, from stored dates and relations
    (``record``: the document's own record when the caller already has it)."""
    record = record or own_record(store, key)
    if record is None:
        return status_timeline(start=start, effective=None, published=None, incoming=incoming_relations(store, key))
    return status_timeline(start=start, effective=record.effective, published=record.published, dates=record.dates,
                           incoming=incoming_relations(store, key))


def collect_deadlines(store: Store, start: date) -> list[Deadline]:
    """Every status change after ``start`` of every stored or acted-on document, by date."""
    keys = sorted(set(store.document_keys()) | set(store.relation_targets()))
    records = {key: own_record(store, key) for key in keys}  # each document read once

    def published_of(key: str) -> date | None:
        if key not in records:
            records[key] = own_record(store, key)
        record = records[key]
        return record.published if record else None

    found = []
    for key in keys:
        def announced(by: Sequence[str], key: str = key) -> date | None:
            days = [d for d in (published_of(k) for k in (by or (key,))) if d is not None]
            return max(days) if days else None

        found.extend(deadlines_of(key, timeline_of(store, key, start, records[key]), announced))
    return sorted(found, key=lambda d: (d.starts, d.doc_key))


def status_json(status: LegalStatus) -> dict[str, Any]:
    return {
        "on": status.on.isoformat(),
        "status": status.status,
        "until": status.until.isoformat() if status.until else None,
        "by": list(status.by),
        "clauses": list(status.clauses),
        "note": status.note,
    }


__all__ = ["StoredVersion", "collect_deadlines", "incoming_relations", "load_version", "own_record", "status_json",
           "status_of", "timeline_of"]
