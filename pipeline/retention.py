"""Retention as configured: prune the raw bodies of captures older than ``defaults.capture_retention_days``.

Off unless configured (``None``: every raw capture is kept). What is never pruned, and what a
pruned capture still says, is in ``store.retention``. ``regwatch db prune [--dry-run]`` and the
daemon's daily ``prune`` job call :func:`prune_old_captures`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from pipeline.config import Config
from pipeline.logs import log_context

log = logging.getLogger(__name__)


def prune_old_captures(store: Any, config: Config, *, now: datetime, dry_run: bool = False,
                       days: float | None = None) -> dict[str, Any] | None:
    """Prune captures fetched more than ``days`` (default ``defaults.capture_retention_days``) before
    ``now``; None when retention is not configured. The report adds ``before`` and ``days``.

    Example:
        >>> prune_old_captures(store, config, now=now, dry_run=True)  # doctest: +SKIP
        {'captures': 12, 'bytes': 481233, 'dry_run': True, 'days': 90, 'before': '2026-08-04T03:00:00+00:00'}
    """
    days = config.defaults.capture_retention_days if days is None else days
    if days is None:
        return None
    before = now - timedelta(days=days)
    with log_context(stage="prune"):
        report = store.prune_captures(before, at=now, dry_run=dry_run)
        log.info("prune: %s %d raw captures fetched before %s (%d bytes)%s",
                 "would drop" if dry_run else "dropped", report["captures"], before.isoformat(), report["bytes"],
                 " (dry run)" if dry_run else "")
    return report | {"days": days, "before": before.isoformat()}


__all__ = ["prune_old_captures"]
