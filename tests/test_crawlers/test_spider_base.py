"""RegulatorSpider: shared list → detail navigation, and abstract bases invisible to Scrapy's spider loader."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.test import get_crawler

from crawlers.pages.base import ListingEntry
from crawlers.replica import ReplicaServer, site_path
from crawlers.runner import crawl_command
from crawlers.sources import SOURCES
from crawlers.spiders.base import HanwebSpider, RegulatorSpider
from crawlers.items import CrawlError
from crawlers.spiders.govcn import GovcnSpider
from crawlers.spiders.mofcom import MofcomSpider


def test_spider_loader_lists_exactly_the_registered_sources() -> None:
    settings = Settings()
    settings.setmodule("crawlers.settings")
    # A duplicate spider name would be a UserWarning here, an error under filterwarnings=error.
    assert SpiderLoader.from_settings(settings).list() == sorted(SOURCES)
    assert "name" not in vars(RegulatorSpider) and "name" not in vars(HanwebSpider)


def test_abstract_base_cannot_be_instantiated() -> None:
    with pytest.raises(ValueError, match="must have a name"):
        RegulatorSpider()


def test_crawl_stderr_has_no_duplicate_spider_name_warning(tmp_path: Path) -> None:
    with ReplicaServer(site_path("miit")) as server:
        cmd = crawl_command("miit", f"sqlite:///{tmp_path / 'r.db'}", base_url=server.base_url, delay=0)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "several spiders with the same name" not in proc.stderr
    assert "UserWarning" not in proc.stderr


def test_follow_entries_fetches_each_url_once_within_the_limit_and_on_host() -> None:
    crawler = get_crawler(GovcnSpider)
    spider = GovcnSpider.from_crawler(crawler, base_url="http://127.0.0.1:8802")
    base = "http://127.0.0.1:8802/zhengce/"
    entries = [ListingEntry(base + "a.htm", "甲", "2026-01-02"), ListingEntry("https://news.example/x.htm", "off", None),
               ListingEntry(base + "a.htm", "甲", "2026-01-02"), ListingEntry(base + "b.htm", "乙", None),
               ListingEntry(base + "c.htm", "丙", None)]
    first = list(spider.follow_entries(entries, limit=4))
    assert [(r.url, r.meta["listing_title"], r.meta["listing_date"]) for r in first] == [
        (base + "a.htm", "甲", "2026-01-02"), (base + "b.htm", "乙", None)]
    assert all(r.callback == spider.parse_detail and r.errback == spider.on_error for r in first)
    assert spider.seen_urls == {base + "a.htm", base + "b.htm", "https://news.example/x.htm"}
    assert crawler.stats.get_value("regwatch/offsite_skipped") == 1
    assert [r.url for r in spider.follow_entries(entries)] == [base + "c.htm"]  # the rest: already seen
    assert spider.entry_limit == spider.max_pages * SOURCES["govcn"].page_size


def test_a_javascript_redirect_off_host_is_an_offsite_error() -> None:
    from scrapy.http import HtmlResponse, Request

    crawler = get_crawler(MofcomSpider)
    spider = MofcomSpider.from_crawler(crawler, base_url="http://127.0.0.1:8800")
    url = "http://127.0.0.1:8800/zwgk/zcfb/art/2025/art_69ecaa737900f36beb7aa21743d2d2f2.html"

    def stub(target: str) -> HtmlResponse:
        body = f"<html><head><script>window.location.href='{target}';</script></head><body></body></html>"
        return HtmlResponse(url, body=body.encode(), encoding="utf-8", request=Request(url))

    (item,) = list(spider.parse_detail(stub("https://elsewhere.example/a.html")))
    assert isinstance(item, CrawlError)
    assert (item.kind, item.url, item.extra) == ("offsite", url, {"target": "https://elsewhere.example/a.html"})
    assert crawler.stats.get_value("regwatch/errors/offsite") == 1
    (request,) = list(spider.parse_detail(stub("/zwgk/zcfb/art/2025/b.html")))  # on-host: followed
    assert request.url == "http://127.0.0.1:8800/zwgk/zcfb/art/2025/b.html"


def test_empty_article_is_captured_and_reported_as_empty_not_as_a_layout_change() -> None:
    from scrapy.http import HtmlResponse, Request

    from crawlers.items import Capture, CrawlError
    from crawlers.spiders.mofcom import MofcomSpider

    url = "http://127.0.0.1:8800/zwgk/zcfb/art/2025/art_0123456789abcdef0123456789abcdef.html"
    body = '<html><body><div class="art-con art-con-bottonmLine"><p>\u3000</p></div></body></html>'.encode()
    spider = MofcomSpider.from_crawler(get_crawler(MofcomSpider), base_url="http://127.0.0.1:8800")
    out = list(spider.parse_detail(HtmlResponse(url, body=body, request=Request(url))))
    assert [type(item) for item in out] == [Capture, CrawlError]
    assert out[1].kind == "empty" and "holds no text" in out[1].message
