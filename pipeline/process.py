"""Stage 2: pending captures -> records -> immutable versions -> changes, tags, relations -> outbox alerts.

Every step reads from and writes to the store, so the stage can be rerun at any time and is
idempotent: a capture whose content is unchanged makes no new version and no new alert.
A page that cannot be read (challenge, empty, layout change) never becomes a version and never
marks a document deleted; it is recorded on the capture and raises a source-health alert.
A page that reads but lost its substance compared with the document's last version (see
``pipeline.misread``) is *held*: no version, a source-health warning, shown in ``regwatch status``
until a person releases it with ``regwatch process --accept CAPTURE`` (``accept_capture``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from alerts.base import Alert
from crawlers.errors import EmptyArticle, LayoutChanged, PageError, UndecodableBody
from pipeline.classify import AlertRequest, version_alerts
from pipeline.diff import diff_texts, diff_to_json
from pipeline.extract import extract_page
from pipeline.errors import UserError
from pipeline.fielddiff import field_changes, summarize
from pipeline.misread import suspected_misread
from pipeline.records import DocumentRecord, record_from_json
from pipeline.render_diff import render_inline
from store import NotFound, Store, Version

log = logging.getLogger(__name__)
# Errors that mean our reader is blind to the source's pages (ops must act): everything else
# (WAF challenge, empty body, a binary file or a JS redirect stub at a detail URL) is about one
# page and one fetch, and would make a daily false alarm.
_BLIND = (LayoutChanged, UndecodableBody)


@dataclass
class ProcessReport:
    processed: int = 0
    new_documents: int = 0
    new_versions: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    held: int = 0  # suspected misreads: no version until a person accepts them
    alerts: int = 0
    errors: list[str] = field(default_factory=list)
    held_reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def process_pending(store: Store, *, now: datetime, source: str | None = None, limit: int | None = None) -> ProcessReport:
    """Process every pending capture (optionally of one source).

    Example:
        report = process_pending(Store.open(), now=SystemClock().now())
    """
    report = ProcessReport()
    for capture in store.pending_captures(limit=limit, source=source):
        _process_capture(store, capture, now, report)
    return report


def accept_capture(store: Store, capture_id: int, *, now: datetime, by: str) -> ProcessReport:
    """Release a held capture: a person (``by``) decided the page is real, so it is processed
    without the misread check and the capture records who accepted it, when, and what was suspected.

    Raises UserError when the capture is not held (NotFound when there is no such capture).

    Example:
        report = accept_capture(store, 42, now=clock.now(), by="alice")
    """
    capture = store.capture(capture_id)
    if capture.state != "held":
        raise UserError(f"capture {capture_id} is not held as a suspected misread (its state is {capture.state})",
                        "only held captures can be accepted; `regwatch status` lists them")
    report = ProcessReport()
    _process_capture(store, capture, now, report, accepted_by=by)
    return report


def _process_capture(store: Store, capture, now: datetime, report: ProcessReport, *,
                     accepted_by: str | None = None) -> None:
    if capture.kind != "detail":
        store.mark_capture(capture.id, "skipped", at=now)
        report.skipped += 1
        return
    try:
        record = _read(store, capture, allow_empty=accepted_by is not None)
    except _Suspect as suspect:
        _hold(store, capture, suspect.reason, now, report, doc_key=suspect.doc_key)
        return
    except PageError as exc:
        _page_failed(store, capture, exc, now, report)
        return
    except Exception as exc:  # a parser bug on one page must not block every capture queued after it
        log.exception("%s: cannot read capture %s (%s)", capture.source, capture.id, capture.url)
        message = (f"{capture.source}: internal error reading capture {capture.id} ({capture.url}): "
                   f"{type(exc).__name__}: {exc}; report it, then rerun `regwatch process --reparse`")
        report.failed += 1
        report.errors.append(message)
        store.mark_capture(capture.id, "failed", error=message, at=now)
        return
    note, accepted = None, None
    if accepted_by is None:
        last = _last_version(store, record.doc_key, record.url)
        previous = record_from_json(last.fields, canonical_text=last.canonical_text) if last is not None else None
        reason = suspected_misread(previous, record)
        if reason is not None:
            _hold(store, capture, reason, now, report, doc_key=_version_key(last) or record.doc_key)
            return
    else:
        note = f"accepted by {accepted_by} at {now.isoformat()} despite a suspected misread: {capture.error or '-'}"
        accepted = {"by": accepted_by, "at": now.isoformat(), "suspected": capture.error}
    _record(store, capture.id, record, now, report, accepted=accepted)
    store.mark_capture(capture.id, "processed", error=note, at=now)
    report.processed += 1


class _Suspect(Exception):
    """A capture to hold as a suspected misread (raised before any record exists)."""

    def __init__(self, reason: str, doc_key: str | None) -> None:
        super().__init__(reason)
        self.reason, self.doc_key = reason, doc_key


def _read(store: Store, capture, *, allow_empty: bool) -> DocumentRecord:
    """The capture's record. An empty article container fails a new document (never an empty first
    version) and is a suspected misread of a document whose last version had text."""
    body = store.capture_body(capture.id)
    url = capture.final_url or capture.url

    def read(empty_ok: bool) -> DocumentRecord:
        return extract_page(body, source=capture.source, url=url, headers=capture.headers, status=capture.status,
                            allow_empty=empty_ok)

    try:
        return read(allow_empty)
    except EmptyArticle as exc:
        last = _last_version(store, None, url)
        if last is None:
            raise
        chars = sum(1 for ch in last.text if not ch.isspace())
        if chars:
            raise _Suspect(f"empty body: {exc.reason} (the last version had {chars} characters)",
                           _version_key(last)) from None
        return read(True)  # the last version was empty too (accepted so): nothing was lost


def _last_version(store: Store, key: str | None, url: str) -> Version | None:
    """The version a new record of (``key``, ``url``) would be compared with: the document found by
    its key, else by the URL; its latest version from that URL, else its latest version."""
    for ref in (key, url):
        if not ref:
            continue
        try:
            doc = store.document(ref)
        except NotFound:
            continue
        return store.latest_version(doc.id, url) or store.latest_version(doc.id)
    return None


def _version_key(version: Version | None) -> str | None:
    """The document key a stored version was recorded under (None when keyless)."""
    return (version.fields or {}).get("doc_key") if version is not None else None


def _hold(store: Store, capture, reason: str, now: datetime, report: ProcessReport, *, doc_key: str | None) -> None:
    """A suspected misread: no version, the capture ``held`` with the reason, a source-health warning."""
    url = capture.final_url or capture.url
    message = (f"{capture.source}: {url}: capture {capture.id} held as a suspected misread, no version made: "
               f"{reason}; if the page really says this now, run `regwatch process --accept {capture.id}`")
    report.held += 1
    report.held_reasons.append(message)
    log.warning("%s", message)
    store.mark_capture(capture.id, "held", error=reason, at=now)
    _enqueue(store, AlertRequest(
        dedup_key=f"misread:{capture.id}",
        kind="source_health", severity="warning", source=capture.source, doc_key=doc_key,
        title=f"{capture.source}: suspected misread held, no version made",
        summary=f"{url}: {reason}", url=url,
        facts=(("Source", capture.source), ("Capture", str(capture.id)), ("Reason", reason[:500]),
               ("Release", f"regwatch process --accept {capture.id}")),
        tags=("health:misread",),
    ), now, report)


def _page_failed(store: Store, capture, exc: PageError, now: datetime, report: ProcessReport) -> None:
    report.failed += 1
    report.errors.append(str(exc))
    store.mark_capture(capture.id, "failed", error=str(exc), at=now)
    if not isinstance(exc, _BLIND):
        log.warning("%s", exc)
        return
    # A layout change (or an undecodable page) means our reader is blind: tell ops,
    # once per source and day, and leave every stored document as it is.
    kind = "layout" if isinstance(exc, LayoutChanged) else type(exc).__name__
    _enqueue(store, AlertRequest(
        dedup_key=f"health:{capture.source}:{kind}:{now.date().isoformat()}",
        kind="source_health", severity="critical", source=capture.source, doc_key=None,
        title=f"{capture.source}: pages can no longer be read ({kind})",
        summary=str(exc), url=capture.url,
        facts=(("Source", capture.source), ("Capture", str(capture.id)), ("Error", str(exc)[:500])),
        tags=(f"health:{kind}",),
    ), now, report)


def _record(store: Store, capture_id: int, record: DocumentRecord, now: datetime, report: ProcessReport, *,
            accepted: dict[str, object] | None = None) -> None:
    # A version a person accepted despite a suspected misread says so in its fields (kept across --reparse).
    fields = record.to_json() | ({"accepted": accepted} if accepted else {})
    result = store.record_version(
        source=record.source, key=record.doc_key, url=record.url, title=record.title, text=record.text,
        canonical_text=record.canonical_text, content_hash=record.content_hash, fields=fields,
        published=record.published, capture_id=capture_id, seen_at=now,
    )
    if not result.created:
        report.unchanged += 1
        return
    report.new_versions += 1
    store.replace_tags(result.version_id, _tags(record))
    store.replace_relations(result.version_id, record.doc_key or record.url, [
        {"type": r.type, "target_key": r.target_key, "target_text": r.target_text, "until": r.until,
         "since": r.since, "clause": r.clause, "evidence": r.evidence}
        for r in record.relations
    ])
    previous = None
    if result.previous_version_id is not None:
        prev_row = store.version_by_id(result.previous_version_id)
        previous = record_from_json(prev_row.fields, canonical_text=prev_row.canonical_text,
                                    content_hash=prev_row.content_hash)
    if previous is None:
        report.new_documents += 1
        text_diff, changes, summary, diff_text = None, [], "new document", None
    else:
        text_diff = diff_texts(previous.canonical_text, record.canonical_text)
        changes = field_changes(previous, record)
        summary = summarize(changes, text_diff)
        diff_text = render_inline(text_diff)
    store.record_change(
        document_id=result.document_id, from_version_id=result.previous_version_id,
        to_version_id=result.version_id, kind="new" if previous is None else "changed",
        text_diff=diff_to_json(text_diff) if text_diff else {},
        field_changes=[{"field": c.field, "kind": c.kind, "old": c.old, "new": c.new, "summary": c.summary}
                       for c in changes],
        summary=summary, created_at=now,
    )
    for request in version_alerts(version_id=result.version_id, previous=previous, current=record,
                                  field_changes=changes, text_diff=text_diff, summary=summary,
                                  diff_text=diff_text):
        _enqueue(store, request, now, report)


def _tags(record: DocumentRecord) -> list[dict[str, object]]:
    tags: list[dict[str, object]] = [
        {"kind": "code", "scheme": c.scheme, "value": c.code, "evidence": c.evidence} for c in record.codes
    ]
    tags += [{"kind": "element", "scheme": None, "value": e, "evidence": ""} for e in record.elements]
    tags += [{"kind": "hs", "scheme": None, "value": h, "evidence": ""} for h in record.hs_codes]
    tags += [{"kind": "date", "scheme": d.type, "value": d.date.isoformat(), "evidence": d.evidence}
             for d in record.dates]
    if record.doc_key:
        tags.append({"kind": "doc_number", "scheme": None, "value": record.doc_key, "evidence": ""})
    return tags


def _enqueue(store: Store, request: AlertRequest, now: datetime, report: ProcessReport) -> None:
    report.alerts += enqueue_request(store, request, now)


def enqueue_request(store: Store, request: AlertRequest, now: datetime) -> int:
    """Put one alert in the outbox; returns 1 if it is new, 0 if its dedup key was already there.

    The payload is built by ``alerts.base.Alert`` itself (validated here, not first at delivery);
    the outbox row id is not known yet, so the payload carries none.
    """
    alert = Alert(0, request.kind, request.severity, request.source, request.doc_key, request.title,
                  " ".join(request.summary.split()), request.url, now, facts=request.facts,
                  diff_text=request.diff_text, tags=request.tags)
    _, created = store.enqueue_alert(dedup_key=request.dedup_key, kind=request.kind, severity=request.severity,
                                     source=request.source, doc_key=request.doc_key, payload=alert.to_payload(),
                                     created_at=now)
    return int(created)


__all__ = ["ProcessReport", "accept_capture", "enqueue_request", "process_pending"]
