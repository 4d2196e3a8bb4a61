"""Backfill of the ``appearance`` table from the 0001/0002 schema (migration 0005).

Before appearances, a document's sources were only known from its ``document_url`` rows and
the ``source`` of its versions. The backfill makes one appearance per (document, source) found
there and reads everything else from rows that schema already had:

* ``first_seen`` / ``last_seen``: the processed captures of the source at one of the document's
  URLs there, else the creation times of the versions from that source, else the document's own
  times (its founding source; ``last_seen`` too when it has only one source);
* the latest capture, URL and content: the latest such capture, and the latest version from that
  source (its hash, title, canonical text and fields). A source that never made a version (a
  copy identical to a stored version) gets ``content_hash = ""``; its next capture fills it in;
* ``reference``: the source of the document's latest version, since that is the text the
  history now ends with (an old database may hold a copy's text as the latest version: it stays,
  nothing is rewritten, and the authoritative copy takes over without a diff when next seen);
* ``status``: the document's.

Only columns of the 0001 schema are read (lightweight ``sa.table`` definitions, not the head
models), so a later migration that adds columns cannot break this one; documents that already
have an appearance are skipped, so running it again (or on a database whose baseline already
made the table) adds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from store.models import Appearance, UTCDateTime

_doc = sa.table(
    "document", sa.column("id"), sa.column("source"), sa.column("first_seen", UTCDateTime()),
    sa.column("last_seen", UTCDateTime()), sa.column("latest_version"), sa.column("status"),
    sa.column("canonical_url"),
)  # fmt: skip
_url = sa.table("document_url", sa.column("id"), sa.column("document_id"), sa.column("url"), sa.column("source"))
_version = sa.table(
    "version", sa.column("id"), sa.column("document_id"), sa.column("number"), sa.column("source"),
    sa.column("url"), sa.column("capture_id"), sa.column("title"), sa.column("content_hash"),
    sa.column("canonical_text"), sa.column("fields", sa.JSON()), sa.column("created_at", UTCDateTime()),
)  # fmt: skip
_capture = sa.table(
    "capture", sa.column("id"), sa.column("source"), sa.column("url"), sa.column("final_url"),
    sa.column("fetched_at", UTCDateTime()), sa.column("state"),
)  # fmt: skip
_appearance = sa.table("appearance", sa.column("document_id"))
_CHUNK = 500


def create_appearances(conn: sa.Connection) -> None:
    """Migration 0005: create the ``appearance`` table (if missing) and backfill it."""
    Appearance.__table__.create(conn, checkfirst=True)  # type: ignore[attr-defined]
    backfill_appearances(conn)


def backfill_appearances(conn: sa.Connection) -> int:
    """Insert the appearances of every document that has none yet; returns how many were made."""
    done = set(conn.execute(sa.select(_appearance.c.document_id).distinct()).scalars())
    docs = [d for d in conn.execute(sa.select(_doc)).mappings() if d["id"] not in done]
    if not docs:
        return 0
    wanted = {d["id"] for d in docs}
    urls: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(sa.select(_url).order_by(_url.c.id)).mappings():
        if row["document_id"] in wanted:
            urls[row["document_id"]].append(row)
    meta = [c for c in _version.c if c.name not in ("canonical_text", "fields")]
    versions: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(sa.select(*meta).order_by(_version.c.number)).mappings():
        if row["document_id"] in wanted:
            versions[row["document_id"]].append(row)
    seen = _sightings(conn, wanted)
    rows = []
    for doc in docs:
        rows.extend(_appearances_of(doc, urls[doc["id"]], versions[doc["id"]], seen))
    texts = _texts(conn, [r["version_id"] for r in rows if r["version_id"] is not None])
    for row in rows:
        row["canonical_text"], row["fields"] = texts.get(row["version_id"], ("", {}))
    if rows:
        conn.execute(sa.insert(Appearance.__table__), rows)  # type: ignore[attr-defined]
    return len(rows)


def _sightings(conn: sa.Connection, wanted: set[int]) -> dict[tuple[int, str], list[tuple[datetime, int, str]]]:
    """(document, source) -> [(fetched_at, capture id, document URL)] of processed captures there."""
    matches_url = sa.or_(_capture.c.url == _url.c.url, _capture.c.final_url == _url.c.url)
    query = (
        sa.select(_url.c.document_id, _capture.c.source, _capture.c.fetched_at, _capture.c.id, _url.c.url)
        .select_from(_capture)
        .join(_url, sa.and_(matches_url, _url.c.source == _capture.c.source))
        .where(_capture.c.state == "processed")
    )
    out: dict[tuple[int, str], list[tuple[datetime, int, str]]] = defaultdict(list)
    for doc_id, source, fetched_at, capture_id, url in conn.execute(query):
        if doc_id in wanted:
            out[(doc_id, source)].append((fetched_at, capture_id, url))
    return out


def _appearances_of(doc: Any, urls: list[Any], versions: list[Any],
                    seen: dict[tuple[int, str], list[tuple[datetime, int, str]]]) -> list[dict[str, Any]]:
    sources = list(dict.fromkeys([doc["source"], *(v["source"] for v in versions), *(u["source"] for u in urls)]))
    latest = next((v for v in versions if v["number"] == doc["latest_version"]), versions[-1] if versions else None)
    reference = latest["source"] if latest is not None else doc["source"]
    rows = []
    for source in sources:
        mine = [v for v in versions if v["source"] == source]
        last = mine[-1] if mine else None
        captures = sorted(seen.get((doc["id"], source), []), key=lambda c: (c[0], c[1]))
        times = [c[0] for c in captures] or [v["created_at"] for v in mine]
        founding, only = source == doc["source"], len(sources) == 1
        # a source known only from a URL row (no processed capture there, no version) was seen when
        # the document was, as far as the database can tell
        first_seen = min([*times, *([doc["first_seen"]] if founding else [])], default=doc["first_seen"])
        last_seen = doc["last_seen"] if only else max(times, default=first_seen)
        own_urls = [u["url"] for u in urls if u["source"] == source]
        fallback = last["url"] if last is not None else (own_urls or [doc["canonical_url"]])[-1]
        url = captures[-1][2] if captures else fallback
        rows.append({
            "document_id": doc["id"], "source": source, "url": url, "first_seen": first_seen,
            "last_seen": max(last_seen, first_seen), "status": doc["status"], "reference": source == reference,
            "capture_id": captures[-1][1] if captures else (last["capture_id"] if last is not None else None),
            "version_id": last["id"] if last is not None else None,
            "title": last["title"] if last is not None else "",
            "content_hash": last["content_hash"] if last is not None else "",
        })  # fmt: skip
    return rows


def _texts(conn: sa.Connection, version_ids: Iterable[int]) -> dict[int, tuple[str, dict[str, Any]]]:
    ids = sorted(set(version_ids))
    out: dict[int, tuple[str, dict[str, Any]]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = sa.select(_version.c.id, _version.c.canonical_text, _version.c.fields).where(_version.c.id.in_(chunk))
        for version_id, text, fields in conn.execute(query):
            out[version_id] = (text, dict(fields or {}))
    return out


__all__ = ["backfill_appearances", "create_appearances"]
