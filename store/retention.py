"""Retention: prune the raw bodies of old captures, never what the store still needs (migration 0008).

All versions, their texts and diffs are kept; only a capture's raw body goes (the row stays, with
its URL, status, size, hash and fetch time, and ``pruned_at`` set), so the history still says
where each version came from. A capture is kept when it is:

* the capture behind an appearance (each source's latest reading of a document) or behind a
  document's latest version;
* the latest capture of its URL (conditional requests answer a 304 with its body, an unchanged
  fetch is recognised by it, attachments are read from it);
* pending processing, or held as a suspected misread (``regwatch process --accept`` reads it).

Example:
    >>> store.prune_captures(before=now - timedelta(days=90), at=now, dry_run=True)["captures"]  # doctest: +SKIP
    12
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select

from store.models import Appearance, Capture, Document, Version
from store.session import StoreBase

EMPTY_BODY = zlib.compress(b"", 6)
KEPT_STATES = ("pending", "held")


class RetentionOps(StoreBase):
    """Which captures' raw bodies may go, and pruning them."""

    def prunable_captures(self, before: datetime) -> list[int]:
        """Ids of captures fetched before ``before`` whose raw body may be pruned (see the module doc)."""
        latest_per_url = (select(func.max(Capture.id)).group_by(col(Capture.url)))
        latest_versions = (select(Version.capture_id).join(Document, col(Document.id) == col(Version.document_id))
                           .where(col(Version.number) == col(Document.latest_version),
                                  col(Version.capture_id).is_not(None)))
        appearances = select(Appearance.capture_id).where(col(Appearance.capture_id).is_not(None))
        query = (select(Capture.id).where(
            col(Capture.fetched_at) < before, col(Capture.pruned_at).is_(None),
            col(Capture.state).not_in(KEPT_STATES),
            col(Capture.id).not_in(latest_per_url), col(Capture.id).not_in(latest_versions),
            col(Capture.id).not_in(appearances)).order_by(col(Capture.id)))
        with self._read() as s:
            ids = [int(i) for i in s.exec(query)]
            # "latest of its URL" by fetch time, not only by id (a replayed crawl may store out of order)
            newest = {url: cid for url, cid in s.exec(
                select(Capture.url, Capture.id).order_by(col(Capture.url), col(Capture.fetched_at), col(Capture.id)))}
        keep = set(newest.values())
        return [i for i in ids if i not in keep]

    def prune_captures(self, before: datetime, *, at: datetime, dry_run: bool = False) -> dict[str, Any]:
        """Drop the raw bodies of :meth:`prunable_captures`; ``{"captures", "bytes", "dry_run"}``
        (``bytes``: their uncompressed size). One transaction; with ``dry_run`` nothing changes."""
        ids = self.prunable_captures(before)
        size = 0
        with self._write() as s:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                size += int(s.exec(select(func.coalesce(func.sum(Capture.size), 0))
                                   .where(col(Capture.id).in_(chunk))).one())
                if not dry_run:
                    s.execute(sa.update(Capture).where(col(Capture.id).in_(chunk))
                              .values(body=EMPTY_BODY, pruned_at=at))
        return {"captures": len(ids), "bytes": size, "dry_run": dry_run}
