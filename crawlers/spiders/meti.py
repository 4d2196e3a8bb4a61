"""METI (経済産業省) spider: the Atom feed, and the HTML press lists when the feed is stale → releases → PDFs.

Navigation: the first column of crawlers.sources is the Atom feed (``crawlers.pages.feeds.MetiAtomFeed``),
reported frozen since a 2026 site renewal. When its newest ``updated`` is more than 7 days older
than the crawl clock (or unreadable), the other columns are read too: ``/press/index.html``
(``dl#release_menulist``) and the crawl month's ``/press/archive_YYYYMM.html`` (``{YYYYMM}`` in
the column path, Japan time). Then ``/press/<FY>/<MM>/<id>/<id>.html`` releases and
``/speeches/kaiken/…`` conferences (``crawlers.pages.meti``), and their ``<id>-N.pdf`` files.

Politeness: browser User-Agent (settings), the source's 5 s delay, one request at a time. AWS
WAF answers (403, 202 with an empty body) are ``challenge`` CrawlErrors, never an emptied page.
The crawl clock is ``-a now=ISO`` or ``REGWATCH_NOW`` (as for the CLI), else the system clock.

Example:
    python -m crawlers meti --db sqlite:///regwatch.db --base-url http://127.0.0.1:8803 --delay 0
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scrapy.http import Response

from crawlers.errors import PageError
from crawlers.spiders.base import RegulatorSpider, crawl_clock

__all__ = ["MetiSpider", "crawl_clock", "feed_is_stale"]  # crawl_clock lives in crawlers.spiders.base

STALE_AFTER = timedelta(days=7)  # DOMAIN §4.2: fall back to the HTML lists after a week without updates


def feed_is_stale(last_updated: datetime | None, now: datetime, max_age: timedelta = STALE_AFTER) -> bool:
    """True when the feed's newest stamp is older than ``max_age`` at ``now`` (or there is none).

    Example:
        >>> from datetime import timezone
        >>> feed_is_stale(datetime(2026, 6, 19, tzinfo=timezone.utc), datetime(2026, 11, 23, tzinfo=timezone.utc))
        True
        >>> feed_is_stale(datetime(2026, 6, 19, tzinfo=timezone.utc), datetime(2026, 6, 22, tzinfo=timezone.utc))
        False
    """
    return last_updated is None or now - last_updated > max_age


class MetiSpider(RegulatorSpider):
    """www.meti.go.jp 新着情報 (Atom) with the ニュースリリース HTML lists as fallback."""

    name = "meti"  # the source slug in crawlers.sources
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 1}

    def url_of(self, path: str) -> str:
        """A column path with ``{YYYYMM}`` set to the crawl clock's month in Japan time."""
        month = self.now.astimezone(ZoneInfo(self.source_def.timezone)).strftime("%Y%m")
        return super().url_of(path.replace("{YYYYMM}", month))

    async def start(self) -> AsyncIterator[Any]:
        for request in self.column_requests(self.parse_feed, self.source_def.columns[:1]):
            yield request

    def parse_feed(self, response: Response) -> Iterator[Any]:
        yield self.capture(response, "list")
        feed = self.page("feed", response)
        try:
            entries, updated = feed.entries(), feed.last_updated()  # type: ignore[attr-defined]
        except PageError as exc:  # unreadable feed: report it, then read the HTML lists
            yield self.page_error(response.url, exc)
            entries, updated = [], None
        yield from self.follow_entries(entries, limit=self.entry_limit)
        if feed_is_stale(updated, self.now):
            self.logger.warning("meti: Atom feed last updated %s, crawl clock %s: reading the HTML lists",
                                updated, self.now.isoformat())
            self.crawler.stats.set_value("regwatch/feed_stale", True)
            yield from self.column_requests(self.parse_list, self.source_def.columns[1:])

    def parse_list(self, response: Response) -> Iterator[Any]:
        """The month archive (``/press/archive_YYYYMM.html``) or the press index."""
        yield from self.parse_static_list(response, "archive" if "/archive_" in response.url else "list")
