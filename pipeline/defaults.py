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
}

__all__ = ["DEFAULTS"]
