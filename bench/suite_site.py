"""First poll, unchanged re-poll and re-poll after edits of a generated 1,000-page MOFCOM-shaped site on 127.0.0.1.

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
from typing import Any

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
    items = [_announcement(site / "base", i, body) for i, (_, body) in enumerate(capture_bodies(n, 0))]
    _column_list(site / "base", items)
    _mutated_state(site, items, edited=max(1, n // 100), new=5)
    return site


def _announcement(root: Path, i: int, body: bytes) -> dict[str, str]:
    """Announcement ``i`` (number 1000 + i, as ``capture_bodies`` writes it) under ``root``; its list item."""
    href = f"/zwgk/zcfb/art/2024/art_{i:032x}.html"
    path = root / href.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return {"href": href, "title": f"商务部公告2024年第{1000 + i}号", "date": f"2024-12-{1 + i % 28:02d}"}


def _column_list(root: Path, items: list[dict[str, str]]) -> None:
    """The column's list (``list.json``) under ``root``: ``items`` newest first."""
    listing = root / _COLUMN_LIST
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text(json.dumps({"items": items[::-1]}, ensure_ascii=False), encoding="utf-8")


def _mutated_state(site: Path, items: list[dict[str, str]], *, edited: int, new: int) -> None:
    """``state-edited/``: ``edited`` announcements (every 100th) with the edit ``capture_bodies`` makes
    in round 1, and ``new`` more on top."""
    state, n = site / "state-edited", len(items)
    edits = capture_bodies(n, 1)
    for i in range(0, n, 100)[:edited]:
        _announcement(state, i, edits[i][1])
    added = [_announcement(state, i, body) for i, (_, body) in enumerate(capture_bodies(n + new, 0)) if i >= n]
    _column_list(state, items + added)


def _poll(server, db: Path, n: int, *, recheck: bool = False) -> tuple[float, dict, Any]:
    """One poll: the crawl child then ``process``; ``(seconds, crawl summary, process report)``."""
    from crawlers.runner import run_crawl_subprocess
    from pipeline.process import process_pending
    from store import Store

    started = time.perf_counter()
    with Store.open(db) as store:
        store.ensure_source("mofcom", "MOFCOM", "https://www.mofcom.gov.cn", at=T0)
        summary = run_crawl_subprocess("mofcom", store.dsn, base_url=server.base_url, max_pages=n // 15 + 2,
                                       delay=0, concurrency=10, timeout=1800, recheck_all=recheck)
        report = process_pending(store, now=datetime.now(timezone.utc))
    return time.perf_counter() - started, summary, report


def plain_get(urls: list[str]) -> float:
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
        first, summary, report = _poll(server, db, n)
        urls = [server.base_url + r.path for r in server.requests if r.method == "GET"]
        fetched = len(urls)
        server.requests.clear()
        floor = plain_get(urls)
        server.requests.clear()
        again, summary2, report2 = _poll(server, db, n)
        versions2 = report2.new_versions
        conditional = sum(1 for r in server.requests if r.status == 304)
        asked = sum(1 for r in server.requests if {"If-None-Match", "If-Modified-Since"} & set(r.headers))
        requests2 = len(server.requests)
        server.set_state("edited")
        alerts_before = _alert_keys(db)
        edited_s, summary3, report3 = _poll(server, db, n, recheck=True)  # silent edits of known pages: --recheck
        alerted = {key for _, key in _alert_keys(db) - alerts_before}
    workload = f"{n}-page site, {fetched} requests"
    edits, added = max(1, n // 100), 5
    expected = {f"mofcom:2024:{1000 + i}" for i in range(0, n, 100)[:edits]} | {
        f"mofcom:2024:{1000 + n + i}" for i in range(added)}
    exact = (report3.new_versions, report3.new_documents, alerted) == (edits + added, added, expected)
    return [
        Figure("first poll (crawl + process)", workload, first, "s", "plain concurrent GET", floor,
               "<= 2x baseline", first <= 2 * floor,
               note=f"{summary.get('captures_new')} captures, {report.new_versions} versions; crawl concurrency 10"),
        Figure("unchanged re-poll", workload, again, "s", "first poll", first, "<= 0.2x baseline",
               again <= 0.2 * first and versions2 == 0,
               note=f"{versions2} new versions; {asked} of {requests2} requests conditional, {conditional} answered "
               f"304 (captures unchanged: {summary2.get('captures_unchanged')}; the jpaas shell is always asked "
               "plainly and this replica's unit API sends no validators)"),
        Figure("re-poll after 1% edits + 5 new", workload, edited_s, "s", "first poll", first,
               "only those re-processed and alerted", exact,
               note=f"crawl --recheck: {summary3.get('captures_new')} new captures, {report3.new_versions} new "
               f"versions ({report3.new_documents} new documents), alerts for {len(alerted)} documents "
               f"({len(alerted & expected)} of the {len(expected)} expected: {edits} edited + {added} new)"),
    ]


def _alert_keys(db: Path) -> set[tuple[int, str]]:
    """``(alert id, document key)`` of every document alert in ``db``."""
    from store import Store

    with Store.open(db) as store:
        return {(a.id, a.doc_key) for a in store.alerts(limit=None) if a.doc_key}


__all__ = ["make_site", "plain_get", "site_figures"]
