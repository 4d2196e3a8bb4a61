"""gov.cn (中国政府网) spider: the ZUIXINZHENGCE.json feed and the 部门文件 list → detail pages → attachments.

Navigation: every column of crawlers.sources is a list — a static JSON feed (``*.json``, read
with the source's ``feed`` page class, GovcnJsonFeed; the newest ``max_pages × page_size`` rows) or a
static list page (``home.htm``, first page only: new documents appear at its top) — then the
``/zhengce/…/content_<N>.htm`` detail pages (``crawlers.pages.govcn.GovcnPolicyPage``) and
their ``.pdf/.doc…`` attachments. URLs listed twice are fetched once.

Compliance: the source obeys robots.txt (``robots_obey`` in crawlers.sources; the live site
reportedly answers ``Disallow: /``). Every request robots.txt forbids becomes a ``robots``
CrawlError, so such a crawl stores nothing and fails loudly. WAF 403s are ``challenge`` errors.

Example:
    python -m crawlers govcn --db sqlite:///regwatch.db --base-url http://127.0.0.1:8802 --delay 0
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.items import CrawlError
from crawlers.spiders.base import RegulatorSpider


class GovcnSpider(RegulatorSpider):
    """www.gov.cn 最新政策 (JSON feed) and 部门文件 (static list)."""

    name = "govcn"  # the source slug in crawlers.sources

    async def start(self) -> AsyncIterator[Any]:
        for request in self.column_requests(self.parse_list):
            yield request

    def parse_list(self, response: Response) -> Iterator[Any]:
        """A ``*.json`` column is read as the feed, any other as the static list page."""
        yield from self.parse_static_list(response, "feed" if response.url.endswith(".json") else "list")

    def on_error(self, failure: Failure) -> Iterator[CrawlError]:
        """robots.txt refusals are a compliance stop (kind ``robots``), not network trouble."""
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            yield self.error(failure.request.url, "robots",  # type: ignore[attr-defined]
                             "forbidden by the site's robots.txt; nothing fetched. Crawling gov.cn needs a "
                             "compliance decision (robots_obey in crawlers/sources.py)")
            return
        yield from super().on_error(failure)
