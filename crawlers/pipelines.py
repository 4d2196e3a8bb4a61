"""SaveCapturePipeline: Capture items → ``store.save_capture``; CrawlError items → the run's error list.

No parsing here. Counts go to the crawl stats (``regwatch/captures/new``, ``…/unchanged``, per
kind), which ``crawlers.__main__`` turns into the CrawlRun record.
"""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawlers.items import Capture, CrawlError
from store import Store

ERRORS_STAT = "regwatch/error_list"


class SaveCapturePipeline:
    """Persist captures in the regwatch store (settings ``REGWATCH_DB_URL``, ``REGWATCH_RUN_ID``)."""

    def __init__(self, crawler: Crawler, db_url: str, run_id: int | None) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_url = db_url
        self.run_id = run_id
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
                source=item.source, url=item.url, final_url=item.final_url, status=item.status,
                headers=item.headers, body=item.body, fetched_at=item.fetched_at, run_id=self.run_id,
                kind=item.kind,
            )
            state = "new" if created else "unchanged"
            self.stats.inc_value(f"regwatch/captures/{state}")
            self.stats.inc_value(f"regwatch/captures/{state}/{item.kind}")
        elif isinstance(item, CrawlError):
            errors = self.stats.get_value(ERRORS_STAT) or []
            errors.append(item.as_dict())
            self.stats.set_value(ERRORS_STAT, errors)
        return item
