"""The daemon: job specs from schedules.yaml, one cycle per source, failure streaks, one daemon per DB."""

from __future__ import annotations

import json
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawlers.replica import ReplicaServer, site_path
from crawlers.runner import CrawlProcessError
from pipeline.cli import main
from pipeline.config import load_config
from pipeline.daemon import Daemon, cron_trigger, job_specs, leader_lock
from pipeline.errors import UserError
from pipeline.health import health_alert
from store import Store

T = datetime(2025, 11, 10, 3, tzinfo=timezone.utc)


def write_config(tmp_path: Path, *, base_url: str = "http://127.0.0.1:9", threshold: int = 3) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text(
        f"defaults: {{max_consecutive_failures: {threshold}, jitter_seconds: 0}}\n"
        f"sources:\n  mofcom: {{cron: '0 */2 * * *', timezone: Asia/Shanghai, base_url: '{base_url}', max_pages: 2}}\n"
        "  miit: {cron: '15 */3 * * *', timezone: Asia/Shanghai, enabled: false}\n"
        "  meti: {interval_minutes: 180, timezone: Asia/Tokyo, enabled: false}\n"
        f"sinks:\n  archive: {{kind: jsonl, path: '{tmp_path / 'alerts.jsonl'}'}}\n"
        "routes:\n  - {when: {}, to: [archive]}\ndefault_route: [archive]\n",
        encoding="utf-8")
    return path


@pytest.mark.parametrize(("expr", "dow"), [("0 9 * * 1-5", "mon-fri"), ("0 9 * * 0", "sun"), ("0 9 * * 7", "sun"),
                                          ("0 9 * * 6,0", "sat,sun"), ("0 9 * * */2", "*/2"), ("0 9 * * mon", "mon")])
def test_crontab_weekdays_count_from_sunday(expr: str, dow: str) -> None:
    assert str(cron_trigger(expr, timezone="Asia/Shanghai", jitter=None).fields[4]) == dow


def test_job_specs_from_config(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path), env={})
    specs = job_specs(config, crawlable=lambda slug: slug == "mofcom")
    assert [(s.id, s.kind, s.source) for s in specs] == [
        ("cycle:mofcom", "cycle", "mofcom"), ("reminders", "reminders", None), ("deliver", "deliver", None)]
    trigger = specs[0].trigger
    assert str(trigger.timezone) == "Asia/Shanghai" and str(trigger.fields[5]) == "*/2"
    # the next fire time is computed in the source's zone: 2 h steps of Beijing time
    after = datetime(2025, 11, 10, 3, 30, tzinfo=timezone.utc)  # 11:30 in Beijing
    assert trigger.get_next_fire_time(None, after) == datetime(2025, 11, 10, 4, 0, tzinfo=timezone.utc)


def test_scheduler_has_every_job_with_safe_defaults(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path), env={})
    with Store.open(tmp_path / "d.db") as store:
        sched = Daemon(config, store).scheduler()
        assert sorted(job.id for job in sched.get_jobs()) == ["cycle:mofcom", "deliver", "reminders"]
        assert sched._job_defaults == {"coalesce": True, "max_instances": 1, "misfire_grace_time": 900}


def fake_crawl(store: Store, pages: list[tuple[str, bytes]], clock=None):
    """A crawl stand-in that stores the given (url, body) pages as captures and records a run (at T or clock time)."""

    def crawl(source, db_url, **_kwargs):
        at = clock.now() if clock else T
        run = store.start_run(source, at)
        for url, body in pages:
            store.save_capture(source=source, url=url, final_url=url, status=200, headers={}, body=body,
                               fetched_at=at, run_id=run)
        store.finish_run(run, at, "ok", stats={}, errors=[])
        return {"source": source, "status": "ok", "captures_new": len(pages)}

    return crawl


def test_cycle_processes_and_delivers_each_alert_once(tmp_path: Path, page_tools, clock) -> None:
    config = load_config(write_config(tmp_path), env={})
    body, meta = page_tools.read("mofcom", "MofcomNoticePage", "2025-70-ergodic")
    with Store.open(tmp_path / "d.db") as store:
        page_tools.register_sources(store)
        runner = Daemon(config, store, clock=clock, crawl=fake_crawl(store, [(meta["url"], body)]))
        first = runner.cycle("mofcom")
        assert (first["crawl"]["status"], first["process"]["new_versions"]) == ("ok", 1)
        assert first["delivered"] == first["process"]["alerts"] + first["reminders"] == 7  # new + 6 status
        again = runner.cycle("mofcom")
        assert (again["process"]["new_versions"], again["delivered"]) == (0, 0)
    lines = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 7 and len({line["id"] for line in lines}) == 7


def test_failure_streak_raises_one_source_health_alert(tmp_path: Path, clock) -> None:
    config = load_config(write_config(tmp_path, threshold=3), env={})

    def broken(source, db_url, **_kwargs):
        raise CrawlProcessError(source, "timed out after 900 s", "Traceback …")

    with Store.open(tmp_path / "d.db") as store:
        runner = Daemon(config, store, clock=clock, crawl=broken)
        for _ in range(2):
            runner.cycle("mofcom")
            clock.advance(hours=2)
        assert [a.kind for a in store.alerts(limit=10)] == []
        for _ in range(3):  # the third failure alerts; a longer streak does not alert again
            runner.cycle("mofcom")
            clock.advance(hours=2)
        (alert,) = store.alerts(limit=10)
        assert (alert.kind, alert.status) == ("source_health", "delivered")
        assert alert.payload["title"] == "mofcom: 3 crawls in a row failed (crash)"
        assert store.consecutive_failures("mofcom") == 5
        runner.crawl = fake_crawl(store, [], clock)  # the site answers again: one recovery alert, delivered
        for _ in range(2):
            runner.cycle("mofcom")
            clock.advance(hours=2)
        recovered = [a for a in store.alerts(limit=10) if a.id != alert.id]
        assert [(a.kind, a.severity, a.status) for a in recovered] == [("source_health", "info", "delivered")]
        assert recovered[0].payload["title"].startswith("mofcom: crawling works again after 5 failed runs since ")


def run(status: str, started: datetime, errors=()):
    return types.SimpleNamespace(id=int(started.timestamp()), status=status, started_at=started, errors=list(errors))


def test_health_alert_needs_a_full_streak() -> None:
    t = T
    runs = [run("failed", t + timedelta(hours=2), [{"kind": "challenge", "url": "u", "message": "HTTP 412"}]),
            run("running", t + timedelta(hours=1)), run("failed", t), run("ok", t - timedelta(hours=2))]
    assert health_alert("mofcom", runs, threshold=3) is None
    alert = health_alert("mofcom", runs, threshold=2)
    assert alert is not None and alert.dedup_key == f"health:mofcom:streak:{int(t.timestamp())}"
    assert alert.summary == "last error: HTTP 412" and "health:challenge" in alert.tags


def test_one_daemon_per_database(tmp_path: Path) -> None:
    with Store.open(tmp_path / "d.db") as store, leader_lock(store):
        with Store.open(tmp_path / "d.db") as other, pytest.raises(UserError, match="another regwatch daemon"):
            with leader_lock(other):
                pass
    with Store.open(tmp_path / "d.db") as store, leader_lock(store):
        pass  # released on exit


def test_daemon_once_against_the_replica(tmp_path: Path, capsys) -> None:
    with ReplicaServer(site_path("mofcom")) as replica:
        config = write_config(tmp_path, base_url=replica.base_url)
        text = config.read_text(encoding="utf-8").replace("max_pages: 2}", "max_pages: 1, delay_seconds: 0}")
        config.write_text(text, encoding="utf-8")
        code = main(["--db", str(tmp_path / "d.db"), "--config", str(config), "daemon", "--once", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    result = json.loads(out)["mofcom"]
    assert result["crawl"]["status"] == "ok" and result["process"]["new_versions"] >= 10
    assert result["delivered"] == result["process"]["alerts"] + result["reminders"]


def test_a_sighup_during_start_up_is_queued_once_the_scheduler_runs(tmp_path: Path) -> None:
    """APScheduler 3 files a job added while ``start()`` is under way (pending jobs already
    scheduled, the scheduler not yet running) as pending for good: a reload asked for in that window
    was lost (the SIGHUP test failed so once in CI). The reload waits until the scheduler runs."""
    import threading

    config = load_config(write_config(tmp_path), env={})
    with Store.open(tmp_path / "d.db") as store:
        daemon = Daemon(config, store)
        sched, running = daemon.scheduler(), threading.Event()
        asking = threading.Thread(target=daemon._queue_reload, args=(sched, running), daemon=True)
        asking.start()
        asking.join(0.3)
        assert asking.is_alive() and "reload" not in {job.id for job in sched.get_jobs()}  # not filed as pending
        running.set()
        asking.join(10)
        assert not asking.is_alive()
        assert "reload" in {job.id for job in sched.get_jobs()}
