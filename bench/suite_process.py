"""Figures of the process stage on N captures: throughput, peak memory, storage after three versions,
and RSS growth over many daemon cycles.

Baselines measured in the same run: extraction alone over the same captures (the floor without any
store work), a urlwatch-like cache (one SQLite row per URL and version holding the page as fetched,
which is what urlwatch's minidb cache keeps), and the cycle's RSS after warm-up.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.figures import RSS_LINE, Figure, child_rss_mb, python_child

_PROCESS = """
import json, sys, time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from bench.suite_process import capture_bodies
from pipeline.extract import extract_page
from pipeline.process import process_pending
from store import Store

db, n, rounds = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
out = {"rates": [], "extract_rate": None}
with Store.open(db) as store:
    store.ensure_source("mofcom", "MOFCOM", "https://www.mofcom.gov.cn", at=t0)
    for r in range(rounds):
        pages = capture_bodies(n, r)
        at = t0 + timedelta(days=r)
        for url, body in pages:
            store.save_capture(source="mofcom", url=url, final_url=url, status=200, headers={}, body=body,
                               fetched_at=at, kind="detail")
        started = time.perf_counter()
        report = process_pending(store, now=at)
        out["rates"].append({"seconds": time.perf_counter() - started, "new_documents": report.new_documents,
                             "new_versions": report.new_versions})
        if r == 0:
            started = time.perf_counter()
            for url, body in pages:
                extract_page(body, source="mofcom", url=url)
            out["extract_rate"] = n / (time.perf_counter() - started)
print(json.dumps(out))
"""
def capture_bodies(n: int, round_: int) -> list[tuple[str, bytes]]:
    """``n`` distinct MOFCOM announcements (the fixture page with its number changed), edited in round > 0."""
    from bench.bench_web import PAGES

    body = (PAGES / "2024-46-standard" / "body.html").read_bytes()
    url = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2024/art_b260d4842ffb6ff1985c806700ceb425.html"
    pages = []
    for i in range(n):
        page = body.replace("2024年第46号".encode(), f"2024年第{1000 + i}号".encode())
        if round_:
            page = page.replace("。".encode(), f"。第{round_}次修订。".encode(), 1)
        pages.append((url.replace(".html", f"-{i}.html"), page))
    return pages


def urlwatch_like_size(path: Path, n: int, rounds: int) -> int:
    """Bytes of a minidb-like cache: one row (guid, timestamp, data) per URL and version, data as fetched."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE CacheEntry (guid TEXT, timestamp INTEGER, data TEXT, tries INTEGER, etag TEXT)")
        for r in range(rounds):
            conn.executemany("INSERT INTO CacheEntry VALUES (?, ?, ?, 0, NULL)",
                             [(url, r, body.decode()) for url, body in capture_bodies(n, r)])
    return path.stat().st_size


def process_figures(work: Path, n: int, rounds: int = 3) -> list[Figure]:
    import json

    db = work / "process.db"
    run = python_child(_PROCESS + RSS_LINE, str(db), str(n), str(rounds))
    lines = run.stdout.strip().splitlines()
    result, rss = json.loads(lines[-2]), child_rss_mb(run.stdout)
    first = result["rates"][0]
    rate = first["new_documents"] / first["seconds"]
    for suffix in ("-wal", "-shm"):
        (db.parent / (db.name + suffix)).unlink(missing_ok=True)  # checkpointed on close
    size = db.stat().st_size / 1e6
    baseline = urlwatch_like_size(work / "urlwatch-like.db", n, rounds) / 1e6
    return [
        Figure("process", f"{n} new captures", rate, "docs/s", "extract only", result["extract_rate"],
               ">= 200 docs/s", rate >= 200),
        Figure("process, edited", f"{n} edited captures", n / result["rates"][1]["seconds"], "docs/s",
               "extract only", result["extract_rate"], ">= 200 docs/s", n / result["rates"][1]["seconds"] >= 200),
        Figure("memory: process peak RSS", f"{n} captures x {rounds}", rss, "MB", "-", None, "< 300 MB", rss < 300),
        Figure("storage", f"{n} docs x {rounds} versions", size, "MB", "urlwatch-like cache", baseline,
               "<= 2x baseline", size <= 2 * baseline),
    ]


_MANY_CYCLES = """
import resource, sys
from bench.bench_web import T0
from bench.suite_db import quiet_crawl
from pipeline.clock import FixedClock
from pipeline.config import Config
from pipeline.daemon import Daemon
from store import Store

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20

clock = FixedClock(T0)
with Store.open(sys.argv[1]) as store:
    daemon = Daemon(Config(), store, clock=clock, crawl=quiet_crawl)
    cycles, warm = int(sys.argv[2]), int(sys.argv[2]) // 10
    for i in range(cycles):
        clock.advance(hours=2)
        daemon.cycle("mofcom")
        if i == warm:
            after_warmup = rss()
    print(after_warmup, rss())
"""


def cycle_memory_figure(small: Path, cycles: int) -> Figure:
    run = python_child(_MANY_CYCLES, str(small), str(cycles))
    warm, end = (float(x) for x in run.stdout.strip().splitlines()[-1].split())
    growth = 100 * (end - warm) / warm
    return Figure("memory: daemon cycles RSS growth", f"{cycles} cycles, fixtures DB", growth, "%",
                  "after warm-up", 0.0, "< 10 %", growth < 10,
                  note=f"RSS {warm:.0f} MB after {cycles // 10} cycles, {end:.0f} MB after {cycles}; fast-forwarded "
                  "cycles with a crawl that finds nothing (no replica crawl)")


__all__ = ["capture_bodies", "cycle_memory_figure", "process_figures", "urlwatch_like_size"]
