"""``python -m crawlers SOURCE --db URL``: run ONE crawl in this process and record it as a CrawlRun.

One crawl per process because Scrapy's reactor cannot be restarted (ECOSYSTEM.md §1); the
daemon and CLI call this through ``crawlers.runner.run_crawl_subprocess``. Logs go to stderr;
stdout gets exactly one JSON summary line. Exit status: 0 ok/partial, 1 failed, 2 usage error.

Example:
    python -m crawlers mofcom --db sqlite:////tmp/regwatch.db --base-url http://127.0.0.1:8800 --delay 0
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from crawlers.sources import SOURCES, SourceDef, generic_from_json, get_source, register_generic

BLOCKING_ERRORS = ("challenge", "layout")
FIRST_ERRORS = 5  # errors carried in the summary line (all of them are on the CrawlRun)


def build_settings(source: SourceDef, *, db_url: str, run_id: int, delay: float | None,
                   log_level: str | None, recheck_hours: float | None = None,
                   max_rechecks: int | None = None, recheck_days: float | None = None, recheck_all: bool = False,
                   max_page_bytes: int | None = None, retry_after_max: float | None = None,
                   store_as: tuple[str, str] | None = None, concurrency: int | None = None) -> Any:
    """Scrapy Settings for one crawl: shared defaults + the source's politeness + the store target
    (+ the re-check cadences and cap, the page size cap and the Retry-After bound, when given;
    + ``store_as`` = (base URL crawled, base URL stored): a replica's pages stored under the
    source's URLs, see ``crawlers.pipelines.UrlMap``; + ``concurrency``, requests in flight on
    the source's host, 1 by default: the polite setting for government sites)."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawlers.settings", priority="project")
    download_delay = source.download_delay if delay is None else delay
    settings.set("DOWNLOAD_DELAY", download_delay, priority="cmdline")
    settings.set("ROBOTSTXT_OBEY", source.robots_obey, priority="cmdline")
    settings.set("REGWATCH_CONDITIONAL_REQUESTS", source.conditional_requests, priority="cmdline")
    if source.user_agent:
        settings.set("USER_AGENT", source.user_agent, priority="cmdline")
    if download_delay <= 0:  # replica / tests: no throttling
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
    else:
        settings.set("AUTOTHROTTLE_START_DELAY", max(download_delay, 1.0), priority="cmdline")
    settings.set("REGWATCH_DB_URL", db_url, priority="cmdline")
    settings.set("REGWATCH_RUN_ID", run_id, priority="cmdline")
    if log_level:
        settings.set("LOG_LEVEL", log_level.upper(), priority="cmdline")
    if recheck_hours is not None:
        settings.set("REGWATCH_RECHECK_HOURS", recheck_hours, priority="cmdline")
    if max_rechecks is not None:
        settings.set("REGWATCH_MAX_RECHECKS", max_rechecks, priority="cmdline")
    if store_as is not None:
        settings.set("REGWATCH_BASE_URL", store_as[0], priority="cmdline")
        settings.set("REGWATCH_STORE_AS", store_as[1], priority="cmdline")
    if recheck_days is not None:
        settings.set("REGWATCH_RECHECK_DAYS", recheck_days, priority="cmdline")
    settings.set("REGWATCH_RECHECK_ALL", bool(recheck_all), priority="cmdline")
    if max_page_bytes is not None:  # Scrapy aborts a larger download (Content-Length or streamed)
        settings.set("DOWNLOAD_MAXSIZE", max_page_bytes, priority="cmdline")
        settings.set("DOWNLOAD_WARNSIZE", max_page_bytes // 2, priority="cmdline")
    if retry_after_max is not None:
        settings.set("REGWATCH_RETRY_AFTER_MAX", retry_after_max, priority="cmdline")
    if concurrency is not None:  # beats a spider's custom_settings (cmdline is Scrapy's top priority)
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", concurrency, priority="cmdline")
        settings.set("CONCURRENT_REQUESTS", max(settings.getint("CONCURRENT_REQUESTS"), concurrency), priority="cmdline")
        settings.set("AUTOTHROTTLE_TARGET_CONCURRENCY", float(concurrency), priority="cmdline")
    return settings


class _HideFilter(logging.Filter):
    """Replace a secret in every record (Scrapy logs its overridden settings, the DB URL among them)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "***"), ()
        return True


def hide_password(db_url: str) -> None:
    """Keep the database URL's password out of this crawl's log (every root handler gets a filter)."""
    try:
        password = urlsplit(db_url).password if "://" in db_url else None
    except ValueError:
        password = None
    if password:
        for handler in logging.getLogger().handlers:
            handler.addFilter(_HideFilter(password))


def summarize(source: str, run_id: int, stats: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The CrawlRun status and the one-line summary from Scrapy stats.

    ``failed`` when no detail page was captured (new or unchanged) nor skipped as known and not
    yet due for a re-check (the lists were read and led nowhere), when a challenge or layout
    error occurred, or when the spider did not finish; ``partial`` for other errors; else ``ok``.

    Example:
        >>> summarize("mofcom", 1, {"regwatch/fetched/detail": 2, "regwatch/captures/new": 3,
        ...     "finish_reason": "finished"}, [])["status"]
        'ok'
    """
    kinds = Counter(str(e.get("kind")) for e in errors)
    detail = int(stats.get("regwatch/fetched/detail", 0)) + int(stats.get("regwatch/known_skipped", 0))
    finished = stats.get("finish_reason") == "finished"
    if not finished or detail == 0 or any(kinds[k] for k in BLOCKING_ERRORS):
        status = "failed"
    elif errors:
        status = "partial"
    else:
        status = "ok"
    fetched = {k.rsplit("/", 1)[-1]: int(v) for k, v in stats.items() if k.startswith("regwatch/fetched/")}
    return {
        "source": source,
        "run_id": run_id,
        "status": status,
        "pages": sum(fetched.values()),
        "fetched": fetched,
        "captures_new": int(stats.get("regwatch/captures/new", 0)),
        "captures_unchanged": int(stats.get("regwatch/captures/unchanged", 0)),
        "not_modified": int(stats.get("regwatch/captures/not_modified", 0)),
        "new_by_kind": {k.rsplit("/", 1)[-1]: int(v) for k, v in stats.items()
                        if k.startswith("regwatch/captures/new/")},
        "errors": len(errors),
        "error_kinds": dict(sorted(kinds.items())),
        "first_errors": errors[:FIRST_ERRORS],
        "offsite_skipped": int(stats.get("regwatch/offsite_skipped", 0)),
        "list_entries": int(stats.get("regwatch/list_entries", 0)),
        "rechecks": {k: int(stats.get(f"regwatch/rechecks/{k}", 0)) for k in ("requested", "gone", "found")},
        "known_skipped": int(stats.get("regwatch/known_skipped", 0)),
        "known_rechecked": int(stats.get("regwatch/known_rechecked", 0)),
        "lists_stopped_early": int(stats.get("regwatch/lists_stopped_early", 0)),
        "retry_after_waited": float(stats.get("regwatch/retry_after/waited", 0)),
        "finish_reason": stats.get("finish_reason"),
    }


def run(source_slug: str, db_url: str, *, base_url: str | None = None, max_pages: int | None = None,
        delay: float | None = None, log_level: str | None = None, recheck_hours: float | None = None,
        max_rechecks: int | None = None, store_as_source: bool = False, now: str | None = None,
        **limits: Any) -> dict[str, Any]:
    """Run one crawl of ``source_slug`` into ``db_url`` and record its CrawlRun; returns the summary.

    ``store_as_source``: the pages of ``base_url`` (a replica) are stored under the source's own
    base URL, and only ``base_url``'s host is fetched. ``now`` (ISO with offset) pins the crawl
    clock (else ``REGWATCH_NOW``, else the system clock): the spider's, the captures' and the
    run's start and end (a simulated clock, the demo). ``limits``: see ``build_settings``, and
    ``unconditional``: no conditional request at all (the source's ``conditional_requests`` off).
    """
    from scrapy.crawler import AsyncCrawlerProcess

    from crawlers.pipelines import ERRORS_STAT
    from crawlers.runner import process_stamp
    from crawlers.spiders.base import crawl_clock
    from store import Store

    source = get_source(source_slug)
    if limits.pop("unconditional", False):
        source = dataclasses.replace(source, conditional_requests=False)
    if store_as_source and not base_url:
        raise ValueError("crawlers: --store-as-source needs --base-url (the replica whose pages are stored)")
    with Store.open(db_url) as store:
        store.ensure_source(source.slug, source.name,
                            source.base_url if store_as_source else base_url or source.base_url)
        # pid and host let `status` and the next crawl tell a run whose process was killed
        # on the crawl clock (pinned: --now or REGWATCH_NOW), like the captures: the next run's paging reads it
        run_id = store.start_run(source.slug, crawl_clock(now), stats=process_stamp())
    settings = build_settings(source, db_url=db_url, run_id=run_id, delay=delay, log_level=log_level,
                              recheck_hours=recheck_hours, max_rechecks=max_rechecks,
                              store_as=(base_url, source.base_url) if store_as_source and base_url else None,
                              **limits)
    process = AsyncCrawlerProcess(settings)  # installs Scrapy's root log handler
    hide_password(db_url)
    crawler = process.create_crawler(source.spider_class())
    process.crawl(crawler, name=source.slug, base_url=base_url, max_pages=max_pages, now=now)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    errors = list(stats.get(ERRORS_STAT) or [])
    summary = summarize(source.slug, run_id, stats, errors)
    run_stats = {k: v for k, v in summary.items() if k not in ("source", "run_id", "status", "first_errors")}
    with Store.open(db_url) as store:
        store.finish_run(run_id, crawl_clock(now), summary["status"], run_stats, errors)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers", description="Run one crawl of a regulator site.")
    parser.add_argument("source", help=f"source slug ({', '.join(sorted(SOURCES))})")
    parser.add_argument("--db", required=True, help="database URL or SQLite path (sqlite:///regwatch.db)")
    parser.add_argument("--base-url", help="crawl a replica or mirror instead of the live site")
    parser.add_argument("--max-pages", type=int, help="list pages per column (default from the source)")
    parser.add_argument("--delay", type=float, help="seconds between requests (default from the source; 0 = no throttle)")
    parser.add_argument("--log-level", help="Scrapy log level (default INFO)")
    parser.add_argument("--recheck-hours", type=float,
                        help="re-check known pages that were on no list and not seen for this many hours (default 24)")
    parser.add_argument("--max-rechecks", type=int, help="at most this many re-checks per crawl (default 20; 0 = none)")
    parser.add_argument("--source-json", help="a source configured in schedules.yaml, as JSON (set by regwatch)")
    parser.add_argument("--store-as-source", action="store_true",
                        help="store the --base-url replica's pages under the source's own URLs (stable identity)")
    parser.add_argument("--now", help="pin the crawl clock, ISO with offset, e.g. 2026-11-23T12:00:00+09:00")
    parser.add_argument("--recheck-days", type=float,
                        help="fetch a known listed detail page again after this many days (default 7)")
    parser.add_argument("--recheck", action="store_true", help="fetch every listed known detail page now")
    parser.add_argument("--max-page-bytes", type=int, help="refuse pages larger than this (default 10 MB)")
    parser.add_argument("--concurrency", type=int, help="requests in flight on the source's host (default 1)")
    parser.add_argument("--no-conditional", action="store_true",
                        help="send no If-None-Match / If-Modified-Since (for a server whose validators lie)")
    parser.add_argument("--retry-after-max", type=float,
                        help="longest Retry-After (seconds) waited on a 429/503 before it is an error (default 120)")
    args = parser.parse_args(argv)
    if args.store_as_source and not args.base_url:
        parser.error("--store-as-source needs --base-url")
    try:
        if args.source_json:
            register_generic([generic_from_json(args.source_json)])
        source = get_source(args.source)
        source.spider_class()
    except (LookupError, ValueError, TypeError) as exc:
        print(f"crawlers: {exc}", file=sys.stderr)
        return 2
    summary = run(source.slug, args.db, base_url=args.base_url, max_pages=args.max_pages, delay=args.delay,
                  log_level=args.log_level, recheck_hours=args.recheck_hours, max_rechecks=args.max_rechecks,
                  store_as_source=args.store_as_source, now=args.now,
                  recheck_days=args.recheck_days, recheck_all=args.recheck, max_page_bytes=args.max_page_bytes,
                  retry_after_max=args.retry_after_max, concurrency=args.concurrency,
                  unconditional=args.no_conditional)
    print(json.dumps(summary, ensure_ascii=False, sort_keys=True), flush=True)
    return 1 if summary["status"] == "failed" else 0


if __name__ == "__main__":
    raise SystemExit(main())
