"""First poll and unchanged re-poll of a generated 1,000-page site crawled as a *configured* source.

Issue 11's workload as written: a list -> detail site (static pages, 4-12 KB of Chinese text each)
described by selectors in ``schedules.yaml`` (``kind: html_list``, the README's customs example
with its ``list_urls`` on 127.0.0.1), crawled by the generic spider in its child process (delay 0,
concurrency 10) and processed into a fresh SQLite file. The replica answers static files with
ETag / Last-Modified, as most government sites' front servers do, so this is where "a second
crawl of an unchanged site makes only conditional requests" shows: the figure counts the
requests that carried ``If-None-Match`` / ``If-Modified-Since`` (robots.txt, read by Scrapy's
robots middleware once per crawl, is counted apart). Baseline, same run: a plain concurrent GET
(urllib, 10 threads) of the URLs the first crawl requested.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from bench.figures import Figure
from bench.suite_site import plain_get

PER_PAGE = 15
_CLAUSE = ("第{k}条 为维护国家安全和利益，履行防扩散等国际义务，根据《中华人民共和国出口管制法》的有关规定，"
           "对相关物项实施出口管制。出口经营者应当依照规定向商务主管部门申请许可，"
           "并如实提交最终用户和最终用途证明文件。")


def _detail(i: int) -> str:
    clauses = "".join(f"<p>{_CLAUSE.format(k=k)}</p>\n" for k in range(1, 8 + i % 17))  # 2-8 KB of text
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>公告{i}</title></head><body>\n'
            f'<div class="detail"><h1 class="title">关于实施出口管制措施的公告（{i}）</h1>\n'
            f'<div class="info"><span class="docno">海关总署公告2024年第{1000 + i}号</span>'
            f'<span class="pubdate">2024-12-{1 + i % 28:02d}</span></div>\n'
            f'<div id="article">\n{clauses}<p>本公告自发布之日起施行。</p>\n</div></div></body></html>\n')


def _list_page(entries: list[int], page: int, last: bool) -> str:
    items = "".join(f'<li><a href="/gk/ggl/2024/n{i}.html">关于实施出口管制措施的公告（{i}）</a>'
                    f'<span class="date">2024-12-{1 + i % 28:02d}</span></li>\n' for i in entries)
    nxt = "" if last else f'<a class="next" href="index_{page + 1}.html">下一页</a>'
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>公告</title></head><body>\n'
            f'<ul class="notice-list">\n{items}</ul>{nxt}</body></html>\n')


def make_configured_site(work: Path, n: int) -> Path:
    """``n`` announcements on paged lists of 15 (newest first), the notices replica's server settings."""
    from crawlers.replica import site_path

    site = work / "configured-site"
    (site / "base" / "gk" / "ggl" / "2024").mkdir(parents=True)
    shutil.copy(site_path("notices") / "site.json", site / "site.json")
    (site / "base" / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    for i in range(n):
        (site / "base" / "gk" / "ggl" / "2024" / f"n{i}.html").write_text(_detail(i), encoding="utf-8")
    newest_first = list(range(n))[::-1]
    pages = [newest_first[k:k + PER_PAGE] for k in range(0, n, PER_PAGE)]
    for page, entries in enumerate(pages, start=1):
        name = "index.html" if page == 1 else f"index_{page}.html"
        (site / "base" / "gk" / "ggl" / name).write_text(_list_page(entries, page, page == len(pages)),
                                                           encoding="utf-8")
    return site


def _config(work: Path, base_url: str, n: int) -> Path:
    """The README's customs entry, on the replica, unthrottled, every list page allowed."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Generic sources"):]
    example = yaml.safe_load(section[section.index("```yaml") + 7:section.index("```", section.index("```yaml") + 7)])
    customs = example["sources"]["customs"]
    customs.update(base_url=base_url, delay_seconds=0, concurrency=10, max_pages=n // PER_PAGE + 2)
    path = work / "configured.yaml"
    path.write_text(yaml.safe_dump({"sources": {"customs": customs}, "authority": example["authority"]},
                                   allow_unicode=True), encoding="utf-8")
    return path


def _poll(db: Path, config_path: Path) -> tuple[float, dict[str, Any], Any]:
    from pipeline.clock import SystemClock
    from pipeline.config import load_config
    from pipeline.crawl import crawl_source
    from pipeline.process import process_pending
    from store import Store

    config = load_config(config_path, env={})  # registers the configured source
    started = time.perf_counter()
    with Store.open(db) as store:
        summary = crawl_source(store, "customs", config=config, clock=SystemClock())
        report = process_pending(store, now=datetime.now(timezone.utc))
    return time.perf_counter() - started, summary, report


def configured_site_figures(work: Path, n: int) -> list[Figure]:
    from crawlers.replica import ReplicaServer

    site, db = make_configured_site(work, n), work / "configured.db"
    with ReplicaServer(site) as server:
        config_path = _config(work, server.base_url, n)
        first, summary, report = _poll(db, config_path)
        urls = [server.base_url + r.path for r in server.requests if r.method == "GET"]
        server.requests.clear()
        floor = plain_get(urls)
        server.requests.clear()
        again, summary2, report2 = _poll(db, config_path)
        pages = [r for r in server.requests if r.path != "/robots.txt"]
        asked = sum(1 for r in pages if {"If-None-Match", "If-Modified-Since"} & set(r.headers))
        answered = sum(1 for r in pages if r.status == 304)
    workload = f"{n}-page configured source, {len(urls)} requests"
    only_conditional = bool(pages) and asked == len(pages)
    return [
        Figure("first poll, configured source", workload, first, "s", "plain concurrent GET", floor,
               "<= 2x baseline", first <= 2 * floor,
               note=f"{summary.get('captures_new')} captures, {report.new_versions} versions; generic spider, "
               "concurrency 10"),
        Figure("unchanged re-poll, configured source", workload, again, "s", "first poll", first,
               "<= 0.2x baseline, only conditional requests",
               again <= 0.2 * first and report2.new_versions == 0 and only_conditional,
               note=f"{report2.new_versions} new versions; {asked} of {len(pages)} page requests conditional, "
               f"{answered} answered 304 (+ robots.txt, read plainly once per crawl)"),
    ]


__all__ = ["configured_site_figures", "make_configured_site"]

if __name__ == "__main__":  # python -m bench.suite_configured [N]: these two figures alone
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="regwatch-bench-") as tmp:
        for figure in configured_site_figures(Path(tmp), int(sys.argv[1]) if len(sys.argv) > 1 else 1000):
            print(json.dumps(json.loads(figure.json_line()), ensure_ascii=False))
