"""Retention through the CLI and the daemon: `regwatch db prune [--dry-run]`, the daily prune job
when defaults.capture_retention_days is set, and the key validated by `config check`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.clock import FixedClock
from pipeline.config import check_config, load_config
from pipeline.daemon import Daemon, crawlable, job_specs
from store import Store

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
URL = "https://www.mofcom.gov.cn/zwgk/zcfb/index.html"


def config_file(tmp_path: Path, days: object | None) -> Path:
    path = tmp_path / "s.yaml"
    line = f"defaults: {{capture_retention_days: {days}}}\n" if days is not None else ""
    path.write_text(line + "sources: {mofcom: {cron: '0 * * * *'}}\n", encoding="utf-8")
    return path


def fill(db: Path) -> None:
    with Store.open(db) as store:
        store.ensure_source("mofcom", "商务部", at=T0)
        for day in (0, 1, 100):  # two old list captures, the newest is the URL's latest
            cid, _ = store.save_capture(source="mofcom", url=URL, final_url=URL, status=200, headers={},
                                        body=f"<ul>{day}</ul>".encode(), fetched_at=T0 + timedelta(days=day), kind="list")
            store.mark_capture(cid, "processed", at=T0 + timedelta(days=day))


def run(capsys, *args: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_db_prune_dry_run_then_prune(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGWATCH_NOW", (T0 + timedelta(days=101)).isoformat())
    db = tmp_path / "r.db"
    fill(db)
    code, out, err = run(capsys, "--db", db, "--config", config_file(tmp_path, None), "db", "prune")
    assert code == 1 and err.startswith("error: retention is not configured: every raw capture is kept")
    config = config_file(tmp_path, 90)
    code, out, _ = run(capsys, "--db", db, "--config", config, "db", "prune", "--dry-run", "--json")
    assert code == 0 and json.loads(out) == {"captures": 2, "bytes": 20, "dry_run": True, "days": 90,
                                             "before": "2026-01-16T03:00:00+00:00"}
    code, out, _ = run(capsys, "--db", db, "--config", config, "db", "prune")
    assert code == 0 and out.startswith("dropped the raw bodies of 2 captures fetched before 2026-01-16T03:00:00")
    code, out, _ = run(capsys, "--db", db, "--config", config, "db", "prune", "--days", "1")
    assert code == 0 and out.startswith("dropped the raw bodies of 0 captures")  # the latest stays


def test_the_daemon_prunes_daily_only_when_configured(tmp_path: Path) -> None:
    off = load_config(config_file(tmp_path, None), env={})
    assert "prune" not in {s.id for s in job_specs(off, crawlable=crawlable)}
    on = load_config(config_file(tmp_path, 30), env={})
    (prune,) = [s for s in job_specs(on, crawlable=crawlable) if s.id == "prune"]
    assert str(prune.trigger).startswith("cron[") and "hour='4'" in str(prune.trigger)
    db = tmp_path / "d.db"
    fill(db)
    with Store.open(db) as store:
        daemon = Daemon(on, store, clock=FixedClock(T0 + timedelta(days=101)))
        assert daemon.prune()["captures"] == 2
        assert Daemon(off, store, clock=FixedClock(T0 + timedelta(days=101))).prune() is None


@pytest.mark.parametrize("value", [0, "'soon'", -3])
def test_config_check_refuses_a_bad_retention(tmp_path: Path, value: object) -> None:
    report = check_config(config_file(tmp_path, value), env={})
    (problem,) = [p for p in report.problems if not p.warning]
    assert (problem.line, problem.where) == (1, "defaults.capture_retention_days")
