"""METI crawl end to end: ``python -m crawlers meti`` in a child process against the packaged replica.

The replica's Atom feed is frozen at 2026-06-19 (as reported for the live feed). The crawl clock
is pinned with ``REGWATCH_NOW`` (inherited by the child): stale at 2026-11-23, so the press
index and the November archive are read too; fresh at 2026-06-22, so only the feed is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawlers.__main__ import build_settings
from crawlers.replica import ReplicaServer, site_path
from crawlers.runner import run_crawl_subprocess
from crawlers.sources import get_source
from crawlers.spiders.meti import MetiSpider
from store import Store

FEED, INDEX, ARCHIVE = "/ml_index_release_atom.xml", "/press/index.html", "/press/archive_202611.html"
NOV20 = "/press/2026/11/20261120002/20261120002.html"  # index + archive, with -1.pdf
NOV05 = "/press/2026/11/20261105001/20261105001.html"  # archive only
JUN19 = "/press/2026/06/20260619003/20260619003.html"  # feed + index; 令和 dates, -1.pdf
FEB25 = "/press/2025/02/20260225001/20260225001.html"  # feed; FY2025 directory for February 2026
KAIKEN = "/speeches/kaiken/2025/20260109001.html"  # feed; 大臣会見
NOV24 = "/press/2026/11/20261124001/20261124001.html"  # state 2
pdf = lambda page: page.removesuffix(".html") + "-1.pdf"  # noqa: E731


@pytest.fixture
def meti_replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(site_path("meti")) as server:
        yield server


def crawl(server: ReplicaServer, db: str, monkeypatch: pytest.MonkeyPatch, now: str, **kwargs: Any) -> dict[str, Any]:
    monkeypatch.setenv("REGWATCH_NOW", now)
    return run_crawl_subprocess("meti", db, base_url=server.base_url, delay=0, timeout=60, **kwargs)


def stored(db: str, run_id: int, base: str) -> dict[str, Any]:
    with Store.open(db) as store:
        rows = [c for c in store.pending_captures(source="meti") if c.run_id == run_id]
        run = next(r for r in store.runs("meti") if r.id == run_id)
    out: dict[str, Any] = {k: sorted(c.url.removeprefix(base) for c in rows if c.kind == k)
                           for k in ("list", "detail", "attachment")}
    out["run"] = run
    return out


def test_stale_feed_adds_press_index_and_month_archive(
        meti_replica: ReplicaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    summary = crawl(meti_replica, db, monkeypatch, "2026-11-23T12:00:00+09:00")
    assert (summary["status"], summary["exit_code"], summary["errors"]) == ("ok", 0, 0)
    got = stored(db, summary["run_id"], meti_replica.base_url)
    assert got["list"] == sorted([FEED, INDEX, ARCHIVE])
    assert got["detail"] == sorted([NOV20, NOV05, JUN19, FEB25, KAIKEN])
    assert got["attachment"] == sorted([pdf(NOV20), pdf(JUN19)])
    assert [r.path for r in meti_replica.requests].count(NOV20) == 1  # listed twice, fetched once
    # The replica's WAF refuses non-browser agents: every request passed with a browser UA.
    assert all(r.status == 200 and r.headers["User-Agent"].startswith("Mozilla/5.0") for r in meti_replica.requests)
    run = got["run"]
    assert (run.status, run.captures, run.errors) == ("ok", 10, [])
    assert run.stats["fetched"] == {"list": 3, "detail": 5, "attachment": 2}


def test_fresh_feed_reads_no_html_list(
        meti_replica: ReplicaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    summary = crawl(meti_replica, db, monkeypatch, "2026-06-22T09:00:00+09:00")
    got = stored(db, summary["run_id"], meti_replica.base_url)
    assert summary["status"] == "ok" and got["list"] == [FEED]
    assert got["detail"] == sorted([JUN19, FEB25, KAIKEN]) and got["attachment"] == [pdf(JUN19)]
    assert not any(r.path.startswith("/press/index") or "archive_" in r.path for r in meti_replica.requests)


def test_state_switch_stores_only_the_new_release_and_changed_lists(
        meti_replica: ReplicaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    crawl(meti_replica, db, monkeypatch, "2026-11-23T12:00:00+09:00")
    meti_replica.set_state("2")
    second = crawl(meti_replica, db, monkeypatch, "2026-11-25T12:00:00+09:00", recheck_all=True)  # not yet due
    got = stored(db, second["run_id"], meti_replica.base_url)
    assert second["status"] == "ok"
    assert (got["list"], got["detail"], got["attachment"]) == (sorted([INDEX, ARCHIVE]), [NOV24], [pdf(NOV24)])
    assert (second["captures_new"], second["captures_unchanged"], second["fetched"]["detail"]) == (4, 8, 6)


def test_aws_waf_202_empty_and_403_are_challenges_not_emptied_pages(
        meti_replica: ReplicaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    meti_replica.inject(JUN19, "202-empty")
    meti_replica.inject(ARCHIVE, "403")
    summary = crawl(meti_replica, db, monkeypatch, "2026-11-23T12:00:00+09:00")
    base = meti_replica.base_url
    got = stored(db, summary["run_id"], base)
    assert sorted((e["kind"], e["url"].removeprefix(base)) for e in got["run"].errors) == [
        ("challenge", JUN19), ("challenge", ARCHIVE)]
    assert "202 with an empty body" in next(e["message"] for e in got["run"].errors if e["url"].endswith(JUN19))
    assert (summary["status"], summary["exit_code"]) == ("failed", 1)
    assert JUN19 not in got["detail"] and NOV05 not in got["detail"] and got["attachment"] == [pdf(NOV20)]


def test_politeness_defaults() -> None:
    settings = build_settings(get_source("meti"), db_url="sqlite://", run_id=1, delay=None, log_level=None)
    assert settings.getfloat("DOWNLOAD_DELAY") >= 5 and settings.getbool("AUTOTHROTTLE_ENABLED")
    assert MetiSpider.custom_settings == {"CONCURRENT_REQUESTS_PER_DOMAIN": 1}
    assert settings.get("USER_AGENT").startswith("Mozilla/5.0")


def test_meti_spider_docstring_examples() -> None:
    import doctest

    import crawlers.spiders.meti as module

    assert doctest.testmod(module).failed == 0
