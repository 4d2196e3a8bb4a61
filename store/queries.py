"""Read-side queries for the CLI: change history, text search and the status summary."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, or_, select

from store.errors import NotFound
from store.fulltext import (
    MIN_MATCH_CHARS,
    fold_query,
    gram_filter,
    gram_servable,
    has_fts_table,
    match_query,
    trigram_supported,
)
from store.models import Alert, AlertDelivery, Capture, Change, CrawlRun, Document, SinkState, Source, Tag, Version
from store.outbox import ALERT_STATUSES
from store.results import HistoryRow, SearchHit
from store.session import StoreBase

_SNIPPET = 40


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _snippet(text: str, needle: str) -> str:
    """About ``_SNIPPET`` characters either side of the first case-insensitive hit (cut by
    characters, so CJK text is never split inside a character); the text's start when the
    hit is only in the title.

    Example:
        >>> _snippet("关于对稀土物项实施出口管制的决定", "稀土")
        '关于对稀土物项实施出口管制的决定'
    """
    found = re.search(re.escape(needle), text, re.IGNORECASE)
    if found is None:
        return text[: 2 * _SNIPPET]
    start = max(0, found.start() - _SNIPPET)
    return ("…" if start else "") + text[start : found.end() + _SNIPPET]


def _hit_snippet(text: str, canonical: str, needle: str) -> str:
    """The snippet from the text as published when the (folded) query is in it, else from the
    canonical text it matched in (e.g. a full-width ``１Ｃ９０２`` in the page found by ``1C902``).

    Example:
        >>> _hit_snippet("物项编号１Ｃ９０２。", "物项编号1C902。", "1C902")
        '物项编号1C902。'
    """
    if re.search(re.escape(needle), text, re.IGNORECASE) or not re.search(re.escape(needle), canonical, re.I):
        return _snippet(text, needle)
    return _snippet(canonical, needle)


def _hits(s: Session, found: list[tuple[int, str]], needle: str) -> list[SearchHit]:
    """Search hits for ``(version id, document key)`` rows in their order, the versions loaded
    only now: ranking or sorting whole rows (text, fields) of every candidate is what costs."""
    versions = {v.id: v for v in s.exec(select(Version).where(col(Version.id).in_([i for i, _ in found])))}
    return [
        SearchHit(v.document_id, doc_key, v.title, v.url, v.number, _hit_snippet(v.text, v.canonical_text, needle))
        for v, doc_key in ((versions[i], doc_key) for i, doc_key in found)
    ]


class QueryOps(StoreBase):
    """History, search and status (read-only)."""

    def history(
        self,
        *,
        key: str | None = None,
        source: str | None = None,
        since: datetime | None = None,
        code: str | None = None,
        limit: int = 100,
        kind: str | None = None,
        element: str | None = None,
        until: datetime | None = None,
    ) -> list[HistoryRow]:
        """Changes newest first, filtered by document key, source (where the new version was seen),
        ``since`` (change time, inclusive), ``until`` (change time, exclusive), change ``kind``
        (new, changed, ...), control ``code`` (any version tagged ``kind=code``, case-insensitive)
        and ``element`` (any version tagged ``kind=element``, e.g. 镓). An unknown ``key`` raises
        ``NotFound``.

        Example:
            >>> [(r.document_key, r.kind, r.to_number) for r in store.history(code="1c902.a")]
            [('mofcom:2025:61', 'new', 1)]
        """
        new, old = aliased(Version), aliased(Version)
        query = (
            select(Change, Document, new, old.number)
            .join(Document, col(Change.document_id) == col(Document.id))
            .join(new, col(Change.to_version_id) == new.id)
            .outerjoin(old, col(Change.from_version_id) == old.id)
        )
        if key is not None:
            query = query.where(Document.key == key)
        if source is not None:
            query = query.where(new.source == source)
        if since is not None:
            query = query.where(col(Change.created_at) >= since)
        if until is not None:
            query = query.where(col(Change.created_at) < until)
        if kind is not None:
            query = query.where(Change.kind == kind)
        for tag_kind, value in (("code", code), ("element", element)):
            if value is not None:
                tagged = (
                    select(Version.document_id)
                    .join(Tag, col(Tag.version_id) == col(Version.id))
                    .where(Tag.kind == tag_kind, func.lower(Tag.value) == value.strip().lower())
                )
                query = query.where(col(Document.id).in_(tagged))
        query = query.order_by(col(Change.created_at).desc(), col(Change.id).desc()).limit(limit)
        with self._read() as s:
            if key is not None and s.exec(select(Document.id).where(Document.key == key)).first() is None:
                raise NotFound("document", key)
            return [
                HistoryRow(
                    change_id=change.id, kind=change.kind, document_id=doc.id, document_key=doc.key,
                    canonical_url=doc.canonical_url, title=version.title or doc.title, source=version.source,
                    url=version.url, from_number=from_number, to_number=version.number, summary=change.summary,
                    field_changes=list(change.field_changes), created_at=change.created_at,
                )  # fmt: skip
                for change, doc, version, from_number in s.exec(query)
            ]

    def search(self, text: str, limit: int = 20) -> list[SearchHit]:
        """Latest versions whose title or canonical text contains ``text`` (case-insensitive, taken
        literally, folded like the index: ``１Ｃ９０２`` finds ``1C902``; see ``store.fulltext``).

        SQLite: FTS5 trigram ``MATCH`` ranked by bm25 for 3+ characters; PostgreSQL: ``ILIKE``
        (pg_trgm indexes). 1-2 characters: the gram index on both backends (migration 0007), or
        ``LIKE``/``ILIKE`` without it; these results come newest first (see ``store.fulltext``).

        Example:
            >>> [h.document_key for h in store.search("稀土")]
            ['mofcom:2025:61']
        """
        needle = fold_query(text)
        if not needle:
            raise ValueError("search text is empty; pass a word or code to look for")
        with self._read() as s:
            conn = s.connection()
            if len(needle) >= MIN_MATCH_CHARS and has_fts_table(conn) and trigram_supported(conn):
                query, params = match_query(needle, limit)
                return _hits(s, [(version_id, doc_key) for version_id, doc_key in conn.execute(query, params)], needle)
            like = (  # ids first (see _hits)
                select(Version.id, Document.key)
                .join(Document, col(Version.document_id) == col(Document.id))
                .where(col(Version.number) == col(Document.latest_version))
                .order_by(col(Document.last_seen).desc(), col(Document.id).desc())
                .limit(limit)
            )
            grams = gram_filter(conn, needle, col(Document.id), col(Version.id)) \
                if gram_servable(needle) else None
            if grams is not None:  # the 1-2 character gram index (store.fulltext): the scan's rows, fast
                like = like.where(grams.condition)
            if grams is None or not grams.exact:
                pattern = _like(needle)
                like = like.where(or_(*(col(column).ilike(pattern, escape="\\")
                                        for column in (Version.title, Version.canonical_text))))
            return _hits(s, s.exec(like).all(), needle)

    def status_summary(self) -> dict[str, Any]:
        """Per source: last run time/status, consecutive failures, documents, versions; plus totals.

        Shape: ``{"sources": {slug: {name, last_run_at, last_run_status, last_run_log, last_run_errors (kind ->
        count), consecutive_failures, documents, versions}}, "totals": {documents, versions, changes, captures},
        "pending_alerts", "dead_alerts", "pending_captures", "failed_captures", "alerts": {status: n},
        "deliveries": {sink: {state: n}}, "blocked_sinks": [{sink, reason, since, blocked}],
        "held_sinks": [{sink, reason, held}]}`` (datetimes are aware UTC ``datetime`` objects or None).

        ``pending_alerts``/``dead_alerts`` count alerts by their summary status; ``deliveries``
        counts the planned (alert, sink) deliveries; a blocked sink (permanent error, e.g. a bad
        token) says why and since when, a held one (absent or disabled here) why.
        """
        with self._read() as s:
            sources = list(s.exec(select(Source).order_by(col(Source.slug))))
            docs = dict(s.exec(select(Document.source, func.count()).group_by(Document.source)).all())
            versions = dict(s.exec(select(Version.source, func.count()).group_by(Version.source)).all())
            alerts = dict(s.exec(select(Alert.status, func.count()).group_by(Alert.status)).all())
            captures = dict(s.exec(select(Capture.state, func.count()).group_by(Capture.state)).all())
            changes = s.exec(select(func.count()).select_from(Change)).one()
            deliveries: dict[str, dict[str, int]] = {}
            for sink, state, n in sorted(s.exec(select(AlertDelivery.sink, AlertDelivery.state, func.count())
                                                .group_by(col(AlertDelivery.sink), col(AlertDelivery.state))).all()):
                deliveries.setdefault(sink, {})[state] = n
            held_reasons = {sink: s.exec(select(AlertDelivery.last_error)  # the latest reason given for the sink
                                         .where(AlertDelivery.state == "held", AlertDelivery.sink == sink)
                                         .order_by(col(AlertDelivery.updated_at).desc(), col(AlertDelivery.id).desc())
                                         .limit(1)).first()
                            for sink, states in deliveries.items() if states.get("held")}
            blocked = list(s.exec(select(SinkState).where(col(SinkState.blocked_at).is_not(None))
                                  .order_by(col(SinkState.name))))
            last_runs = {}
            for src in sources:
                last_runs[src.slug] = s.exec(
                    select(CrawlRun)
                    .where(CrawlRun.source == src.slug)
                    .order_by(col(CrawlRun.started_at).desc(), col(CrawlRun.id).desc())
                    .limit(1)
                ).first()
        per_source = {}
        for src in sources:
            run = last_runs[src.slug]
            per_source[src.slug] = {
                "name": src.name,
                "last_run_at": (run.finished_at or run.started_at) if run else None,
                "last_run_status": run.status if run else None,
                "last_run_log": (run.stats or {}).get("log") if run else None,
                "last_run_errors": dict(sorted(Counter(str(e.get("kind")) for e in (run.errors or [])).items()))
                if run else {},
                "consecutive_failures": self.consecutive_failures(src.slug),
                "documents": docs.get(src.slug, 0),
                "versions": versions.get(src.slug, 0),
            }
        return {
            "sources": per_source,
            "totals": {
                "documents": sum(docs.values()),
                "versions": sum(versions.values()),
                "changes": changes,
                "captures": sum(captures.values()),
            },
            "pending_alerts": alerts.get("pending", 0),
            "dead_alerts": alerts.get("dead", 0),
            "pending_captures": captures.get("pending", 0),
            "failed_captures": captures.get("failed", 0),
            "alerts": {status: alerts.get(status, 0) for status in ALERT_STATUSES},
            "deliveries": deliveries,
            "blocked_sinks": [{"sink": b.name, "reason": b.blocked_reason, "since": b.blocked_at,
                               "blocked": deliveries.get(b.name, {}).get("blocked", 0)} for b in blocked],
            "held_sinks": [{"sink": sink, "reason": reason, "held": deliveries[sink]["held"]}
                           for sink, reason in held_reasons.items()],
        }

