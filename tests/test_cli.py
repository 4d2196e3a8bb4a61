"""Every ``regwatch`` command through ``pipeline.cli.main`` with real output asserted, and its error paths.

The shared database is built once from MOFCOM fixture captures: five announcements on T0, then the
edited No.58 page (a fifth control code) a day later. Commands that write get their own copy.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from crawlers.replica import ReplicaServer, site_path
from pipeline.cli import main
from pipeline.cli.app import app
from pipeline.process import process_pending
from store import Store
from store.migrations import MIGRATIONS

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages" / "mofcom" / "MofcomNoticePage"
BASE = ("2024-46-standard", "2025-18-table", "2025-58-standard", "2025-70-ergodic", "2025-72-gonggao")
COMMANDS = {"history", "show", "diff", "search", "status", "status-of", "crawl", "process", "deliver", "inspect",
            "demo", "db", "deadlines", "daemon", "fixtures", "alerts", "config", "doctor", "web", "sources"}
INSPECT_KEYS = ["source", "url", "doc_key", "doc_number", "issuers", "title", "language", "published", "signed",
                "effective", "dates", "eccns", "codes", "elements", "hs_codes", "relations", "attachments", "text"]
URL_70 = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_8f9973bcbfee6f7a014c8258a50f702d.html"
K58, K70 = "mofcom+gacc:2025:58", "mofcom+gacc:2025:70"


@pytest.fixture(autouse=True)
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run in tmp_path (no ./schedules.yaml, nothing written into the repo), wide plain output."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("REGWATCH_DB", "REGWATCH_CONFIG", "REGWATCH_DEBUG", "FORCE_COLOR", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def build_db(path: Path, tools, cases=BASE, edited: bool = True) -> Path:
    with Store.open(path) as store:
        tools.register_sources(store)
        for case in cases:
            tools.save(store, case, at=tools.T0)
        process_pending(store, now=tools.T0)
        if edited:
            tools.save(store, "2025-58-edited-state2", at=tools.T0 + timedelta(days=1))
            process_pending(store, now=tools.T0 + timedelta(days=1))
    return path


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory: pytest.TempPathFactory, page_tools) -> Path:
    return build_db(tmp_path_factory.mktemp("cli") / "shared.db", page_tools)


@pytest.fixture
def db(shared_db: Path, tmp_path: Path) -> str:
    """A private copy of the shared database (for commands that write)."""
    target = tmp_path / "regwatch.db"
    shutil.copy(shared_db, target)
    return str(target)


# -- help ----------------------------------------------------------------------------------


def test_help_lists_every_command_and_each_has_an_example(capsys) -> None:
    registered = {c.name or c.callback.__name__ for c in app.registered_commands} | {
        g.name for g in app.registered_groups}
    assert registered == COMMANDS
    code, out, _ = cli(capsys, "--help")
    assert code == 0 and "Usage: regwatch" in out
    listed = {line.split()[1] for line in out.splitlines() if line.startswith("│ ") and len(line.split()) > 2}
    assert COMMANDS <= listed
    subcommands = [f"{g.name} {c.name}" for g in app.registered_groups for c in g.typer_instance.registered_commands]
    assert {"db upgrade", "alerts list", "alerts show", "alerts retry", "alerts ack"} <= set(subcommands)
    for command in [*sorted(COMMANDS), *subcommands]:
        code, out, err = cli(capsys, *command.split(), "--help")
        assert (code, err) == (0, ""), command
        assert "Example" in out, f"`regwatch {command} --help` has no Example"
    assert cli(capsys)[0] == 0  # no arguments: the help, not an error


# -- history ---------------------------------------------------------------------------------


def test_history_lines(capsys, shared_db) -> None:
    code, out, err = cli(capsys, "--db", shared_db, "history")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    heads = [line.split() for line in lines[0::2]]
    assert [(h[2], h[3], h[4]) for h in heads] == [
        ("changed", K58, "v1→v2"), ("new", "mofcom:2025:72", "v1"), ("new", K70, "v1"),
        ("new", K58, "v1"), ("new", "mofcom+gacc:2025:18", "v1"), ("new", "mofcom:2024:46", "v1")]
    assert lines[0].startswith("2025-11-11 03:00  changed  ") and " 1 code added" in lines[0]
    assert lines[1] == "    商务部 海关总署公告2025年第58号 公布对锂电池和人造石墨负极材料相关物项实施出口管制的决定"


def test_history_json_and_filters(capsys, shared_db) -> None:
    code, out, _ = cli(capsys, "--db", shared_db, "history", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 6
    assert rows[0] | {"field_changes": None} == {
        "created_at": "2025-11-11T03:00:00+00:00", "kind": "changed", "doc_key": K58, "source": "mofcom",
        "url": "https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_1aeba4fb358b98298b62eda62106d2de.html",
        "title": "商务部 海关总署公告2025年第58号 公布对锂电池和人造石墨负极材料相关物项实施出口管制的决定",
        "from_version": 1, "to_version": 2, "summary": rows[0]["summary"], "field_changes": None}
    assert {"field": "code", "kind": "added", "old": None, "new": "3C901.b",
            "summary": "code 3C901.b added"} in rows[0]["field_changes"]

    def keys(*args: str) -> list[tuple[str, str]]:
        code, out, _ = cli(capsys, "--db", shared_db, "history", "--json", *args)
        assert code == 0
        return [(r["kind"], r["doc_key"]) for r in json.loads(out)]

    assert keys("--since", "2025-11-11") == [("changed", K58)]
    assert keys("--code", "3c901.b") == [("changed", K58), ("new", K58)]  # documents ever tagged with it
    assert keys("--code", "1C903") == [("new", "mofcom+gacc:2025:18")]
    assert keys("--source", "mofcom") == keys()
    assert keys("--source", "miit") == []
    assert keys(K70) == [("new", K70)]
    assert keys("--limit", "2") == [("changed", K58), ("new", "mofcom:2025:72")]
    code, out, _ = cli(capsys, "--db", shared_db, "history", "--source", "miit")
    assert (code, out) == (0, "no changes recorded for these filters\n")


# -- show / diff -----------------------------------------------------------------------------


def test_show_latest_and_older_version(capsys, shared_db) -> None:
    code, out, err = cli(capsys, "--db", shared_db, "show", K58, "--on", "2026-11-10")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"{K58}  商务部 海关总署公告2025年第58号 公布对锂电池和人造石墨负极材料相关物项实施出口管制的决定"
    assert lines[1].startswith("version 2 of 2  ·  mofcom  ·  https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/")
    assert lines[2] == f"status on 2026-11-10: suspended until 2026-11-10 by {K70}"
    assert lines[3:6] == ["published: 2025-10-09", "signed: 2025-10-09", "effective: 2025-11-08"]
    assert out.count("effective:") == 1
    assert "codes: 3A001, 3B901.a, 3C901.a.1, 3C901.b, 3C902" in lines
    assert lines[-4:] == ["timeline:", "  2025-10-09  not_yet_effective", f"  2025-11-08  suspended until 2026-11-10  ({K70})",
                          f"  2026-11-11  in_force  ({K70})"]
    code, out, _ = cli(capsys, "--db", shared_db, "show", K58, "--version", "1", "--on", "2026-11-11")
    assert "version 1 of 2" in out and "status on 2026-11-11: in_force" in out
    assert "codes: 3A001, 3B901.a, 3C901.a.1, 3C902" in out.splitlines()
    code, out, _ = cli(capsys, "--db", shared_db, "show", "mofcom:2025:72", "--on", "2026-01-01")
    assert "suspends → mofcom:2024:46 第二款 until 2026-11-27" in out.splitlines()


def test_show_json_includes_versions_and_status(capsys, shared_db) -> None:
    code, out, _ = cli(capsys, "--db", shared_db, "show", K58, "--json", "--on", "2026-11-10")
    data = json.loads(out)
    assert code == 0
    assert list(data) == [*INSPECT_KEYS, "version", "versions", "status", "timeline", "appearances", "document_status"]
    assert [(a["source"], a["reference"], a["authoritative"]) for a in data["appearances"]] == [
        ("mofcom", True, True)]
    assert (data["doc_key"], data["version"], [v["number"] for v in data["versions"]]) == (K58, 2, [1, 2])
    assert data["versions"][0]["created_at"] == "2025-11-10T03:00:00+00:00"
    assert "3C901.b" in data["eccns"]
    assert data["status"] == {"on": "2026-11-10", "status": "suspended", "until": "2026-11-10", "by": [K70],
                              "clauses": [], "note": data["status"]["note"]}
    assert [(c["day"], c["status"], c["until"], c["cause"]) for c in data["timeline"]] == [
        ("2025-10-09", "not_yet_effective", None, None), ("2025-11-08", "suspended", "2026-11-10", K70),
        ("2026-11-11", "in_force", None, K70)]


def test_diff_inline_unified_and_json(capsys, shared_db) -> None:
    code, out, err = cli(capsys, "--db", shared_db, "diff", K58)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:3] == [f"{K58}  v1 → v2", "• code 3C901.b added", "• element Mn added"]
    assert "{+(五)3C901.b 磷酸锰铁锂正极材料及其前驱体。" in out  # marked even without colours
    code, out, _ = cli(capsys, "--db", shared_db, "diff", K58, "1", "2", "--unified")
    assert "+(五)3C901.b 磷酸锰铁锂正极材料及其前驱体。" in out.splitlines() and out.count("@@ -") == 1
    code, out, _ = cli(capsys, "--db", shared_db, "diff", K58, "--json")
    data = json.loads(out)
    assert (data["doc_key"], data["from_version"], data["to_version"], data["deleted_chars"]) == (K58, 1, 2, 0)
    assert data["inserted_chars"] == len("(五)3C901.b 磷酸锰铁锂正极材料及其前驱体。\n")
    assert [(c["field"], c["kind"], c["new"]) for c in data["field_changes"]] == [
        ("code", "added", "3C901.b"), ("element", "added", "Mn")]
    assert "{+" in data["inline"] and data["unified"].startswith("@@ -")
    code, _, err = cli(capsys, "--db", shared_db, "diff", K70)
    assert (code, err) == (1, f"error: {K70} has only version 1 (hint: nothing to compare; see `regwatch show`)\n")


# -- search / status / status-of --------------------------------------------------------------


def test_search(capsys, shared_db) -> None:
    code, out, _ = cli(capsys, "--db", shared_db, "search", "3C901.b")
    assert code == 0 and f"│ {K58}" in out and "（五）3C901.b 磷酸锰铁锂正极材料" in out
    code, out, _ = cli(capsys, "--db", shared_db, "search", "暂停实施", "--json")
    hits = json.loads(out)
    assert sorted(h["doc_key"] for h in hits) == [K70, "mofcom:2025:72"]
    assert all("暂停实施" in h["snippet"] for h in hits)
    code, out, _ = cli(capsys, "--db", shared_db, "search", "不存在的词")
    assert (code, out) == (0, "nothing matches '不存在的词'\n")
    code, out, _ = cli(capsys, "--db", shared_db, "search", "3c901.B", "--json")  # codes: case-insensitive
    assert [h["doc_key"] for h in json.loads(out)] == [K58]
    code, out, _ = cli(capsys, "--db", shared_db, "search", '"3C901.b" OR 暂停')  # user text is never FTS syntax
    assert (code, out) == (0, "nothing matches '\"3C901.b\" OR 暂停'\n")
    code, out, err = cli(capsys, "--db", shared_db, "search", "  ")
    assert (code, out) == (1, "") and err.startswith("error: search text is empty (hint:")


def test_search_normalizes_the_query_like_the_index(capsys, shared_db) -> None:
    _, ascii_out, _ = cli(capsys, "--db", shared_db, "search", "3C901.b", "--json")
    code, wide_out, _ = cli(capsys, "--db", shared_db, "search", "３Ｃ９０１．ｂ", "--json")  # full-width
    assert code == 0 and json.loads(wide_out) == json.loads(ascii_out) != []
    _, joined, _ = cli(capsys, "--db", shared_db, "search", "暂停实施", "--json")
    code, spaced, _ = cli(capsys, "--db", shared_db, "search", "暂停\u00a0实施", "--json")  # NBSP between Han
    assert code == 0 and [h["doc_key"] for h in json.loads(spaced)] == [h["doc_key"] for h in json.loads(joined)] != []


def test_status(capsys, shared_db) -> None:
    code, out, _ = cli(capsys, "--db", shared_db, "status")
    assert code == 0
    [row] = [line for line in out.splitlines() if line.startswith("│ mofcom")]
    assert [c.strip() for c in row.split("│")[1:-1]] == ["mofcom", "商务部", "-", "-", "0", "-", "5", "6"]
    assert out.splitlines()[-1] == ("documents: 5  versions: 6  changes: 6  captures: 6 (0 pending, 0 unreadable)  "
                                    "alerts: 13 pending, 0 held, 0 blocked, 0 dead")
    code, out, _ = cli(capsys, "--db", shared_db, "status", "--json")
    data = json.loads(out)
    assert data["totals"] == {"documents": 5, "versions": 6, "changes": 6, "captures": 6}
    assert data["sources"]["mofcom"] == {"name": "商务部", "last_run_at": None, "last_run_status": None,
                                         "last_run_log": None, "last_run_errors": {}, "consecutive_failures": 0, "documents": 5,
                                         "versions": 6}
    assert (data["pending_alerts"], data["dead_alerts"], data["failed_captures"]) == (13, 0, 0)
    assert (data["deliveries"], data["blocked_sinks"], data["held_sinks"]) == ({"console": {"pending": 13}}, [], [])


@pytest.mark.parametrize(("key", "day", "line"), [
    (K58, "2026-11-10", f"{K58} on 2026-11-10: suspended until 2026-11-10 (by {K70})"),
    (K58, "2026-11-11", f"{K58} on 2026-11-11: in_force"),
    ("mofcom+gacc:2025:56", "2026-11-10", f"mofcom+gacc:2025:56 on 2026-11-10: suspended until 2026-11-10 (by {K70})"),
    ("mofcom:2024:46", "2026-11-27",
     "mofcom:2024:46 on 2026-11-27: partly_suspended [第二款] until 2026-11-27 (by mofcom:2025:72)"),
    ("mofcom:2024:46", "2026-11-28", "mofcom:2024:46 on 2026-11-28: in_force"),
])
def test_status_of(capsys, shared_db, key, day, line) -> None:
    code, out, err = cli(capsys, "--db", shared_db, "status-of", key, "--on", day)
    assert (code, out, err) == (0, line + "\n", "")


def test_status_of_json_suspended_until_d_not_on_d_plus_1(capsys, shared_db) -> None:
    code, out, _ = cli(capsys, "--db", shared_db, "status-of", "mofcom+gacc:2025:56", "--on", "2026-11-10", "--json")
    assert json.loads(out) | {"note": ""} == {"doc_key": "mofcom+gacc:2025:56", "on": "2026-11-10",
                                             "status": "suspended", "until": "2026-11-10", "by": [K70],
                                             "clauses": [], "note": "", "withdrawn": False,
                                             "availability": None}
    code, out, _ = cli(capsys, "--db", shared_db, "status-of", "mofcom+gacc:2025:56", "--on", "2026-11-11", "--json")
    after = json.loads(out)
    # 2025:56 was never fetched: once its suspension has ended it is inferred back in force.
    assert (after["on"], after["status"], after["until"], after["by"]) == ("2026-11-11", "in_force", None, [K70])
    assert after["note"].startswith("inferred: suspension by mofcom+gacc:2025:70 ended 2026-11-10")


# -- inspect -----------------------------------------------------------------------------------


def test_inspect_json_has_exactly_the_stable_keys(capsys, tmp_path) -> None:
    page = PAGES / "2025-70-ergodic" / "body.html"
    code, out, err = cli(capsys, "--db", tmp_path / "never.db", "inspect", page, "--url", URL_70, "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert list(data) == INSPECT_KEYS
    assert (data["source"], data["url"], data["doc_key"], data["issuers"], data["language"]) == (
        "mofcom", URL_70, K70, ["mofcom", "gacc"], "zh")
    assert (data["doc_number"], data["published"]) == ("商务部 海关总署公告2025年第70号", "2025-11-07")
    assert [(r["type"], r["target_key"], r["until"]) for r in data["relations"]] == [
        ("suspends", k, "2026-11-10") for k in ("mofcom+gacc:2025:55", "mofcom+gacc:2025:56", "mofcom+gacc:2025:57",
                                               K58, "mofcom:2025:61", "mofcom:2025:62")]
    assert not (tmp_path / "never.db").exists()  # inspect touches no database


def test_inspect_summary(capsys) -> None:
    page = PAGES / "2025-58-standard" / "body.html"
    code, out, _ = cli(capsys, "inspect", page, "--source", "mofcom")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "商务部 海关总署公告2025年第58号 公布对锂电池和人造石墨负极材料相关物项实施出口管制的决定"
    assert lines[1] == f"mofcom · zh · {page.resolve().as_uri()}"
    assert lines[2] == f"document: 商务部 海关总署公告2025年第58号  key: {K58}"
    assert lines[3:6] == ["published: 2025-10-09", "signed: 2025-10-09", "effective: 2025-11-08"]
    assert "codes: 3A001, 3B901.a, 3C901.a.1, 3C902" in lines
    assert lines[-1].startswith("text: ") and lines[-1].endswith(" characters")
    assert any(line.startswith("attachment: 两用物项出口管制物项清单") for line in lines)


@pytest.mark.parametrize("declaration", [
    '<link rel="canonical" href="{url}">',
    '<meta property="og:url" content="{url}">',
])
def test_inspect_saved_file_without_url_uses_the_page_canonical_url(capsys, tmp_path, declaration) -> None:
    corpus = Path(__file__).resolve().parent / "fixtures" / "corpus"
    url = "https://www.meti.go.jp/press/2026/12/20261203004/20261203004.html"
    html = (corpus / "meti-press-reiwa-effective" / "input.html").read_text(encoding="utf-8")
    saved = tmp_path / "release.html"
    saved.write_text(html.replace("</head>", declaration.format(url=url) + "\n</head>", 1), encoding="utf-8")
    code, out, err = cli(capsys, "inspect", saved, "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert (data["source"], data["url"], data["doc_key"]) == ("meti", url, "meti:press:20261203-004")
    # --url still wins; a canonical URL on a host of no source is ignored (the file URI stays)
    code, out, _ = cli(capsys, "inspect", saved, "--url", "https://www.meti.go.jp/press/2025/01/20260109001/20260109001.html",
                       "--json")
    assert json.loads(out)["doc_key"] == "meti:press:20260109-001"
    saved.write_text(html.replace("</head>", declaration.format(url="https://mirror.example.org/x.html") + "</head>", 1),
                     encoding="utf-8")
    code, out, _ = cli(capsys, "inspect", saved, "--source", "meti", "--json")
    assert code == 0 and json.loads(out)["url"] == saved.resolve().as_uri()


def test_inspect_errors(capsys, tmp_path) -> None:
    code, out, err = cli(capsys, "inspect", PAGES / "error-waf-412" / "body.html", "--source", "mofcom")
    assert (code, out) == (1, "")
    assert err.startswith("error: mofcom: anti-bot challenge page") and "error-waf-412/body.html)" in err
    code, _, err = cli(capsys, "inspect", tmp_path / "missing.html")
    assert (code, err) == (1, f"error: no such file: {tmp_path / 'missing.html'} (hint: pass a saved .html page "
                              "or an http(s) URL)\n")
    binary = tmp_path / "list.pdf"
    binary.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    code, _, err = cli(capsys, "inspect", binary, "--source", "mofcom")
    assert code == 1 and err.startswith(f"error: mofcom: {binary.as_uri()}: unreadable: PDF cannot be read (")
    code, _, err = cli(capsys, "inspect", binary, "--source", "sec")
    assert code == 1 and "unknown source 'sec'; use one of govcn, meti, miit, mofcom or auto" in err


# -- db upgrade / process / deliver -------------------------------------------------------------


def test_db_upgrade(capsys, tmp_path, db) -> None:
    path = tmp_path / "new.db"
    code, out, _ = cli(capsys, "--db", path, "db", "upgrade")
    assert (code, out) == (0, f"database sqlite:///{path} is at schema version {MIGRATIONS.version}\n")
    code, out, _ = cli(capsys, "--db", db, "db", "upgrade")  # up to date: nothing lost
    assert code == 0 and out.endswith(f"is at schema version {MIGRATIONS.version}\n")
    with Store.open(db) as store:
        assert store.status_summary()["totals"]["versions"] == 6


def test_process_command(capsys, tmp_path, page_tools, monkeypatch) -> None:
    monkeypatch.setenv("REGWATCH_NOW", "2025-11-10T03:00:00+00:00")
    path = tmp_path / "p.db"
    with Store.open(path) as store:
        page_tools.register_sources(store)
        for case in ("2025-58-standard", "2025-72-gonggao"):
            page_tools.save(store, case, at=page_tools.T0)
        waf = page_tools.save(store, "error-waf-412", at=page_tools.T0)
    code, out, err = cli(capsys, "--db", path, "process")
    assert code == 0
    # 2025:58 took effect on 2025-11-08, a month after publication: a scheduled deadline just passed.
    assert out == ("processed 2 captures: 2 new documents, 2 new versions, 0 unchanged, 1 failed, "
                   "3 alerts queued; 1 deadline alerts queued\n")
    assert err.startswith("  mofcom: anti-bot challenge page (HTTP 412) (https://www.mofcom.gov.cn/")
    code, out, _ = cli(capsys, "--db", path, "process", "--json")
    assert json.loads(out) == {"processed": 0, "new_documents": 0, "new_versions": 0, "unchanged": 0,
                               "copies": 0, "skipped": 0, "failed": 0, "held": 0, "alerts": 0, "errors": [],
                               "held_reasons": [], "deadline_alerts": 0, "withdrawals": {
                                   "counted": 0, "ignored": 0, "gone": 0, "withdrawn_appearances": 0,
                                   "withdrawn_documents": 0, "restored_appearances": 0, "restored_documents": 0,
                                   "alerts": 0, "ignored_because": {}}}
    code, out, _ = cli(capsys, "--db", path, "process", "--reparse", "--source", "mofcom", "--json")
    report = json.loads(out)
    assert (report["processed"], report["unchanged"], report["new_versions"], report["failed"]) == (2, 2, 0, 1)
    with Store.open(path) as store:
        assert store.capture(waf).state == "failed"
        assert len(store.alerts(limit=100)) == 4
        assert [a.kind for a in store.alerts(limit=100)].count("deadline") == 1


def test_deliver_dry_run_sends_and_records_nothing(capsys, db) -> None:
    code, out, err = cli(capsys, "--db", db, "deliver", "--dry-run")
    assert (code, err) == (0, "")
    assert out.count("\n\n") == 13  # one block per pending alert
    assert f"▲ CHANGED [warning]  mofcom  {K58} — 商务部 海关总署公告2025年第58号" in out
    assert "■ STATUS [critical]  mofcom  mofcom+gacc:2025:56 — mofcom+gacc:2025:56 suspended until 2026-11-10" in out
    assert "code: code 3C901.b added" in out
    with Store.open(db) as store:
        assert len(store.pending_alerts(limit=100)) == 13
        assert all(store.deliveries(a.id) == [] for a in store.alerts(limit=100))


def test_routes_of_the_process_config_hold_when_deliver_runs_without_it(capsys, tmp_path, page_tools) -> None:
    """The cron mistake from issue 7: `process` with schedules.yaml, `deliver` without it. The
    deliveries were planned at enqueue: nothing goes to the console instead of Slack."""
    db = tmp_path / "routed.db"
    with Store.open(db) as store:
        page_tools.register_sources(store)
        for case in BASE:
            page_tools.save(store, case, at=page_tools.T0)
    archive = tmp_path / "out" / "alerts.jsonl"
    config = tmp_path / "schedules.yaml"
    config.write_text(textwrap.dedent(f"""\
        sinks:
          archive: {{kind: jsonl, path: "{archive}"}}
          legal: {{kind: slack, token: {{$env: SLACK_BOT_TOKEN}}, channel: "#export-controls"}}
        routes:
          - {{when: {{kind: [status]}}, to: [legal, archive]}}
        default_route: [archive]
        """), encoding="utf-8")
    code, out, err = cli(capsys, "--db", db, "--config", config, "process")
    assert code == 0 and "alerts queued" in out
    empty = tmp_path / "empty.yaml"
    empty.write_text("{}\n", encoding="utf-8")
    code, out, err = cli(capsys, "--db", db, "--config", empty, "deliver")  # only the built-in console sink
    assert code == 0 and "● " not in out  # nothing printed instead of being sent
    assert out.startswith("delivered 0 (0 found already posted), 0 waiting to retry, 26 held")
    assert "held: 19 for sink 'archive' (not in this configuration)" in err
    code, out, err = cli(capsys, "--db", db, "--config", config, "deliver")
    assert code == 0
    assert out == ("delivered 19 (0 found already posted), 0 waiting to retry, 7 held for an absent or disabled "
                   "sink, 0 blocked, 0 dead\n")
    assert err == ("sink legal disabled: slack: no token (set SLACK_BOT_TOKEN)\n"
                   "  held: 7 for sink 'legal' (slack: no token (set SLACK_BOT_TOKEN))\n")
    lines = [json.loads(line) for line in archive.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 19 and len({x["id"] for x in lines}) == 19
    assert [x["kind"] for x in lines].count("status") == 7

    code, out, _ = cli(capsys, "--db", db, "--config", config, "deliver", "--json")
    report = json.loads(out)
    assert (report["delivered"], report["held"], report["sent"]) == (0, 7, [])
    assert len(archive.read_text(encoding="utf-8").splitlines()) == 19  # nothing sent twice


def test_crawl_the_local_replica(capsys, tmp_path) -> None:
    path = tmp_path / "crawl.db"
    with ReplicaServer(site_path("mofcom")) as replica:
        code, out, err = cli(capsys, "--db", path, "crawl", "mofcom", "--base-url", replica.base_url,
                             "--delay", "0", "--max-pages", "2")
    assert code == 0, err
    assert out.startswith("mofcom: ok — ") and out.endswith(" unchanged, 0 errors\n")
    new = int(out.split("— ")[1].split(" new captures")[0])
    with Store.open(path) as store:
        summary = store.status_summary()
        assert summary["pending_captures"] == summary["totals"]["captures"] == new >= 18
        assert summary["sources"]["mofcom"]["last_run_status"] == "ok"


# -- error paths ---------------------------------------------------------------------------------


def test_unknown_doc_key_is_one_line_with_hint(capsys, shared_db) -> None:
    for command in (["show", "mofcom:2099:1"], ["history", "mofcom:2099:1"], ["diff", "mofcom:2099:1"],
                    ["status-of", "mofcom:2099:1"]):
        code, out, err = cli(capsys, "--db", shared_db, *command)
        assert (code, out) == (1, ""), command
        assert err == "error: no document 'mofcom:2099:1'; try `regwatch history` to list keys\n"


def test_unknown_version(capsys, shared_db) -> None:
    code, _, err = cli(capsys, "--db", shared_db, "show", K58, "--version", "9")
    assert code == 1 and err.startswith(f"error: no version '{K58} v9'; ")


def test_corrupt_database_names_the_path_and_is_left_alone(capsys, tmp_path) -> None:
    path = tmp_path / "corrupt.db"
    junk = os.urandom(8192)
    path.write_bytes(b"\x13\x37" + junk)
    for command in (["history"], ["status"], ["process"]):
        code, out, err = cli(capsys, "--db", path, *command)
        assert (code, out) == (1, "")
        assert err == (f"error: database {path} is not a regwatch database or is corrupt (file is not a database); "
                       "restore it from a backup, or pass --db to use another database\n")
    assert path.read_bytes() == b"\x13\x37" + junk


@pytest.mark.parametrize(("args", "message"), [
    (["history", "--since", "2025-13-01"], "error: --since '2025-13-01' is not a date (hint: use YYYY-MM-DD, "
                                           "e.g. 2026-01-31)\n"),
    (["status-of", K58, "--on", "tomorrow"], "error: --on 'tomorrow' is not a date (hint: use YYYY-MM-DD, "
                                             "e.g. 2026-01-31)\n"),
    (["history", "--bogus"], "error: No such option: --bogus (hint: see `regwatch --help`)\n"),
    (["show"], "error: Missing argument 'doc_key'. (hint: see `regwatch --help`)\n"),
    (["frobnicate"], "error: No such command 'frobnicate'. (hint: see `regwatch --help`)\n"),
    (["history", "--limit", "many"], None),
])
def test_usage_errors_exit_1(capsys, shared_db, args, message) -> None:
    code, out, err = cli(capsys, "--db", shared_db, *args)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and err.startswith("error: ")
    if message is not None:
        assert err == message


def test_missing_directory_and_bad_config(capsys, tmp_path, shared_db) -> None:
    code, _, err = cli(capsys, "--db", tmp_path / "nowhere" / "x.db", "status")
    assert code == 1 and err.startswith(f"error: cannot create database {tmp_path / 'nowhere' / 'x.db'}: directory ")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sinks:\n  archive: {kind: jsonl, path: a.jsonl}\nroutes:\n  - {when: {}, to: [pager]}\n",
                   encoding="utf-8")
    code, _, err = cli(capsys, "--db", shared_db, "--config", bad, "deliver")
    assert (code, err) == (1, f"error: {bad}:4: routes[0].to[0]: unknown sink 'pager' "
                              "(define it under sinks:; known: archive, console)\n")


def test_locked_database_is_a_clear_error_and_loses_nothing(capsys, tmp_path, page_tools, monkeypatch) -> None:
    path = tmp_path / "locked.db"
    with Store.open(path) as store:
        page_tools.register_sources(store)
        capture_id = page_tools.save(store, "2025-58-standard", at=page_tools.T0)
    real_open = Store.open.__func__
    monkeypatch.setattr(Store, "open", classmethod(
        lambda cls, target=None, **kw: real_open(cls, target, **{**kw, "timeout": 0.2})))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, out, err = cli(capsys, "--db", path, "process")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (code, out) == (1, "")
    assert err == (f"error: database {path} stayed locked by another writer for more than 0.2 s; wait for the "
                   "running crawl/process to finish and retry, or check for a stuck regwatch process\n")
    with Store.open(path) as store:
        assert store.capture(capture_id).state == "pending" and store.history() == []
    assert cli(capsys, "--db", path, "process")[0] == 0  # the lock is gone: the capture is processed now
    with Store.open(path) as store:
        assert store.capture(capture_id).state == "processed" and len(store.history()) == 1


def test_internal_error_exits_2(capsys, shared_db, monkeypatch) -> None:
    def boom(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(Store, "status_summary", boom)
    code, out, err = cli(capsys, "--db", shared_db, "status")
    assert (code, out) == (2, "")
    assert err == ("internal error: RuntimeError: boom\n"
                   "please report it with the command you ran (set REGWATCH_DEBUG=1 for a traceback)\n")


# -- two processes ---------------------------------------------------------------------------------

READER = textwrap.dedent("""
    import contextlib, io, json, sys
    from pipeline.cli import main
    db, rounds = sys.argv[1], int(sys.argv[2])
    print("ready", flush=True)
    seen = set()
    for _ in range(rounds):
        for args in (["history", "--json", "--limit", "1000"], ["status", "--json"]):
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(["--db", db, *args])
            if code != 0:
                print("FAILED", args, code, err.getvalue(), flush=True)
                sys.exit(1)
            if args[0] == "history":
                seen.add(len(json.loads(out.getvalue())))
    print("ok", len(seen), flush=True)
""")


def test_cli_reader_and_process_writer_never_lock(tmp_path, page_tools) -> None:
    path = tmp_path / "shared.db"
    script = tmp_path / "reader.py"
    script.write_text(READER, encoding="utf-8")
    with Store.open(path) as store:
        page_tools.register_sources(store)
        reader = subprocess.Popen([sys.executable, str(script), str(path), "40"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        assert reader.stdout.readline().strip() == "ready"
        now, writes = page_tools.T0, 0
        while reader.poll() is None:  # alternate two bodies of one page: a new version every round
            case = ("2025-58-standard", "2025-58-edited-state2")[writes % 2]
            now += timedelta(hours=1)
            page_tools.save(store, case, at=now)
            report = process_pending(store, now=now)
            assert report.new_versions == 1
            writes += 1
        out, err = reader.communicate(timeout=60)
        assert reader.returncode == 0, out + err
        assert "locked" not in out + err
        assert writes > 3
        assert int(out.split()[-1]) > 1, "the reader never saw the writer's progress: no overlap was tested"
        assert store.document(K58).latest_version == writes


def test_scraped_text_is_printed_literally_never_as_markup(capsys, tmp_path, page_tools) -> None:
    body, _ = page_tools.read("mofcom", "MofcomNoticePage", "2025-58-standard")
    body = body.replace("公布对锂电池".encode(), "[/x][red]公布对锂电池".encode())
    path = tmp_path / "m.db"
    with Store.open(path) as store:
        page_tools.register_sources(store)
        page_tools.save(store, "2025-58-standard", at=page_tools.T0, body=body)
        process_pending(store, now=page_tools.T0)
    title = "商务部 海关总署公告2025年第58号 [/x][red]公布对锂电池和人造石墨负极材料相关物项实施出口管制的决定"
    code, out, err = cli(capsys, "--db", path, "show", K58)
    assert (code, err) == (0, "") and out.splitlines()[0] == f"{K58}  {title}"
    code, out, err = cli(capsys, "--db", path, "history")
    assert (code, err) == (0, "") and "[/x][red]公布对锂电池" in out
    code, out, err = cli(capsys, "--db", path, "search", "[/x]")
    assert (code, err) == (0, "") and "[/x][red]公布对锂电池" in out
    page = tmp_path / "page.html"
    page.write_bytes(body)
    code, out, err = cli(capsys, "inspect", page, "--source", "mofcom")
    assert (code, err) == (0, "") and out.splitlines()[0] == title


def test_deadlines_command(capsys, shared_db) -> None:
    code, out, err = cli(capsys, "--db", shared_db, "deadlines", "--on", "2026-11-23")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == ("2026-11-27  in 4 day(s)    mofcom:2024:46 (第二款) partly suspended until 2026-11-27; "
                                    "in force from 2026-11-28  (by mofcom:2025:72)")
    assert ("2026-11-10  passed         mofcom+gacc:2025:56 suspended until 2026-11-10; in force from 2026-11-11  "
            "(by mofcom+gacc:2025:70)") in out.splitlines()
    code, out, _ = cli(capsys, "--db", shared_db, "deadlines", "--on", "2026-11-23", "--json")
    rows = json.loads(out)
    last = rows[-1]
    assert (last["doc_key"], last["day"], last["starts"], last["days_left"], last["before"]["status"],
            last["after"]["status"], last["by"]) == ("mofcom:2024:46", "2026-11-27", "2026-11-28", 4,
                                                      "partly_suspended", "in_force", ["mofcom:2025:72"])
    code, out, _ = cli(capsys, "--db", shared_db, "deadlines", "--on", "2026-12-31", "--past", "0")
    assert (code, out) == (0, "no deadlines between 2026-12-31 and 2027-03-31\n")


def test_regwatch_now_must_be_an_aware_datetime(capsys, shared_db, monkeypatch) -> None:
    monkeypatch.setenv("REGWATCH_NOW", "2026-11-23 10:00")
    code, _, err = cli(capsys, "--db", shared_db, "deadlines")
    assert code == 1 and "REGWATCH_NOW='2026-11-23 10:00' is not an aware ISO datetime" in err


# -- global options after the command ---------------------------------------------------------


def test_global_options_after_the_command_work(capsys, shared_db) -> None:
    before = cli(capsys, "--db", shared_db, "history", "--source", "miit")
    assert before[0] == 0 and before[1]
    assert cli(capsys, "history", "--db", shared_db, "--source", "miit") == before
    assert cli(capsys, "history", "--source", "miit", f"--db={shared_db}") == before


def test_global_option_twice_or_without_value_is_a_clear_error(capsys, shared_db) -> None:
    code, out, err = cli(capsys, "--db", shared_db, "history", "--db", shared_db)
    assert (code, out) == (1, "")
    assert err == "error: --db is given twice (hint: give it once, before the command: regwatch --db VALUE COMMAND …)\n"
    code, _, err = cli(capsys, "history", "--db")
    assert code == 1 and err.startswith("error: --db needs a value") and "regwatch --db FILE history" in err


def test_hoisting_leaves_values_after_double_dash_alone() -> None:
    from pipeline.cli import hoist_globals

    assert hoist_globals(["search", "--", "--db"]) == ["search", "--", "--db"]
    assert hoist_globals(["--db", "a.db", "demo", "--keep"]) == ["--db", "a.db", "demo", "--keep"]
    assert hoist_globals(["alerts", "list", "--config", "c.yaml", "--kind", "new"]) == [
        "--config", "c.yaml", "alerts", "list", "--kind", "new"]
