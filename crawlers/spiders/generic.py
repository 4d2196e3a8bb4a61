"""The spider of every configured source (``kind: html_list`` / ``kind: feed`` in schedules.yaml).

Navigation: each list URL of the source's ``GenericSpec`` → its entries (the configured
``items``/``link`` selectors, or the feed's ``<item>``/``<entry>``) → detail pages → attachments.
Paging: the ``next`` selector's link, or ``page_url`` with ``{page}`` = 2, 3, … up to ``pages``;
both bounded by ``max_pages``; a page whose entries were all seen in this crawl ends the list,
and so does one whose entries are all known and none due for a re-check (``may_stop_paging``). Detail pages, attachments, re-checks and the host policy are ``RegulatorSpider``'s.

The crawl names the source: ``-a name=<slug>`` (``python -m crawlers`` does it with ``--config``).
With ``-a base_url=…`` (a replica) the list URLs keep their path and query on that host.

Example:
    python -m crawlers customs --config schedules.yaml --db sqlite:///regwatch.db --base-url http://127.0.0.1:8805
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin

from scrapy.http import Response

from crawlers.errors import PageError
from crawlers.sources import rebased
from crawlers.spiders.base import RegulatorSpider


class GenericSpider(RegulatorSpider):
    """Any source described by selectors in schedules.yaml (``SourceDef.generic``)."""

    # No class ``name``: each crawl names it after its source (``name=<slug>``), so Scrapy's spider
    # loader lists only the built-in spiders.

    def __init__(self, *args: Any, base_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, base_url=base_url, **kwargs)
        if self.source_def.generic is None:
            raise ValueError(f"source {self.source_def.slug!r} is not a configured (generic) source")
        self.spec = self.source_def.generic
        self.rebase_to = base_url

    def list_urls(self) -> list[str]:
        urls = list(self.spec.list_urls)
        return [rebased(u, self.rebase_to) for u in urls] if self.rebase_to else urls

    async def start(self) -> AsyncIterator[Any]:
        for url in self.list_urls():
            request = self.follow(url, self.parse_list, page_no=1, list_url=url)
            if request is not None:
                yield request

    def parse_list(self, response: Response) -> Iterator[Any]:
        """Capture a list page or feed, follow its entries, then the next page while it brings new ones."""
        yield self.capture(response, "list")
        page = self.page("feed" if self.spec.kind == "feed" else "list", response)
        try:
            entries, next_url = page.entries(), page.next_url()  # type: ignore[attr-defined]
        except PageError as exc:
            yield self.page_error(response.url, exc)
            return
        seen_before = len(self.seen_urls)
        wanted = self.follow_entries(entries, limit=self.entry_limit if self.spec.kind == "feed" else None)
        yield from wanted
        page_no = response.meta["page_no"]
        if len(self.seen_urls) == seen_before or page_no >= self.max_pages:
            return
        if not wanted and self.may_stop_paging():  # all known, none due: the rest of the list is older
            self.crawler.stats.inc_value("regwatch/lists_stopped_early")
            return
        if next_url is None and self.spec.page_url and page_no < (self.spec.pages or self.max_pages):
            next_url = urljoin(response.meta["list_url"], self.spec.page_url.replace("{page}", str(page_no + 1)))
        if next_url and next_url not in self.seen_urls:
            self.seen_urls.add(next_url)
            request = self.follow(next_url, self.parse_list, page_no=page_no + 1, list_url=response.meta["list_url"])
            if request is not None:
                yield request


__all__ = ["GenericSpider"]
