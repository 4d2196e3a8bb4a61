"""Crawl limits end to end against the MOFCOM replica (``python -m crawlers`` in a child process):
Retry-After on 429/503 (waited within the bound, a clear error beyond it), the per-page size cap
(with and without Content-Length), list paging that stops at the first page with nothing new, and
known detail pages fetched again only on their own cadence (``recheck_days``; ``--recheck``).

The crawl clock is pinned with ``REGWATCH_NOW`` (the child inherits it): a fake clock for the
re-check cadence and for Retry-After dates.
"""

from __future__ import annotations

import doctest
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import crawlers.middlewares
from crawlers.replica import UNIT_API_PATH, ReplicaServer
from crawlers.runner import crawl_command, run_crawl_subprocess
from store import Store

from tests.test_crawlers.test_spider_mofcom import BASE_DETAILS, art

T0 = "2026-11-02T03:00:00+00:00"
DAY1 = "2026-11-02T15:00:00+00:00"  # within recheck_days (7) and the lists' full read (24 h) ago
DAY8 = "2026-11-10T03:00:00+00:00"  # past it


def crawl(server: ReplicaServer, db: str, **kwargs: Any) -> dict[str, Any]:
    return run_crawl_subprocess("mofcom", db, base_url=server.base_url, delay=0, timeout=90, **kwargs)


def hits(server: ReplicaServer, path: str) -> list[Any]:
    return [r for r in server.requests if r.path == path]


def details(server: ReplicaServer) -> list[Any]:
    return [r for r in server.requests if "/art/" in r.path]


def error_of(db: str, run_id: int) -> list[dict[str, Any]]:
    with Store.open(db) as store:
        return next(r for r in store.runs("mofcom") if r.id == run_id).errors


def test_retry_after_doctests() -> None:
    assert doctest.testmod(crawlers.middlewares).failed == 0


def test_retry_after_seconds_is_waited_then_the_page_is_fetched(mofcom_replica: ReplicaServer, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGWATCH_NOW", T0)
    db = f"sqlite:///{tmp_path / 'r.db'}"
    page = art("2025-58")
    mofcom_replica.inject(page, "429:1")
    # an HTTP-date 2 s after the (pinned) crawl clock: 2 s to wait
    mofcom_replica.inject(art("2024-46", "2024"), "503:Mon, 02 Nov 2026 03:00:02 GMT")
    summary = crawl(mofcom_replica, db)
    assert (summary["status"], summary["errors"]) == ("ok", 0)
    assert [r.status for r in hits(mofcom_replica, page)] == [429, 200]
    assert [r.status for r in hits(mofcom_replica, art("2024-46", "2024"))] == [503, 200]
    assert summary["retry_after_waited"] == 3.0
    assert summary["new_by_kind"]["detail"] == BASE_DETAILS


def test_retry_after_beyond_the_bound_is_a_clear_error_and_no_retry(mofcom_replica: ReplicaServer, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGWATCH_NOW", T0)
    db = f"sqlite:///{tmp_path / 'r.db'}"
    page, dated = art("2025-58"), art("2024-46", "2024")
    mofcom_replica.inject(page, "429:3600")
    mofcom_replica.inject(dated, "503:Mon, 02 Nov 2026 04:00:00 GMT")  # an hour after the crawl clock
    summary = crawl(mofcom_replica, db, retry_after_max=30)
    assert summary["status"] == "partial" and summary["error_kinds"] == {"rate_limited": 2}
    errors = {e["url"].removeprefix(mofcom_replica.base_url): e["message"] for e in error_of(db, summary["run_id"])}
    assert errors[page].startswith("HTTP 429 with Retry-After 3600 s, longer than the 30 s this crawl waits")
    assert errors[dated].startswith("HTTP 503 with Retry-After 3600 s")
    assert [r.status for r in hits(mofcom_replica, page)] == [429]  # not retried at once either
    assert summary["retry_after_waited"] == 0


@pytest.mark.parametrize("fault", ["big:12", "big-chunked:12"])
def test_a_page_over_the_size_cap_is_an_error_naming_it(fault: str, mofcom_replica: ReplicaServer,
                                                        tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    page = art("2025-58")
    mofcom_replica.inject(page, fault)
    summary = crawl(mofcom_replica, db)  # default cap: 10 MB
    assert summary["error_kinds"] == {"too_large": 1}
    (error,) = error_of(db, summary["run_id"])
    assert error["url"] == mofcom_replica.base_url + page
    assert error["message"].startswith("larger than the 10 MB page size cap (defaults.max_page_mb)")
    with Store.open(db) as store:
        assert store.latest_capture(mofcom_replica.base_url + page) is None  # nothing half-stored


def test_the_size_cap_is_configurable(mofcom_replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    page = art("2025-58")
    mofcom_replica.inject(page, "big-chunked:12")
    summary = crawl(mofcom_replica, db, max_page_bytes=16 * 1024 * 1024)
    assert summary["error_kinds"] == {"layout": 1}  # fetched and kept: it is just not a notice page
    with Store.open(db) as store:
        assert store.latest_capture(mofcom_replica.base_url + page).size > 12 * 1024 * 1024 - 100


def test_known_pages_are_fetched_again_on_their_cadence_and_paging_stops_early(
        mofcom_replica: ReplicaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setenv("REGWATCH_NOW", T0)
    first = crawl(mofcom_replica, db)
    assert first["new_by_kind"]["detail"] == BASE_DETAILS and first["known_skipped"] == 0

    # half a day later, nothing new: no detail page is fetched, and list page 2 is not read
    monkeypatch.setenv("REGWATCH_NOW", DAY1)
    mofcom_replica.clear_log()
    quiet = crawl(mofcom_replica, db)
    assert (quiet["status"], quiet["known_skipped"], quiet["lists_stopped_early"]) == ("ok", 15, 1)
    assert details(mofcom_replica) == []
    assert sum(UNIT_API_PATH in r.path for r in mofcom_replica.requests) == 1
    assert quiet["fetched"] == {"list": 2}

    # the new announcement is fetched at once; the silent edit of a known page waits for its re-check
    mofcom_replica.set_state("2")
    mofcom_replica.clear_log()
    news = crawl(mofcom_replica, db)
    assert {r.path for r in details(mofcom_replica)} == {art("2026-1", "2026")}
    assert news["new_by_kind"]["detail"] == 1

    # a week after the first crawl every listed known page is due: asked conditionally, the edit found
    monkeypatch.setenv("REGWATCH_NOW", DAY8)
    mofcom_replica.clear_log()
    due = crawl(mofcom_replica, db)
    asked = details(mofcom_replica)
    # (the new page too: it was read on DAY1, 7 days before, within the 5% slack of the cadence)
    assert len(asked) == BASE_DETAILS + 1 and due["known_rechecked"] == BASE_DETAILS + 1
    assert all("If-None-Match" in r.headers for r in asked)
    assert {r.path for r in asked if r.status == 200} == {art("2025-58")}
    assert due["new_by_kind"]["detail"] == 1 and due["lists_stopped_early"] == 0


def test_paging_stops_early_only_after_a_full_read_within_the_recheck_hours(
        mofcom_replica: ReplicaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-checks of pages on no list need the whole lists: a run reads them to the end when the last
    full read is older than withdrawal_recheck_hours, and a run that stopped early re-checks nothing."""
    db = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setenv("REGWATCH_NOW", T0)
    crawl(mofcom_replica, db)
    monkeypatch.setenv("REGWATCH_NOW", DAY1)
    early = crawl(mofcom_replica, db)
    assert early["lists_stopped_early"] == 1 and early["rechecks"]["requested"] == 0
    monkeypatch.setenv("REGWATCH_NOW", "2026-11-03T03:00:00+00:00")  # 24 h after the full read
    mofcom_replica.clear_log()
    full = crawl(mofcom_replica, db)
    assert (full["lists_stopped_early"], full["known_skipped"]) == (0, BASE_DETAILS)
    assert sum(UNIT_API_PATH in r.path for r in mofcom_replica.requests) == 2 and details(mofcom_replica) == []


def test_recheck_forces_every_listed_known_page(mofcom_replica: ReplicaServer, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setenv("REGWATCH_NOW", T0)
    crawl(mofcom_replica, db)
    mofcom_replica.set_state("2")
    monkeypatch.setenv("REGWATCH_NOW", DAY1)
    mofcom_replica.clear_log()
    forced = crawl(mofcom_replica, db, recheck_all=True)
    assert forced["known_skipped"] == 0 and forced["known_rechecked"] == BASE_DETAILS
    assert {r.path for r in details(mofcom_replica) if r.status == 200} == {art("2025-58"), art("2026-1", "2026")}


def test_crawl_limits_reach_the_child_from_config(tmp_path: Path) -> None:
    from pipeline.clock import FixedClock
    from pipeline.config import load_config
    from pipeline.crawl import crawl_source

    seen: dict[str, Any] = {}

    def fake(source: str, db_url: str, **kwargs: Any) -> dict[str, Any]:
        seen.update(kwargs)
        return {"source": source, "run_id": 0, "status": "ok", "errors": 0}

    config = tmp_path / "s.yaml"
    config.write_text("defaults: {recheck_days: 3, max_page_mb: 2, retry_after_max_seconds: 45}\n"
                      "sources: {mofcom: {cron: '0 * * * *'}}\n", encoding="utf-8")
    with Store.open(f"sqlite:///{tmp_path / 'c.db'}") as store:
        crawl_source(store, "mofcom", config=load_config(config), clock=FixedClock(datetime(2026, 11, 2, tzinfo=UTC)),
                     crawl=fake, recheck=True)
    assert (seen["recheck_days"], seen["recheck_all"], seen["max_page_bytes"], seen["retry_after_max"]) == (
        3, True, 2 * 1024 * 1024, 45)
    assert crawl_command("mofcom", "sqlite:///x.db", recheck_days=3, recheck_all=True, max_page_bytes=5,
                         retry_after_max=45)[-7:] == ["--recheck-days", "3", "--recheck", "--max-page-bytes", "5",
                                                      "--retry-after-max", "45"]


def test_crawl_recheck_flag_reaches_the_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import crawlers.runner
    from pipeline.cli import main

    seen: list[dict[str, Any]] = []

    def child(source: str, db_url: str, **kwargs: Any) -> dict[str, Any]:
        seen.append(kwargs)
        return {"source": source, "run_id": 0, "status": "ok", "errors": 0}

    monkeypatch.setattr(crawlers.runner, "run_crawl_subprocess", child)
    assert main(["--db", str(tmp_path / "c.db"), "crawl", "mofcom"]) == 0
    assert main(["--db", str(tmp_path / "c.db"), "crawl", "mofcom", "--recheck"]) == 0
    assert [k["recheck_all"] for k in seen] == [False, True] and seen[0]["recheck_days"] == 7
    assert not (tmp_path / "logs").exists()  # a stand-in child writes no log: none is kept or named


def test_concurrency_is_a_per_source_setting_polite_by_default(tmp_path: Path) -> None:
    """sources.NAME.concurrency reaches the child's Scrapy settings (above a spider's own
    custom_settings); unset, nothing is passed and a government site gets one request at a time."""
    from scrapy.settings import SETTINGS_PRIORITIES

    from crawlers.__main__ import build_settings
    from crawlers.sources import get_source
    from pipeline.clock import FixedClock
    from pipeline.config import ConfigError, load_config
    from pipeline.crawl import crawl_source

    polite = build_settings(get_source("meti"), db_url="sqlite://", run_id=1, delay=None, log_level=None)
    assert polite.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    fast = build_settings(get_source("meti"), db_url="sqlite://", run_id=1, delay=0, log_level=None, concurrency=8)
    assert (fast.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), fast.getint("CONCURRENT_REQUESTS"),
            fast.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY")) == (8, 8, 8.0)
    assert fast.getpriority("CONCURRENT_REQUESTS_PER_DOMAIN") > SETTINGS_PRIORITIES["spider"]  # METI's custom_settings
    assert crawl_command("meti", "sqlite:///x.db", concurrency=8)[-2:] == ["--concurrency", "8"]
    with pytest.raises(TypeError, match="unknown option"):
        crawl_command("meti", "sqlite:///x.db", concurency=8)

    seen: list[dict[str, Any]] = []

    def fake(source: str, db_url: str, **kwargs: Any) -> dict[str, Any]:
        seen.append(kwargs)
        return {"source": source, "run_id": 0, "status": "ok", "errors": 0}

    config = tmp_path / "s.yaml"
    config.write_text("sources: {mofcom: {cron: '0 * * * *', concurrency: 4}, meti: {cron: '0 * * * *'}}\n",
                      encoding="utf-8")
    with Store.open(f"sqlite:///{tmp_path / 'c.db'}") as store:
        for source in ("mofcom", "meti"):
            crawl_source(store, source, config=load_config(config), clock=FixedClock(datetime(2026, 11, 2, tzinfo=UTC)),
                         crawl=fake)
    assert [kwargs.get("concurrency") for kwargs in seen] == [4, None]
    config.write_text("sources:\n  mofcom:\n    cron: '0 * * * *'\n    concurrency: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"s\.yaml:4: sources\.mofcom\.concurrency"):
        load_config(config)
