"""Decide what a new version means for people: which alerts to raise, with which facts (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.headline import headline
from pipeline.core.records import DocumentRecord, FieldChange, TextDiff

_RELATION_WORDS = {
    "suspends": "suspended",
    "extends": "suspension extended",
    "repeals": "repealed",
    "supersedes": "superseded",
    "amends": "amended",
    "resumes": "suspension lifted",
}
# Field changes that move legal status or scope get a higher severity than wording edits
# (names as in pipeline.core.fielddiff; typed dates are ``dates.<type>``).
_LEGAL_FIELDS = {"effective", "code", "relation", "doc_number"}


def _is_legal(change: FieldChange) -> bool:
    return change.field in _LEGAL_FIELDS or change.field.startswith("dates.")


@dataclass(frozen=True, slots=True)
class AlertRequest:
    """An alert to put in the outbox; ``dedup_key`` makes enqueueing idempotent."""

    dedup_key: str
    kind: str  # new | changed | withdrawn | status | deadline | source_health
    severity: str  # info | warning | critical
    source: str
    doc_key: str | None
    title: str
    summary: str
    url: str
    facts: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    diff_text: str | None = None
    headline: str | None = None  # English (pipeline.core.headline)


def record_facts(record: DocumentRecord) -> tuple[tuple[str, str], ...]:
    """The facts a lawyer wants on the first screen: number, dates, codes, relations."""
    facts: list[tuple[str, str]] = []
    if record.doc_number:
        facts.append(("Number", record.doc_number.text or record.doc_number.key))
    for label, value in (("Published", record.published), ("Effective", record.effective)):
        if value:
            facts.append((label, value.isoformat()))
    for event in record.dates:
        if event.type in ("suspended_until", "expires", "repealed", "transition_until"):
            clause = f" ({event.clause})" if event.clause else ""
            facts.append((event.type.replace("_", " ").capitalize() + clause, event.date.isoformat()))
    codes = sorted({c.code for c in record.codes})
    if codes:
        facts.append(("Codes", ", ".join(codes[:30]) + (" …" if len(codes) > 30 else "")))
    if record.elements:
        facts.append(("Elements", ", ".join(sorted(set(record.elements)))))
    for rel in record.relations:
        until = f" until {rel.until.isoformat()}" if rel.until else ""
        clause = f" {rel.clause}" if rel.clause else ""
        facts.append((f"{rel.type.capitalize()}", f"{rel.target_key or rel.target_text}{clause}{until}"))
    return tuple(facts[:10])


def record_tags(record: DocumentRecord) -> tuple[str, ...]:
    tags = [f"code:{c.code}" for c in record.codes]
    tags += [f"element:{e}" for e in record.elements]
    tags += [f"relation:{r.type}" for r in record.relations]
    tags += [f"date:{d.type}" for d in record.dates]
    return tuple(dict.fromkeys(tags))


def version_alerts(*, version_id: int, previous: DocumentRecord | None, current: DocumentRecord,
                   field_changes: list[FieldChange], text_diff: TextDiff | None, summary: str,
                   diff_text: str | None) -> list[AlertRequest]:
    """Alerts for one new version: ``new`` for a first version, ``changed`` otherwise, plus one
    ``status`` alert per document whose legal status this version changes; every one carries the
    English headline of ``current`` (for a status alert: of the document that acts)."""
    title = current.title or current.url
    english = headline(current)
    alerts: list[AlertRequest] = []
    if previous is None:
        alerts.append(AlertRequest(
            dedup_key=f"version:{version_id}", kind="new",
            severity="warning" if current.relations or current.codes else "info",
            source=current.source, doc_key=current.doc_key, title=title,
            summary=f"New document {current.doc_key or current.url}", url=current.url,
            facts=record_facts(current), tags=record_tags(current), headline=english,
        ))
        new_relations = list(current.relations)
    else:
        legal = any(_is_legal(c) for c in field_changes)
        facts = tuple((c.field, c.summary) for c in field_changes[:10]) or record_facts(current)
        alerts.append(AlertRequest(
            dedup_key=f"version:{version_id}", kind="changed", severity="warning" if legal else "info",
            source=current.source, doc_key=current.doc_key, title=title,
            summary=summary or "text changed", url=current.url, facts=facts,
            tags=record_tags(current), diff_text=diff_text, headline=english,
        ))
        old = {(r.type, r.target_key, r.clause, r.until) for r in previous.relations}
        new_relations = [r for r in current.relations if (r.type, r.target_key, r.clause, r.until) not in old]
    for rel in new_relations:
        word = _RELATION_WORDS.get(rel.type)
        if not word or not rel.target_key:
            continue
        until = f" until {rel.until.isoformat()}" if rel.until else ""
        clause = f" ({rel.clause})" if rel.clause else ""
        alerts.append(AlertRequest(
            dedup_key=f"status:{rel.target_key}:{rel.type}:{rel.clause}:{rel.until}:{current.doc_key or current.url}",
            kind="status", severity="critical" if rel.type in ("suspends", "repeals", "extends", "resumes") else "warning",
            source=current.source, doc_key=rel.target_key,
            title=f"{rel.target_key}{clause} {word}{until}",
            summary=f"{rel.target_key}{clause} {word}{until} by {current.doc_key or title}",
            url=current.url,
            facts=(("Target", rel.target_key), ("By", current.doc_key or title),
                   *((("Until", rel.until.isoformat()),) if rel.until else ()),
                   ("Evidence", rel.evidence[:300])),
            tags=(f"relation:{rel.type}",), headline=english,
        ))
    return alerts


def appearance_alert(*, appearance_id: int, current: DocumentRecord, reference_source: str | None,
                     authoritative: bool) -> AlertRequest:
    """An alert for a document seen on one more source (a copy, or the authoritative site).

    TODO(appearance alerts): unused on purpose. The kind ``appearance`` is not in
    ``alerts.base.KINDS`` yet (the alerts package decides its kinds, and routing must keep it off
    by default), so enqueueing this would be refused. Once the kind exists, call it from
    ``pipeline.process._record`` when ``result.appearance_created and not result.document_created``.

    Example:
        >>> from pipeline.core.records import DocumentRecord
        >>> rec = DocumentRecord(source="govcn", url="https://www.gov.cn/x.htm", title="令", language="zh", text="",
        ...                      canonical_text="", content_hash="h")
        >>> appearance_alert(appearance_id=7, current=rec, reference_source="miit", authoritative=False).dedup_key
        'appearance:7'
    """
    role = "the authoritative copy" if authoritative else "a copy"
    label = current.doc_key or current.url
    return AlertRequest(
        dedup_key=f"appearance:{appearance_id}", kind="appearance", severity="info", source=current.source,
        doc_key=current.doc_key, title=current.title or current.url,
        summary=f"{label} now also appears on {current.source} ({role}; reference: {reference_source or '-'})",
        url=current.url,
        facts=(("Source", current.source), ("Role", role), ("Reference", reference_source or "-")),
        tags=(f"appearance:{current.source}",),
    )


__all__ = ["AlertRequest", "appearance_alert", "record_facts", "record_tags", "version_alerts"]
