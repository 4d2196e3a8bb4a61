"""A replica crawled with ``--store-as-source``: pages stored under the source's own URLs, so two
crawls of the same replica on two random ports are one set of pages; a pinned clock stamps the
run and its captures; only the replica's host is fetched (an off-host link is skipped even when it
names one of the source's own hosts)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.pipelines import KnownPages, UrlMap
from crawlers.replica import ReplicaServer, site_path
from crawlers.runner import crawl_command, run_crawl_subprocess
from store import Store

NOW = "2025-11-07T12:00:00+00:00"


@pytest.mark.parametrize(("url", "stored"), [
    ("http://127.0.0.1:4321/zwgk/a.html", "https://www.mofcom.gov.cn/zwgk/a.html"),
    ("http://127.0.0.1:4321", "https://www.mofcom.gov.cn"),
    ("http://127.0.0.1:4321?x=1", "https://www.mofcom.gov.cn?x=1"),
    ("http://127.0.0.1:43210/zwgk/a.html", "http://127.0.0.1:43210/zwgk/a.html"),  # another port: not ours
    ("https://aqygzj.mofcom.gov.cn/a.html", "https://aqygzj.mofcom.gov.cn/a.html"),
])
def test_url_map_both_ways(url: str, stored: str) -> None:
    urls = UrlMap("http://127.0.0.1:4321/", "https://www.mofcom.gov.cn")
    assert urls.to_store(url) == stored
    assert urls.to_fetch(stored) == (url if stored != url else stored)


def test_url_map_without_both_ends_is_the_identity() -> None:
    for urls in (UrlMap(None, "https://www.mofcom.gov.cn"), UrlMap("http://127.0.0.1:1", None)):
        assert urls.to_store("http://127.0.0.1:1/a") == "http://127.0.0.1:1/a"


def test_command_line_carries_the_flags() -> None:
    cmd = crawl_command("mofcom", "sqlite:///x.db", base_url="http://127.0.0.1:1", store_as_source=True, now=NOW)
    assert cmd[-3:] == ["--store-as-source", "--now", NOW]


def test_two_ports_one_set_of_pages_under_the_source_urls(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    Store.open(db).close()
    summaries = []
    for _ in range(2):
        with ReplicaServer(site_path("mofcom"), state="demo-1") as server:
            summaries.append(run_crawl_subprocess("mofcom", db, base_url=server.base_url, delay=0, timeout=90,
                                                  max_pages=5, store_as_source=True, now=NOW))
            fetched = {r.path.split("?")[0] for r in server.requests}
    first, second = summaries
    assert (first["status"], first["errors"], first["captures_unchanged"]) == ("ok", 0, 0)
    assert (second["status"], second["captures_new"], second["captures_unchanged"]) == ("ok", 0, first["captures_new"])
    assert "/zwgk/zcfb/art/2025/art_1aeba4fb358b98298b62eda62106d2de.html" in fetched
    with Store.open(db) as store:
        runs = store.runs("mofcom")
        (source,) = [s for s in store.sources() if s.slug == "mofcom"]
        assert source.base_url == "https://www.mofcom.gov.cn"
        assert [r.started_at for r in runs] == [datetime(2025, 11, 7, 12, tzinfo=UTC)] * 2
        capture = store.latest_capture("https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_1aeba4fb358b98298b62eda62106d2de.html")
        assert capture is not None and capture.fetched_at == datetime(2025, 11, 7, 12, tzinfo=UTC)
        assert capture.final_url.startswith("https://www.mofcom.gov.cn/")
        assert store.latest_capture(f"{server.base_url}/zwgk/zcfb/index.html") is None  # nothing under the replica


def test_known_pages_answer_in_fetch_urls(tmp_path: Path) -> None:
    """Validators are looked up under the stored URL; re-check targets come back as replica URLs."""
    db = tmp_path / "k.db"
    with Store.open(db) as store:
        store.ensure_source("mofcom", "MOFCOM", "https://www.mofcom.gov.cn")
        store.save_capture(source="mofcom", url="https://www.mofcom.gov.cn/a.html",
                           final_url="https://www.mofcom.gov.cn/a.html", status=200,
                           headers={"ETag": 'W/"1"'}, body=b"<html></html>", fetched_at=datetime(2025, 1, 1, tzinfo=UTC),
                           run_id=None, kind="detail")
    known = KnownPages(f"sqlite:///{db}", UrlMap("http://127.0.0.1:9", "https://www.mofcom.gov.cn"))
    try:
        found = known.validators("http://127.0.0.1:9/a.html")
        assert found is not None and found[1] == {"If-None-Match": 'W/"1"'}
        assert known.validators("http://127.0.0.1:10/a.html") is None
    finally:
        known.close()


def test_a_replica_stored_as_the_source_never_fetches_the_source_itself() -> None:
    from scrapy.utils.test import get_crawler

    from crawlers.spiders.mofcom import MofcomSpider

    plain = MofcomSpider.from_crawler(get_crawler(MofcomSpider), base_url="http://127.0.0.1:8800")
    assert plain.allowed("https://www.mofcom.gov.cn/zwgk/a.html")  # a mirror crawl may follow the real host
    crawler = get_crawler(MofcomSpider, {"REGWATCH_STORE_AS": "https://www.mofcom.gov.cn",
                                         "REGWATCH_BASE_URL": "http://127.0.0.1:8800"})
    spider = MofcomSpider.from_crawler(crawler, base_url="http://127.0.0.1:8800")
    assert spider.hosts == ("127.0.0.1",)
    assert spider.follow("https://www.mofcom.gov.cn/zwgk/a.html", spider.parse_detail) is None
    assert crawler.stats.get_value("regwatch/offsite_skipped") == 1
    assert spider.follow("http://127.0.0.1:8800/zwgk/a.html", spider.parse_detail) is not None
