"""The built-in ``defaults:`` of schedules.yaml, apart from the config models so that query
commands run without a configuration file import no pydantic, sink plug-in or scheduler."""

from __future__ import annotations

from typing import Any

# name -> (default, help). Documented in README (tests/test_docs.py checks every key).
DEFAULTS: dict[str, tuple[Any, str]] = {
    "jitter_seconds": (300, "random delay added to each scheduled crawl, in seconds"),
    "max_consecutive_failures": (3, "failed runs in a row before a source-health alert"),
    "misfire_grace_seconds": (900, "how late a scheduled run may start before it is skipped"),
    "crawl_timeout_seconds": (900, "hard limit for one crawl subprocess"),
    "deadline_lead_days": ([30, 7, 1, 0], "days before a legal deadline when deadline alerts are raised"),
    "dead_after_hours": (168, "hours of retryable delivery failures before a delivery is marked dead (resend with `regwatch alerts retry`)"),
    "withdrawal_recheck_hours": (24, "hours before a known page that is on no list is fetched again to see whether it is gone"),
    "withdrawal_after_checks": (3, "404/410 answers in a row (one per crawl, while the lists still parse) before a page is withdrawn"),
    "withdrawal_max_rechecks": (20, "known pages re-checked per crawl at most (0 = no re-checks)"),
    "recheck_days": (7, "days before a listed detail page already stored is fetched again (conditionally) to catch silent edits; `crawl --recheck` fetches them all now"),
    "max_page_mb": (10, "largest page a crawl downloads, in MB; a larger one is a `too_large` crawl error naming the URL"),
    "capture_retention_days": (None, "prune the raw bodies of captures older than this many days (daily by the daemon, or `regwatch db prune`); never the capture behind a version's latest appearance, the latest of its URL, or one pending or held; null = keep every raw capture"),
    "crawl_log_dir": (None, "directory of the kept crawl logs, one file per run under <dir>/<source>/ (default: logs/ beside a SQLite database, else the user log directory)"),
    "crawl_logs_keep": (20, "crawl logs kept per source; older ones are deleted after each crawl"),
    "retry_after_max_seconds": (120, "longest Retry-After a crawl waits on HTTP 429/503 before retrying; longer is a `rate_limited` crawl error"),
}

__all__ = ["DEFAULTS"]
