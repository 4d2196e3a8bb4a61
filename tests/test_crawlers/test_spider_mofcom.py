"""The real crawl path end to end: ``python -m crawlers mofcom`` in a child process against the replica.

Asserts what landed in the store (captures by URL and kind, CrawlRun status/stats/errors) and
what the replica saw (Referer, retries, hosts), for the base state, a state switch and faults.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from crawlers.replica import UNIT_API_PATH, ReplicaServer
from crawlers.runner import run_crawl_subprocess
from store import Store

BASE_DETAILS = 18  # detail pages listed in the base state (8 modelled announcements + 10 other notices)


def art(key: str, year: str = "2025") -> str:
    """Replica detail path of an authored notice (ids are md5 of a key; see author_replica.py)."""
    return f"/zwgk/zcfb/art/{year}/art_{hashlib.md5(f'mofcom-replica:{key}'.encode()).hexdigest()}.html"


def crawl(server: ReplicaServer, db: str, **kwargs: Any) -> dict[str, Any]:
    return run_crawl_subprocess("mofcom", db, base_url=server.base_url, delay=0, timeout=60, **kwargs)


def captures(db: str, run_id: int | None = None) -> list[Any]:
    with Store.open(db) as store:
        rows = store.pending_captures(source="mofcom")
    return [c for c in rows if run_id is None or c.run_id == run_id]


def run_row(db: str, run_id: int) -> Any:
    with Store.open(db) as store:
        return next(r for r in store.runs("mofcom") if r.id == run_id)


def test_base_crawl_stores_shell_list_details_and_attachments(mofcom_replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    summary = crawl(mofcom_replica, db)
    assert (summary["status"], summary["exit_code"], summary["errors"]) == ("ok", 0, 0)
    assert summary["new_by_kind"] == {"list": 3, "detail": BASE_DETAILS, "attachment": 2}
    rows = captures(db, summary["run_id"])
    base = mofcom_replica.base_url
    by_kind = {k: sorted(c.url for c in rows if c.kind == k) for k in ("list", "detail", "attachment")}
    assert base + art("2025-58") in by_kind["detail"]
    assert base + art("2024-46", "2024") in by_kind["detail"]
    assert by_kind["attachment"] == [base + "/cms_files/oldfile//fms/202504/20250404180112093.pdf",
                                     base + "/cms_files/oldfile//fms/202510/20251009173512345.pdf"]
    assert by_kind["list"][-1] == base + "/zwgk/zcfb/index.html"
    assert sum(UNIT_API_PATH in u for u in by_kind["list"]) == 2  # 18 items / 15 per page; count stops page 3
    assert all(c.status == 200 and c.fetched_at.utcoffset() is not None for c in rows)
    run = run_row(db, summary["run_id"])
    assert (run.status, run.captures, run.errors) == ("ok", 23, [])
    assert run.stats["captures_new"] == 23 and run.stats["fetched"]["detail"] == BASE_DETAILS
    api_calls = [r for r in mofcom_replica.requests if UNIT_API_PATH in r.path]
    assert api_calls and all(r.headers.get("Referer") == base + "/zwgk/zcfb/index.html" for r in api_calls)
    assert all("wzws_sid=" in r.headers.get("Cookie", "") for r in api_calls)  # warmed up by the shell
    assert all(r.headers["User-Agent"].startswith("Mozilla/5.0") for r in mofcom_replica.requests)


def test_state_switch_stores_only_the_new_and_the_edited_page(mofcom_replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    first = crawl(mofcom_replica, db)
    mofcom_replica.set_state("2")
    second = crawl(mofcom_replica, db, recheck_all=True)  # known pages are re-read on their cadence; now
    assert second["status"] == "ok"
    new = captures(db, second["run_id"])
    base = mofcom_replica.base_url
    assert sorted(c.url for c in new if c.kind == "detail") == [base + art("2025-58"), base + art("2026-1", "2026")]
    assert {c.kind for c in new} == {"detail", "list"}  # list pages changed; attachments identical
    # unchanged: the shell, 17 untouched details, 2 attachments (deduped by body hash)
    assert (first["captures_new"], second["captures_unchanged"], second["captures_new"]) == (23, 20, 4)
    assert second["fetched"]["detail"] == BASE_DETAILS + 1


def test_faults_are_retried_or_recorded_and_never_stored_as_content(
        mofcom_replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    mofcom_replica.set_state("faults")
    summary = crawl(mofcom_replica, db)
    base = mofcom_replica.base_url
    # The shell's first connection is reset, then served (retry).
    shell_hits = [r for r in mofcom_replica.requests if r.path == "/zwgk/zcfb/index.html"]
    assert [r.behaviour or r.status for r in shell_hits] == ["reset", 200]
    run = run_row(db, summary["run_id"])
    errors = {(e["kind"], e["url"].removeprefix(base)) for e in run.errors}
    assert errors == {
        ("challenge", art("fault-412")),
        ("challenge", art("fault-202")),
        ("empty", art("fault-empty")),
        ("transient", art("fault-ssi")),
        ("http", art("fault-404")),
    }
    assert (summary["status"], summary["exit_code"], run.status) == ("failed", 1, "failed")  # WAF → source health
    stored = {c.url.removeprefix(base) for c in captures(db)}
    assert not {art(k) for k in ("fault-412", "fault-202", "fault-empty", "fault-ssi", "fault-404")} & stored
    # GBK page without charset is stored raw; the JS-redirect stub is followed, its target stored.
    assert {art("fault-gbk"), art("fault-redirect-target")} <= stored and art("fault-redirect") not in stored
    # The off-host list link (http://localhost:PORT/…) is never requested.
    assert summary["offsite_skipped"] == 1
    assert all(r.headers.get("Host", "").startswith("127.0.0.1") for r in mofcom_replica.requests)
    # Only the 412 was answered once: challenges are not retried.
    assert sum(r.path == art("fault-412") for r in mofcom_replica.requests) == 1


PDF_2504 = "/cms_files/oldfile/fms/202504/20250404180112093.pdf"  # linked as …/oldfile//fms/…


def test_off_host_redirects_are_offsite_errors_not_silent_drops(
        mofcom_replica: ReplicaServer, tmp_path: Path) -> None:
    """A detail page and an attachment redirected to another host (localhost vs 127.0.0.1) are
    recorded as ``offsite`` errors naming the page and the target; the target is never fetched."""
    db = f"sqlite:///{tmp_path / 'r.db'}"
    base = mofcom_replica.base_url
    other = f"http://localhost:{mofcom_replica.port}"
    for path in (art("2025-58"), art("2024-46", "2024"), PDF_2504):
        mofcom_replica.inject(path, "redirect-offsite")
    summary = crawl(mofcom_replica, db)
    assert (summary["status"], summary["errors"], summary["error_kinds"]) == ("partial", 3, {"offsite": 3})
    run = run_row(db, summary["run_id"])
    got = sorted((e["kind"], e["url"], e["target"]) for e in run.errors)
    assert got == sorted([
        ("offsite", base + art("2025-58"), other + art("2025-58")),
        ("offsite", base + art("2024-46", "2024"), other + art("2024-46", "2024")),
        ("offsite", base + "/cms_files/oldfile//fms/202504/20250404180112093.pdf",
         other + "/cms_files/oldfile//fms/202504/20250404180112093.pdf"),
    ])
    assert all("a host mofcom does not allow" in e["message"] for e in run.errors)
    assert run.stats["error_kinds"] == {"offsite": 3}
    assert all(r.headers.get("Host", "").startswith("127.0.0.1") for r in mofcom_replica.requests)  # never followed
    stored = {c.url for c in captures(db, summary["run_id"])}
    assert base + art("2025-58") not in stored and base + art("2025-18") in stored


def test_an_off_host_redirected_list_fails_the_crawl(mofcom_replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    mofcom_replica.inject("/zwgk/zcfb/index.html", "redirect-offsite")
    summary = crawl(mofcom_replica, db)
    assert (summary["status"], summary["error_kinds"], summary["exit_code"]) == ("failed", {"offsite": 1}, 1)
    (error,) = run_row(db, summary["run_id"]).errors
    assert (error["url"], error["target"]) == (mofcom_replica.base_url + "/zwgk/zcfb/index.html",
                                               f"http://localhost:{mofcom_replica.port}/zwgk/zcfb/index.html")


def test_crawl_module_docstring_examples() -> None:
    """``Example:`` blocks of the crawl-side modules run and hold."""
    import doctest

    import crawlers.__main__ as cli
    from crawlers import items, middlewares, runner, sources

    for module in (items, middlewares, runner, sources, cli):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__


def test_unknown_source_is_a_usage_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "crawlers", "nosuch", "--db", f"sqlite:///{tmp_path / 'x.db'}"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "unknown source 'nosuch'; known sources: govcn, meti, miit, mofcom" in proc.stderr


def _details_and_attachments(server: ReplicaServer) -> list[Any]:
    return [r for r in server.requests if "/art/" in r.path or "/cms_files/" in r.path]


def test_second_crawl_asks_conditionally_and_downloads_only_the_edited_page(
        mofcom_replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    first = crawl(mofcom_replica, db)
    assert first["not_modified"] == 0
    assert not any("If-None-Match" in r.headers for r in mofcom_replica.requests)  # nothing stored yet
    mofcom_replica.clear_log()
    again = crawl(mofcom_replica, db, recheck_all=True)  # nothing changed on the site; every known page asked
    asked = _details_and_attachments(mofcom_replica)
    assert len(asked) == BASE_DETAILS + 2
    assert all(r.status == 304 and r.headers.get("If-None-Match", "").startswith('W/"')
               and r.headers.get("If-Modified-Since") == "Thu, 19 Sep 2024 02:14:25 GMT" for r in asked)
    lists = [r for r in mofcom_replica.requests if r not in asked]
    # the column shell is always asked plainly (it hands out the WAF cookie); the unit API sends no validators
    assert lists and all("If-None-Match" not in r.headers and r.status == 200 for r in lists)
    assert (again["status"], again["errors"], again["captures_new"]) == ("ok", 0, 0)
    assert again["not_modified"] == BASE_DETAILS + 2
    assert again["captures_unchanged"] == 3 + BASE_DETAILS + 2  # recorded unchanged: no new capture
    assert again["fetched"] == {"list": 3, "detail": BASE_DETAILS, "attachment": 2}  # attachments still followed
    assert captures(db, again["run_id"]) == []

    mofcom_replica.set_state("2")
    mofcom_replica.clear_log()
    edited = crawl(mofcom_replica, db, recheck_all=True)
    full = {r.path for r in _details_and_attachments(mofcom_replica) if r.status == 200}
    assert full == {art("2025-58"), art("2026-1", "2026")}  # the edited page and the new one, nothing else
    assert edited["not_modified"] == BASE_DETAILS - 1 + 2
    assert sorted(c.url for c in captures(db, edited["run_id"]) if c.kind == "detail") == [
        mofcom_replica.base_url + art("2025-58"), mofcom_replica.base_url + art("2026-1", "2026")]


def test_conditional_requests_follow_the_source_setting() -> None:
    from dataclasses import replace

    from crawlers.__main__ import build_settings
    from crawlers.sources import get_source

    source = get_source("mofcom")
    on = build_settings(source, db_url="sqlite://", run_id=1, delay=0, log_level=None)
    off = build_settings(replace(source, conditional_requests=False), db_url="sqlite://", run_id=1, delay=0,
                         log_level=None)
    assert on.getbool("REGWATCH_CONDITIONAL_REQUESTS") is True
    assert off.getbool("REGWATCH_CONDITIONAL_REQUESTS") is False
    assert on.getdict("DOWNLOADER_MIDDLEWARES")["crawlers.middlewares.ConditionalRequestMiddleware"] == 580
