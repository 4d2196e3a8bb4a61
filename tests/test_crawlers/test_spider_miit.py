"""MIIT crawl end to end: ``python -m crawlers miit`` in a child process against the packaged replica.

The replica (crawlers/replica_sites/miit) serves two jpaas column shells whose script tag says
``parseType="buildstatic"``; its unit API answers ``success=false`` to any other spelling, so a
stored list page proves the spider read the shell. Asserts stored captures and the CrawlRun.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from crawlers.replica import UNIT_API_PATH, ReplicaServer, site_path
from crawlers.runner import run_crawl_subprocess
from store import Store

TZ, GS = "/zwgk/zcwj/wjfb/tz", "/zwgk/wjgs"
ATTACH = "/cms_files/filemanager/1226211233/attach"


def art(column: str, key: str, year: str = "2025") -> str:
    """Replica detail path of an authored notice (ids are md5 of ``miit-replica:<key>``)."""
    return f"{column}/art/{year}/art_{hashlib.md5(f'miit-replica:{key}'.encode()).hexdigest()}.html"


def attachment(month: str, key: str) -> str:
    return f"{ATTACH}/{month}/{hashlib.md5(f'miit-replica:{key}'.encode()).hexdigest()}.pdf"


@pytest.fixture
def miit_replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(site_path("miit")) as server:
        yield server


def crawl(server: ReplicaServer, db: str, **kwargs: Any) -> dict[str, Any]:
    return run_crawl_subprocess("miit", db, base_url=server.base_url, delay=0, timeout=60, **kwargs)


def stored(db: str, run_id: int) -> dict[str, list[str]]:
    with Store.open(db) as store:
        rows = [c for c in store.pending_captures(source="miit") if c.run_id == run_id]
        run = next(r for r in store.runs("miit") if r.id == run_id)
    out: dict[str, Any] = {k: sorted(c.url for c in rows if c.kind == k) for k in ("list", "detail", "attachment")}
    out["run"] = run
    return out


def test_base_crawl_reads_both_columns_details_and_unwrapped_attachments(
        miit_replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    summary = crawl(miit_replica, db)
    assert (summary["status"], summary["exit_code"], summary["errors"]) == ("ok", 0, 0)
    assert summary["new_by_kind"] == {"list": 4, "detail": 5, "attachment": 3}
    got, base = stored(db, summary["run_id"]), miit_replica.base_url
    assert got["detail"] == sorted(base + p for p in (
        art(TZ, "order-71"), art(TZ, "tz-quota-2025"), art(TZ, "tz-gallium"),
        art(GS, "gs-smelting"), art(GS, "gs-magnet")))
    # The order's direct link, the notice's pdf.js viewer link (unwrapped) and the 公示 annex;
    # the month directory is not zero-padded (20258, 20259).
    assert got["attachment"] == sorted(base + p for p in (
        attachment("20258", "att-order-71"), attachment("20259", "att-quota"), attachment("202510", "att-magnet")))
    assert [u for u in got["list"] if UNIT_API_PATH not in u] == [base + GS + "/index.html", base + TZ + "/index.html"]
    api = [r for r in miit_replica.requests if UNIT_API_PATH in r.path]
    assert len(api) == 2 and all(r.method == "GET" and r.status == 200 for r in api)
    params = [parse_qs(urlsplit(r.path).query) for r in api]
    assert {p["parseType"][0] for p in params} == {"buildstatic"} and {p["tagId"][0] for p in params} == {"右侧内容"}
    assert not any("viewer.html" in r.path for r in miit_replica.requests)
    run = got["run"]
    assert (run.status, run.captures, run.errors) == ("ok", 12, [])
    assert run.stats["fetched"] == {"list": 4, "detail": 5, "attachment": 3}


def test_state_switch_stores_only_the_new_and_the_edited_notice(miit_replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    crawl(miit_replica, db)
    miit_replica.set_state("2")
    second = crawl(miit_replica, db, recheck_all=True)  # known pages are re-read on their cadence; now
    assert second["status"] == "ok"
    got, base = stored(db, second["run_id"]), miit_replica.base_url
    assert got["detail"] == sorted([base + art(GS, "gs-smelting-4", "2026"), base + art(TZ, "tz-gallium")])
    assert len(got["list"]) == 1 and UNIT_API_PATH in got["list"][0] and got["attachment"] == []
    assert (second["captures_new"], second["captures_unchanged"], second["fetched"]["detail"]) == (3, 10, 6)


def test_521_cookie_challenge_is_a_challenge_error_not_content(miit_replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    miit_replica.set_state("challenge")  # the order's page answers 521 + a __jsl_clearance script
    summary = crawl(miit_replica, db)
    got, base = stored(db, summary["run_id"]), miit_replica.base_url
    assert [(e["kind"], e["url"]) for e in got["run"].errors] == [("challenge", base + art(TZ, "order-71"))]
    assert (summary["status"], summary["exit_code"]) == ("failed", 1)  # a WAF challenge is a source-health problem
    assert base + art(TZ, "order-71") not in got["detail"] and len(got["detail"]) == 4
    assert base + attachment("20258", "att-order-71") not in got["attachment"]
    assert sum(r.path == art(TZ, "order-71") for r in miit_replica.requests) == 1  # not retried
