"""SaveCapturePipeline: Capture items → ``store.save_capture``; CrawlError items → the run's error list;
RecheckAnswer items → ``store.record_recheck``. KnownPages: what the spider (re-checks) and the
conditional-request middleware (validators and bodies of the last captures) read from the store.

A crawl of a replica or mirror may store its pages under the source's own URLs (setting
``REGWATCH_STORE_AS``, ``python -m crawlers --store-as-source``): :class:`UrlMap` turns
``http://127.0.0.1:PORT/path`` into ``https://www.mofcom.gov.cn/path`` on the way into the store
and back on the way out (re-check targets, watched pages, validators), so a document's
appearances do not depend on the replica's random port and a re-run finds what it stored before.

No parsing here. Counts go to the crawl stats (``regwatch/captures/new``, ``…/unchanged``, per
kind; ``regwatch/rechecks/gone``, ``…/found``), which ``crawlers.__main__`` turns into the
CrawlRun record. The store is reached only from this module.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawlers.items import Capture, CrawlError, RecheckAnswer
from store import RecheckTarget, Store

ERRORS_STAT = "regwatch/error_list"


class UrlMap:
    """Rewrite URLs under ``fetched`` (the crawl's base URL) to ``stored`` (the source's) and back.

    Example:
        >>> m = UrlMap("http://127.0.0.1:8800", "https://www.mofcom.gov.cn")
        >>> m.to_store("http://127.0.0.1:8800/zwgk/a.html"), m.to_fetch("https://www.mofcom.gov.cn/zwgk/a.html")
        ('https://www.mofcom.gov.cn/zwgk/a.html', 'http://127.0.0.1:8800/zwgk/a.html')
        >>> m.to_store("http://127.0.0.1:88001/x"), UrlMap(None, None).to_store("http://a/x")
        ('http://127.0.0.1:88001/x', 'http://a/x')
    """

    def __init__(self, fetched: str | None, stored: str | None) -> None:
        self.fetched = (fetched or "").rstrip("/")
        self.stored = (stored or "").rstrip("/")

    @classmethod
    def from_settings(cls, settings: Any) -> UrlMap:
        """From ``REGWATCH_BASE_URL`` and ``REGWATCH_STORE_AS`` (identity when either is unset)."""
        return cls(settings.get("REGWATCH_BASE_URL"), settings.get("REGWATCH_STORE_AS"))

    @staticmethod
    def _swap(url: str, old: str, new: str) -> str:
        if not old or not new or old == new:
            return url
        if url == old or url.startswith(old + "/") or url.startswith(old + "?"):
            return new + url[len(old):]
        return url

    def to_store(self, url: str) -> str:
        return self._swap(url, self.fetched, self.stored)

    def to_fetch(self, url: str) -> str:
        return self._swap(url, self.stored, self.fetched)


class SaveCapturePipeline:
    """Persist captures in the regwatch store (settings ``REGWATCH_DB_URL``, ``REGWATCH_RUN_ID``)."""

    def __init__(self, crawler: Crawler, db_url: str, run_id: int | None) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_url = db_url
        self.run_id = run_id
        self.urls = UrlMap.from_settings(crawler.settings)
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "SaveCapturePipeline":
        db_url = crawler.settings.get("REGWATCH_DB_URL")
        if not db_url:
            raise NotConfigured("SaveCapturePipeline: no REGWATCH_DB_URL (run through `python -m crawlers`)")
        run_id = crawler.settings.getint("REGWATCH_RUN_ID") or None
        return cls(crawler, db_url, run_id)

    def open_spider(self, spider: Spider | None = None) -> None:
        self.store = Store.open(self.db_url)
        self.stats.set_value(ERRORS_STAT, [])

    def close_spider(self, spider: Spider | None = None) -> None:
        if self.store is not None:
            self.store.close()

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if isinstance(item, Capture):
            assert self.store is not None, "open_spider was not called"
            _, created = self.store.save_capture(
                source=item.source, url=self.urls.to_store(item.url),
                final_url=self.urls.to_store(item.final_url) if item.final_url else item.final_url, status=item.status,
                headers=item.headers, body=item.body, fetched_at=item.fetched_at, run_id=self.run_id,
                kind=item.kind,
            )
            state = "new" if created else "unchanged"
            self.stats.inc_value(f"regwatch/captures/{state}")
            self.stats.inc_value(f"regwatch/captures/{state}/{item.kind}")
        elif isinstance(item, RecheckAnswer):
            assert self.store is not None, "open_spider was not called"
            if self.run_id is None:  # an answer belongs to a run: without one it can never be judged
                return item
            created = self.store.record_recheck(source=item.source, run_id=self.run_id,
                                                appearance_id=item.appearance_id, url=self.urls.to_store(item.url),
                                                status=item.status, outcome=item.outcome,
                                                checked_at=item.checked_at)
            if created:
                self.stats.inc_value(f"regwatch/rechecks/{item.outcome}")
        elif isinstance(item, CrawlError):
            errors = self.stats.get_value(ERRORS_STAT) or []
            errors.append(item.as_dict())
            self.stats.set_value(ERRORS_STAT, errors)
        return item


class KnownPages:
    """The store's knowledge a spider needs to re-check pages that left every list.

    Built from the crawl settings (``REGWATCH_DB_URL``, ``REGWATCH_RUN_ID``): None without them
    (spider tests, a crawl outside ``python -m crawlers``), so nothing is re-checked there.
    """

    def __init__(self, db_url: str, urls: UrlMap | None = None) -> None:
        self.db_url = db_url
        self.urls = urls or UrlMap(None, None)
        self._store: Store | None = None

    @classmethod
    def from_db_url(cls, settings: Any) -> KnownPages | None:
        """Built from ``REGWATCH_DB_URL`` alone (conditional requests need no run); None without it."""
        db_url = settings.get("REGWATCH_DB_URL")
        return cls(db_url, UrlMap.from_settings(settings)) if db_url else None

    @classmethod
    def from_settings(cls, settings: Any) -> KnownPages | None:
        db_url = settings.get("REGWATCH_DB_URL")
        if not db_url or not settings.getint("REGWATCH_RUN_ID"):
            return None
        return cls(db_url, UrlMap.from_settings(settings))

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.db_url)
        return self._store

    def recheck_targets(self, source: str, *, cutoff: datetime, limit: int,
                        exclude: Collection[str]) -> list[RecheckTarget]:
        """Pages of ``source`` to re-check (see ``Store.recheck_targets``), with the URLs to fetch."""
        targets = self.store.recheck_targets(source, cutoff=cutoff, limit=limit,
                                             exclude={self.urls.to_store(u) for u in exclude})
        return [replace(t, url=self.urls.to_fetch(t.url), urls=tuple(self.urls.to_fetch(u) for u in t.urls))
                for t in targets]

    def watched_urls(self, source: str) -> dict[str, int]:
        """URL to fetch -> appearance id of pages whose reading must be reported (see ``Store.watched_urls``)."""
        return {self.urls.to_fetch(url): aid for url, aid in self.store.watched_urls(source).items()}

    def last_checked(self, urls: Collection[str]) -> dict[str, datetime]:
        """URL -> when its detail page was last read with a 200 (see ``Store.last_checked``); unknown URLs missing."""
        return self.store.last_checked(urls)

    def last_full_list_read(self, source: str) -> datetime | None:
        """When the newest ``ok``/``partial`` run of ``source`` that read its lists to the end (entries
        read, paging not stopped early) started; None when there is none among the last 50 runs."""
        for run in self.store.runs(source, limit=50):
            stats = run.stats or {}
            if (run.status in ("ok", "partial") and stats.get("list_entries")
                    and not stats.get("lists_stopped_early")):
                return run.started_at
        return None

    def validators(self, url: str) -> tuple[int, dict[str, str]] | None:
        """``(capture_id, {"If-None-Match": …, "If-Modified-Since": …})`` from the last capture of
        ``url`` when it was a 200 answer carrying an ETag or a Last-Modified, else None."""
        last = self.store.latest_capture(self.urls.to_store(url))
        if last is None or last.status != 200:
            return None
        headers = {str(k).lower(): str(v) for k, v in (last.headers or {}).items()}
        out = {name: headers[field] for name, field in (("If-None-Match", "etag"),
                                                        ("If-Modified-Since", "last-modified")) if headers.get(field)}
        return (last.id, out) if out else None

    def stored_page(self, capture_id: int) -> tuple[dict[str, str], bytes]:
        """The headers and body of a stored capture (what a 304 answer says is still current)."""
        info = self.store.capture(capture_id)
        return dict(info.headers or {}), self.store.capture_body(capture_id)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
