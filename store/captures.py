"""Crawl runs and raw captures: the crawl stage's side of the store."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from store.errors import NotFound, StoreError
from store.models import Appearance, Capture, CrawlRun, Document, Version
from store.results import CaptureInfo
from store.session import StoreBase

RUN_STATUSES = ("ok", "failed", "partial", "killed", "running")  # killed: its process ended without a result
FAILED_RUNS = ("failed", "killed")
# held: read, but suspected misread (pipeline.misread); no version until a person accepts it
CAPTURE_STATES = ("pending", "processed", "failed", "skipped", "held")
CAPTURE_KINDS = ("list", "detail", "attachment")


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")


def _info(row: Capture) -> CaptureInfo:
    return CaptureInfo(
        id=row.id or 0,
        source=row.source,
        run_id=row.run_id,
        kind=row.kind,
        url=row.url,
        final_url=row.final_url,
        status=row.status,
        headers=dict(row.headers),
        body_sha256=row.body_sha256,
        size=row.size,
        fetched_at=row.fetched_at,
        state=row.state,
        error=row.error,
        processed_at=row.processed_at,
    )


def _seen_again(s: Any, capture_id: int | None, at: datetime) -> None:
    """The document read from ``capture_id`` was seen again at ``at`` on its site (an unchanged fetch)."""
    appearances = select(Appearance.document_id).where(col(Appearance.capture_id) == capture_id)
    s.execute(sa.update(Appearance).where(col(Appearance.capture_id) == capture_id, col(Appearance.last_seen) < at)
              .values(last_seen=at))
    s.execute(sa.update(Document).where(col(Document.id).in_(appearances), col(Document.last_seen) < at)
              .values(last_seen=at))


class CaptureOps(StoreBase):
    """Runs (start/finish/failure streaks) and captures (save, queue, bodies)."""

    def start_run(self, source: str, started_at: datetime, stats: dict[str, Any] | None = None) -> int:
        """Open a ``running`` CrawlRun and return its id; ``stats`` starts its stats (the crawl
        process's ``{"pid", "host"}``, so a run whose process is gone can be told apart).

        Example:
            >>> run_id = store.start_run("mofcom", datetime(2025, 10, 9, tzinfo=timezone.utc))
        """
        with self._write() as s:
            self._require_source(s, source)
            run = CrawlRun(source=source, started_at=started_at, stats=dict(stats or {}))
            s.add(run)
            s.flush()
            return run.id or 0

    def finish_run(
        self,
        run_id: int,
        finished_at: datetime,
        status: str,
        stats: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> CrawlRun:
        """Close a run with ``ok|failed|partial|killed``, its stats and ``[{kind, url, message}]`` errors.

        ``stats`` are merged over the stats recorded at start (the process's pid and host stay).
        """
        _check(status, RUN_STATUSES[:4], "run status")
        with self._write() as s:
            run = s.get(CrawlRun, run_id)
            if run is None:
                raise NotFound("run", run_id)
            run.finished_at, run.status = finished_at, status
            run.stats, run.errors = {**(run.stats or {}), **(stats or {})}, list(errors or [])
            s.add(run)
            return run

    def annotate_run(self, run_id: int, **stats: Any) -> None:
        """Merge ``stats`` into a run's stats (e.g. ``log``: the path of its kept crawl log)."""
        with self._write() as s:
            run = s.get(CrawlRun, run_id)
            if run is None:
                raise NotFound("run", run_id)
            run.stats = {**(run.stats or {}), **stats}
            s.add(run)

    def runs(self, source: str | None = None, limit: int = 20) -> list[CrawlRun]:
        """Recent runs, newest first."""
        query = select(CrawlRun).order_by(col(CrawlRun.started_at).desc(), col(CrawlRun.id).desc()).limit(limit)
        if source is not None:
            query = query.where(CrawlRun.source == source)
        with self._read() as s:
            return list(s.exec(query).all())

    def consecutive_failures(self, source: str) -> int:
        """How many finished runs in a row (newest backwards) failed or were killed; ``ok``/``partial`` end the streak.

        Example:
            >>> store.consecutive_failures("mofcom")
            0
        """
        query = (
            select(CrawlRun.status)
            .where(CrawlRun.source == source, CrawlRun.status != "running")
            .order_by(col(CrawlRun.started_at).desc(), col(CrawlRun.id).desc())
        )
        count = 0
        with self._read() as s:
            for status in s.exec(query):
                if status not in FAILED_RUNS:
                    break
                count += 1
        return count

    def save_capture(
        self,
        *,
        source: str,
        url: str,
        final_url: str,
        status: int,
        headers: dict[str, Any],
        body: bytes,
        fetched_at: datetime,
        run_id: int | None = None,
        kind: str = "detail",
    ) -> tuple[int, bool]:
        """Store a raw response (zlib-compressed); returns ``(capture_id, created)``.

        Idempotent: when the last capture of ``url`` has the same body hash, nothing is
        stored and ``(that_id, False)`` is returned; that capture's ``checked_at`` moves to
        ``fetched_at`` (the page was read again: the crawl's re-check cadence counts from there),
        and so does ``last_seen`` of the appearances read from it and of their documents (a 304 or
        an unchanged page is the document seen on that site again).

        Example:
            >>> store.save_capture(source="mofcom", url=u, final_url=u, status=200, headers={},
            ...                    body=b"<html>", fetched_at=t)
            (1, True)
        """
        _check(kind, CAPTURE_KINDS, "capture kind")
        sha = hashlib.sha256(body).hexdigest()
        with self._write() as s:
            self._require_source(s, source)
            last = s.exec(
                select(Capture.id, Capture.body_sha256, Capture.fetched_at, Capture.checked_at)
                .where(Capture.url == url)
                .order_by(col(Capture.fetched_at).desc(), col(Capture.id).desc())
                .limit(1)
            ).first()
            if last is not None and last[1] == sha:
                if fetched_at > max(last[2], last[3] or last[2]):
                    s.execute(sa.update(Capture).where(col(Capture.id) == last[0]).values(checked_at=fetched_at))
                    _seen_again(s, last[0], fetched_at)
                return last[0] or 0, False
            if run_id is not None:
                run = s.get(CrawlRun, run_id)
                if run is None:
                    raise NotFound("run", run_id)
                run.captures += 1
                s.add(run)
            row = Capture(
                source=source, run_id=run_id, kind=kind, url=url, final_url=final_url, status=status,
                headers=dict(headers), body=zlib.compress(body, 6), body_sha256=sha, size=len(body),
                fetched_at=fetched_at,
            )  # fmt: skip
            s.add(row)
            s.flush()
            return row.id or 0, True

    def pending_captures(self, limit: int | None = None, source: str | None = None) -> list[CaptureInfo]:
        """Captures waiting for ``process``, oldest first (without bodies)."""
        query = select(Capture).where(Capture.state == "pending").order_by(col(Capture.id))
        if source is not None:
            query = query.where(Capture.source == source)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as s:
            return [_info(row) for row in s.exec(query.options(sa.orm.defer(Capture.body)))]  # type: ignore[arg-type]

    def held_captures(self, source: str | None = None, limit: int = 100) -> list[CaptureInfo]:
        """Captures held as suspected misreads (``error`` holds the reason), oldest first, without bodies.

        Example:
            >>> [(c.id, c.error) for c in store.held_captures()]
            [(7, 'body text mostly gone (40 characters, the last version had 2400)')]
        """
        query = select(Capture).where(Capture.state == "held").order_by(col(Capture.id)).limit(limit)
        if source is not None:
            query = query.where(Capture.source == source)
        with self._read() as s:
            return [_info(row) for row in s.exec(query.options(sa.orm.defer(Capture.body)))]  # type: ignore[arg-type]

    def supersede_held(self, capture_id: int, *, at: datetime) -> list[int]:
        """Held captures of the same source and URL fetched before ``capture_id`` (which read normally)
        are no longer in question: they become ``skipped`` with a note naming it. Returns their ids."""
        with self._write() as s:
            newer = s.exec(select(Capture.source, Capture.url, Capture.fetched_at)
                           .where(Capture.id == capture_id)).first()
            if newer is None:
                raise NotFound("capture", capture_id)
            source, url, fetched_at = newer
            held = s.exec(select(Capture.id, Capture.error).where(
                Capture.state == "held", Capture.source == source, Capture.url == url,
                col(Capture.fetched_at) < fetched_at)).all()
            for held_id, error in held:
                s.exec(sa.update(Capture).where(col(Capture.id) == held_id).values(  # type: ignore[call-overload]
                    state="skipped", processed_at=at,
                    error=f"superseded by capture {capture_id}, which read normally (was held: {error or '-'})"))
            return [held_id for held_id, _ in held]

    def capture(self, capture_id: int) -> CaptureInfo:
        """One capture's metadata; raises ``NotFound``."""
        with self._read() as s:
            row = s.get(Capture, capture_id)
            if row is None:
                raise NotFound("capture", capture_id)
            return _info(row)

    def latest_capture(self, url: str, *, kind: str | None = None) -> CaptureInfo | None:
        """The newest capture fetched from ``url`` (as requested or as finally served), optionally of
        one kind; None when there is none. Without its body (``capture_body``).

        Example:
            >>> store.latest_capture("https://www.gov.cn/zhengce/zhengceku/202508/W0205.pdf", kind="attachment").id
            14
        """
        query = (select(Capture).where(sa.or_(Capture.url == url, Capture.final_url == url))
                 .order_by(col(Capture.fetched_at).desc(), col(Capture.id).desc()).limit(1))
        if kind is not None:
            query = query.where(Capture.kind == kind)
        with self._read() as s:
            row = s.exec(query.options(sa.orm.defer(Capture.body))).first()  # type: ignore[arg-type]
            return _info(row) if row is not None else None

    def last_checked(self, urls: Collection[str], *, kind: str = "detail") -> dict[str, datetime]:
        """URL -> when a 200 answer for it (as requested or as finally served) was last read, from
        the captures of ``kind``: the newest of their ``fetched_at`` and ``checked_at``. URLs never
        captured are missing (unknown pages).

        Example:
            >>> store.last_checked(["https://www.mofcom.gov.cn/art/a.html", "https://www.mofcom.gov.cn/new.html"])
            {'https://www.mofcom.gov.cn/art/a.html': datetime.datetime(2026, 11, 2, 3, 0, tzinfo=datetime.timezone.utc)}
        """
        wanted = list(dict.fromkeys(urls))
        out: dict[str, datetime] = {}
        with self._read() as s:
            for start in range(0, len(wanted), 400):
                chunk = set(wanted[start:start + 400])
                rows = s.exec(select(Capture.url, Capture.final_url, Capture.fetched_at, Capture.checked_at).where(
                    Capture.kind == kind, Capture.status == 200,
                    sa.or_(col(Capture.url).in_(chunk), col(Capture.final_url).in_(chunk))))
                for url, final_url, fetched_at, checked_at in rows:
                    at = max(fetched_at, checked_at or fetched_at)
                    for key in {url, final_url} & chunk:
                        if key not in out or at > out[key]:
                            out[key] = at
        return out

    def versions_listing_attachment(self, url: str) -> list[Version]:
        """Versions whose record lists the attachment ``url`` (``fields.attachments[].url``), newest first."""
        text = sa.cast(Version.fields, sa.Text)
        forms = {json.dumps(url)[1:-1], json.dumps(url, ensure_ascii=False)[1:-1]}  # SQLite / PostgreSQL spelling
        query = (select(Version).where(sa.or_(*(text.contains(f, autoescape=True) for f in forms)))
                 .order_by(col(Version.id).desc()))
        with self._read() as s:
            rows = list(s.exec(query).all())
        return [v for v in rows if any(a.get("url") == url for a in (v.fields or {}).get("attachments") or ())]

    def capture_body(self, capture_id: int) -> bytes:
        """The decompressed body of a capture; raises ``NotFound``, or ``StoreError`` when retention
        pruned it (``store.retention``)."""
        with self._read() as s:
            row = s.exec(select(Capture.body, Capture.pruned_at).where(Capture.id == capture_id)).first()
        if row is None:
            raise NotFound("capture", capture_id)
        if row[1] is not None:
            raise StoreError(f"capture {capture_id}: its raw body was pruned on {row[1]:%Y-%m-%d} "
                             "(defaults.capture_retention_days)",
                             "its versions and texts are kept; fetch the page again to read it anew")
        return zlib.decompress(row[0])

    def mark_capture(self, capture_id: int, state: str, error: str | None = None, *, at: datetime) -> None:
        """Set a capture's state (``processed|failed|skipped|held|pending``), error text and ``processed_at``.

        For ``held`` the error text is the reason the capture is suspected of being a misread.
        """
        _check(state, CAPTURE_STATES, "capture state")
        with self._write() as s:  # one UPDATE (the ORM row would load and carry the body)
            done = s.exec(sa.update(Capture).where(col(Capture.id) == capture_id).values(  # type: ignore[call-overload]
                state=state, error=error, processed_at=None if state == "pending" else at))
            if not done.rowcount:
                raise NotFound("capture", capture_id)

    def requeue_captures(self, source: str | None = None, kind: str | None = None) -> int:
        """Set captures back to ``pending`` (re-parse history after a parser fix); returns how many.
        Captures whose raw body was pruned (retention) stay as they are: there is nothing to read."""
        query = sa.update(Capture).where(col(Capture.state) != "pending", col(Capture.pruned_at).is_(None))
        if source is not None:
            query = query.where(col(Capture.source) == source)
        if kind is not None:
            query = query.where(col(Capture.kind) == kind)
        with self._write() as s:
            result = s.exec(query.values(state="pending", error=None, processed_at=None))  # type: ignore[call-overload]
            return int(result.rowcount)
