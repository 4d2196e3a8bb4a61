"""Source health everywhere: streak and recovery alerts raised by the crawl stage itself (cron-style
``regwatch crawl`` as well as the daemon), killed runs, and the crawl command's report.

The crawl child is faked at ``crawlers.runner.run_crawl_subprocess``: the fake does what the real
child does (opens a run stamped with a pid and host, records stats and errors through
``crawlers.__main__.summarize``) without Scrapy; the real child is killed in one test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import crawlers.runner
from crawlers.__main__ import summarize
from crawlers.replica import ReplicaServer, site_path
from crawlers.runner import CrawlProcessError, this_host
from pipeline.cli import main
from pipeline.health import check_source_health, failure_streak, health_alert, recovery_alert, run_is_gone
from store import Store

T = datetime(2025, 11, 10, 3, tzinfo=timezone.utc)
WAF = {"kind": "challenge", "url": "https://www.mofcom.gov.cn/zwgk/zcfb/index.html", "message": "HTTP 412 from the WAF"}


def dead_pid() -> int:
    """The pid of a process that has already exited."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


def cli(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("REGWATCH_DB", "REGWATCH_CONFIG", "REGWATCH_DEBUG", "FORCE_COLOR", "SLACK_BOT_TOKEN", "REGWATCH_NOW"):
        monkeypatch.delenv(name, raising=False)


# -- pure decisions ------------------------------------------------------------------------------


def run(run_id: int, status: str, hours: float, errors=(), **stats: Any) -> SimpleNamespace:
    started = T + timedelta(hours=hours)
    return SimpleNamespace(id=run_id, status=status, started_at=started, finished_at=started + timedelta(minutes=5),
                           errors=list(errors), stats=stats)


def test_killed_runs_count_in_the_streak_and_running_ones_are_skipped() -> None:
    runs = [run(5, "killed", 8), run(4, "running", 6), run(3, "failed", 4), run(2, "partial", 2), run(1, "failed", 0)]
    assert [r.id for r in failure_streak(runs)] == [5, 3]
    alert = health_alert("mofcom", runs, threshold=2)
    assert alert is not None and alert.dedup_key == "health:mofcom:streak:3"
    assert alert.title == "mofcom: 2 crawls in a row failed (failed)"


def test_recovery_alert_names_the_streak_once_it_ended() -> None:
    streak = [run(4, "failed", 6, [WAF]), run(3, "killed", 4, [{"kind": "killed", "url": "", "message": "gone"}]),
              run(2, "failed", 2, [WAF])]
    older = [run(1, "ok", 0)]
    assert recovery_alert("mofcom", streak + older, threshold=3) is None  # still failing
    alert = recovery_alert("mofcom", [run(5, "partial", 8)] + streak + older, threshold=3)
    assert alert is not None
    assert (alert.kind, alert.severity, alert.dedup_key) == ("source_health", "info", "health:mofcom:recovered:2")
    assert alert.title == "mofcom: crawling works again after 3 failed runs since 2025-11-10 05:00 UTC"
    assert alert.summary == "crawl run 5 finished partial at 2025-11-10 11:05 UTC"
    assert dict(alert.facts)["Error kinds"] == "challenge, killed" and alert.tags == ("health:recovered",)
    # the same streak seen after more good runs: the same key, so it is queued only once
    later = recovery_alert("mofcom", [run(7, "ok", 12), run(6, "running", 10), run(5, "partial", 8)] + streak,
                           threshold=3)
    assert later is not None and later.dedup_key == alert.dedup_key
    # a streak too short to have alerted recovers silently
    assert recovery_alert("mofcom", [run(5, "ok", 8)] + streak[:2] + older, threshold=3) is None
    assert recovery_alert("mofcom", [], threshold=1) is None


def test_a_run_is_gone_when_its_process_is_dead_here_or_it_is_too_old() -> None:
    here, age = this_host(), timedelta(minutes=20)
    now = T + timedelta(minutes=10)
    pid = dead_pid()
    assert run_is_gone(run(1, "running", 0, pid=pid, host=here), now=now, max_age=age, host=here,
                       alive=crawlers.runner.process_alive)
    assert not run_is_gone(run(1, "running", 0, pid=os.getpid(), host=here), now=now, max_age=age, host=here,
                           alive=crawlers.runner.process_alive)
    # another host's pid cannot be probed: only its age tells
    other = run(1, "running", 0, pid=pid, host="elsewhere")
    assert not run_is_gone(other, now=now, max_age=age, host=here, alive=crawlers.runner.process_alive)
    assert run_is_gone(other, now=T + timedelta(minutes=21), max_age=age, host=here, alive=lambda _: True)
    assert not run_is_gone(run(1, "running", 0), now=now, max_age=age, host=here, alive=lambda _: False)  # no pid
    assert not run_is_gone(run(1, "failed", 0, pid=pid, host=here), now=now, max_age=age, host=here,
                           alive=lambda _: False)


# -- check_source_health on a store ---------------------------------------------------------------


def finish(store: Store, status: str, at: datetime, errors=()) -> int:
    run_id = store.start_run("mofcom", at)
    store.finish_run(run_id, at + timedelta(minutes=5), status, {}, list(errors))
    return run_id


def health_alerts(store: Store) -> list[tuple[str, str, str]]:
    return [(a.severity, a.dedup_key, a.payload["title"]) for a in
            sorted(store.alerts(limit=50), key=lambda a: a.id) if a.kind == "source_health"]


def test_streak_alerts_once_and_recovery_goes_out_once(store: Store) -> None:
    first = finish(store, "failed", T, [WAF])
    finish(store, "failed", T + timedelta(hours=2), [WAF])
    assert check_source_health(store, "mofcom", T + timedelta(hours=3), 3) == 0
    finish(store, "failed", T + timedelta(hours=4), [WAF])
    assert check_source_health(store, "mofcom", T + timedelta(hours=5), 3) == 1
    assert check_source_health(store, "mofcom", T + timedelta(hours=5), 3) == 0  # rerun: deduplicated
    finish(store, "failed", T + timedelta(hours=6), [WAF])
    assert check_source_health(store, "mofcom", T + timedelta(hours=7), 3) == 0  # same streak
    good = finish(store, "ok", T + timedelta(hours=8))
    assert check_source_health(store, "mofcom", T + timedelta(hours=9), 3) == 1
    finish(store, "ok", T + timedelta(hours=10))
    assert check_source_health(store, "mofcom", T + timedelta(hours=11), 3) == 0
    assert health_alerts(store) == [
        ("critical", f"health:mofcom:streak:{first}", "mofcom: 3 crawls in a row failed (challenge)"),
        ("info", f"health:mofcom:recovered:{first}",
         "mofcom: crawling works again after 4 failed runs since 2025-11-10 03:00 UTC"),
    ]
    recovery = [a for a in store.alerts(limit=50) if a.severity == "info"][0]
    assert recovery.payload["summary"] == f"crawl run {good} finished ok at 2025-11-10 11:05 UTC"


def test_a_killed_run_is_finished_by_the_next_check_and_counts(store: Store) -> None:
    here = this_host()
    finish(store, "failed", T, [WAF])
    killed = store.start_run("mofcom", T + timedelta(hours=2), stats={"pid": dead_pid(), "host": here})
    alive = store.start_run("mofcom", T + timedelta(hours=4, minutes=5), stats={"pid": os.getpid(), "host": here})
    stale = store.start_run("mofcom", T - timedelta(hours=5))  # no pid (older regwatch), far beyond the timeout
    finish(store, "failed", T + timedelta(hours=4), [WAF])
    assert check_source_health(store, "mofcom", T + timedelta(hours=4, minutes=10), 3, crawl_timeout=900) == 1
    runs = {r.id: r for r in store.runs("mofcom")}
    assert (runs[killed].status, runs[alive].status, runs[stale].status) == ("killed", "running", "killed")
    assert runs[killed].finished_at == T + timedelta(hours=4, minutes=10)
    assert runs[killed].errors[0]["kind"] == "killed" and "is gone" in runs[killed].errors[0]["message"]
    assert "longer than the crawl timeout plus margin (1200 s)" in runs[stale].errors[0]["message"]
    assert runs[killed].stats["host"] == here  # the start stamp stays
    assert store.consecutive_failures("mofcom") == 4  # the running one is skipped
    assert health_alerts(store)[0][2] == "mofcom: 4 crawls in a row failed (challenge, killed)"


# -- the crawl command (cron style) ------------------------------------------------------------------


def fake_child(outcomes: list[Any], *, clock: list[datetime]):
    """``run_crawl_subprocess`` stand-in: each call plays the next outcome (a list of errors, or an exception)."""

    def run_crawl_subprocess(source, db_url, base_url=None, max_pages=None, timeout=600, *, delay=None,
                             log_level=None, recheck_hours=None, max_rechecks=None, **_limits):
        outcome = outcomes.pop(0)
        with Store.open(db_url) as store:
            store.ensure_source(source, source, "https://www.mofcom.gov.cn")
            run_id = store.start_run(source, clock[0], stats={"pid": os.getpid(), "host": this_host()})
            if isinstance(outcome, BaseException):  # crashed: the run stays 'running' with the child's pid
                outcome.pid = os.getpid()
                raise outcome
            errors = list(outcome)
            blocked = any(e["kind"] == "challenge" for e in errors)
            stats = {"regwatch/fetched/detail": 0 if blocked else 4, "regwatch/captures/new": 0 if blocked else 4,
                     "finish_reason": "finished"}
            summary = summarize(source, run_id, stats, errors)
            store.finish_run(run_id, clock[0] + timedelta(minutes=3), summary["status"],
                             {k: v for k, v in summary.items() if k not in ("source", "run_id", "status",
                                                                            "first_errors")}, errors)
        return summary | {"exit_code": 1 if summary["status"] == "failed" else 0, "stderr_tail": ""}

    return run_crawl_subprocess


def test_crawl_report_lists_error_kinds_and_first_errors(capsys, tmp_path, monkeypatch) -> None:
    offsite = {"kind": "offsite", "url": "http://127.0.0.1:1/a.html",
               "message": "redirected off-host to http://localhost:1/a.html"}
    monkeypatch.setattr(crawlers.runner, "run_crawl_subprocess",
                        fake_child([[{"kind": "http", "url": "http://127.0.0.1:1/b.html", "message": "HTTP 404"},
                                     offsite, offsite]], clock=[T]))
    code, out, err = cli(capsys, "--db", tmp_path / "c.db", "crawl", "mofcom")
    assert (code, err) == (0, "")  # partial: some pages came through
    assert out.splitlines() == [
        "mofcom: partial — 4 new captures, 0 unchanged, 3 errors: 2 offsite, 1 http",
        "  http: http://127.0.0.1:1/b.html: HTTP 404",
        "  offsite: http://127.0.0.1:1/a.html: redirected off-host to http://localhost:1/a.html",
        "  offsite: http://127.0.0.1:1/a.html: redirected off-host to http://localhost:1/a.html",
    ]


def test_cron_style_crawls_raise_the_streak_and_the_recovery_alert(capsys, tmp_path, monkeypatch) -> None:
    (tmp_path / "schedules.yaml").write_text("defaults: {max_consecutive_failures: 3}\n", encoding="utf-8")
    now = [T]
    outcomes: list[Any] = [[WAF], [WAF], CrawlProcessError("mofcom", "timed out after 900 s", "Traceback …"),
                           [WAF], [], []]
    monkeypatch.setattr(crawlers.runner, "run_crawl_subprocess", fake_child(outcomes, clock=now))
    db = tmp_path / "c.db"
    reports = []
    for _ in range(6):
        monkeypatch.setenv("REGWATCH_NOW", (now[0] + timedelta(minutes=5)).isoformat())
        reports.append(cli(capsys, "--db", db, "crawl", "mofcom"))
        now[0] += timedelta(hours=2)
    assert [code for code, _, _ in reports] == [1, 1, 1, 1, 0, 0]
    code, out, err = reports[2]
    assert out.splitlines()[0] == "mofcom: failed — 0 new captures, 0 unchanged, 1 errors: 1 crash"
    assert out.splitlines()[1].startswith("  crash: -: crawl of 'mofcom' timed out after 900 s; run `python -m")
    assert out.splitlines()[-1] == "  source health: 1 alert(s) queued (see `regwatch deliver`)"
    assert "source health" not in reports[3][1]  # the same streak does not alert again
    assert reports[4][1].splitlines()[-1] == "  source health: 1 alert(s) queued (see `regwatch deliver`)"
    with Store.open(db) as store:
        assert [r.status for r in store.runs("mofcom")] == ["ok", "ok", "failed", "failed", "failed", "failed"]
        crash = store.runs("mofcom")[3]
        assert crash.errors[0]["kind"] == "crash" and crash.stats["pid"] == os.getpid()  # the child's own run
        assert [(sev, title) for sev, _, title in health_alerts(store)] == [
            ("critical", "mofcom: 3 crawls in a row failed (challenge, crash)"),
            ("info", "mofcom: crawling works again after 4 failed runs since 2025-11-10 03:00 UTC"),
        ]
    outcomes.append([])
    code, out, _ = cli(capsys, "--db", db, "crawl", "mofcom", "--json")
    assert code == 0 and json.loads(out)["health_alerts"] == 0


def test_status_shows_a_killed_run_and_the_next_crawl_finishes_it(capsys, tmp_path, monkeypatch) -> None:
    db = tmp_path / "c.db"
    with Store.open(db) as store:
        store.ensure_source("mofcom", "商务部", "https://www.mofcom.gov.cn")
        killed = store.start_run("mofcom", datetime.now(timezone.utc), stats={"pid": dead_pid(), "host": this_host()})
    code, out, _ = cli(capsys, "--db", db, "status", "--json")
    source = json.loads(out)["sources"]["mofcom"]
    assert (code, source["last_run_status"], source["consecutive_failures"]) == (0, "killed", 1)
    code, out, _ = cli(capsys, "--db", db, "status")
    [row] = [line for line in out.splitlines() if line.startswith("│ mofcom")]
    assert [c.strip() for c in row.split("│")[1:-1]][3:5] == ["killed", "1"]
    with Store.open(db) as store:
        assert store.runs("mofcom")[0].status == "running"  # status only shows it; it writes nothing
    monkeypatch.setattr(crawlers.runner, "run_crawl_subprocess", fake_child([[]], clock=[datetime.now(timezone.utc)]))
    code, _, _ = cli(capsys, "--db", db, "crawl", "mofcom")
    with Store.open(db) as store:
        statuses = {r.id: r.status for r in store.runs("mofcom")}
    assert code == 0 and statuses[killed] == "killed" and sorted(statuses.values()) == ["killed", "ok"]


def test_kill_9_of_a_real_crawl_shows_as_killed(capsys, tmp_path) -> None:
    db = tmp_path / "k.db"
    with ReplicaServer(site_path("mofcom")) as replica:
        child = subprocess.Popen([sys.executable, "-m", "crawlers", "mofcom", "--db", str(db), "--base-url",
                                  replica.base_url, "--delay", "0.5"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while not replica.requests and time.monotonic() < deadline:  # the run is open before the first request
                time.sleep(0.05)
            assert replica.requests, "the crawl child never reached the replica"
        finally:
            child.kill()
            child.wait()
    code, out, _ = cli(capsys, "--db", db, "status", "--json")
    assert (code, json.loads(out)["sources"]["mofcom"]["last_run_status"]) == (0, "killed")
    with Store.open(db) as store:
        (only,) = store.runs("mofcom")
        assert (only.status, only.stats["pid"], only.stats["host"]) == ("running", child.pid, this_host())


def test_docstring_examples() -> None:
    import doctest

    import pipeline.cli.commands_run
    import pipeline.health
    import pipeline.leader

    for module in (pipeline.health, pipeline.leader, pipeline.cli.commands_run):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__
