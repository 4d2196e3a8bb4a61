"""Re-checks of known detail URLs that left every list, and the gone count per appearance (migration 0006).

The crawl asks which of a source's pages to re-check (:meth:`WithdrawalOps.recheck_targets`) and
which it should report when it reads them again (:meth:`WithdrawalOps.watched_urls`), and records
each answer (:meth:`WithdrawalOps.record_recheck`). The process stage reads the answers not yet
applied (:meth:`WithdrawalOps.pending_rechecks`, with their run's status), decides whether each
counts (``pipeline.withdrawals``), keeps the per-appearance state (``withdrawal_check``) and marks
each answer ``counted`` or ``ignored``. The rules themselves live in the pipeline; this module
only stores.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select

from store.errors import NotFound
from store.models import Appearance, Capture, CrawlRun, Document, DocumentUrl, Recheck, WithdrawalCheck
from store.session import StoreBase

RECHECK_OUTCOMES = ("gone", "found")
APPLIED_STATES = ("counted", "ignored")


@dataclass(frozen=True, slots=True)
class RecheckTarget:
    """An appearance whose page the crawl should fetch again: not on a list in this run, not seen
    or re-checked within the interval. ``urls``: every URL it is known by on its source."""

    appearance_id: int
    document_id: int
    url: str
    last_seen: datetime
    last_checked_at: datetime | None
    urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PendingRecheck:
    """A recorded re-check answer not yet applied, with what the process stage needs to judge its run."""

    id: int
    source: str
    run_id: int
    appearance_id: int
    document_id: int
    url: str
    status: int
    outcome: str
    checked_at: datetime
    run_status: str
    run_errors: list[dict[str, Any]]
    run_stats: dict[str, Any]


def _last_checks() -> Any:
    return (select(Recheck.appearance_id, func.max(Recheck.checked_at).label("at"))
            .group_by(col(Recheck.appearance_id)).subquery())


class WithdrawalOps(StoreBase):
    """Re-check targets, answers and per-appearance withdrawal state."""

    def recheck_targets(self, source: str, *, cutoff: datetime, limit: int,
                        exclude: Collection[str] = ()) -> list[RecheckTarget]:
        """Up to ``limit`` active appearances on ``source`` to re-check: last seen before ``cutoff``,
        not re-checked since ``cutoff``, and known by none of the ``exclude`` URLs (this run's list
        entries). Never re-checked ones first, then the longest unchecked, then the longest unseen.

        Example:
            >>> [t.url for t in store.recheck_targets("mofcom", cutoff=now - timedelta(hours=24), limit=20,
            ...                                       exclude={"https://www.mofcom.gov.cn/listed.html"})]
            ['https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_gone.html']
        """
        if limit <= 0:
            return []
        checks = _last_checks()
        query = (
            select(Appearance.id, Appearance.document_id, Appearance.url, Appearance.last_seen, checks.c.at,
                   Capture.url, Capture.final_url)
            .outerjoin(checks, checks.c.appearance_id == Appearance.id)
            .outerjoin(Capture, col(Capture.id) == col(Appearance.capture_id))
            .where(Appearance.source == source, Appearance.status == "active", col(Appearance.last_seen) < cutoff)
            .where(sa.or_(checks.c.at.is_(None), checks.c.at < cutoff))
            .order_by(checks.c.at.is_not(None), checks.c.at, col(Appearance.last_seen), col(Appearance.id))
            .limit(limit + len(exclude))  # each excluded URL can rule out one appearance
        )
        excluded = set(exclude)
        with self._read() as s:
            rows = s.exec(query).all()  # type: ignore[call-overload]
            doc_ids = sorted({r[1] for r in rows})
            urls: dict[int, set[str]] = {}
            for start in range(0, len(doc_ids), 500):
                chunk = doc_ids[start:start + 500]
                for doc_id, url in s.exec(select(DocumentUrl.document_id, DocumentUrl.url).where(
                        col(DocumentUrl.document_id).in_(chunk), DocumentUrl.source == source)):
                    urls.setdefault(doc_id, set()).add(url)
        out: list[RecheckTarget] = []
        for app_id, doc_id, url, last_seen, checked, cap_url, cap_final in rows:
            known = {url, *urls.get(doc_id, ()), *(u for u in (cap_url, cap_final) if u)}
            if known & excluded:
                continue
            out.append(RecheckTarget(app_id, doc_id, url, last_seen, checked, tuple(sorted(known))))
            if len(out) == limit:
                break
        return out

    def watched_urls(self, source: str) -> dict[str, int]:
        """URL -> appearance id of the appearances on ``source`` that are withdrawn or answered
        gone in a counted re-check since they were last read: the crawl reports reading any of
        these URLs again (from a list too), since an unchanged page makes no new capture.

        Example:
            >>> store.watched_urls("mofcom")
            {'https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_gone.html': 12}
        """
        gone = select(WithdrawalCheck.appearance_id).where(col(WithdrawalCheck.gone_count) > 0)
        query = select(Appearance.id, Appearance.document_id, Appearance.url).where(
            Appearance.source == source,
            sa.or_(Appearance.status == "withdrawn", col(Appearance.id).in_(gone)))
        out: dict[str, int] = {}
        with self._read() as s:
            rows = list(s.exec(query))
            for app_id, doc_id, url in rows:
                out[url] = app_id
                for alias in s.exec(select(DocumentUrl.url).where(DocumentUrl.document_id == doc_id,
                                                                  DocumentUrl.source == source)):
                    out.setdefault(alias, app_id)
        return out

    def record_recheck(self, *, source: str, run_id: int, appearance_id: int, url: str, status: int, outcome: str,
                       checked_at: datetime) -> bool:
        """Record what ``url`` answered in run ``run_id``; False when that run already has an answer
        for the appearance (one answer per run counts).

        Example:
            >>> store.record_recheck(source="mofcom", run_id=7, appearance_id=12, url=u, status=404,
            ...                      outcome="gone", checked_at=t)
            True
        """
        if outcome not in RECHECK_OUTCOMES:
            raise ValueError(f"re-check outcome must be one of {', '.join(RECHECK_OUTCOMES)}; got {outcome!r}")
        with self._write() as s:
            self._require_source(s, source)
            if s.get(CrawlRun, run_id) is None:
                raise NotFound("run", run_id)
            if s.get(Appearance, appearance_id) is None:
                raise NotFound("appearance", appearance_id)
            known = select(Recheck.id).where(Recheck.run_id == run_id, Recheck.appearance_id == appearance_id)
            if s.exec(known).first() is not None:
                return False
            s.add(Recheck(source=source, run_id=run_id, appearance_id=appearance_id, url=url, status=status,
                          outcome=outcome, checked_at=checked_at))
            s.flush()
            return True

    def pending_rechecks(self, source: str | None = None) -> list[PendingRecheck]:
        """Answers not yet applied whose run has finished (``running`` runs wait), in run order."""
        query = (
            select(Recheck, Appearance.document_id, CrawlRun.status, CrawlRun.errors, CrawlRun.stats)
            .join(Appearance, col(Appearance.id) == col(Recheck.appearance_id))
            .join(CrawlRun, col(CrawlRun.id) == col(Recheck.run_id))
            .where(col(Recheck.applied).is_(None), CrawlRun.status != "running")
            .order_by(col(Recheck.run_id), col(Recheck.id))
        )
        if source is not None:
            query = query.where(Recheck.source == source)
        with self._read() as s:
            return [PendingRecheck(r.id or 0, r.source, r.run_id, r.appearance_id, doc_id, r.url, r.status, r.outcome,
                                   r.checked_at, status, list(errors or []), dict(stats or {}))
                    for r, doc_id, status, errors, stats in s.exec(query)]

    def mark_recheck(self, recheck_id: int, applied: str, *, at: datetime) -> None:
        """Mark an answer ``counted`` or ``ignored`` (it is not read again)."""
        if applied not in APPLIED_STATES:
            raise ValueError(f"re-check state must be one of {', '.join(APPLIED_STATES)}; got {applied!r}")
        with self._write() as s:
            row = s.get(Recheck, recheck_id)
            if row is None:
                raise NotFound("re-check", recheck_id)
            row.applied, row.applied_at = applied, at
            s.add(row)

    def rechecks(self, appearance_id: int) -> list[Recheck]:
        """Every recorded answer for an appearance, oldest run first."""
        with self._read() as s:
            query = select(Recheck).where(Recheck.appearance_id == appearance_id)
            return list(s.exec(query.order_by(col(Recheck.run_id), col(Recheck.id))))

    def withdrawal_check(self, appearance_id: int) -> WithdrawalCheck | None:
        """The re-check state of an appearance (None: never re-checked)."""
        with self._read() as s:
            return s.get(WithdrawalCheck, appearance_id)

    def withdrawal_checks(self, document_id: int) -> dict[int, WithdrawalCheck]:
        """Appearance id -> re-check state, for the appearances of a document that have one."""
        with self._read() as s:
            query = (select(WithdrawalCheck).join(Appearance, col(Appearance.id) == col(WithdrawalCheck.appearance_id))
                     .where(Appearance.document_id == document_id))
            return {row.appearance_id: row for row in s.exec(query)}

    def save_withdrawal_check(self, appearance_id: int, *, at: datetime, **values: Any) -> WithdrawalCheck:
        """Create or update the re-check state of an appearance with ``values`` (column names)."""
        settable = set(WithdrawalCheck.model_fields) - {"appearance_id", "updated_at"}
        unknown = set(values) - settable
        if unknown:
            raise ValueError(f"withdrawal_check has no settable column(s) {sorted(unknown)}")
        with self._write() as s:
            if s.get(Appearance, appearance_id) is None:
                raise NotFound("appearance", appearance_id)
            row = s.get(WithdrawalCheck, appearance_id)
            if row is None:
                row = WithdrawalCheck(appearance_id=appearance_id, url=str(values.get("url", "")), updated_at=at)
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = at
            s.add(row)
            s.flush()
            return row

    def appearance_seen(self, appearance_id: int, at: datetime) -> Appearance:
        """Move an appearance's ``last_seen`` forward to ``at`` (its page was read again, unchanged)."""
        with self._write() as s:
            row = s.get(Appearance, appearance_id)
            if row is None:
                raise NotFound("appearance", appearance_id)
            if at > row.last_seen:
                row.last_seen = at
                s.add(row)
            return row

    def documents_with_status(self, status: str, *, with_active_appearance: bool = False) -> list[Document]:
        """Documents whose status is ``status`` (``active`` or ``withdrawn``), by id; with
        ``with_active_appearance`` only those with an active appearance (e.g. withdrawn documents
        seen again)."""
        query = select(Document).where(Document.status == status)
        if with_active_appearance:
            active = select(Appearance.document_id).where(Appearance.status == "active")
            query = query.where(col(Document.id).in_(active))
        with self._read() as s:
            return list(s.exec(query.order_by(col(Document.id))))

    def withdrawal_summary(self) -> dict[str, dict[str, Any]]:
        """Per source with any re-check: ``{rechecked, gone, withdrawn, returned, last_checked_at}``.

        ``rechecked``: appearances with a re-check state; ``gone``: active ones that answered gone
        in the last counted re-check (counting towards a withdrawal); ``withdrawn``: withdrawn
        appearances; ``returned``: appearances read again after a withdrawal; ``pending``: answers
        the process stage has not applied yet.

        Example:
            >>> store.withdrawal_summary()["mofcom"]["gone"]
            1
        """
        out: dict[str, dict[str, Any]] = {}

        def entry(source: str) -> dict[str, Any]:
            return out.setdefault(source, {"rechecked": 0, "gone": 0, "max_gone_count": 0, "withdrawn": 0,
                                           "returned": 0, "pending": 0, "last_checked_at": None})

        with self._read() as s:
            rows = s.exec(select(Appearance.source, Appearance.status, WithdrawalCheck)
                          .join(WithdrawalCheck, col(WithdrawalCheck.appearance_id) == col(Appearance.id))).all()
            withdrawn = s.exec(select(Appearance.source, func.count()).where(Appearance.status == "withdrawn")
                               .group_by(col(Appearance.source))).all()
            pending = s.exec(select(Recheck.source, func.count(), func.max(Recheck.checked_at))
                             .where(col(Recheck.applied).is_(None)).group_by(col(Recheck.source))).all()
        for source, status, check in rows:
            e = entry(source)
            e["rechecked"] += 1
            if status == "active" and check.gone_count > 0:
                e["gone"] += 1
                e["max_gone_count"] = max(e["max_gone_count"], check.gone_count)
            if check.returned_at is not None and status == "active":
                e["returned"] += 1
            if check.last_checked_at is not None and (e["last_checked_at"] is None
                                                      or check.last_checked_at > e["last_checked_at"]):
                e["last_checked_at"] = check.last_checked_at
        for source, n in withdrawn:
            entry(source)["withdrawn"] = n
        for source, n, _last in pending:
            entry(source)["pending"] = n
        return dict(sorted(out.items()))


__all__ = ["APPLIED_STATES", "RECHECK_OUTCOMES", "PendingRecheck", "RecheckTarget", "WithdrawalOps"]
