"""Withdrawals: a page that left every list and keeps answering 404 is withdrawn after N crawls; a layout
change, a WAF page or a failed run never counts and never resets the count.

Replica scenarios crawl the MOFCOM replica (``crawlers/replica_sites/mofcom``, states ``withdrawn``,
``withdrawn-layout``, ``withdrawn-waf``: 商务部公告2025年第27号 leaves the list, its page answers
404 / the list cannot be read / a 412 WAF page) through the daemon's cycle (crawl child → process →
withdrawals → reminders → deliver), moving the crawl clock (``REGWATCH_NOW``) a day per run. The
counting rules are pure functions, tested on their own; ``check_withdrawals`` is tested on both
backends with answers written directly.
"""

from __future__ import annotations

import json

import doctest
import hashlib
import importlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from crawlers.replica import ReplicaServer, site_path
from pipeline.cli import main
from pipeline.clock import FixedClock
from pipeline.config import load_config
from pipeline.daemon import Daemon
from pipeline.withdrawals import (
    Answer,
    CheckState,
    appearance_verdict,
    check_withdrawals,
    count_gone,
    document_verdict,
    run_counts,
)
from store import Store

T0 = datetime(2025, 11, 10, 3, tzinfo=timezone.utc)
KEY = "mofcom:2025:27"  # the announcement the withdrawal states remove from the list
REMOVED = "/zwgk/zcfb/art/2025/art_" + hashlib.md5(b"mofcom-replica:filler-ot-07").hexdigest() + ".html"
OK_RUN = {"status": "ok", "errors": [], "stats": {"list_entries": 17}}


def t(days: float) -> datetime:
    return T0 + timedelta(days=days)


# -- the counting rule (pure) ------------------------------------------------------------------

@pytest.mark.parametrize(("status", "errors", "stats", "counts"), [
    ("ok", [], {"list_entries": 17}, (True, "")),
    ("partial", [{"kind": "network"}, {"kind": "http"}], {"list_entries": 17}, (True, "")),
    ("failed", [{"kind": "layout"}], {"list_entries": 0}, (False, "the run failed")),
    ("failed", [], {"list_entries": 17}, (False, "the run failed")),
    ("killed", [], {"list_entries": 17}, (False, "the run was killed")),
    ("partial", [{"kind": "challenge"}], {"list_entries": 17}, (False, "the run met challenge errors")),
    ("ok", [], {"list_entries": 0}, (False, "the run read no list entries")),
    ("ok", [], {}, (False, "the run read no list entries")),
])
def test_which_runs_count(status: str, errors: list[dict[str, str]], stats: dict[str, int],
                          counts: tuple[bool, str]) -> None:
    assert run_counts(status, errors, stats) == counts


def _replay(steps: list[tuple[str, int, bool]], url: str = "u") -> list[int]:
    """The gone count after each (outcome, status, run counts) answer, one run each."""
    state, out = CheckState(), []
    for run_id, (outcome, status, counts) in enumerate(steps, start=1):
        state = count_gone(state, Answer(run_id, url, status, outcome, t(run_id)), counts=counts)
        out.append(state.gone_count)
    return out


@pytest.mark.parametrize(("steps", "counts"), [
    ([("gone", 404, True)] * 3, [1, 2, 3]),
    ([("gone", 404, True), ("gone", 410, True), ("gone", 404, True)], [1, 2, 3]),
    # a run that does not count neither adds nor resets
    ([("gone", 404, True), ("gone", 404, False), ("found", 200, False), ("gone", 404, True)], [1, 1, 1, 2]),
    # a readable page resets
    ([("gone", 404, True), ("gone", 404, True), ("found", 200, True), ("gone", 404, True)], [1, 2, 0, 1]),
])
def test_consecutive_gone_answers(steps: list[tuple[str, int, bool]], counts: list[int]) -> None:
    assert _replay(steps) == counts


def test_one_answer_per_run_and_a_new_url_starts_again() -> None:
    state = count_gone(CheckState(), Answer(5, "u", 404, "gone", t(1)), counts=True)
    assert count_gone(state, Answer(5, "u", 404, "gone", t(1)), counts=True) is state  # same run: applied
    assert count_gone(state, Answer(4, "u", 404, "gone", t(1)), counts=True) is state  # older run
    moved = count_gone(state, Answer(6, "v", 404, "gone", t(2)), counts=True)
    assert (moved.url, moved.gone_count, moved.gone_since) == ("v", 1, t(2))
    again = count_gone(moved, Answer(7, "v", 410, "gone", t(3)), counts=True)
    assert (again.gone_count, again.last_status, again.gone_since, again.last_checked_at) == (2, 410, t(2), t(3))


def test_verdicts() -> None:
    assert appearance_verdict("active", CheckState(gone_count=3, last_status=404), threshold=3) == "withdraw"
    assert appearance_verdict("active", CheckState(gone_count=3, last_status=404), threshold=4) is None
    assert appearance_verdict("withdrawn", CheckState(gone_count=3, last_status=404), threshold=3) is None
    assert appearance_verdict("withdrawn", CheckState(gone_count=0, last_status=200), threshold=3) == "restore"
    assert appearance_verdict("withdrawn", CheckState(), threshold=3) is None  # never re-checked: leave it
    assert document_verdict("active", ["withdrawn"]) == "withdraw"
    assert document_verdict("active", ["withdrawn", "active"]) is None
    assert document_verdict("withdrawn", ["withdrawn"]) is None
    assert document_verdict("withdrawn", ["withdrawn", "active"]) == "restore"
    assert document_verdict("active", []) is None


@pytest.mark.parametrize("module", ["pipeline.withdrawals", "crawlers.spiders.base", "pipeline.cli.commands_history",
                                    "pipeline.cli.commands_run"])
def test_docstring_examples(module: str) -> None:
    assert doctest.testmod(importlib.import_module(module)).failed == 0


# -- check_withdrawals on both backends, answers written directly ---------------------------------

URL_A = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_a.html"
URL_G = "https://www.gov.cn/zhengce/zhengceku/202511/content_a.htm"


@pytest.fixture
def db(db_url) -> Any:
    with Store.open(db_url, at=T0) as store:
        for slug in ("mofcom", "govcn"):
            store.ensure_source(slug, slug, at=T0)
        yield store


def _record(store: Store, source: str, url: str, text: str, at: datetime) -> Any:
    return store.record_version(source=source, key=KEY, url=url, title="商务部公告2025年第27号", text=text,
                                canonical_text=text, content_hash=f"h:{text}", fields={}, published=None,
                                capture_id=None, seen_at=at, authority="mofcom")


def _run(store: Store, source: str, at: datetime, answers: list[tuple[str, int, int]], *, status: str = "ok",
         errors: list[dict[str, str]] | None = None, entries: int = 17, finish: bool = True) -> int:
    """A crawl run of ``source`` at ``at`` with re-check answers ``(url, appearance id, HTTP status)``."""
    run_id = store.start_run(source, at)
    for url, appearance_id, http in answers:
        assert store.record_recheck(source=source, run_id=run_id, appearance_id=appearance_id, url=url, status=http,
                                    outcome="gone" if http in (404, 410) else "found", checked_at=at)
    if finish:
        store.finish_run(run_id, at, status, {"list_entries": entries}, errors or [])
    return run_id


def _withdrawn_alerts(store: Store) -> list[Any]:
    return [a for a in store.alerts(limit=100) if a.kind == "withdrawn"]


def test_every_appearance_must_be_gone_and_bad_runs_never_count(db: Store) -> None:
    mofcom = _record(db, "mofcom", URL_A, "正文", T0)
    govcn = _record(db, "govcn", URL_G, "正文", T0)
    a, g = mofcom.appearance_id, govcn.appearance_id
    for day in (1, 2, 3):  # MOFCOM's page is gone three times; gov.cn's copy still answers
        _run(db, "mofcom", t(day), [(URL_A, a, 404)])
        _run(db, "govcn", t(day), [(URL_G, g, 200)])
    # answers of runs that cannot tell (failed, WAF, unreadable lists) and of a run still going
    _run(db, "govcn", t(3.5), [(URL_G, g, 404)], status="failed", errors=[{"kind": "layout"}], entries=0)
    _run(db, "govcn", t(3.6), [(URL_G, g, 404)], status="partial", errors=[{"kind": "challenge"}])
    _run(db, "govcn", t(3.7), [(URL_G, g, 404)], entries=0)
    running = _run(db, "govcn", t(3.8), [(URL_G, g, 404)], finish=False)
    report = check_withdrawals(db, t(4), threshold=3)
    assert (report.counted, report.ignored, report.gone, report.withdrawn_appearances) == (6, 3, 3, 1)
    assert report.ignored_because == {"the run failed": 1, "the run met challenge errors": 1,
                                      "the run read no list entries": 1}
    assert [ap.status for ap in db.appearances(mofcom.document_id)] == ["withdrawn", "active"]
    assert db.document(KEY).status == "active" and _withdrawn_alerts(db) == []
    assert db.withdrawal_check(g).gone_count == 0
    assert [r.applied for r in db.rechecks(g)] == ["counted"] * 3 + ["ignored"] * 3 + [None]  # running: waits
    db.finish_run(running, t(3.9), "ok", {"list_entries": 17}, [])
    for day in (5, 6):
        _run(db, "govcn", t(day), [(URL_G, g, 410)])
    report = check_withdrawals(db, t(6.5), threshold=3)
    assert (report.counted, report.withdrawn_appearances, report.withdrawn_documents, report.alerts) == (3, 1, 1, 1)
    doc = db.document(KEY)
    assert doc.status == "withdrawn"
    (alert,) = _withdrawn_alerts(db)
    assert (alert.severity, alert.doc_key, alert.source) == ("warning", KEY, "mofcom")
    assert alert.payload["title"] == f"{KEY} withdrawn: 商务部公告2025年第27号"
    facts = dict(alert.payload["facts"])
    assert facts["mofcom: URL"] == URL_A and facts["govcn: URL"] == URL_G
    assert facts["mofcom: Checks"] == "3 × HTTP 404, 2025-11-11 → 2025-11-13"
    assert facts["govcn: Checks"] == "3 × HTTP 410, 2025-11-13 → 2025-11-16"
    assert facts["mofcom: Last seen"] == T0.isoformat()
    # idempotent: nothing new, however often it runs
    again = check_withdrawals(db, t(7), threshold=3)
    assert (again.counted, again.alerts, len(_withdrawn_alerts(db))) == (0, 0, 1)


def test_a_page_read_again_is_active_again(db: Store) -> None:
    first = _record(db, "mofcom", URL_A, "正文", T0)
    a = first.appearance_id
    for day in (1, 2, 3):
        _run(db, "mofcom", t(day), [(URL_A, a, 404)])
    check_withdrawals(db, t(3.5), threshold=3)
    assert db.document(KEY).status == "withdrawn"
    # the page comes back unchanged (no new capture): the crawl reports it as a watched URL
    assert db.watched_urls("mofcom") == {URL_A: a}
    _run(db, "mofcom", t(4), [(URL_A, a, 200)])
    report = check_withdrawals(db, t(4.5), threshold=3)
    assert (report.restored_appearances, report.restored_documents, report.alerts) == (1, 1, 1)
    assert db.document(KEY).status == "active" and db.appearance(first.document_id, "mofcom").status == "active"
    assert db.appearance(first.document_id, "mofcom").last_seen == t(4)
    check = db.withdrawal_check(a)
    assert (check.gone_count, check.returned_at, check.withdrawn_at) == (0, t(4.5), t(3.5))
    (back,) = [x for x in db.alerts(limit=100) if x.kind == "status"]
    assert (back.severity, back.payload["title"]) == ("info", f"{KEY} is back on mofcom: 商务部公告2025年第27号")
    assert db.watched_urls("mofcom") == {}
    # withdrawn again later: a new episode, a new alert
    for day in (5, 6, 7):
        _run(db, "mofcom", t(day), [(URL_A, a, 404)])
    check_withdrawals(db, t(7.5), threshold=3)
    assert db.document(KEY).status == "withdrawn" and len(_withdrawn_alerts(db)) == 2
    # and a new capture (changed text) made by process brings it back too
    _record(db, "mofcom", URL_A, "正文（修订）", t(8))
    report = check_withdrawals(db, t(8.5), threshold=3)
    assert (report.restored_documents, db.document(KEY).status) == (1, "active")
    assert db.withdrawal_check(a).gone_count == 0


def test_recheck_targets_cadence_cap_and_exclusion(db: Store) -> None:
    results = [db.record_version(source="mofcom", key=f"mofcom:2025:{n}", url=f"{URL_A[:-5]}{n}.html", title="t",
                                 text=str(n), canonical_text=str(n), content_hash=str(n), fields={}, published=None,
                                 capture_id=None, seen_at=t(n / 100)) for n in range(1, 6)]
    urls = [f"{URL_A[:-5]}{n}.html" for n in range(1, 6)]
    cutoff = t(1.5)
    got = db.recheck_targets("mofcom", cutoff=cutoff, limit=3, exclude={urls[0]})
    assert [x.url for x in got] == urls[1:4]  # the longest unseen first, a listed one left out, at most 3
    run = _run(db, "mofcom", t(2), [(urls[1], results[1].appearance_id, 404)])
    assert run
    got = db.recheck_targets("mofcom", cutoff=cutoff, limit=10, exclude=set())
    assert [x.url for x in got] == [urls[0], *urls[2:]]  # re-checked within the interval: not again
    assert [x.url for x in db.recheck_targets("mofcom", cutoff=t(2.5), limit=10, exclude=set())][-1] == urls[1]
    assert db.recheck_targets("mofcom", cutoff=t(0), limit=10, exclude=set()) == []  # all seen recently
    db.set_appearance_status(results[2].appearance_id, "withdrawn")
    assert urls[2] not in [x.url for x in db.recheck_targets("mofcom", cutoff=cutoff, limit=10, exclude=set())]
    assert db.record_recheck(source="mofcom", run_id=run, appearance_id=results[1].appearance_id, url=urls[1],
                             status=404, outcome="gone", checked_at=t(2)) is False  # one answer per run


# -- the replica, end to end -----------------------------------------------------------------------

class Site:
    """The MOFCOM replica, a database and the daemon's cycle, with the crawl clock set per run."""

    def __init__(self, replica: ReplicaServer, db_url: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.replica, self.monkeypatch = replica, monkeypatch
        config = tmp_path / "schedules.yaml"
        config.write_text(
            "defaults: {max_consecutive_failures: 3, jitter_seconds: 0}\n"
            f"sources:\n  mofcom: {{cron: '0 3 * * *', base_url: '{replica.base_url}', delay_seconds: 0}}\n"
            f"sinks:\n  archive: {{kind: jsonl, path: '{tmp_path / 'alerts.jsonl'}'}}\n"
            "default_route: [archive]\n", encoding="utf-8")
        self.config_path = config
        self.store = Store.open(db_url, at=T0)
        self.clock = FixedClock(T0)
        self.daemon = Daemon(load_config(config, env={}), self.store, clock=self.clock)

    def cycle(self, state: str, day: float) -> dict[str, Any]:
        self.replica.set_state(state)
        self.clock.set(t(day))
        self.monkeypatch.setenv("REGWATCH_NOW", t(day).isoformat())  # the crawl child's clock
        return self.daemon.cycle("mofcom")

    def check(self) -> Any:
        doc = self.store.document(KEY)
        (appearance,) = self.store.appearances(doc.id or 0)
        return doc, appearance, self.store.withdrawal_check(appearance.id or 0)

    def alerts(self, kind: str) -> list[Any]:
        return [a for a in self.store.alerts(limit=500) if a.kind == kind]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url) -> Any:
    monkeypatch.setenv("COLUMNS", "200")  # CLI lines unwrapped
    for name in ("REGWATCH_DB", "REGWATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    with ReplicaServer(site_path("mofcom")) as replica:
        s = Site(replica, db_url, tmp_path, monkeypatch)
        yield s
        s.store.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # both backends: the tests above
def test_replica_removed_page_is_withdrawn_after_three_404s_and_nothing_else_counts(site: Site, db_url,
                                                                                   capsys) -> None:
    first = site.cycle("base", 0)
    assert (first["crawl"]["status"], first["crawl"]["rechecks"]["requested"]) == ("ok", 0)
    doc, appearance, check = site.check()
    assert (doc.status, appearance.url, check) == ("active", site.replica.base_url + REMOVED, None)

    def gone_run(day: int, count: int) -> dict[str, Any]:
        result = site.cycle("withdrawn", day)
        crawl = result["crawl"]  # the removed page is re-checked once; its 404 is an answer, not a crawl error
        assert (crawl["status"], crawl["errors"], crawl["rechecks"]) == ("ok", 0, {"requested": 1, "gone": 1,
                                                                                   "found": 0})
        assert site.check()[2].gone_count == count
        return result

    gone_run(1, 1)
    for day in (2, 3):  # the list cannot be read: nothing is re-checked, nothing counts or resets
        result = site.cycle("withdrawn-layout", day)
        assert (result["crawl"]["status"], result["crawl"]["error_kinds"]) == ("failed", {"layout": 1})
        assert result["crawl"]["rechecks"]["requested"] == 0 and site.check()[2].gone_count == 1
    waf = site.cycle("withdrawn-waf", 4)  # a WAF page at the URL: a crawl error, never an answer
    assert (waf["crawl"]["status"], waf["crawl"]["error_kinds"], waf["crawl"]["rechecks"]) == (
        "failed", {"challenge": 1}, {"requested": 1, "gone": 0, "found": 0})
    doc, appearance, check = site.check()
    assert (doc.status, appearance.status, check.gone_count, check.last_checked_at) == ("active", "active", 1, t(1))
    (health,) = site.alerts("source_health")  # the usual source-health path for three failed crawls
    assert health.payload["title"] == "mofcom: 3 crawls in a row failed (challenge, layout)"
    assert site.alerts("withdrawn") == []
    gone_run(5, 2)
    assert site.alerts("withdrawn") == [] and site.check()[0].status == "active"
    result = gone_run(6, 3)
    assert result["withdrawals"]["withdrawn_documents"] == 1
    doc, appearance, check = site.check()
    assert (doc.status, appearance.status, check.gone_since, check.withdrawn_at) == (
        "withdrawn", "withdrawn", t(1), t(6))
    hits = [r for r in site.replica.requests if r.path == REMOVED]
    assert [r.status for r in hits] == [200, 404, 412, 404, 404]  # once per crawl, politely
    (alert,) = site.alerts("withdrawn")
    assert (alert.severity, alert.doc_key, alert.status) == ("warning", KEY, "delivered")
    assert alert.payload["title"] == f"{KEY} withdrawn: 商务部公告2025年第27号 关于发布《商务领域标准化管理办法》的公告"
    assert dict(alert.payload["facts"]) == {"URL": site.replica.base_url + REMOVED, "Last seen": T0.isoformat(),
                                            "Checks": "3 × HTTP 404, 2025-11-11 → 2025-11-16"}
    code = main(["--db", db_url, "status"])  # the CLI says so
    out = capsys.readouterr().out
    assert code == 0 and ("re-checks of pages on no list: mofcom: 1 re-checked, 1 withdrawn; "
                          "last check 2025-11-16 03:00") in out
    code = main(["--db", db_url, "show", KEY])
    out = capsys.readouterr().out
    assert code == 0 and "WITHDRAWN 2025-11-16 03:00: on no list of any source" in out
    assert "withdrawn 2025-11-16 03:00: on no list, HTTP 404 in 3 checks in a row since 2025-11-11 03:00" in out
    code = main(["--db", db_url, "status-of", KEY, "--on", "2025-11-17"])  # status stands, the withdrawal is said
    out = capsys.readouterr().out
    assert code == 0 and out.startswith(f"{KEY} on 2025-11-17: in_force")
    assert "WITHDRAWN 2025-11-16 03:00" in out and "not a repeal" in out
    code = main(["--db", db_url, "status-of", KEY, "--on", "2025-11-17", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert (data["status"], data["withdrawn"], data["availability"][:26]) == ("in_force", True, "WITHDRAWN 2025-11-16 03:00")

    fourth = site.cycle("withdrawn", 7)  # a withdrawn page is not re-checked; nothing new is queued
    assert (fourth["crawl"]["rechecks"]["requested"], fourth["withdrawals"]["alerts"]) == (0, 0)
    assert len(site.alerts("withdrawn")) == 1
    back = site.cycle("base", 8)  # listed again, unchanged (no new capture): active again, said once
    assert (back["crawl"]["rechecks"]["found"], back["process"]["new_versions"]) == (1, 0)
    doc, appearance, check = site.check()
    assert (doc.status, appearance.status, check.gone_count, check.returned_at) == ("active", "active", 0, t(8))
    back_alerts = [a for a in site.alerts("status") if a.doc_key == KEY]
    assert [(a.severity, a.payload["title"]) for a in back_alerts] == [
        ("info", f"{KEY} is back on mofcom: 商务部公告2025年第27号 关于发布《商务领域标准化管理办法》的公告")]
    code = main(["--db", db_url, "show", KEY])
    assert code == 0 and "active again since 2025-11-18 03:00 on mofcom" in capsys.readouterr().out


def test_config_keys_reach_the_crawl(tmp_path: Path) -> None:
    from pipeline.crawl import crawl_source

    seen: dict[str, Any] = {}

    def crawl(source: str, db_url: str, **kwargs: Any) -> dict[str, Any]:
        seen.update(kwargs)
        return {"source": source, "status": "ok"}

    config = tmp_path / "c.yaml"
    config.write_text("defaults: {withdrawal_recheck_hours: 48, withdrawal_max_rechecks: 5, "
                      "withdrawal_after_checks: 4}\n", encoding="utf-8")
    with Store.open(tmp_path / "c.db") as store:
        crawl_source(store, "mofcom", config=load_config(config, env={}), clock=FixedClock(T0), crawl=crawl)
    assert (seen["recheck_hours"], seen["max_rechecks"]) == (48, 5)
    assert load_config(config, env={}).defaults.withdrawal_after_checks == 4
    from crawlers.runner import crawl_command

    assert crawl_command("mofcom", "sqlite:///x.db", recheck_hours=48, max_rechecks=5)[-4:] == [
        "--recheck-hours", "48", "--max-rechecks", "5"]
