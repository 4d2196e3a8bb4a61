"""Stage 2: pending captures -> records -> immutable versions -> changes, tags, relations -> outbox alerts.

Every step reads from and writes to the store, so the stage can be rerun at any time and is
idempotent: a capture whose content is unchanged makes no new version and no new alert.
A page that cannot be read (challenge, empty, layout change) never becomes a version and never
marks a document deleted; it is recorded on the capture and raises a source-health alert.
A page that reads but lost its substance compared with the document's last version from the same
URL (see ``pipeline.misread``) is *held*: no version, a source-health warning, listed by
``regwatch status`` until a person releases it with ``regwatch process --accept CAPTURE``
(``accept_capture``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from crawlers.errors import EmptyArticle, LayoutChanged, PageError, UndecodableBody
from crawlers.sources import SOURCES
from pipeline.core.authority import authoritative_source
from pipeline.core.classify import AlertRequest, version_alerts
from pipeline.core.diff import diff_texts, diff_to_json
from pipeline.core.attachments import AttachmentText, attachment_name, read_attachment
from pipeline.errors import UserError
from pipeline.core.fielddiff import field_changes, summarize
from pipeline.misread import suspected_misread
from pipeline.outbox import Routing, enqueue_request
from pipeline.core.records import DocumentRecord, record_from_json
from pipeline.core.render_diff import render_inline
from store import NotFound, Store, Version

log = logging.getLogger(__name__)
# Errors that mean our reader is blind to the source's pages (ops must act): everything else
# (WAF challenge, empty body, a binary file or a JS redirect stub at a detail URL) is about one
# page and one fetch, and would make a daily false alarm.
_BLIND = (LayoutChanged, UndecodableBody)


def extract_page(body: bytes, **kwargs: object) -> DocumentRecord:
    """``pipeline.extract.extract_page``, imported at the first capture read: the extractor (parsel,
    lxml, the tagging rules) is most of this stage's start-up, and a run with nothing pending (every
    daemon cycle of an unchanged site) never needs it."""
    from pipeline.extract import extract_page as extract

    return extract(body, **kwargs)  # type: ignore[arg-type]


@dataclass
class ProcessReport:
    processed: int = 0
    new_documents: int = 0
    new_versions: int = 0
    unchanged: int = 0
    copies: int = 0  # captures of a copy on a non-reference source: its appearance only, no version
    skipped: int = 0
    failed: int = 0
    held: int = 0  # suspected misreads: no version until a person accepts them
    alerts: int = 0
    errors: list[str] = field(default_factory=list)
    held_reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)

    def snapshot(self) -> dict[str, object]:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()}

    def restore(self, snapshot: dict[str, object]) -> None:
        self.__dict__.update(snapshot)


def process_pending(store: Store, *, now: datetime, source: str | None = None, limit: int | None = None,
                    routing: Routing | None = None, authority: Mapping[str, str] | None = None,
                    progress: Callable[[int, int], None] | None = None) -> ProcessReport:
    """Process every pending capture (optionally of one source); ``routing`` plans the alerts' deliveries.

    Each capture is one unit of work: its version, tags, relations, change row, alerts (with their
    planned deliveries) and its new state commit together or not at all, so a crash at any point
    leaves the capture pending and the next run completes it. Parsing happens before the
    transaction opens, so the write lock is held only for the writes.

    ``authority``: issuer slug -> authoritative source (``Config.authority``; default
    ``pipeline.core.authority.DEFAULT_AUTHORITY``), which decides which copy makes versions.
    ``progress(done, total)`` is called after each capture (the CLI's progress display).

    Example:
        report = process_pending(Store.open(), now=SystemClock().now(), routing=Routing.from_config(config))
    """
    report = ProcessReport()
    run = _Run(store, now, routing or Routing(), report, authority)
    unknown: dict[str, int] = {}
    pending = store.pending_captures(limit=limit, source=source)
    for done, capture in enumerate(pending, start=1):
        if capture.source not in SOURCES:  # a configured source this configuration no longer describes
            unknown[capture.source] = unknown.get(capture.source, 0) + 1
        else:
            _process_capture(run, capture)
        if progress is not None:
            progress(done, len(pending))
    for slug, count in sorted(unknown.items()):
        report.errors.append(f"{slug}: {count} capture(s) wait unread: the configuration does not describe source "
                             f"{slug!r}; restore its entry under sources: (kind: html_list / feed) and process again")
    while run.requeued:  # detail pages whose attachment arrived after them: read again with it
        capture = store.capture(run.requeued.pop(0))
        if capture.state == "pending":
            _process_capture(run, capture)
    return report


def accept_capture(store: Store, capture_id: int, *, now: datetime, by: str, routing: Routing | None = None,
                   authority: Mapping[str, str] | None = None) -> ProcessReport:
    """Release a held capture: a person (``by``) decided the page is real, so it is processed
    without the misread check; the capture and the version record who accepted it, when, and
    what was suspected. Raises UserError when the capture is not held (NotFound: no such capture).

    Example:
        report = accept_capture(store, 42, now=clock.now(), by="alice", routing=Routing.from_config(config))
    """
    capture = store.capture(capture_id)
    if capture.state != "held":
        raise UserError(f"capture {capture_id} is not held as a suspected misread (its state is {capture.state})",
                        "only held captures can be accepted; `regwatch status` lists them")
    report = ProcessReport()
    _process_capture(_Run(store, now, routing or Routing(), report, authority), capture, accepted_by=by)
    return report


def _process_capture(run: _Run, capture, *, accepted_by: str | None = None) -> None:
    store, now, report = run.store, run.now, run.report
    if capture.kind == "attachment":
        with store.unit_of_work():
            _attachment_arrived(run, capture)
        report.skipped += 1
        return
    if capture.kind != "detail":
        store.mark_capture(capture.id, "skipped", at=now)
        report.skipped += 1
        return
    try:
        record = _read(store, capture, allow_empty=accepted_by is not None)
    except _Suspect as suspect:
        with store.unit_of_work():
            _hold(run, capture, suspect.reason, doc_key=suspect.doc_key)
        return
    except PageError as exc:
        with store.unit_of_work():
            _page_failed(run, capture, exc)
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
            with store.unit_of_work():
                _hold(run, capture, reason, doc_key=_version_key(last) or record.doc_key)
            return
    else:
        note = f"accepted by {accepted_by} at {now.isoformat()} despite a suspected misread: {capture.error or '-'}"
        accepted = {"by": accepted_by, "at": now.isoformat(), "suspected": capture.error}
    counts = report.snapshot()
    try:
        with store.unit_of_work():
            _record(run, capture.id, record, accepted=accepted)
            store.mark_capture(capture.id, "processed", error=note, at=now)
            store.supersede_held(capture.id, at=now)  # an earlier misread of this page is no longer pending
    except BaseException:
        report.restore(counts)  # nothing of this capture was stored
        raise
    report.processed += 1


@dataclass
class _Run:
    store: Store
    now: datetime
    routing: Routing
    report: ProcessReport
    authority: Mapping[str, str] | None = None
    requeued: list[int] = field(default_factory=list)  # detail captures to process again in this run


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
                            allow_empty=empty_ok, read_attachments=lambda urls: _attachment_texts(store, urls))

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


def _attachment_texts(store: Store, urls: list[str]) -> dict[str, AttachmentText]:
    """The text of each attachment URL's latest stored capture (URLs never captured are left out)."""
    texts = {}
    for url in urls:
        found = store.latest_capture(url, kind="attachment")
        if found is None:
            continue
        if not 200 <= (found.status or 0) < 300:
            texts[url] = AttachmentText("", "unreadable", f"fetched with HTTP status {found.status}: not read",
                                        sha256=found.body_sha256)
            continue
        ctype = next((str(v) for k, v in found.headers.items() if k.lower() == "content-type"), "")
        texts[url] = read_attachment(store.capture_body(found.id), filename=attachment_name(found.final_url or url),
                                     content_type=ctype)
    return texts


def _attachment_arrived(run: _Run, capture) -> None:
    """An attachment capture is not a document of its own (``skipped``, with a note): it is read with
    its page. When the page's latest version was made without this body of it (the attachment arrived
    later, or changed), the page's latest detail capture is queued again, and processed in this run."""
    store, now = run.store, run.now
    note = "attachment: read with the page that lists it"
    for url in dict.fromkeys(u for u in (capture.url, capture.final_url) if u):
        listing = store.versions_listing_attachment(url)
        if not listing:
            continue
        version = listing[0]
        entry = next(a for a in version.fields.get("attachments") or () if a.get("url") == url)
        if entry.get("sha256") == capture.body_sha256:
            note = f"attachment: read in version {version.id}"
            break
        page = store.latest_capture(version.url, kind="detail")
        if page is None:
            break
        if page.state != "pending":
            store.mark_capture(page.id, "pending", at=now)
        if page.id not in run.requeued:
            run.requeued.append(page.id)
        note = f"attachment: its page (capture {page.id}) is read again with it"
        break
    store.mark_capture(capture.id, "skipped", error=note, at=now)


def _last_version(store: Store, key: str | None, url: str) -> Version | None:
    """The version a new record of (``key``, ``url``) is checked against: the latest one captured
    from the same URL of the document found by its key, else by the URL. A copy of the document on
    another URL or site (a reprint, a translation) is never compared with it."""
    for ref in (key, url):
        if not ref:
            continue
        try:
            doc = store.document(ref)
        except NotFound:
            continue
        return store.latest_version(doc.id, url)
    return None


def _version_key(version: Version | None) -> str | None:
    """The document key a stored version was recorded under (None when keyless)."""
    return (version.fields or {}).get("doc_key") if version is not None else None


def _hold(run: _Run, capture, reason: str, *, doc_key: str | None) -> None:
    """A suspected misread: no version, the capture ``held`` with the reason, a source-health warning."""
    store, now, report = run.store, run.now, run.report
    url = capture.final_url or capture.url
    message = (f"{capture.source}: {url}: capture {capture.id} held as a suspected misread, no version made: "
               f"{reason}; if the page really says this now, run `regwatch process --accept {capture.id}`")
    report.held += 1
    report.held_reasons.append(message)
    log.warning("%s", message)
    store.mark_capture(capture.id, "held", error=reason, at=now)
    _enqueue(run, AlertRequest(
        dedup_key=f"misread:{capture.id}",
        kind="source_health", severity="warning", source=capture.source, doc_key=doc_key,
        title=f"{capture.source}: suspected misread held, no version made",
        summary=f"{url}: {reason}", url=url,
        facts=(("Source", capture.source), ("Capture", str(capture.id)), ("Reason", reason[:500]),
               ("Release", f"regwatch process --accept {capture.id}")),
        tags=("health:misread",),
    ))


def _page_failed(run: _Run, capture, exc: PageError) -> None:
    store, now, report = run.store, run.now, run.report
    report.failed += 1
    report.errors.append(str(exc))
    store.mark_capture(capture.id, "failed", error=str(exc), at=now)
    if not isinstance(exc, _BLIND):
        log.warning("%s", exc)
        return
    # A layout change (or an undecodable page) means our reader is blind: tell ops,
    # once per source and day, and leave every stored document as it is.
    kind = "layout" if isinstance(exc, LayoutChanged) else type(exc).__name__
    _enqueue(run, AlertRequest(
        dedup_key=f"health:{capture.source}:{kind}:{now.date().isoformat()}",
        kind="source_health", severity="critical", source=capture.source, doc_key=None,
        title=f"{capture.source}: pages can no longer be read ({kind})",
        summary=str(exc), url=capture.url,
        facts=(("Source", capture.source), ("Capture", str(capture.id)), ("Error", str(exc)[:500])),
        tags=(f"health:{kind}",),
    ))


def _record(run: _Run, capture_id: int, record: DocumentRecord, *, accepted: dict[str, object] | None = None) -> None:
    """Record one read page: a version of the reference copy (with its change and alerts), or
    only the appearance of a copy (never a version, never an amendment: see ``store.documents``).

    A version a person accepted despite a suspected misread says so in its fields (``accepted``:
    by, at, suspected), which survive ``--reparse``."""
    store, now, report = run.store, run.now, run.report
    fields = record.to_json() | ({"accepted": accepted} if accepted else {})
    result = store.record_version(
        source=record.source, key=record.doc_key, url=record.url, title=record.title, text=record.text,
        canonical_text=record.canonical_text, content_hash=record.content_hash, fields=fields,
        published=record.published, capture_id=capture_id, seen_at=now,
        authority=authoritative_source(record.doc_key, run.authority),
    )
    # A new appearance (result.appearance_created) could alert through classify.appearance_alert;
    # that alert kind is not defined yet (TODO there), so it is only recorded for now.
    if result.copy:
        report.copies += 1
        return
    if not result.created and store.has_change(result.version_id):
        report.unchanged += 1
        return
    # A new version — or one an older regwatch stored without finishing it (crashed before its
    # change row and alerts): every step below is idempotent, so it is completed now.
    report.new_versions += 1
    store.replace_tags(result.version_id, _tags(record))
    store.replace_relations(result.version_id, record.doc_key or record.url, [
        {"type": r.type, "target_key": r.target_key, "target_text": r.target_text, "until": r.until,
         "since": r.since, "clause": r.clause, "evidence": r.evidence}
        for r in record.relations
    ])
    previous = prev_row = None
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
    kind = "new" if previous is None else "changed"
    if result.reference and prev_row is not None:
        # The authoritative copy replaced a copy's text: kept (with the copy difference) as a
        # reference change, never an amendment.
        kind, summary = "reference", f"reference text from {record.source} (was the copy from {prev_row.source})"
    store.record_change(
        document_id=result.document_id, from_version_id=result.previous_version_id,
        to_version_id=result.version_id, kind=kind,
        text_diff=diff_to_json(text_diff) if text_diff else {},
        field_changes=[{"field": c.field, "kind": c.kind, "old": c.old, "new": c.new, "summary": c.summary}
                       for c in changes],
        summary=summary, created_at=now,
    )
    for request in version_alerts(version_id=result.version_id, previous=previous, current=record,
                                  field_changes=changes, text_diff=text_diff, summary=summary,
                                  diff_text=diff_text):
        if kind == "reference" and request.kind != "status":
            continue  # no amendment alert; a relation only the reference states still moves its target
        _enqueue(run, request)


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


def _enqueue(run: _Run, request: AlertRequest) -> None:
    run.report.alerts += enqueue_request(run.store, request, run.now, run.routing)


__all__ = ["ProcessReport", "accept_capture", "process_pending"]
