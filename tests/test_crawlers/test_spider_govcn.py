"""gov.cn crawl end to end: ``python -m crawlers govcn`` in a child process against the packaged replica.

The source obeys robots.txt: the replica's base state serves a robots.txt that allows the
crawl, state ``robots`` serves the reportedly live ``Disallow: /``, which must stop everything.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawlers.replica import ReplicaServer, site_path
from crawlers.runner import run_crawl_subprocess
from store import Store

FEED = "/zhengce/zuixin/ZUIXINZHENGCE.json"
BMWJ = "/zhengce/zhengceku/bmwj/home.htm"
DECREE = "/zhengce/content/202406/content_6960153.htm"  # Template A, 成文日期 + 自…起施行
INTERP = "/zhengce/202406/content_6960161.htm"  # Template B interpretation
ORDER = "/zhengce/zhengceku/202508/content_7037412.htm"  # department order (also on the bmwj list)
NOTICE = "/zhengce/zhengceku/202510/content_7043519.htm"  # department notice with an attachment
ANNEX = "/zhengce/zhengceku/202510/P020251009611250148372.pdf"
NEW = "/zhengce/content/202601/content_7061288.htm"  # state 2


@pytest.fixture
def govcn_replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(site_path("govcn")) as server:
        yield server


def crawl(server: ReplicaServer, db: str, **kwargs: Any) -> dict[str, Any]:
    return run_crawl_subprocess("govcn", db, base_url=server.base_url, delay=0, timeout=60, **kwargs)


def stored(db: str, run_id: int) -> dict[str, Any]:
    with Store.open(db) as store:
        rows = [c for c in store.pending_captures(source="govcn") if c.run_id == run_id]
        run = next(r for r in store.runs("govcn") if r.id == run_id)
    out: dict[str, Any] = {k: sorted(c.url for c in rows if c.kind == k) for k in ("list", "detail", "attachment")}
    out["run"] = run
    return out


def test_feed_and_list_lead_to_four_documents_and_one_attachment(govcn_replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    summary = crawl(govcn_replica, db)
    assert (summary["status"], summary["exit_code"], summary["errors"]) == ("ok", 0, 0)
    got, base = stored(db, summary["run_id"]), govcn_replica.base_url
    assert got["list"] == sorted([base + FEED, base + BMWJ])
    assert got["detail"] == sorted(base + p for p in (DECREE, INTERP, ORDER, NOTICE))
    assert got["attachment"] == [base + ANNEX]
    # The feed's news.cn row is off-host: counted, never requested; bmwj items duplicate feed rows.
    assert summary["offsite_skipped"] == 1
    paths = [r.path for r in govcn_replica.requests]
    assert paths[0] == "/robots.txt" and paths.count(ORDER) == 1 and paths.count(NOTICE) == 1
    assert all(r.headers["User-Agent"].startswith("Mozilla/5.0") for r in govcn_replica.requests)
    run = got["run"]
    assert (run.status, run.captures, run.errors) == ("ok", 7, [])
    assert run.stats["fetched"] == {"list": 2, "detail": 4, "attachment": 1}


def test_state_switch_stores_only_the_new_document_and_the_edited_page(
        govcn_replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    crawl(govcn_replica, db)
    govcn_replica.set_state("2")
    second = crawl(govcn_replica, db, recheck_all=True)  # known pages are re-read on their cadence; now
    got, base = stored(db, second["run_id"]), govcn_replica.base_url
    assert second["status"] == "ok"
    assert got["detail"] == sorted([base + NEW, base + NOTICE]) and got["list"] == [base + FEED]
    assert (second["captures_new"], second["captures_unchanged"], second["fetched"]["detail"]) == (3, 5, 5)


def test_robots_disallow_all_stops_the_crawl_with_a_robots_error(govcn_replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    govcn_replica.set_state("robots")  # "User-agent: * / Disallow: /", as reported for the live site
    summary = crawl(govcn_replica, db)
    got = stored(db, summary["run_id"])
    assert (summary["status"], summary["exit_code"], summary["pages"]) == ("failed", 1, 0)
    assert got["list"] == got["detail"] == got["attachment"] == []
    assert [(e["kind"], e["url"]) for e in got["run"].errors] == [
        ("robots", govcn_replica.base_url + FEED), ("robots", govcn_replica.base_url + BMWJ)]
    assert "forbidden by the site's robots.txt" in got["run"].errors[0]["message"]
    assert [r.path for r in govcn_replica.requests] == ["/robots.txt"]  # nothing else was requested


def test_waf_403_is_a_challenge_error(govcn_replica: ReplicaServer, tmp_path: Path) -> None:
    # The site's own behaviour (base/_behaviours.json): the bare directory URL is refused by the WAF.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(govcn_replica.base_url + "/zhengce/zhengceku/", timeout=5)
    assert refused.value.code == 403
    db = f"sqlite:///{tmp_path / 'r.db'}"
    govcn_replica.inject(FEED, "403")
    summary = crawl(govcn_replica, db)
    got, base = stored(db, summary["run_id"]), govcn_replica.base_url
    assert [(e["kind"], e["url"]) for e in got["run"].errors] == [("challenge", base + FEED)]
    assert (summary["status"], got["list"]) == ("failed", [base + BMWJ])  # the list page still led somewhere
    assert got["detail"] == sorted([base + ORDER, base + NOTICE])
