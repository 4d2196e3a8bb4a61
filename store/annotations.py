"""Tags and relations attached to versions (written by the tagger, replaced wholesale per version)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from store.errors import NotFound
from store.models import Document, Relation, Tag, Version
from store.session import StoreBase

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
            if s.get(Version, version_id) is None:
                raise NotFound("version", version_id)
            s.exec(sa.delete(Tag).where(col(Tag.version_id) == version_id))  # type: ignore[call-overload]
            for t in rows:
                s.add(Tag(version_id=version_id, kind=t["kind"], scheme=t.get("scheme"), value=t["value"],
                          evidence=t.get("evidence") or ""))  # fmt: skip
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
            if s.get(Version, version_id) is None:
                raise NotFound("version", version_id)
            s.exec(sa.delete(Relation).where(col(Relation.version_id) == version_id))  # type: ignore[call-overload]
            for r in rows:
                s.add(Relation(
                    version_id=version_id, source_key=source_key, type=r["type"], target_key=r.get("target_key"),
                    target_text=r.get("target_text") or "", until=_date(r.get("until"), "until"),
                    since=_date(r.get("since"), "since"), clause=r.get("clause"), evidence=r.get("evidence") or "",
                ))  # fmt: skip
        return len(rows)

    def relation_targets(self) -> list[str]:
        """Keys acted on by the latest version of any document (suspended, repealed, amended, ...), sorted.

        Example:
            >>> store.relation_targets()
            ['mofcom:2025:61']
        """
        query = (
            select(Relation.target_key)
            .join(Version, col(Relation.version_id) == col(Version.id))
            .join(Document, col(Version.document_id) == col(Document.id))
            .where(col(Relation.target_key).is_not(None), col(Version.number) == col(Document.latest_version))
            .distinct()
        )
        with self._read() as s:
            return sorted(k for k in s.exec(query) if k)

    def relations_to(self, target_key: str) -> list[Relation]:
        """Relations pointing at ``target_key``, only from the latest version of each source document.

        Example:
            >>> [r.type for r in store.relations_to("mofcom:2025:61")]
            ['suspends']
        """
        query = (
            select(Relation)
            .join(Version, col(Relation.version_id) == col(Version.id))
            .join(Document, col(Version.document_id) == col(Document.id))
            .where(Relation.target_key == target_key, col(Version.number) == col(Document.latest_version))
            .order_by(col(Relation.id))
        )
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
