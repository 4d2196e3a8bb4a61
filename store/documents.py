"""Documents, their appearances, immutable versions and the changes between them (the process stage's writes).

Identity: a document is found by its canonical key when the record has one (across sources and
URLs), otherwise by any URL it was seen at. A keyless document seen again with a key adopts it.

Appearances: every source a document is seen on is an appearance (``store.models.Appearance``).
A document has one history of its legal text, made from its *reference* appearance only: the
founding one, until a record arrives from the source the caller names as ``authority`` (the
authoritative site of the issuer); that appearance then becomes the reference for good. So:

* a copy on any other source updates its appearance (latest capture, URL, hash, text) and never
  becomes a version: text differences between sites are not amendments;
* the authoritative copy arriving after a copy founded the document takes over silently: its text
  becomes a new version flagged ``reference`` (or none, when the texts are equal), which callers
  record as a reference change, not as an amendment;
* without an authority (unknown issuer, keyless page) the founding appearance stays the reference.

Versioning rule on the reference appearance: a new version is written only when the content
hash differs from the latest version of that document captured from the same URL; at a URL not
seen before, only when the hash matches no existing version. So two copies of one announcement
on two URLs of the reference source never flip-flop, and an A -> B -> A revert on one URL is
still a new version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from store.errors import NotFound
from store.models import Appearance, Capture, Change, Document, DocumentUrl, Version
from store.packing import pack_appearance, pack_version, restore
from store.results import VersionResult
from store.session import StoreBase, core, insert_rows

CHANGE_KINDS = ("new", "changed", "reference", "withdrawn", "status")
"""``reference``: the authoritative copy's text replaced a copy's as the reference (not an amendment)."""
DOCUMENT_STATUSES = ("active", "withdrawn")
APPEARANCE_STATUSES = ("active", "withdrawn")


def _find_document(s: Session, key: str | None, url: str) -> Document | None:
    if key is not None:
        doc = s.exec(select(Document).where(Document.key == key)).first()
        if doc is not None:
            return doc
    at_url = select(Document).join(DocumentUrl, col(DocumentUrl.document_id) == col(Document.id))
    at_url = at_url.where(DocumentUrl.url == url).order_by(col(Document.id))
    if key is not None:
        doc = s.exec(at_url.where(col(Document.key).is_(None))).first()
        if doc is not None:
            doc.key = key  # the parser now finds a number for a page it saw without one
        return doc
    return s.exec(at_url).first()


def _ensure_alias(s: Session, document_id: int, url: str, source: str) -> None:
    query = select(DocumentUrl.id).where(DocumentUrl.document_id == document_id, DocumentUrl.url == url)
    if s.exec(query).first() is None:
        s.add(DocumentUrl(document_id=document_id, url=url, source=source))


def _latest_at(s: Session, document_id: int, url: str, below: int | None = None) -> Version | None:
    query = select(Version).where(Version.document_id == document_id, Version.url == url)
    if below is not None:
        query = query.where(col(Version.number) < below)
    return s.exec(query.order_by(col(Version.number).desc()).limit(1)).first()


def _by_number(s: Session, document_id: int, number: int) -> Version | None:
    return s.exec(select(Version).where(Version.document_id == document_id, Version.number == number)).first()


def _previous(s: Session, version: Version) -> Version | None:
    """The version ``version`` is diffed against: the latest earlier one from its URL, else number-1."""
    return _latest_at(s, version.document_id, version.url, below=version.number) or _by_number(
        s, version.document_id, version.number - 1
    )


def _appearance(s: Session, document_id: int, source: str) -> Appearance | None:
    return s.exec(select(Appearance).where(Appearance.document_id == document_id, Appearance.source == source)).first()


def _reference(s: Session, document_id: int) -> Appearance | None:
    query = select(Appearance).where(Appearance.document_id == document_id, col(Appearance.reference).is_(True))
    return s.exec(query.order_by(col(Appearance.id))).first()


def _latest_with_hash(s: Session, document_id: int, content_hash: str) -> Version | None:
    known = select(Version).where(Version.document_id == document_id, Version.content_hash == content_hash)
    return s.exec(known.order_by(col(Version.number).desc()).limit(1)).first()


def _label(doc: Document) -> str:
    return doc.key or doc.canonical_url


@dataclass(frozen=True, slots=True)
class _Content:
    """What one record says, as ``record_version`` received it."""

    url: str
    title: str
    text: str
    canonical_text: str
    content_hash: str
    fields: dict[str, Any]
    published: date | None
    capture_id: int | None
    seen_at: datetime


def _add_version(s: Session, doc: Document, source: str, c: _Content) -> Version:
    columns = {"source": source, "url": c.url, "title": c.title, "text": c.text}
    text, fields = pack_version(c.fields, columns, c.canonical_text)
    version = Version(
        document_id=doc.id or 0, number=doc.latest_version + 1, capture_id=c.capture_id, source=source, url=c.url,
        title=c.title, text=text, canonical_text=c.canonical_text, content_hash=c.content_hash,
        fields=fields, published=c.published, created_at=c.seen_at,
    )  # fmt: skip
    s.add(version)
    doc.latest_version, doc.title = version.number, c.title or doc.title
    s.add(doc)
    s.flush()
    restore(version, text=c.text, fields=dict(c.fields))
    return version


def _see(s: Session, document_id: int, source: str, c: _Content, version_id: int | None, *,
         reference: bool) -> Appearance:
    """Create or update the appearance of a document on ``source`` with what was just seen there.

    An older sighting (a reparse of an old capture) widens first/last seen but does not replace
    the newer content already recorded.
    """
    row = _appearance(s, document_id, source)
    if row is None:
        row = Appearance(document_id=document_id, source=source, url=c.url, first_seen=c.seen_at,
                         last_seen=c.seen_at)  # fmt: skip
    elif c.seen_at < row.last_seen:
        row.first_seen = min(row.first_seen, c.seen_at)
        row.reference = row.reference or reference
        s.add(row)
        s.flush()
        return row
    row.first_seen, row.last_seen = min(row.first_seen, c.seen_at), c.seen_at
    row.url, row.status, row.reference = c.url, "active", row.reference or reference
    row.capture_id, row.version_id = c.capture_id if c.capture_id is not None else row.capture_id, version_id
    row.title, row.content_hash, row.canonical_text = c.title, c.content_hash, c.canonical_text
    row.fields = dict(c.fields)
    pack_appearance(row, s.get(Version, version_id) if version_id is not None else None)
    s.add(row)
    s.flush()
    restore(row, canonical_text=c.canonical_text, fields=dict(c.fields))
    return row


def _fetched_before(s: Session, capture_id: int | None, other_id: int | None) -> bool:
    """True when capture ``capture_id`` was fetched before capture ``other_id`` (both known)."""
    if capture_id is None or other_id is None or capture_id == other_id:
        return False
    mine, other = s.get(Capture, capture_id), s.get(Capture, other_id)
    return mine is not None and other is not None and mine.fetched_at < other.fetched_at


def _on_reference(s: Session, doc: Document, source: str, c: _Content, is_new: bool) -> VersionResult:
    """A record from the reference appearance: the versioning rule of the module docstring."""
    doc_id = doc.id or 0
    same_url = _latest_at(s, doc_id, c.url)
    if same_url is not None and _fetched_before(s, c.capture_id, same_url.capture_id):
        # A reparse of a capture older than the one behind the latest version here: history, not
        # news. It never makes a version (the newer capture, reparsed too, carries any parser fix).
        match = _latest_with_hash(s, doc_id, c.content_hash) or same_url
    elif same_url is not None:
        match = same_url if same_url.content_hash == c.content_hash else None
    else:
        match = _latest_with_hash(s, doc_id, c.content_hash)
    if match is not None:
        prev = _previous(s, match)
        seen = _see(s, doc_id, source, c, match.id, reference=True)
        return VersionResult(doc_id, doc.key, match.id or 0, match.number, False, prev.id if prev else None, False,
                             seen.id or 0, is_new)  # fmt: skip
    prev = same_url or _by_number(s, doc_id, doc.latest_version)
    version = _add_version(s, doc, source, c)
    seen = _see(s, doc_id, source, c, version.id, reference=True)
    return VersionResult(doc_id, doc.key, version.id or 0, version.number, True, prev.id if prev else None, False,
                         seen.id or 0, is_new)  # fmt: skip


class DocumentOps(StoreBase):
    """Record versions and changes; look documents and versions up."""

    def record_version(
        self,
        *,
        source: str,
        key: str | None,
        url: str,
        title: str,
        text: str,
        canonical_text: str,
        content_hash: str,
        fields: dict[str, Any],
        published: date | None,
        capture_id: int | None,
        seen_at: datetime,
        authority: str | None = None,
    ) -> VersionResult:
        """Find or create the document, record its appearance on ``source``, then write a version
        if this is the reference appearance and its content is new (see module doc).

        ``authority``: the source authoritative for this document (None: none is, the founding
        appearance stays the reference). Idempotent: re-running with the same arguments returns
        the same ids with ``created=False``.

        Example:
            >>> r = store.record_version(source="mofcom", key="mofcom:2025:1", url=u, title="公告",
            ...     text=t, canonical_text=t, content_hash=h, fields={}, published=None,
            ...     capture_id=None, seen_at=when)
            >>> (r.number, r.created, r.previous_version_id)
            (1, True, None)
        """
        with self._write() as s:
            self._require_source(s, source)
            if capture_id is not None:
                self._require_capture(s, capture_id)
            content = _Content(url, title, text, canonical_text, content_hash, fields, published, capture_id, seen_at)
            doc = _find_document(s, key, url)
            if doc is None:
                doc = Document(key=key, canonical_url=url, source=source, title=title, first_seen=seen_at,
                               last_seen=seen_at)  # fmt: skip
                s.add(doc)
                s.flush()
                _ensure_alias(s, doc.id or 0, url, source)
                version = _add_version(s, doc, source, content)
                seen = _see(s, doc.id or 0, source, content, version.id, reference=True)
                return VersionResult(doc.id or 0, doc.key, version.id or 0, version.number, True, None, True,
                                     seen.id or 0, True)  # fmt: skip
            doc_id = doc.id or 0
            _ensure_alias(s, doc_id, url, source)
            doc.first_seen, doc.last_seen = min(doc.first_seen, seen_at), max(doc.last_seen, seen_at)
            s.add(doc)
            here, ref = _appearance(s, doc_id, source), _reference(s, doc_id)
            is_new = here is None
            if ref is None or (here is not None and here.id == ref.id):  # no reference yet: this one is
                return _on_reference(s, doc, source, content, is_new)
            latest = _by_number(s, doc_id, doc.latest_version)
            if source != authority:  # a copy: its own appearance, never a version
                match = _latest_with_hash(s, doc_id, content_hash)
                seen = _see(s, doc_id, source, content, match.id if match else None, reference=False)
                number, version_id = (latest.number, latest.id or 0) if latest else (0, 0)
                return VersionResult(doc_id, doc.key, version_id, number, False, None, False, seen.id or 0, is_new,
                                     copy=True)  # fmt: skip
            # The authoritative copy arrives: it becomes the reference, without an amendment.
            ref.reference = False
            s.add(ref)
            s.flush()  # one reference at a time, also for a reader inside this transaction
            if latest is not None and latest.content_hash == content_hash:
                seen = _see(s, doc_id, source, content, latest.id, reference=True)
                return VersionResult(doc_id, doc.key, latest.id or 0, latest.number, False, None, False,
                                     seen.id or 0, is_new, reference=True)  # fmt: skip
            version = _add_version(s, doc, source, content)
            seen = _see(s, doc_id, source, content, version.id, reference=True)
            return VersionResult(doc_id, doc.key, version.id or 0, version.number, True,
                                 latest.id if latest else None, False, seen.id or 0, is_new,
                                 reference=True)  # fmt: skip

    def record_change(
        self,
        *,
        document_id: int,
        from_version_id: int | None,
        to_version_id: int,
        kind: str,
        text_diff: dict[str, Any],
        field_changes: list[dict[str, Any]],
        summary: str,
        created_at: datetime,
    ) -> int:
        """Write a Change (``new|changed|withdrawn|status``); idempotent on ``(to_version_id, kind)``."""
        if kind not in CHANGE_KINDS:
            raise ValueError(f"change kind must be one of {', '.join(CHANGE_KINDS)}; got {kind!r}")
        with self._write() as s:
            query = select(Change.id).where(Change.to_version_id == to_version_id, Change.kind == kind)
            existing = core(s).execute(query).scalar()
            if existing is not None:
                return existing
            for version_id in (from_version_id, to_version_id):
                if version_id is not None and self._document_of(s, version_id) != document_id:
                    raise NotFound("version", version_id, hint=f"it must be a version of document {document_id}")
            change = Change(
                document_id=document_id, from_version_id=from_version_id, to_version_id=to_version_id, kind=kind,
                text_diff=dict(text_diff), field_changes=list(field_changes), summary=summary, created_at=created_at,
            )  # fmt: skip
            return insert_rows(s, [change])[0]

    def has_change(self, version_id: int) -> bool:
        """True when a Change row leads to this version (its processing was completed)."""
        with self._read() as s:
            return s.exec(select(Change.id).where(Change.to_version_id == version_id).limit(1)).first() is not None

    def set_document_status(self, document_id: int, status: str) -> Document:
        """Mark a document ``active`` or ``withdrawn``."""
        return self._set_status(Document, "document", document_id, status, DOCUMENT_STATUSES)

    def _set_status(self, model: type[Any], what: str, row_id: int, status: str, allowed: tuple[str, ...]) -> Any:
        if status not in allowed:
            raise ValueError(f"{what} status must be one of {', '.join(allowed)}; got {status!r}")
        with self._write() as s:
            row = s.get(model, row_id)
            if row is None:
                raise NotFound(what, row_id)
            row.status = status
            s.add(row)
            return row

    def document_keys(self, source: str | None = None) -> list[str]:
        """Canonical keys of every numbered document (optionally of one source), sorted."""
        query = select(Document.key).where(col(Document.key).is_not(None))
        if source is not None:
            query = query.where(Document.source == source)
        with self._read() as s:
            return sorted(k for k in s.exec(query) if k)

    def documents(self, source: str | None = None) -> list[Document]:
        """Every document, numbered or not (optionally of one source), in the order they were found."""
        query = select(Document).order_by(col(Document.id))
        if source is not None:
            query = query.where(Document.source == source)
        with self._read() as s:
            return list(s.exec(query))

    def document(self, key_or_id: str | int) -> Document:
        """A document by id, canonical key, or any URL it was seen at; raises ``NotFound``.

        Example:
            >>> store.document("mofcom:2025:999")
            Traceback (most recent call last):
            store.errors.NotFound: no document 'mofcom:2025:999'; try `regwatch history` to list keys
        """
        with self._read() as s:
            if isinstance(key_or_id, int):
                doc = s.get(Document, key_or_id)
            elif key_or_id.startswith(("http://", "https://")):
                doc = _find_document(s, None, key_or_id)
            else:
                doc = s.exec(select(Document).where(Document.key == key_or_id)).first()
            if doc is None:
                raise NotFound("document", key_or_id)
            return doc

    def document_urls(self, document_id: int) -> list[DocumentUrl]:
        """Every URL a document was seen at, in order of discovery."""
        with self._read() as s:
            query = select(DocumentUrl).where(DocumentUrl.document_id == document_id)
            return list(s.exec(query.order_by(col(DocumentUrl.id))))

    def appearances(self, document_id: int) -> list[Appearance]:
        """Every source a document appears on, in order of first sighting (the founding one first).

        Example:
            >>> [(a.source, a.reference) for a in store.appearances(doc_id)]
            [('govcn', False), ('miit', True)]
        """
        with self._read() as s:
            query = select(Appearance).where(Appearance.document_id == document_id)
            return list(s.exec(query.order_by(col(Appearance.first_seen), col(Appearance.id))))

    def appearance(self, document_id: int, source: str) -> Appearance:
        """The appearance of a document on ``source``; raises ``NotFound`` naming the sources it has."""
        with self._read() as s:
            found = _appearance(s, document_id, source)
            if found is None:
                doc = s.get(Document, document_id)
                if doc is None:
                    raise NotFound("document", document_id)
                known = s.exec(select(Appearance.source).where(Appearance.document_id == document_id))
                raise NotFound("appearance", f"{_label(doc)} on {source}",
                               hint=f"it appears on {', '.join(sorted(known)) or 'no source'}")
            return found

    def set_appearance_status(self, appearance_id: int, status: str) -> Appearance:
        """Mark one appearance ``active`` or ``withdrawn`` (a new sighting makes it active again)."""
        return self._set_status(Appearance, "appearance", appearance_id, status, APPEARANCE_STATUSES)

    def versions(self, document_id: int) -> list[Version]:
        """All versions of a document, oldest first."""
        with self._read() as s:
            return list(s.exec(select(Version).where(Version.document_id == document_id).order_by(col(Version.number))))

    def version(self, document_id: int, number: int) -> Version:
        """Version ``number`` of a document; raises ``NotFound``."""
        with self._read() as s:
            found = _by_number(s, document_id, number)
            if found is None:
                doc = s.get(Document, document_id)
                raise NotFound("version", f"{_label(doc) if doc else document_id} v{number}")
            return found

    def version_by_id(self, version_id: int) -> Version:
        """A version by its row id; raises ``NotFound``."""
        with self._read() as s:
            found = s.get(Version, version_id)
            if found is None:
                raise NotFound("version", version_id)
            return found

    def latest_version(self, document_id: int, url: str | None = None) -> Version | None:
        """The newest version of a document (optionally: captured from ``url``), or None."""
        with self._read() as s:
            if url is not None:
                return _latest_at(s, document_id, url)
            query = select(Version).where(Version.document_id == document_id)
            return s.exec(query.order_by(col(Version.number).desc()).limit(1)).first()

    def change(self, change_id: int) -> Change:
        """A change with its diff; raises ``NotFound``."""
        with self._read() as s:
            found = s.get(Change, change_id)
            if found is None:
                raise NotFound("change", change_id)
            return found

    def changes(self, document_id: int) -> list[Change]:
        """All changes of a document, oldest first."""
        with self._read() as s:
            query = select(Change).where(Change.document_id == document_id)
            return list(s.exec(query.order_by(col(Change.created_at), col(Change.id))))
