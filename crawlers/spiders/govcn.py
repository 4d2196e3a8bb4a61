"""gov.cn (中国政府网) spider: the ZUIXINZHENGCE.json feed and the 部门文件 list → detail pages → attachments.

Navigation: every column of crawlers.sources is a list — a static JSON feed (``*.json``, read
with ``crawlers.pages.feeds.GovcnJsonFeed``; the newest ``max_pages × page_size`` rows) or a
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
from urllib.parse import urljoin

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.errors import ChallengePage, PageError
from crawlers.items import CrawlError
from crawlers.pages.feeds import GovcnJsonFeed
from crawlers.spiders.base import HanwebSpider, RegulatorSpider, _headers


class GovcnSpider(RegulatorSpider):
    """www.gov.cn 最新政策 (JSON feed) and 部门文件 (static list)."""

    name = "govcn"
    source_slug = "govcn"
    # Detail pages and attachments are handled exactly as on the jpaas sites.
    parse_detail = HanwebSpider.parse_detail
    parse_attachment = HanwebSpider.parse_attachment

    async def start(self) -> AsyncIterator[Any]:
        for column in self.source_def.columns:
            request = self.follow(urljoin(self.base_url + "/", column.shell_path.lstrip("/")), self.parse_list,
                                  column=column.name)
            if request is not None:
                yield request

    def parse_list(self, response: Response) -> Iterator[Any]:
        yield self.capture(response, "list")
        cls = GovcnJsonFeed if response.url.endswith(".json") else self.source_def.page_class("list")
        try:
            entries = cls(response.url, response.body, _headers(response), status=response.status).entries()
        except PageError as exc:
            yield self.error(response.url, "challenge" if isinstance(exc, ChallengePage) else "layout", str(exc))
            return
        for entry in entries[: self.max_pages * self.source_def.page_size]:
            if entry.url in self.seen_urls:
                continue
            self.seen_urls.add(entry.url)
            request = self.follow(entry.url, self.parse_detail, listing_title=entry.title, listing_date=entry.date_text)
            if request is not None:
                yield request

    def on_error(self, failure: Failure) -> Iterator[CrawlError]:
        """robots.txt refusals are a compliance stop (kind ``robots``), not network trouble."""
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            yield self.error(failure.request.url, "robots",  # type: ignore[attr-defined]
                             "forbidden by the site's robots.txt; nothing fetched. Crawling gov.cn needs a "
                             "compliance decision (robots_obey in crawlers/sources.py)")
            return
        yield from super().on_error(failure)
