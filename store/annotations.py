"""Tags and relations attached to versions (written by the tagger, replaced wholesale per version)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store.errors import NotFound
from store.models import Document, Relation, Tag, Version
from store.session import StoreBase, core

TAG_KEYS = {"kind", "scheme", "value", "evidence"}
RELATION_KEYS = {"type", "target_key", "target_text", "until", "since", "clause", "evidence"}


def _checked(item: dict[str, Any], allowed: set[str], required: tuple[str, ...], what: str) -> dict[str, Any]:
    unknown = set(item) - allowed
    missing = [k for k in required if not item.get(k)]
    if unknown or missing:
        raise ValueError(
            f"{what} {item!r}: unknown keys {sorted(unknown)}, missing {missing}; allowed keys are {sorted(allowed)}"
        )
    return item


def _date(value: date | str | None, what: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise ValueError(f"relation {what} {value!r} is not an ISO date (YYYY-MM-DD)") from err


def _stated_now(query: Any) -> Any:
    """``query`` over relations, restricted to those stated by the latest version of their document."""
    return (query.join(Version, col(Relation.version_id) == col(Version.id))
            .join(Document, col(Version.document_id) == col(Document.id))
            .where(col(Version.number) == col(Document.latest_version)))


def _insert_many(s: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """One executemany INSERT of ``rows`` into ``model``'s table, in this session's transaction (the
    ORM sent one INSERT per tag: eight statements for a typical announcement)."""
    if rows:
        core(s).execute(model.__table__.insert(), rows)  # type: ignore[attr-defined]

class AnnotationOps(StoreBase):
    """Tags (codes, elements, HS codes, typed dates) and relations between documents."""

    def replace_tags(self, version_id: int, tags: list[dict[str, Any]]) -> int:
        """Replace all tags of a version with ``[{kind, value, scheme?, evidence?}]``; returns the count.

        Example:
            >>> store.replace_tags(v, [{"kind": "code", "scheme": "cn-dual-use", "value": "1C902.a"}])
            1
        """
        rows = [_checked(t, TAG_KEYS, ("kind", "value"), "tag") for t in tags]
        with self._write() as s:
            self._document_of(s, version_id)
            core(s).execute(sa.delete(Tag).where(col(Tag.version_id) == version_id))
            _insert_many(s, Tag, [{"version_id": version_id, "kind": t["kind"], "scheme": t.get("scheme"),
                                   "value": t["value"], "evidence": t.get("evidence") or ""} for t in rows])
        return len(rows)

    def tags(self, version_id: int) -> list[Tag]:
        """The tags of a version, in insertion order."""
        with self._read() as s:
            return list(s.exec(select(Tag).where(Tag.version_id == version_id).order_by(col(Tag.id))))

    def replace_relations(self, version_id: int, source_key: str | None, relations: list[dict[str, Any]]) -> int:
        """Replace a version's relations ``[{type, target_key?, target_text?, until?, since?, clause?, evidence?}]``.

        ``until``/``since`` take dates or ISO strings. Returns the count.
        """
        rows = [_checked(r, RELATION_KEYS, ("type",), "relation") for r in relations]
        with self._write() as s:
            self._document_of(s, version_id)
            core(s).execute(sa.delete(Relation).where(col(Relation.version_id) == version_id))
            _insert_many(s, Relation, [{
                "version_id": version_id, "source_key": source_key, "type": r["type"],
                "target_key": r.get("target_key"), "target_text": r.get("target_text") or "",
                "until": _date(r.get("until"), "until"), "since": _date(r.get("since"), "since"),
                "clause": r.get("clause"), "evidence": r.get("evidence") or "",
            } for r in rows])  # fmt: skip
        return len(rows)

    def relation_targets(self) -> list[str]:
        """Keys acted on by the latest version of any document (suspended, repealed, amended, ...), sorted.

        Example:
            >>> store.relation_targets()
            ['mofcom:2025:61']
        """
        query = _stated_now(select(Relation.target_key)).where(col(Relation.target_key).is_not(None)).distinct()
        with self._read() as s:
            return sorted(k for k in s.exec(query) if k)

    def dated_keys(self, since: date) -> tuple[set[str], set[str]]:
        """What can change status on or after ``since``, read in two queries over latest versions:
        ``(own, targets)`` — the keys of documents with a dated event (a ``date`` tag or their
        publication) on or after ``since``, and the keys targeted by a relation that states an
        ``until``/``since`` on or after ``since`` or is stated by one of ``own`` (its start date).

        Example:
            >>> store.dated_keys(date(2026, 1, 1))
            ({'mofcom:2026:5'}, {'mofcom:2025:61'})
        """
        latest = col(Version.number) == col(Document.latest_version)
        own_query = (
            select(Document.key)
            .join(Version, col(Version.document_id) == col(Document.id))
            .where(col(Document.key).is_not(None), latest)
            .where(sa.or_(col(Version.published) >= since, col(Version.id).in_(
                select(Tag.version_id).where(Tag.kind == "date", col(Tag.value) >= since.isoformat()))))
        )
        with self._read() as s:
            own = {k for k in s.exec(own_query) if k}
            rel_query = (
                _stated_now(select(Relation.target_key))
                .where(col(Relation.target_key).is_not(None))
                .where(sa.or_(col(Relation.until) >= since, col(Relation.since) >= since,
                              col(Relation.source_key).in_(own_query)))
                .distinct()
            )
            targets = {k for k in s.exec(rel_query) if k}
        return own, targets

    def targets_of(self, sources: set[str] | list[str]) -> list[tuple[str, str, str, date | None]]:
        """``(source_key, type, target_key, until)`` of the relations stated by the latest versions
        of the documents ``sources`` (read in batches), sorted."""
        keys = sorted(set(sources))
        out: list[tuple[str, str, str, date | None]] = []
        with self._read() as s:
            for i in range(0, len(keys), 500):
                query = _stated_now(
                    select(Relation.source_key, Relation.type, Relation.target_key, Relation.until)
                ).where(col(Relation.source_key).in_(keys[i:i + 500]), col(Relation.target_key).is_not(None))
                out.extend((src, kind, target, until) for src, kind, target, until in s.exec(query)
                           if src and target)
        return sorted(out, key=lambda r: (r[0], r[2], r[1], str(r[3])))

    def relations_to(self, target_key: str) -> list[Relation]:
        """Relations pointing at ``target_key``, only from the latest version of each source document.

        Example:
            >>> [r.type for r in store.relations_to("mofcom:2025:61")]
            ['suspends']
        """
        query = _stated_now(select(Relation)).where(Relation.target_key == target_key).order_by(col(Relation.id))
        with self._read() as s:
            return list(s.exec(query))

    def relations_from(self, key: str) -> list[Relation]:
        """Relations stated by the latest version of document ``key``; raises ``NotFound``."""
        with self._read() as s:
            doc = s.exec(select(Document).where(Document.key == key)).first()
            if doc is None:
                raise NotFound("document", key)
            query = (
                select(Relation)
                .join(Version, col(Relation.version_id) == col(Version.id))
                .where(Version.document_id == doc.id, Version.number == doc.latest_version)
                .order_by(col(Relation.id))
            )
            return list(s.exec(query))
