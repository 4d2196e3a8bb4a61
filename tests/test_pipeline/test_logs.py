"""Logs: JSON lines and text with a stage context, one line per daemon stage, crawl logs kept per run
and rotated (path in ``regwatch status``), and secrets never in any log output."""

from __future__ import annotations

import doctest
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

import pipeline.logs
from crawlers.replica import ReplicaServer, site_path
from pipeline.cli import main
from pipeline.clock import FixedClock
from pipeline.config import load_config
from pipeline.daemon import Daemon
from pipeline.logs import configure_logging, log_context, rotate_crawl_logs
from store import Store

from tests.conftest import FakeSlack

TOKEN = "xoxb-1111-2222-TOPSECRETvalue"


@pytest.fixture(autouse=True)
def _restore_logging():
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def test_docstring_examples() -> None:
    assert doctest.testmod(pipeline.logs).failed == 0


def test_json_and_text_lines_carry_the_context_and_redact_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    for fmt in ("json", "text"):
        stream = io.StringIO()
        configure_logging(fmt, "DEBUG", stream=stream, secrets=["hunter2-db-pw"])
        log = logging.getLogger("slack_sdk.web.base_client")
        with log_context(stage="deliver", source="mofcom", run_id=7):
            log.debug("Sending a request - headers: {'Authorization': 'Bearer %s'}", TOKEN)
            try:
                raise RuntimeError(f"connect postgresql://rw:hunter2-db-pw@db/rw failed with {TOKEN}")
            except RuntimeError:
                log.exception("boom")
        log.warning("outside")
        out = stream.getvalue()
        assert TOKEN not in out and "hunter2-db-pw" not in out and out.count("***") >= 4
        if fmt == "json":
            lines = [json.loads(line) for line in out.splitlines()]
            assert [set(line) >= {"ts", "level", "logger", "message", "source", "run_id", "stage"} for line in lines]
            first, boom, outside = lines
            assert first["ts"].endswith("+00:00") and first["level"] == "DEBUG"
            assert (first["logger"], first["stage"], first["source"], first["run_id"]) == (
                "slack_sdk.web.base_client", "deliver", "mofcom", 7)
            assert "Traceback" in boom["exc"] and (outside["stage"], outside["source"]) == (None, None)
        else:
            assert out.splitlines()[0].endswith("[stage=deliver source=mofcom run=7]")


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        "defaults: {jitter_seconds: 0, crawl_logs_keep: 2" + extra + "}\n"
        "sources:\n  mofcom: {cron: '0 * * * *', delay_seconds: 0}\n"
        f"sinks:\n  archive: {{kind: jsonl, path: '{tmp_path / 'alerts.jsonl'}'}}\n"
        "default_route: [archive]\n", encoding="utf-8")
    return path


def test_daemon_logs_one_line_per_stage_with_source_and_run_id(tmp_path: Path) -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream)

    def crawl(source: str, db_url: str, **_kwargs: Any) -> dict[str, Any]:
        with Store.open(db_url) as s:
            run = s.start_run(source, clock.now())
            s.finish_run(run, clock.now(), "ok", stats={}, errors=[])
        return {"source": source, "run_id": run, "status": "ok", "captures_new": 0, "errors": 0}

    from datetime import UTC, datetime

    clock = FixedClock(datetime(2026, 11, 2, 3, 0, tzinfo=UTC))
    with Store.open(tmp_path / "d.db") as store:
        Daemon(load_config(write_config(tmp_path), env={}), store, clock=clock, crawl=crawl).cycle("mofcom")
        run_id = store.runs("mofcom")[0].id
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    staged = [(line["stage"], line["source"], line["run_id"]) for line in lines if line["stage"]]
    assert staged == [("crawl", "mofcom", run_id), ("process", "mofcom", run_id), ("remind", "mofcom", run_id),
                      ("deliver", "mofcom", run_id)]
    assert lines[0]["message"].startswith("crawl ok: 0 new captures")


def test_crawl_logs_are_kept_per_run_rotated_and_shown_by_status(tmp_path: Path, capsys,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Three real crawls of the replica with crawl_logs_keep: 2 — the two newest logs stay, each
    named on its run; `regwatch status` prints the last one's path; no secret in any of them."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.delenv("REGWATCH_LOG", raising=False)
    monkeypatch.setenv("COLUMNS", "300")  # the log path on one line
    db = tmp_path / "d.db"
    with ReplicaServer(site_path("mofcom")) as replica:
        config = write_config(tmp_path)
        config.write_text(config.read_text(encoding="utf-8").replace(
            "delay_seconds: 0}", f"delay_seconds: 0, base_url: '{replica.base_url}'}}"), encoding="utf-8")
        for _ in range(3):
            code = main(["--db", str(db), "--config", str(config), "--log-format", "json", "crawl", "mofcom"])
            assert code == 0
    out, err = capsys.readouterr()
    logs = sorted((tmp_path / "logs" / "mofcom").glob("*.log"))
    assert len(logs) == 2
    with Store.open(db) as store:
        runs = store.runs("mofcom")
    assert {Path(r.stats["log"]) for r in runs[:2]} == set(logs) and not Path(runs[2].stats["log"]).exists()
    assert "Spider opened" in logs[-1].read_text(encoding="utf-8")  # the child's whole Scrapy log
    code = main(["--db", str(db), "status"])
    status_out = capsys.readouterr().out
    assert code == 0 and f"last crawl log: mofcom: {runs[0].stats['log']}" in status_out
    code = main(["--db", str(db), "status", "--json"])
    assert json.loads(capsys.readouterr().out)["sources"]["mofcom"]["last_run_log"] == runs[0].stats["log"]
    for text in (out, err, *(p.read_text(encoding="utf-8") for p in logs)):
        assert TOKEN not in text


def test_rotation_keeps_the_newest(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "mofcom"
    folder.mkdir()
    for i in range(5):
        (folder / f"{i}.log").write_text(str(i))
        os.utime(folder / f"{i}.log", (1000 + i, 1000 + i))
    gone = rotate_crawl_logs(tmp_path, "mofcom", 2)
    assert sorted(p.name for p in gone) == ["0.log", "1.log", "2.log"]
    assert sorted(p.name for p in folder.iterdir()) == ["3.log", "4.log"]


def test_no_secret_in_any_output_of_a_daemon_run_at_debug(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch,
                                                          fake_slack: FakeSlack) -> None:
    """daemon --once at DEBUG, text and JSON, with a Slack sink whose token is in the environment and a
    fake Slack that refuses it: the token is in no line on stdout or stderr, nor in the crawl logs."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("REGWATCH_LOG", "DEBUG")
    fake = fake_slack
    if True:
        with ReplicaServer(site_path("mofcom")) as replica:
            config = tmp_path / "s.yaml"
            config.write_text(
                "defaults: {jitter_seconds: 0}\n"
                f"sources:\n  mofcom: {{cron: '0 * * * *', delay_seconds: 0, base_url: '{replica.base_url}'}}\n"
                f"sinks:\n  legal: {{kind: slack, token: {{$env: SLACK_BOT_TOKEN}}, channel: '#x', "
                f"base_url: '{fake.base_url}'}}\n"
                "default_route: [legal]\n", encoding="utf-8")
            fake.script = [(200, {}, {"ok": False, "error": "invalid_auth"})] * 50
            for fmt in ("text", "json"):
                main(["--db", str(tmp_path / f"{fmt}.db"), "--config", str(config), "--log-format", fmt,
                      "daemon", "--once"])
    out, err = capsys.readouterr()
    assert "deliver:" in err and "slack_sdk" in err  # DEBUG lines of the Slack client are there
    texts = [out, err, *(p.read_text(encoding="utf-8") for p in (tmp_path / "logs").rglob("*.log"))]
    assert len(texts) == 4 and TOKEN in str(fake.requests) and all(TOKEN not in text for text in texts)
