"""First poll and unchanged re-poll of a generated 1,000-page MOFCOM-shaped site on 127.0.0.1.

The site is the MOFCOM replica (``crawlers/replica_sites/mofcom``: column shell, jpaas unit-API
list pages of 15 entries, detail pages) with ``n`` generated announcements (the 2024-46 fixture
page with its number changed, ~5 KB each) and its WAF rules off. A poll is the real MOFCOM spider
in its child process (``run_crawl_subprocess``, delay 0, concurrency 10 like the baseline's threads) followed by ``process_pending``, into a
fresh SQLite file. Baseline, same run: a plain concurrent GET (urllib, 10 threads) of exactly the
URLs the crawl requested, as the server logged them.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from bench.figures import Figure
from bench.suite_process import capture_bodies

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
_COLUMN_LIST = Path("zwgk/zcfb/list.json")


def make_site(work: Path, n: int) -> Path:
    """A copy of the MOFCOM replica's base with ``n`` announcements, newest first, WAF rules off."""
    from crawlers.replica import site_path

    source, site = site_path("mofcom"), work / "site"
    shutil.copytree(source / "base", site / "base", ignore=shutil.ignore_patterns("art", "list.json"))
    config = json.loads((source / "site.json").read_text(encoding="utf-8"))
    config.update(require_referer=False, require_cookie=None)
    (site / "site.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    items = []
    for i, (_, body) in enumerate(capture_bodies(n, 0)):
        href = f"/zwgk/zcfb/art/2024/art_{i:032x}.html"
        path = site / "base" / href.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        items.append({"href": href, "title": f"商务部公告2024年第{1000 + i}号", "date": f"2024-12-{1 + i % 28:02d}"})
    (site / "base" / _COLUMN_LIST).write_text(json.dumps({"items": items[::-1]}, ensure_ascii=False),
                                              encoding="utf-8")
    return site


def _poll(server, db: Path, n: int) -> tuple[float, dict, int]:
    from crawlers.runner import run_crawl_subprocess
    from pipeline.process import process_pending
    from store import Store

    started = time.perf_counter()
    with Store.open(db) as store:
        store.ensure_source("mofcom", "MOFCOM", "https://www.mofcom.gov.cn", at=T0)
        summary = run_crawl_subprocess("mofcom", store.dsn, base_url=server.base_url, max_pages=n // 15 + 2,
                                       delay=0, concurrency=10, timeout=1800)
        report = process_pending(store, now=datetime.now(timezone.utc))
    return time.perf_counter() - started, summary, report.new_versions


def _plain_get(urls: list[str]) -> float:
    def get(url: str) -> int:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (127.0.0.1 only)
            return len(response.read())

    started = time.perf_counter()
    with ThreadPoolExecutor(10) as pool:
        list(pool.map(get, urls))
    return time.perf_counter() - started


def site_figures(work: Path, n: int) -> list[Figure]:
    from crawlers.replica import ReplicaServer

    site, db = make_site(work, n), work / "poll.db"
    with ReplicaServer(site) as server:
        first, summary, versions = _poll(server, db, n)
        urls = [server.base_url + r.path for r in server.requests if r.method == "GET"]
        fetched = len(urls)
        server.requests.clear()
        floor = _plain_get(urls)
        server.requests.clear()
        again, summary2, versions2 = _poll(server, db, n)
        conditional = sum(1 for r in server.requests if r.status == 304)
        asked = sum(1 for r in server.requests if {"If-None-Match", "If-Modified-Since"} & set(r.headers))
        requests2 = len(server.requests)
    workload = f"{n}-page site, {fetched} requests"
    return [
        Figure("first poll (crawl + process)", workload, first, "s", "plain concurrent GET", floor,
               "<= 2x baseline", first <= 2 * floor,
               note=f"{summary.get('captures_new')} captures, {versions} versions; crawl concurrency 10"),
        Figure("unchanged re-poll", workload, again, "s", "first poll", first, "<= 0.2x baseline",
               again <= 0.2 * first and versions2 == 0,
               note=f"{versions2} new versions; {asked} of {requests2} requests conditional, {conditional} answered "
               f"304 (captures unchanged: {summary2.get('captures_unchanged')}; the jpaas shell is always asked "
               "plainly and this replica's unit API sends no validators)"),
    ]


__all__ = ["make_site", "site_figures"]
