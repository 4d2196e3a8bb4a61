"""``regwatch demo``: the 2026-11-10 story on the four replicas with a simulated clock.

Three runs, once for the module: two fresh runs in two directories (the second with the global
options written after the command) must print the same text; the first one's database is then
played again (kept database: nothing new, nothing twice). Both fresh runs route their alerts to a
JSONL sink of their own ``--config``.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.cli import main
from store import Store

SIX = ("mofcom+gacc:2025:55", "mofcom+gacc:2025:56", "mofcom+gacc:2025:57", "mofcom+gacc:2025:58",
       "mofcom:2025:61", "mofcom:2025:62")
K58, K70, K96, K62 = "mofcom+gacc:2025:58", "mofcom+gacc:2025:70", "mofcom+gacc:2026:96", "mofcom:2025:62"
CONFIG = """\
sinks:
  mine: {kind: jsonl, path: my-alerts.jsonl}
routes:
  - {when: {kind: [new, changed, withdrawn, status, deadline, source_health]}, to: [mine]}
default_route: [mine]
"""
# The module's fixture plays the whole story three times (about 20-40 s each on a fast machine,
# 2 minutes each on a slow shared one): the default 120 s guard against hangs would fail a healthy run.
pytestmark = pytest.mark.timeout(900)
HEAD = re.compile(r"^[●▲■] (NEW|CHANGED|STATUS|DEADLINE|SOURCE HEALTH|WITHDRAWN)  (\S+)  \((\w+)\)$")


@dataclass
class Played:
    code: int
    out: str
    err: str
    dir: Path


def play(directory: Path, args: list[str], monkeypatch: pytest.MonkeyPatch) -> Played:
    directory.mkdir(exist_ok=True)
    (directory / "demo.yaml").write_text(CONFIG, encoding="utf-8")
    monkeypatch.chdir(directory)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return Played(code, out.getvalue(), err.getvalue(), directory)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Played, Played, Played, dict]:
    root = tmp_path_factory.mktemp("demo")
    mp = pytest.MonkeyPatch()
    mp.setenv("COLUMNS", "200")
    for name in ("REGWATCH_DB", "REGWATCH_CONFIG", "REGWATCH_NOW", "SLACK_BOT_TOKEN"):
        mp.delenv(name, raising=False)
    try:
        first = play(root / "one", ["--db", "demo.db", "--config", "demo.yaml", "demo"], mp)
        second = play(root / "two", ["demo", "--db", "demo.db", "--config", "demo.yaml"], mp)
        with Store.open(root / "one" / "demo.db") as store:
            before = snapshot(store)
        again = play(root / "one", ["--db", "demo.db", "demo"], mp)
    finally:
        mp.undo()
    return first, second, again, before


def snapshot(store: Store) -> dict:
    docs = store.documents()
    return {"documents": sorted((d.key or d.canonical_url, d.latest_version, d.status) for d in docs),
            "appearances": sorted((d.key or d.canonical_url, a.source, a.url) for d in docs for a in store.appearances(d.id)),
            "alerts": len(store.alerts(limit=None))}


def step(out: str, caption: str) -> str:
    """The output of the step whose rule line holds ``caption``, up to the next rule line."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("── ") and caption in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("── ")), len(lines))
    return "\n".join(lines[start:end])


def heads(text: str) -> list[tuple[str, str, str]]:
    """``(kind, key, severity)`` of every alert block in ``text``."""
    return [(m[1], m[2], m[3]) for m in map(HEAD.match, text.splitlines()) if m]


def blocks(text: str, kind: str) -> dict[str, str]:
    """Alert blocks of ``kind`` by key (a block: its head line and the indented lines below it)."""
    out, current = {}, None
    for line in text.splitlines():
        m = HEAD.match(line)
        if m:
            current = m[2] if m[1] == kind else None
            if current:
                out[current] = line
        elif current and line.startswith("  "):
            out[current] += "\n" + line
        else:
            current = None
    return out


def test_runs_cleanly_and_the_same_every_time(runs) -> None:
    first, second, again, _ = runs
    for played in runs[:3]:
        assert played.code == 0, played.err
        assert "Traceback" not in played.out + played.err
    assert first.out == second.out  # the clock is simulated; no port, path or wall-clock time is printed
    assert not re.search(r"127\.0\.0\.1:(?!8787)", first.out)  # no replica URL


def test_october_new_documents_with_codes_and_effective_dates(runs) -> None:
    text = step(runs[0].out, "MOFCOM publishes Nos. 55-58")
    assert sorted(k for kind, k, _ in heads(text) if kind == "NEW") == sorted(SIX)
    assert [kind for kind, _, _ in heads(text)] == ["NEW"] * 6
    new = blocks(text, "NEW")
    for key in SIX[:4]:
        assert "Effective 2025-11-08" in new[key] and "· Codes " in new[key]
    assert "  » MOFCOM/GACC Announcement 2025 No. 55 lists 3 control codes (1C920.a, 1C920.b, 2B920), " \
           "effective 2025-11-08" in new["mofcom+gacc:2025:55"]
    assert "Codes 3A001, 3B901.a, 3C901.a.1, 3C902" in new[K58]


def test_baseline_alerts_are_listed_not_hidden(runs) -> None:
    text = step(runs[0].out, "Before the story")
    assert ("13 alerts about what was already there, one line each (in full: regwatch --db demo.db alerts list, "
            "then alerts show ID):") in text
    assert len(re.findall(r"^     NEW ", text, re.M)) == 13


def test_suspension_status_alerts_with_until_and_evidence_once(runs) -> None:
    text = step(runs[0].out, "No. 70 suspends")
    assert heads(text) == [("NEW", "mofcom", "info"), ("NEW", K70, "warning")] + [
        ("STATUS", key, "critical") for key in sorted(SIX)]
    status = blocks(text, "STATUS")
    for key in SIX:
        assert status[key].splitlines()[1:4] == [
            "  suspended until 2026-11-10",
            "  » MOFCOM/GACC Announcement 2025 No. 70 suspends 6 announcements until 2026-11-10",
            f"  By {K70} · Until 2026-11-10"]
    assert text.count("Evidence (mofcom+gacc:2025:70): 自即日起至2026年11月10日暂停实施商务部 海关总署公告2025年第55号") == 1
    assert text.count(f"Evidence: as quoted above for {K70}") == 5


def test_edit_is_an_amended_alert_with_the_field_diff(runs) -> None:
    text = step(runs[0].out, "MOFCOM edits No. 58")
    assert heads(text) == [("CHANGED", K58, "warning")]
    block = blocks(text, "CHANGED")[K58]
    assert "  1 code added; 1 element added; text: +27/−0 chars" in block
    assert "  • code 3C901.b added" in block and "  • element Mn added" in block
    assert "    {+(五)3C901.b 磷酸锰铁锂正极材料及其前驱体。" in block


def test_miit_and_govcn_documents_and_the_reprint_linked_without_alert(runs) -> None:
    text = step(runs[0].out, "MIIT and gov.cn publish")
    keys = [k for kind, k, _ in heads(text)]
    assert {"miit+ndrc+mnr:order:71", "miit:工信部原:2025:118", "state-council:order:785"} <= set(keys)
    assert K62 not in keys and keys.count("miit+ndrc+mnr:order:71") == 1  # copies raise no second alert
    assert (f"   copy linked to its document, no alert: {K62} also appears on govcn "
            "(https://www.gov.cn/zhengce/zhengceku/202510/content_7043519.htm)") in text
    assert "copy linked to its document, no alert: miit+ndrc+mnr:order:71 also appears on govcn" in text


def test_meti_japanese_release_with_an_era_date(runs) -> None:
    text = step(runs[0].out, "METI reacts")
    block = blocks(text, "NEW")["meti:press:20260619-003"]
    assert "永久磁石に係る安定供給確保を図るための取組方針を改訂しました" in block
    assert "  » METI press release of 2026-06-19 concerns Dy, Sm" in block  # 令和8年6月19日
    assert "Published 2026-06-19" in block


def test_layout_break_one_health_alert_nothing_deleted_then_recovery(runs) -> None:
    broken = step(runs[0].out, "changes its layout")
    assert broken.count("crawl mofcom (replica state demo-broken): failed") == 3
    assert heads(broken) == [("SOURCE HEALTH", "mofcom", "critical")]
    assert "mofcom: 3 crawls in a row failed (layout)" in broken
    back = step(runs[0].out, "reads MOFCOM's list again")
    assert heads(back) == [("SOURCE HEALTH", "mofcom", "info")]
    assert "mofcom: crawling works again after 3 failed runs since 2026-07-01 04:00 UTC" in back
    with Store.open(runs[0].dir / "demo.db") as store:
        assert {d.status for d in store.documents()} == {"active"}
    assert "WITHDRAWN" not in runs[0].out


@pytest.mark.parametrize(("caption", "when"), [("30 days before", "in 30 day(s)"), ("7 days before", "in 7 day(s)"),
                                               ("1 day before", "in 1 day(s)"), ("The last day", "today")])
def test_deadline_reminders_on_each_lead_day(runs, caption: str, when: str) -> None:
    text = step(runs[0].out, caption)
    assert [(kind, key) for kind, key, _ in heads(text)] == [("DEADLINE", key) for key in sorted(SIX)]
    for key, block in blocks(text, "DEADLINE").items():
        assert block.splitlines()[1] == f"  Deadline {when}: suspended until 2026-11-10; in force from 2026-11-11"
        assert f"By {K70}" in block


def test_extension_changes_status_and_rearms_reminders(runs) -> None:
    text = step(runs[0].out, "extends the suspension")
    assert heads(text)[:2] == [("NEW", K96, "warning"), ("STATUS", K70, "critical")]
    assert [key for kind, key, _ in heads(text)[2:]] == sorted(SIX)
    assert ("  » MOFCOM/GACC Announcement 2026 No. 96 extends the suspension of MOFCOM/GACC Announcement 2025 "
            "No. 70 until 2027-01-10") in blocks(text, "STATUS")[K70]
    for block in blocks(text, "DEADLINE").values():
        assert block.splitlines()[1].startswith(f"  Deadline moved from 2026-11-10 to 2027-01-10 by {K96}: suspended "
                                                "until 2027-01-10")
    assert "   no alert" in step(runs[0].out, "The old end date passes")  # no "passed" for the moved date
    later = step(runs[0].out, "Reminders run for the new end date")
    assert [key for _, key, _ in heads(later)] == sorted(SIX)
    assert all("Deadline in 30 day(s): suspended until 2027-01-10" in b for b in blocks(later, "DEADLINE").values())


def test_summary_table_and_next_queries(runs) -> None:
    out = runs[0].out
    table = step(out, "Documents and their legal status on 2026-12-11")
    rows = [line.split() for line in table.splitlines()[2:] if line.startswith("  ") and not line.startswith("  32")]
    assert len(rows) == 32
    by_key = {r[0]: r for r in rows if r[0] != "-"}
    for key in SIX:
        assert by_key[key][3:6] == ["suspended", "until", "2027-01-10"]
    assert by_key[K62][1] == "govcn+mofcom" and by_key[K96][2] == "2026-11-10"
    assert "商务部 海关总署公告2025年第70号 关于暂停实施有关出口管制措施的公告" in table
    assert "  32 documents; alerts raised in this run: 1 changed, 36 deadline, 32 new, 2 source health, 7 status" in table
    queries = step(out, "Next: ask the database questions")
    assert "  regwatch --db demo.db status-of mofcom+gacc:2025:55 --on 2026-12-11" in queries
    assert "  regwatch --db demo.db diff mofcom+gacc:2025:58" in queries


def test_config_routes_every_alert_to_the_users_jsonl_sink(runs) -> None:
    first = runs[0]
    assert "Alerts go to the sinks of demo.yaml (console, mine), routed by its routes" in first.out
    lines = [json.loads(line) for line in (first.dir / "my-alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 78 == len(heads(first.out)) + 13
    assert [a["kind"] for a in lines].count("status") == 7
    status = next(a for a in lines if a["kind"] == "status" and a["doc_key"] == K58)
    assert status["headline"] == "MOFCOM/GACC Announcement 2025 No. 70 suspends 6 announcements until 2026-11-10"
    assert status["url"].startswith("https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/")  # the source's URL, not the replica's


def test_rerun_on_a_kept_database_adds_nothing(runs) -> None:
    _, _, again, before = runs
    assert "The database already holds 32 documents: what it knows already raises no alert again." in again.out
    assert heads(again.out) == [] and "alerts about what was already there" not in again.out
    assert "copy linked" not in again.out
    with Store.open(again.dir / "demo.db") as store:
        assert snapshot(store) == before
    # the first run's JSONL sink is not written by a run without --config
    assert len((again.dir / "my-alerts.jsonl").read_text(encoding="utf-8").splitlines()) == 78


README = Path(__file__).resolve().parents[1] / "README.md"


def readme_block(after: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return text[text.index(after):].split("```")[1].strip("\n").splitlines()


def test_readme_demo_excerpt_is_what_the_demo_prints(runs) -> None:
    printed = set(runs[0].out.splitlines())
    excerpt = [line for line in readme_block("commands to run next. Excerpts:") if line != "…"]
    assert len(excerpt) > 15 and [line for line in excerpt if line not in printed] == []


def test_readme_session_commands_print_what_the_readme_shows(runs, monkeypatch: pytest.MonkeyPatch) -> None:
    import shlex

    monkeypatch.chdir(runs[0].dir)
    monkeypatch.setenv("COLUMNS", "200")
    session, command = {}, None
    for line in readme_block("Then, on the same database:"):
        if line.startswith("$ regwatch "):
            command = line[2:]
            session[command] = []
        elif line and line != "…" and command:
            session[command].append(line)
    assert len(session) >= 6
    for command, shown in session.items():
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(shlex.split(command)[1:]) == 0, command
        lines = out.getvalue().splitlines()
        assert [line for line in shown if line not in lines] == [], command
