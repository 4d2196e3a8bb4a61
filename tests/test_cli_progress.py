"""Progress on long commands: nothing extra when stderr is piped or with --json, a rich display when
stderr is (forced to be) a terminal (FORCE_COLOR=1, which every supported rich reads), and the same stdout either way."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.cli import main
from store import Store

CASES = ("2024-46-standard", "2025-58-standard", "2025-70-ergodic")


def pending_db(path: Path, tools) -> Path:
    with Store.open(path) as store:
        tools.register_sources(store)
        for case in CASES:
            tools.save(store, case, at=tools.T0)
    return path


def run(capsys, *args: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _no_forcing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REGWATCH_NOW", "2025-11-10T03:00:00+00:00")


def test_process_piped_shows_no_progress_and_a_terminal_does(tmp_path: Path, capsys, page_tools,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    code, piped_out, piped_err = run(capsys, "--db", pending_db(tmp_path / "a.db", page_tools), "process")
    assert code == 0 and piped_err == "" and piped_out.startswith("processed 3 captures")
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, tty_out, tty_err = run(capsys, "--db", pending_db(tmp_path / "b.db", page_tools), "process")
    assert code == 0 and tty_out == piped_out  # what the command says is the same
    assert "processing captures" in tty_err and "\x1b[" in tty_err and "3/3" in tty_err


def test_json_never_shows_progress_even_on_a_terminal(tmp_path: Path, capsys, page_tools,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, out, err = run(capsys, "--db", pending_db(tmp_path / "a.db", page_tools), "process", "--json")
    assert code == 0 and err == "" and json.loads(out)["processed"] == 3


def test_reparse_and_db_upgrade_show_progress_on_a_terminal(tmp_path: Path, capsys, page_tools,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    db = pending_db(tmp_path / "a.db", page_tools)
    run(capsys, "--db", db, "process")
    code, out, err = run(capsys, "--db", db, "process", "--reparse")
    assert code == 0 and err == ""
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, _, err = run(capsys, "--db", db, "process", "--reparse")
    assert code == 0 and "re-reading captures" in err
    code, out, err = run(capsys, "--db", db, "db", "upgrade")
    assert code == 0 and "upgrading the database schema" in err and out.startswith("database ")


def test_crawl_shows_a_spinner_on_a_terminal_only(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    import crawlers.runner

    def child(source, db_url, **_kwargs):
        with Store.open(db_url) as store:
            run_id = store.start_run(source, datetime.now(UTC))
            store.finish_run(run_id, datetime.now(UTC), "ok", {}, [])
        return {"source": source, "run_id": run_id, "status": "ok", "captures_new": 0, "captures_unchanged": 0,
                "errors": 0}

    monkeypatch.setattr(crawlers.runner, "run_crawl_subprocess", child)
    code, piped_out, err = run(capsys, "--db", tmp_path / "c.db", "crawl", "mofcom")
    assert code == 0 and err == ""
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, tty_out, err = run(capsys, "--db", tmp_path / "c.db", "crawl", "mofcom")
    assert code == 0 and "crawling mofcom" in err and tty_out.split("—")[1] == piped_out.split("—")[1]
