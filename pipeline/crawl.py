"""The crawl stage as ``regwatch crawl`` and the daemon run it: one child process, then source health.

A crash or timeout of the child is recorded on the child's own CrawlRun (found by its pid) as
``failed`` with a ``crash`` error, so one attempt counts once in the failure streak; then
:func:`pipeline.health.check_source_health` finishes gone runs as ``killed`` and queues the
streak or recovery alert. Both callers get the same summary shape (see
``crawlers.runner.run_crawl_subprocess``) plus ``health_alerts`` (alerts newly queued).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pipeline.clock import Clock
from pipeline.config import Config
from pipeline.health import check_source_health
from pipeline.logs import (config_secrets, crawl_log_dir, log_context, new_crawl_log, redact, register_secrets,
                           rotate_crawl_logs, url_password)

log = logging.getLogger(__name__)

Crawl = Callable[..., dict[str, Any]]


def crawl_source(store: Any, source: str, *, config: Config, clock: Clock, crawl: Crawl | None = None,
                 base_url: str | None = None, max_pages: int | None = None,
                 delay: float | None = None, recheck: bool = False) -> dict[str, Any]:
    """Crawl ``source`` into ``store`` in a child process and check its health; returns the summary.

    ``base_url``, ``max_pages`` and ``delay`` override the source's settings in ``config``; the
    re-check cadence and cap come from ``config.defaults`` (``withdrawal_recheck_hours``,
    ``withdrawal_max_rechecks``), as do the listed pages' re-check cadence (``recheck_days``;
    ``recheck`` fetches every listed known page now), the page size cap (``max_page_mb``) and the
    Retry-After bound (``retry_after_max_seconds``); ``crawl`` replaces ``run_crawl_subprocess`` (tests).

    The child's log (secrets redacted) is kept in a file per run under ``crawl_log_dir``
    (``pipeline.logs.crawl_log_dir``), the newest ``crawl_logs_keep`` per source; its path is on
    the run (``stats["log"]``, shown by ``regwatch status``) and in the summary (``log``).
    """
    from crawlers.runner import CrawlProcessError, run_crawl_subprocess
    from crawlers.sources import SOURCES, generic_to_json

    src = config.sources.get(source)
    known = SOURCES.get(source)
    started = clock.now()
    store.ensure_source(source, known.name if known else source, known.base_url if known else "", at=started)
    d = config.defaults
    timeout = d.crawl_timeout_seconds
    # Options passed only when they apply (test doubles need not know them): a configured source
    # travels to the child as JSON; a concurrency only when set (the polite default stays the child's).
    options: dict[str, Any] = {"source_json": generic_to_json(known)} if known is not None and known.generic else {}
    if src is not None and src.concurrency is not None:
        options["concurrency"] = src.concurrency
    if src is not None and not src.conditional_requests:
        options["unconditional"] = True
    log_dir = crawl_log_dir(d.crawl_log_dir, store.dsn)
    log_file = new_crawl_log(log_dir, source, started)
    register_secrets([*url_password(store.dsn), *config_secrets(config.sinks)])
    try:
        summary = (crawl or run_crawl_subprocess)(
            source, store.dsn, base_url=base_url or (src.base_url if src else None),
            max_pages=max_pages or (src.max_pages if src else None), timeout=timeout,
            delay=delay if delay is not None else (src.delay_seconds if src else None),
            recheck_hours=d.withdrawal_recheck_hours, max_rechecks=d.withdrawal_max_rechecks,
            recheck_days=d.recheck_days, recheck_all=recheck, max_page_bytes=int(d.max_page_mb * 1024 * 1024),
            retry_after_max=d.retry_after_max_seconds, log_file=str(log_file), redact=redact, **options)
    except CrawlProcessError as exc:
        summary = record_crawl_failure(store, exc, started=started, now=clock.now())
    if log_file.is_file():
        summary["log"] = str(log_file)
        if summary.get("run_id"):
            store.annotate_run(summary["run_id"], log=str(log_file))
        rotate_crawl_logs(log_dir, source, d.crawl_logs_keep)
    with log_context(stage="crawl", source=source, run_id=summary.get("run_id")):
        log.info("crawl %s: %s new captures, %s unchanged, %s not modified, %s errors%s", summary.get("status"),
                 summary.get("captures_new", 0), summary.get("captures_unchanged", 0), summary.get("not_modified", 0),
                 summary.get("errors", 0), f"; log {summary['log']}" if summary.get("log") else "")
    from pipeline.outbox import Routing

    summary["health_alerts"] = check_source_health(store, source, clock.now(),
                                                   d.max_consecutive_failures, crawl_timeout=timeout,
                                                   routing=Routing.from_config(config))
    return summary


def record_crawl_failure(store: Any, exc: Any, *, started: datetime, now: datetime) -> dict[str, Any]:
    """Record a crashed or timed-out crawl child on its own run (or a new one); returns its summary.

    The child's run is the ``running`` run carrying the child's pid and this host in its stats;
    a child that died before it opened a run gets a new failed run.
    """
    from crawlers.runner import this_host

    error = {"kind": "crash", "url": "", "message": str(exc)[:2000]}
    host = this_host()
    own = next((run for run in store.runs(exc.source, limit=20) if run.status == "running" and exc.pid is not None
                and (run.stats or {}).get("pid") == exc.pid and (run.stats or {}).get("host") == host), None)
    run_id = own.id if own is not None else store.start_run(exc.source, started)
    store.finish_run(run_id, now, "failed", stats={"exit_code": exc.returncode, "errors": 1,
                                                   "error_kinds": {"crash": 1}}, errors=[error])
    return {"source": exc.source, "run_id": run_id, "status": "failed", "captures_new": 0, "captures_unchanged": 0,
            "errors": 1, "error_kinds": {"crash": 1}, "first_errors": [error], "exit_code": exc.returncode}


__all__ = ["crawl_source", "record_crawl_failure"]
