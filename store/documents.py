"""Documents, their immutable versions and the changes between them (the process stage's writes).

Identity: a document is found by its canonical key when the record has one (across sources and
URLs), otherwise by any URL it was seen at. A keyless document seen again with a key adopts it.
Versioning rule: a new version is written only when the content hash differs from the latest
version of that document captured from the same URL; at a URL not seen before, only when the
hash matches no existing version. So two copies of one announcement on two URLs never
flip-flop, and an A -> B -> A revert on one URL is still a new version.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from store.errors import NotFound
from store.models import Capture, Change, Document, DocumentUrl, Version
from store.results import VersionResult
from store.session import StoreBase

CHANGE_KINDS = ("new", "changed", "withdrawn", "status")
DOCUMENT_STATUSES = ("active", "withdrawn")


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


def _label(doc: Document) -> str:
    return doc.key or doc.canonical_url


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
    ) -> VersionResult:
        """Find or create the document, then write a version if its content is new (see module doc).

        Idempotent: re-running with the same arguments returns the same ids with ``created=False``.

        Example:
            >>> r = store.record_version(source="mofcom", key="mofcom:2025:1", url=u, title="公告",
            ...     text=t, canonical_text=t, content_hash=h, fields={}, published=None,
            ...     capture_id=None, seen_at=when)
            >>> (r.number, r.created, r.previous_version_id)
            (1, True, None)
        """
        with self._write() as s:
            self._require_source(s, source)
            if capture_id is not None and s.get(Capture, capture_id) is None:
                raise NotFound("capture", capture_id)
            doc = _find_document(s, key, url)
            doc_created = doc is None
            if doc is None:
                doc = Document(key=key, canonical_url=url, source=source, title=title, first_seen=seen_at,
                               last_seen=seen_at)  # fmt: skip
                s.add(doc)
                s.flush()
            doc_id = doc.id or 0
            _ensure_alias(s, doc_id, url, source)
            doc.first_seen, doc.last_seen = min(doc.first_seen, seen_at), max(doc.last_seen, seen_at)
            same_url = _latest_at(s, doc_id, url)
            if same_url is not None:
                match = same_url if same_url.content_hash == content_hash else None
            else:
                known = select(Version).where(Version.document_id == doc_id, Version.content_hash == content_hash)
                match = s.exec(known.order_by(col(Version.number).desc()).limit(1)).first()
            if match is not None:
                prev = _previous(s, match)
                s.add(doc)
                return VersionResult(doc_id, doc.key, match.id or 0, match.number, False, prev.id if prev else None)
            prev = same_url or _by_number(s, doc_id, doc.latest_version)
            version = Version(
                document_id=doc_id, number=doc.latest_version + 1, capture_id=capture_id, source=source, url=url,
                title=title, text=text, canonical_text=canonical_text, content_hash=content_hash,
                fields=dict(fields), published=published, created_at=seen_at,
            )  # fmt: skip
            s.add(version)
            doc.latest_version, doc.title = version.number, title or doc.title
            s.add(doc)
            s.flush()
            return VersionResult(
                doc_id, doc.key, version.id or 0, version.number, True, prev.id if prev else None, doc_created
            )

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
            existing = s.exec(query).first()
            if existing is not None:
                return existing
            for version_id in (from_version_id, to_version_id):
                version = s.get(Version, version_id) if version_id is not None else None
                if version_id is not None and (version is None or version.document_id != document_id):
                    raise NotFound("version", version_id, hint=f"it must be a version of document {document_id}")
            change = Change(
                document_id=document_id, from_version_id=from_version_id, to_version_id=to_version_id, kind=kind,
                text_diff=dict(text_diff), field_changes=list(field_changes), summary=summary, created_at=created_at,
            )  # fmt: skip
            s.add(change)
            s.flush()
            return change.id or 0

    def has_change(self, version_id: int) -> bool:
        """True when a Change row leads to this version (its processing was completed)."""
        with self._read() as s:
            return s.exec(select(Change.id).where(Change.to_version_id == version_id).limit(1)).first() is not None

    def set_document_status(self, document_id: int, status: str) -> Document:
        """Mark a document ``active`` or ``withdrawn``."""
        if status not in DOCUMENT_STATUSES:
            raise ValueError(f"document status must be one of {', '.join(DOCUMENT_STATUSES)}; got {status!r}")
        with self._write() as s:
            doc = s.get(Document, document_id)
            if doc is None:
                raise NotFound("document", document_id)
            doc.status = status
            s.add(doc)
            return doc

    def document_keys(self, source: str | None = None) -> list[str]:
        """Canonical keys of every numbered document (optionally of one source), sorted."""
        query = select(Document.key).where(col(Document.key).is_not(None))
        if source is not None:
            query = query.where(Document.source == source)
        with self._read() as s:
            return sorted(k for k in s.exec(query) if k)

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
