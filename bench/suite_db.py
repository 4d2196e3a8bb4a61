"""Figures on the large database (bench_web's generator): short search, CLI latency, web pages, steady state.

Baselines measured in the same run: the ``LIKE`` scan the gram index replaces, an interpreter
that only starts (``python -c pass``), and the same page or stage on a database holding only the
fixture announcements (what does not grow with the database costs that much anyway).
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

from bench.figures import RSS_LINE, Figure, best_of, child_rss_mb, python_child, run_process

SHORT_TERMS = ("稀土", "出口")  # rare (the fixtures only) and in every document
CLI_QUERIES = {
    "history --json": ["history", "--json"],
    "history --code X": ["history", "--code", "1C042"],
    "show": ["show", "mofcom:1000:8"],
    "search 稀土": ["search", "稀土"],
    "status": ["status"],
}
WEB_PAGES = ("/search?q=稀土", "/search?q=出口", "/deadlines?on=2026-11-01", "/")
_LIKE_SCAN = r"""SELECT v.id FROM version v JOIN document d ON d.id = v.document_id
    WHERE v.number = d.latest_version AND (lower(v.title) LIKE lower(?) ESCAPE '\'
          OR lower(v.canonical_text) LIKE lower(?) ESCAPE '\')
    ORDER BY d.last_seen DESC, d.id DESC LIMIT 20"""
_CYCLE = """
import sys
from datetime import timedelta
from bench.bench_web import T0
from bench.suite_db import quiet_crawl
from pipeline.clock import FixedClock
from pipeline.config import Config
from pipeline.daemon import Daemon
from store import Store

with Store.open(sys.argv[1]) as store:
    Daemon(Config(), store, clock=FixedClock(T0 + timedelta(days=2)), crawl=quiet_crawl).cycle("mofcom")
"""


def quiet_crawl(source: str, dsn: str, **_: object) -> dict:
    """A daemon cycle's crawl of an unchanged site: one run that found nothing new (no child process)."""
    from bench.bench_web import T0
    from store import Store

    with Store.open(dsn) as s:
        run = s.start_run(source, T0)
        s.finish_run(run, T0, "ok", stats={"pages": 1})
    return {"source": source, "run_id": run, "status": "ok", "captures_new": 0, "captures_unchanged": 0,
            "errors": 0, "error_kinds": {}, "first_errors": []}


def _label(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        docs, versions = conn.execute("SELECT (SELECT count(*) FROM document), (SELECT count(*) FROM version)").fetchone()
    return f"{docs:,} docs / {versions:,} versions"


def build_databases(work: Path, docs: int, versions: int, text_chars: int) -> tuple[Path, Path]:
    """The large database and the fixtures-only one (the baseline), built once per run."""
    from bench.bench_web import build

    big, small = work / "large.db", work / "fixtures.db"
    build(big, docs, versions, text_chars)
    build(small, 0)
    return big, small


def search_figures(big: Path, repeat: int) -> list[Figure]:
    from store import Store

    figures = []
    with Store.open_read_only(big) as store, sqlite3.connect(big) as raw:
        for term in SHORT_TERMS:
            value = best_of(repeat, lambda: store.search(term))
            pattern = f"%{term}%"
            scan = best_of(min(repeat, 2), lambda: raw.execute(_LIKE_SCAN, (pattern, pattern)).fetchall())
            figures.append(Figure(f"search {term} (store)", _label(big), value * 1000, "ms", "LIKE scan",
                                  scan * 1000, "< 400 ms", value < 0.4))
    return figures


def cli_figures(big: Path, repeat: int) -> list[Figure]:
    with tempfile.TemporaryDirectory() as cwd:  # no schedules.yaml: the built-in defaults
        start = min(run_process([sys.executable, "-c", "pass"], cwd=Path(cwd)).seconds for _ in range(repeat))
        store_import = min(python_child("import store", cwd=Path(cwd)).seconds for _ in range(repeat))
        figures = []
        for label, args in CLI_QUERIES.items():
            wall = min(run_process([sys.executable, "-m", "pipeline.cli", "--db", str(big), *args],
                                   cwd=Path(cwd)).seconds for _ in range(repeat))
            figures.append(Figure(f"CLI {label}", _label(big), wall * 1000, "ms", "python -c pass", start * 1000,
                                  "< 400 ms", wall < 0.4,
                                  note="" if wall < 0.4 else f"`python -c 'import store'` alone takes "
                                  f"{store_import * 1000:.0f} ms (SQLAlchemy + SQLModel + the models)"))
    return figures


def web_figures(big: Path, small: Path, repeat: int) -> list[Figure]:
    from datetime import timedelta

    from starlette.testclient import TestClient

    from bench.bench_web import T0
    from pipeline.clock import FixedClock
    from pipeline.web import create_app
    from store import Store

    def timings(path: Path) -> dict[str, float]:
        with Store.open_read_only(path) as store:
            client = TestClient(create_app(store, clock=FixedClock(T0 + timedelta(days=2))))
            return {url: best_of(repeat, lambda: client.get(url)) for url in WEB_PAGES}

    large, base = timings(big), timings(small)
    return [Figure(f"web {url}", _label(big), large[url] * 1000, "ms", "fixtures-only DB", base[url] * 1000,
                   "< 200 ms", large[url] < 0.2) for url in WEB_PAGES]


def steady_figures(big: Path, small: Path, repeat: int) -> list[Figure]:
    """``process`` with nothing pending and one daemon cycle (a crawl that found nothing), in
    children; the fastest of ``repeat`` runs (with its peak RSS)."""
    figures = []
    for label, run in (("process, nothing pending", _process_idle), ("one daemon cycle", _daemon_cycle)):
        large, base = (min(run(db) for _ in range(repeat)) for db in (big, small))
        figures.append(Figure(f"steady: {label}", _label(big), large[0], "s", "fixtures-only DB", base[0], "< 1 s",
                              large[0] < 1.0))
        figures.append(Figure(f"steady: {label} RSS", _label(big), large[1], "MB", "fixtures-only DB", base[1],
                              "< 200 MB", large[1] < 200))
    return figures


def _process_idle(db: Path) -> tuple[float, float]:
    run = python_child("import sys; from pipeline.cli import main; code = main(['--db', sys.argv[1], 'process']); "
                       + RSS_LINE, str(db))
    return run.seconds, child_rss_mb(run.stdout)


def _daemon_cycle(db: Path) -> tuple[float, float]:
    run = python_child(_CYCLE + RSS_LINE, str(db))
    return run.seconds, child_rss_mb(run.stdout)


__all__ = ["build_databases", "cli_figures", "quiet_crawl", "search_figures", "steady_figures", "web_figures"]
