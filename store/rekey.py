"""Migration 0004: document keys per DOMAIN.md B.2 (agency codes kept), canonical texts re-hashed.

Before B.2 changed, ``工信部原〔2026〕9号`` and ``工信部科〔2026〕9号`` were both keyed ``miit:2026:9``,
so the store merged them into one document with versions of two documents. This migration
recomputes the key of every stored version from *its own printed number* (``Version.fields``,
the record's ``to_json()``: ``doc_key`` and ``doc_number``) and:

* re-keys a document whose versions all get one new key (``miit:2012:285`` → ``miit:工信部原:2012:285``);
* splits a document whose versions get different keys: the versions of the first key (in version
  order) stay in the document, the others go to one new document per key, versions renumbered
  1..n in their original order. Versions without a number of their own (a page read once without
  one) stay where they were. URLs, tags and relations follow their versions; a change whose two
  versions end up in different documents is never kept as a diff between two documents: the
  first version of a split-off document gets a ``new`` change, a later one a change against its
  previous version in its own document with no stored diff (``regwatch diff`` recomputes it);
* rewrites the keys inside versions (``fields.doc_key``, relation targets in ``fields`` and in
  the ``relation`` table, ``relation.source_key``, ``doc_number`` tags) and in the outbox
  (``alert.doc_key`` and the key inside ``alert.dedup_key``, so a reminder already sent under the
  old key is not sent again under the new one);
* recomputes every version's canonical text and content hash with the current rules, so the first
  crawl after the upgrade compares like with like and makes no wave of fake versions (the
  alternative, comparing against a hash recomputed at every crawl, would leave the stored hashes
  stale for every other reader: the search index, ``show --json``, the versioning rule itself);
* keeps appearances (``store.appearances``) consistent: those of a split document are rebuilt
  per (document, source) from its URLs, versions and captures, each keeping what was last seen on
  its source when that record printed the document's own number; every appearance's stored record
  is re-keyed and its canonical text re-hashed like the versions';
* rebuilds the search index (``store.fulltext``) from the recomputed canonical texts.

Nothing is deleted and no two documents are ever merged: a key already taken by another document
is a conflict that leaves the document as it was and is reported. A relation target or alert that
names a merged key without saying which of the split documents it means is kept as it is and
reported (with its citation, when there is one, the target is always resolved).

The rules (how a printed number is keyed, how canonical text is built) belong to the pipeline, and
``store`` imports nothing internal (STYLE.md §2.2). So the migration is built from ``KeyRules``
passed in: ``store.migrations`` registers ``0004_rekey_agency_codes`` with an ``apply`` that refuses
to run without them, and ``pipeline.migrations.MIGRATIONS`` is the same registry with the rules
bound (``Migrations.bind``). ``regwatch db upgrade`` opens the store with that registry; every
other opener only checks names, so it sees the migration pending and asks for ``db upgrade``.
It is idempotent: run again on its own output it changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from store.fulltext import create_fulltext
from store.models import UTCDateTime
from store.packing import pack_rows, unpack_rows

# Lightweight tables: only the columns this migration reads or writes, so it does not depend on
# columns later migrations add to the models.
_DOC = sa.table(
    "document", sa.column("id", sa.Integer), sa.column("key", sa.String), sa.column("canonical_url", sa.String),
    sa.column("source", sa.String), sa.column("title", sa.String), sa.column("first_seen", UTCDateTime()),
    sa.column("last_seen", UTCDateTime()), sa.column("latest_version", sa.Integer), sa.column("status", sa.String),
)  # fmt: skip
_URL = sa.table(
    "document_url", sa.column("id", sa.Integer), sa.column("document_id", sa.Integer), sa.column("url", sa.String),
    sa.column("source", sa.String),
)  # fmt: skip
_VER = sa.table(
    "version", sa.column("id", sa.Integer), sa.column("document_id", sa.Integer), sa.column("number", sa.Integer),
    sa.column("url", sa.String), sa.column("source", sa.String), sa.column("title", sa.String),
    sa.column("text", sa.Text), sa.column("canonical_text", sa.Text), sa.column("content_hash", sa.String),
    sa.column("fields", sa.JSON), sa.column("created_at", UTCDateTime()),
)  # fmt: skip
_CHANGE = sa.table(
    "change", sa.column("id", sa.Integer), sa.column("document_id", sa.Integer),
    sa.column("from_version_id", sa.Integer), sa.column("to_version_id", sa.Integer), sa.column("kind", sa.String),
    sa.column("text_diff", sa.JSON), sa.column("field_changes", sa.JSON), sa.column("summary", sa.Text),
)  # fmt: skip
_TAG = sa.table("tag", sa.column("id", sa.Integer), sa.column("version_id", sa.Integer), sa.column("kind", sa.String),
                sa.column("value", sa.String))  # fmt: skip
_REL = sa.table(
    "relation", sa.column("id", sa.Integer), sa.column("version_id", sa.Integer), sa.column("source_key", sa.String),
    sa.column("target_key", sa.String), sa.column("target_text", sa.String),
)  # fmt: skip
_ALERT = sa.table("alert", sa.column("id", sa.Integer), sa.column("dedup_key", sa.String),
                  sa.column("doc_key", sa.String))  # fmt: skip
_APPEARANCE = sa.table(
    "appearance", sa.column("id", sa.Integer), sa.column("document_id", sa.Integer), sa.column("source", sa.String),
    sa.column("url", sa.String), sa.column("status", sa.String), sa.column("capture_id", sa.Integer),
    sa.column("version_id", sa.Integer), sa.column("title", sa.String), sa.column("content_hash", sa.String),
    sa.column("canonical_text", sa.Text), sa.column("fields", sa.JSON), sa.column("first_seen", UTCDateTime()),
    sa.column("last_seen", UTCDateTime()),
)  # fmt: skip


@dataclass(frozen=True)
class KeyRules:
    """What the migration needs from the pipeline (pure functions; see the module docstring).

    ``document_key(stored_key, printed_number)``: the current key of a version's own number;
    ``target_key(stored_key, citation_text)``: the current key of a relation target, or ``None``
    when the citation text says nothing (empty); ``canonical_text(title, text)``: a record's
    canonical text from its title and text as published; ``content_hash(canonical)``.
    """

    document_key: Callable[[str, str | None], str]
    target_key: Callable[[str | None, str], str | None]
    canonical_text: Callable[[str | None, str], str]
    content_hash: Callable[[str], str]


@dataclass
class RekeyReport:
    """What migration 0004 did; ``str()`` is the summary ``regwatch db upgrade`` prints."""

    rekeyed: list[tuple[str, str]] = field(default_factory=list)  # (old key, new key)
    splits: list[tuple[str, list[tuple[str, list[int]]]]] = field(default_factory=list)  # old -> [(key, old numbers)]
    conflicts: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    relation_targets: int = 0
    relation_sources: int = 0
    alerts: int = 0
    rehashed: int = 0
    whitespace_only: int = 0

    def __str__(self) -> str:
        """Example:
        >>> print(RekeyReport(rekeyed=[("miit:2012:285", "miit:工信部原:2012:285")], rehashed=2))
        re-keyed 1 document (miit:2012:285 → miit:工信部原:2012:285); split 0 merged documents
        canonical text recomputed for 2 versions
        """
        shown = ", ".join(f"{old} → {new}" for old, new in self.rekeyed[:10])
        more = f", … {len(self.rekeyed) - 10} more" if len(self.rekeyed) > 10 else ""
        lines = [f"re-keyed {_n(len(self.rekeyed), 'document')}" + (f" ({shown}{more})" if shown else "")
                 + f"; split {_n(len(self.splits), 'merged document')}"]
        for old, parts in self.splits:
            into = ", ".join(f"{key} (v{', v'.join(map(str, numbers))})" for key, numbers in parts)
            lines.append(f"  split merged document {old} into {into}")
        if self.relation_targets or self.relation_sources or self.alerts:
            lines.append(f"re-keyed {_n(self.relation_targets, 'relation target')}, "
                         f"{_n(self.relation_sources, 'relation source')}, {_n(self.alerts, 'alert')}")
        if self.rehashed:
            ws = (f" ({self.whitespace_only} now equal to the version before them: whitespace-only edits)"
                  if self.whitespace_only else "")
            lines.append(f"canonical text recomputed for {_n(self.rehashed, 'version')}{ws}")
        lines += [f"  conflict, left as it was: {c}" for c in self.conflicts]
        lines += [f"  kept as it was: {u}" for u in self.unresolved]
        return "\n".join(lines)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


@dataclass
class _Version:
    """What the plan needs of a version (texts are read again page by page, never all at once)."""

    id: int
    document_id: int
    number: int
    url: str
    source: str
    title: str
    content_hash: str
    created_at: datetime
    own_key: str | None = None  # the key of its own printed number (None: it has none)
    new_own_key: str | None = None


_PAGE = 500  # versions read per query


def _pages(conn: sa.Connection, *columns: sa.ColumnElement[Any],
                   table: sa.TableClause = _VER) -> Iterator[Sequence[sa.Row[Any]]]:
    """All rows of ``table`` (versions), ``_PAGE`` at a time by id, so big texts are never all in
    memory and the updates made between pages do not disturb an open cursor."""
    last = 0
    while True:
        query = sa.select(table.c.id, *columns).where(table.c.id > last).order_by(table.c.id).limit(_PAGE)
        rows = conn.execute(query).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def rekey_agency_codes(rules: KeyRules) -> Callable[[sa.Connection], str]:
    """The ``apply`` of migration 0004 with ``rules`` bound; it returns the report as text."""

    def apply(conn: sa.Connection) -> str:
        return str(run_rekey(conn, rules))

    return apply


def run_rekey(conn: sa.Connection, rules: KeyRules) -> RekeyReport:
    """Re-key, split and re-hash inside the caller's transaction (see the module docstring).

    It reads and rewrites whole rows, so the copies ``store.packing`` stores once are written
    back first and stored once again at the end."""
    unpack_rows(conn)
    report = _run_rekey(conn, rules)
    pack_rows(conn)
    return report


def _run_rekey(conn: sa.Connection, rules: KeyRules) -> RekeyReport:
    report = RekeyReport()
    docs = {row.id: row for row in conn.execute(sa.select(_DOC).order_by(_DOC.c.id))}
    light = [_VER.c[name] for name in ("document_id", "number", "url", "source", "title", "content_hash",
                                       "created_at")]  # fmt: skip
    loaded: list[_Version] = []
    for rows in _pages(conn, *light, _VER.c.fields):
        for row in rows:
            fields = row.fields if isinstance(row.fields, dict) else {}
            v = _Version(**{k: row._mapping[k] for k in ("id", "document_id", "number", "url", "source", "title",
                                                          "content_hash", "created_at")})  # fmt: skip
            v.own_key = fields.get("doc_key") or None
            v.new_own_key = rules.document_key(v.own_key, fields.get("doc_number")) if v.own_key else None
            loaded.append(v)
    versions: dict[int, list[_Version]] = {}
    for v in sorted(loaded, key=lambda v: (v.document_id, v.number)):
        versions.setdefault(v.document_id, []).append(v)

    # 1. plan: the keys each numbered document ends with, in version order
    plans: dict[int, list[tuple[str, list[_Version]]]] = {}
    for doc_id, doc in docs.items():
        groups: dict[str, list[_Version]] = {}
        for v in versions.get(doc_id, []):
            if v.new_own_key is not None:
                groups.setdefault(v.new_own_key, []).append(v)
        if not groups or (len(groups) == 1 and doc.key in groups):
            continue
        first = next(iter(groups))
        groups[first] = [v for v in versions[doc_id] if v.new_own_key in (first, None)]
        plans[doc_id] = list(groups.items())
    unchanged = {doc.key for doc_id, doc in docs.items() if doc.key is not None and doc_id not in plans}
    assigned: set[str] = set()
    for doc_id in list(plans):
        keys = [key for key, _ in plans[doc_id]]
        taken = [k for k in keys if k in unchanged or k in assigned]
        if taken:
            report.conflicts.append(f"{docs[doc_id].key or doc_id} would become {', '.join(keys)}, "
                                    f"but {', '.join(taken)} is already another document's key")
            del plans[doc_id]
            unchanged.add(docs[doc_id].key)
        else:
            assigned.update(keys)

    # what each appearance of a document to split last saw there: (document, source, URL) -> key,
    # and (document, source, "") for the source's other URLs
    has_appearances = "appearance" in sa.inspect(conn).get_table_names()
    seen_as: dict[tuple[int, str, str], str] = {}
    if has_appearances and plans:
        query = sa.select(_APPEARANCE.c.document_id, _APPEARANCE.c.source, _APPEARANCE.c.url, _APPEARANCE.c.fields)
        for row in conn.execute(query.where(_APPEARANCE.c.document_id.in_(list(plans)))):
            key = _own_key(rules, row.fields)
            if key is not None:
                seen_as[(row.document_id, row.source, row.url)] = seen_as[(row.document_id, row.source, "")] = key

    # 2. documents: free the old keys first (unique column), then write the new ones
    for doc_id in plans:
        conn.execute(_DOC.update().where(_DOC.c.id == doc_id).values(key=None))
    final_doc: dict[int, int] = {}  # version id -> document id
    final_key: dict[int, str] = {}  # document id -> key
    rekeyed: dict[str, str] = {}  # unambiguous old key -> new key
    split_keys: dict[str, list[str]] = {}
    families: dict[int, list[int]] = {}  # split document id -> it and the documents split off it
    for doc_id, groups in plans.items():
        doc = docs[doc_id]
        (first_key, first_versions), *others = groups
        final_key[doc_id] = first_key
        final_doc.update({v.id: doc_id for v in first_versions})
        if not others:
            conn.execute(_DOC.update().where(_DOC.c.id == doc_id).values(key=first_key))
            report.rekeyed.append((doc.key, first_key))
            if doc.key is not None:
                rekeyed[doc.key] = first_key
            continue
        split_off = []
        for key, group in others:  # move the split-off versions out first: numbers are unique per document
            new_id = _insert_document(conn, key, group, doc)
            _renumber(conn, new_id, group)
            final_key[new_id] = key
            final_doc.update({v.id: new_id for v in group})
            split_off.append((new_id, key, group))
        _renumber(conn, doc_id, first_versions)
        _set_document(conn, doc_id, first_key, first_versions, doc)
        for new_id, key, group in split_off:
            _set_document(conn, new_id, key, group, None)
        report.splits.append((doc.key or doc.canonical_url,
                              [(key, [v.number for v in group]) for key, group in groups]))
        if doc.key is not None:
            split_keys[doc.key] = [key for key, _ in groups]
        by_key = {key: final_doc[group[0].id] for key, group in groups}
        copies = {(source, url): by_key[key] for (owner, source, url), key in seen_as.items()
                  if owner == doc_id and key in by_key}
        _split_urls(conn, doc_id, groups, final_doc, copies)
        _split_changes(conn, doc_id, versions[doc_id], final_doc, final_key, doc.key)
        families[doc_id] = [doc_id, *(new_id for new_id, _, _ in split_off)]

    if has_appearances and families:
        _split_appearances(conn, rules, families, final_key, docs, report)

    by_id = {v.id: v for vs in versions.values() for v in vs}
    old_key_of = {v.id: docs[v.document_id].key for v in by_id.values()}
    key_now = {vid: final_key[doc_id] for vid, doc_id in final_doc.items()}

    # 3. doc_number tags of re-keyed versions
    for vid, key in key_now.items():
        v = by_id[vid]
        if v.own_key is not None and v.own_key != key:
            conn.execute(_TAG.update().where(_TAG.c.version_id == vid, _TAG.c.kind == "doc_number",
                                             _TAG.c.value == v.own_key).values(value=key))  # fmt: skip

    def target(old: str | None, text: str, where: str) -> str | None:
        found = rules.target_key(old, text or "")
        if found is not None:
            return found
        if old in rekeyed:
            return rekeyed[old]
        if old in split_keys and where:
            report.unresolved.append(f"{where} → {old} (no citation text; the old key merged "
                                     f"{', '.join(split_keys[old])})")
        return old

    # ... and in every version's (and appearance's) stored record (fields) and canonical text
    hashes = _rewrite_versions(conn, rules, key_now, by_id, target, report)
    if has_appearances:
        _rewrite_appearances(conn, rules, target, report)

    # 4. relation rows: the citing version's own key, and targets
    for row in conn.execute(sa.select(_REL).order_by(_REL.c.id)).all():
        values: dict[str, Any] = {}
        old_source, now = old_key_of.get(row.version_id), key_now.get(row.version_id)
        if old_source is not None and row.source_key == old_source and now not in (None, old_source):
            values["source_key"] = now  # the citing document's own key
        if row.target_key is not None:
            citing = key_now.get(row.version_id) or old_key_of.get(row.version_id) or f"version {row.version_id}"
            new_target = target(row.target_key, row.target_text or "", f"relation of {citing}")
            if new_target != row.target_key:
                values["target_key"] = new_target
        if values:
            conn.execute(_REL.update().where(_REL.c.id == row.id).values(**values))
            report.relation_sources += "source_key" in values
            report.relation_targets += "target_key" in values

    # 5. the outbox: keys and dedup keys, so nothing already sent is sent again under the new key
    _rekey_alerts(conn, rekeyed, split_keys, key_now, old_key_of, report)

    # 6. versions that now equal the one before them at their URL (the old rule's whitespace-only
    # versions: kept, they are history), then the search index from the new canonical texts
    _count_whitespace_only(by_id, final_doc, hashes, report)
    create_fulltext(conn)
    return report


def _renumber(conn: sa.Connection, doc_id: int, group: Sequence[_Version]) -> None:
    """Make ``group`` (in its order) versions 1..n of document ``doc_id``.

    Numbers only go down (or the version moves to a new document), in ascending order, so the
    unique (document, number) pair never collides on the way.
    """
    for number, v in enumerate(group, start=1):
        if (v.document_id, v.number) != (doc_id, number):
            conn.execute(_VER.update().where(_VER.c.id == v.id).values(document_id=doc_id, number=number))


def _set_document(conn: sa.Connection, doc_id: int, key: str, group: Sequence[_Version], doc: Any) -> None:
    """Key, latest version and title of a document that now holds ``group``; the canonical URL
    of the original document moves to its first remaining version's URL if its own went away."""
    title = next((v.title for v in reversed(group) if v.title), doc.title if doc is not None else "")
    values: dict[str, Any] = {"key": key, "latest_version": len(group), "title": title}
    if doc is not None and doc.canonical_url not in {v.url for v in group}:
        values["canonical_url"] = group[0].url
    conn.execute(_DOC.update().where(_DOC.c.id == doc_id).values(**values))


def _insert_document(conn: sa.Connection, key: str, group: Sequence[_Version], doc: Any) -> int:
    """A new document for a split-off group: first and last seen are its versions' times."""
    values = {
        "key": None, "canonical_url": group[0].url, "source": group[0].source, "title": "",
        "first_seen": min(v.created_at for v in group), "last_seen": max(v.created_at for v in group),
        "latest_version": 0, "status": doc.status,
    }  # fmt: skip
    insert = _DOC.insert().values(**values)
    if conn.dialect.insert_returning:
        return int(conn.execute(insert.returning(_DOC.c.id)).scalar_one())
    return int(conn.execute(insert).lastrowid)


def _split_urls(conn: sa.Connection, doc_id: int, groups: list[tuple[str, list[_Version]]],
                final_doc: Mapping[int, int], copies: Mapping[tuple[str, str], int]) -> None:
    """Each URL row goes with the versions seen at it; a URL with versions in several documents is
    listed for each. A URL without versions (a copy on another site) goes with the document its
    appearance's last record names (``copies``: (source, URL) -> document), else stays."""
    holders: dict[str, list[int]] = {}
    sources: dict[str, str] = {}
    for _, group in groups:
        for v in group:
            target = final_doc[v.id]
            if target not in holders.setdefault(v.url, []):
                holders[v.url].append(target)
            sources.setdefault(v.url, v.source)
    rows = conn.execute(sa.select(_URL).where(_URL.c.document_id == doc_id).order_by(_URL.c.id)).all()
    listed = {(doc_id, row.url) for row in rows}
    for row in rows:
        owners = holders.get(row.url) or [copies.get((row.source, row.url), copies.get((row.source, ""), doc_id))]
        if doc_id not in owners:
            conn.execute(_URL.update().where(_URL.c.id == row.id).values(document_id=owners[0]))
            listed.discard((doc_id, row.url))
            listed.add((owners[0], row.url))
    for url, owners in holders.items():
        for owner in owners:
            if (owner, url) not in listed:
                conn.execute(_URL.insert().values(document_id=owner, url=url, source=sources[url]))
                listed.add((owner, url))


def _split_changes(conn: sa.Connection, doc_id: int, old_versions: Sequence[_Version], final_doc: Mapping[int, int],
                   final_key: Mapping[int, str], old_key: str | None) -> None:
    """Changes follow their new version; one whose old version went to another document loses its diff."""
    numbering: dict[int, list[_Version]] = {}
    for v in old_versions:
        numbering.setdefault(final_doc[v.id], []).append(v)
    new_number = {v.id: i for vs in numbering.values() for i, v in enumerate(vs, start=1)}
    rows = conn.execute(sa.select(_CHANGE).where(_CHANGE.c.document_id == doc_id).order_by(_CHANGE.c.id)).all()
    kinds = {(row.to_version_id, row.kind) for row in rows}
    for row in rows:
        target = final_doc.get(row.to_version_id, doc_id)
        values: dict[str, Any] = {}
        if target != doc_id:
            values["document_id"] = target
        if row.from_version_id is not None and final_doc.get(row.from_version_id, doc_id) != target:
            own = numbering[target]
            to = next(v for v in own if v.id == row.to_version_id)
            earlier = [v for v in own if new_number[v.id] < new_number[to.id]]
            previous = next((v for v in reversed(earlier) if v.url == to.url), earlier[-1] if earlier else None)
            values.update(text_diff={}, field_changes=[])
            key = final_key[target]
            if previous is None:
                values["from_version_id"] = None
                if row.kind == "changed" and (row.to_version_id, "new") not in kinds:
                    values["kind"] = "new"
                values["summary"] = f"new document (split from {old_key} when keys gained agency codes)"
            else:
                values["from_version_id"] = previous.id
                values["summary"] = (f"changed (split from {old_key}: the stored diff was against another "
                                     f"document; `regwatch diff {key} {new_number[previous.id]} "
                                     f"{new_number[to.id]}` computes it)")
        if values:
            conn.execute(_CHANGE.update().where(_CHANGE.c.id == row.id).values(**values))


def _own_key(rules: KeyRules, fields: Any) -> str | None:
    """The current key of the number a stored record (``fields``) prints, None when it has none."""
    if not isinstance(fields, dict) or not fields.get("doc_key"):
        return None
    return rules.document_key(fields["doc_key"], fields.get("doc_number"))


def _split_appearances(conn: sa.Connection, rules: KeyRules, families: Mapping[int, list[int]],
                       final_key: Mapping[int, str], docs: Mapping[int, Any], report: RekeyReport) -> None:
    """Appearances of split documents, rebuilt: one per (document, source) from their URLs,
    versions and captures (``store.appearances``, as migration 0005 does), then each keeps what
    was last seen on its source when that record printed the document's own number."""
    from store.appearances import backfill_appearances  # the appearance table exists (checked by the caller)

    split = list(families)
    old = conn.execute(sa.select(_APPEARANCE).where(_APPEARANCE.c.document_id.in_(split))).all()
    conn.execute(_APPEARANCE.delete().where(_APPEARANCE.c.document_id.in_(split)))
    backfill_appearances(conn)
    members = {doc_id: original for original, ids in families.items() for doc_id in ids}
    rebuilt = conn.execute(sa.select(_APPEARANCE).where(_APPEARANCE.c.document_id.in_(list(members)))).all()
    place = {(members[row.document_id], row.source, final_key[row.document_id]): row for row in rebuilt}
    for row in old:
        key = _own_key(rules, row.fields) or final_key[row.document_id]
        target = place.get((row.document_id, row.source, key))
        if target is None:
            report.unresolved.append(f"appearance of {docs[row.document_id].key} on {row.source} (seen as {key}): "
                                     "rebuilt from its versions and captures; its next capture refreshes it")
            continue
        values = {"url": row.url, "status": row.status, "capture_id": row.capture_id, "title": row.title,
                  "content_hash": row.content_hash, "canonical_text": row.canonical_text, "fields": row.fields,
                  "first_seen": min(row.first_seen, target.first_seen), "last_seen": row.last_seen}
        versions_there = {v for (v,) in conn.execute(sa.select(_VER.c.id).where(_VER.c.document_id
                                                                                 == target.document_id))}
        if row.version_id in versions_there:
            values["version_id"] = row.version_id
        conn.execute(_APPEARANCE.update().where(_APPEARANCE.c.id == target.id).values(**values))


def _rewrite_appearances(conn: sa.Connection, rules: KeyRules, target: Callable[[str | None, str, str], str | None],
                         report: RekeyReport) -> None:
    """Keys in each appearance's last record, and its canonical text/hash with the current rule
    (an appearance never read yet, ``content_hash == ""``, is left so)."""
    columns = (_APPEARANCE.c.fields, _APPEARANCE.c.content_hash, _APPEARANCE.c.canonical_text)
    for row in (r for rows in _pages(conn, *columns, table=_APPEARANCE) for r in rows):
        if not isinstance(row.fields, dict):
            continue
        fields = dict(row.fields)
        own = _own_key(rules, fields)
        if own is not None:
            fields["doc_key"] = own
        if isinstance(fields.get("relations"), list):
            fields["relations"] = [
                {**r, "target_key": target(r["target_key"], r.get("target_text") or "", "")}
                if isinstance(r, dict) and r.get("target_key") is not None else r
                for r in fields["relations"]
            ]
        values: dict[str, Any] = {"fields": fields} if fields != row.fields else {}
        if row.content_hash and "title" in fields and isinstance(fields.get("text"), str):
            canonical = rules.canonical_text(fields["title"], fields["text"])
            digest = rules.content_hash(canonical)
            if (canonical, digest) != (row.canonical_text, row.content_hash):
                values.update(canonical_text=canonical, content_hash=digest)
        if values:
            conn.execute(_APPEARANCE.update().where(_APPEARANCE.c.id == row.id).values(**values))


def _replace_key(text: str, old: str, new: str) -> str:
    """``old`` replaced by ``new`` where it stands as a whole ``:``-separated key inside ``text``.

    Example:
        >>> _replace_key("deadline:miit:2012:285:suspended>in_force:2026-01-01", "miit:2012:285", "miit:X:2012:285")
        'deadline:miit:X:2012:285:suspended>in_force:2026-01-01'
        >>> _replace_key("status:mofcom:2025:61:x", "mofcom:2025:6", "y")
        'status:mofcom:2025:61:x'
    """
    out, pos = [], 0
    while (found := text.find(old, pos)) >= 0:
        end = found + len(old)
        if (found == 0 or text[found - 1] == ":") and (end == len(text) or text[end] == ":"):
            out.append(text[pos:found] + new)
        else:
            out.append(text[pos:end])
        pos = end
    return "".join(out) + text[pos:]


def _rekey_alerts(conn: sa.Connection, rekeyed: Mapping[str, str], split_keys: Mapping[str, list[str]],
                  key_now: Mapping[int, str], old_key_of: Mapping[int, str | None], report: RekeyReport) -> None:
    if not rekeyed and not split_keys:
        return
    rows = conn.execute(sa.select(_ALERT).order_by(_ALERT.c.id)).all()
    dedups = {row.dedup_key for row in rows}
    unresolved: dict[str, int] = {}
    for row in rows:
        doc_key, dedup = row.doc_key, row.dedup_key
        vid = int(dedup[len("version:"):]) if dedup.startswith("version:") and dedup[8:].isdigit() else None
        if vid is not None and vid in key_now and doc_key == old_key_of.get(vid):
            doc_key = key_now[vid]  # an alert about one version: its own document
        elif doc_key in rekeyed:
            doc_key = rekeyed[doc_key]
        elif doc_key in split_keys:
            unresolved[doc_key] = unresolved.get(doc_key, 0) + 1
        for old, new in rekeyed.items():
            if old in dedup:
                dedup = _replace_key(dedup, old, new)
        if dedup != row.dedup_key and dedup in dedups:
            report.conflicts.append(f"alert {row.id}: dedup key {dedup} already exists; kept {row.dedup_key}")
            dedup = row.dedup_key
        if (doc_key, dedup) != (row.doc_key, row.dedup_key):
            conn.execute(_ALERT.update().where(_ALERT.c.id == row.id).values(doc_key=doc_key, dedup_key=dedup))
            dedups.discard(row.dedup_key)
            dedups.add(dedup)
            report.alerts += 1
    for key, count in unresolved.items():
        report.unresolved.append(f"{_n(count, 'alert')} about {key} (the old key merged {', '.join(split_keys[key])})")


def _rewrite_versions(conn: sa.Connection, rules: KeyRules, key_now: Mapping[int, str],
                      by_id: Mapping[int, _Version], target: Callable[[str | None, str, str], str | None],
                      report: RekeyReport) -> dict[int, str]:
    """New ``fields`` (own key, relation targets) and canonical text/hash of every version; returns
    the content hash of each version after the migration.

    The canonical text is recomputed for versions the process stage wrote (their fields hold the
    record's title and the same text); any other row is left as its writer made it.
    """
    hashes: dict[int, str] = {}
    for rows in _pages(conn, _VER.c.text, _VER.c.canonical_text, _VER.c.content_hash, _VER.c.fields):
        for row in rows:
            values: dict[str, Any] = {}
            hashes[row.id] = row.content_hash
            if not isinstance(row.fields, dict):
                continue
            fields = dict(row.fields)
            v = by_id[row.id]
            if v.new_own_key is not None and row.id in key_now and fields.get("doc_key") != key_now[row.id]:
                fields["doc_key"] = key_now[row.id]
            if isinstance(fields.get("relations"), list):
                fields["relations"] = [
                    {**r, "target_key": target(r["target_key"], r.get("target_text") or "", "")}
                    if isinstance(r, dict) and r.get("target_key") is not None else r
                    for r in fields["relations"]
                ]
            if fields != row.fields:
                values["fields"] = fields
            if "title" in fields and fields.get("text") == row.text:
                canonical = rules.canonical_text(fields["title"], row.text)
                digest = rules.content_hash(canonical)
                if (canonical, digest) != (row.canonical_text, row.content_hash):
                    values.update(canonical_text=canonical, content_hash=digest)
                    hashes[row.id] = digest
                    report.rehashed += 1
            if values:
                conn.execute(_VER.update().where(_VER.c.id == row.id).values(**values))
    return hashes


def _count_whitespace_only(by_id: Mapping[int, _Version], final_doc: Mapping[int, int], hashes: Mapping[int, str],
                           report: RekeyReport) -> None:
    by_doc: dict[int, list[_Version]] = {}
    for v in sorted(by_id.values(), key=lambda v: (v.document_id, v.number)):
        by_doc.setdefault(final_doc.get(v.id, v.document_id), []).append(v)
    for group in by_doc.values():
        last_at: dict[str, str] = {}
        for v in group:
            if last_at.get(v.url) == hashes[v.id] and hashes[v.id] != v.content_hash:
                report.whitespace_only += 1
            last_at[v.url] = hashes[v.id]


__all__ = ["KeyRules", "RekeyReport", "rekey_agency_codes", "run_rekey"]
