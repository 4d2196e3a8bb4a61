"""``regwatch demo``: the whole path offline (replica crawl x2, process, deliver, status), run once."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from pipeline.cli import main
from store import Store

K58 = "mofcom+gacc:2025:58"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, str, Path]:
    """Run the demo once into a file database; ``(exit code, stdout, stderr, db path)``."""
    path = tmp_path_factory.mktemp("demo") / "d.db"
    mp = pytest.MonkeyPatch()
    mp.setenv("COLUMNS", "200")
    mp.chdir(path.parent)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--db", str(path), "demo", "--on", "2026-11-23"])
    finally:
        mp.undo()
    return code, out.getvalue(), err.getvalue(), path


def section(text: str, title: str) -> str:
    """The demo output from the rule line holding ``title`` up to the next rule line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if title in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("─")), len(lines))
    return "\n".join(lines[start:end])


def test_demo_exits_cleanly(demo) -> None:
    code, out, err, _ = demo
    assert code == 0, err
    assert "Traceback" not in out + err
    for title in ("1. First crawl of the MOFCOM replica", "2. The site changes: a new announcement, an edited one",
                  "3. What the relations mean on the calendar"):
        assert title in out


def test_first_crawl_lists_documents_and_status_alerts(demo) -> None:
    _, out, _, _ = demo
    first = section(out, "1. First crawl")
    assert "crawl: ok · " in first and " · 0 errors" in first
    assert "process: 18 new documents · 18 new versions · 0 unchanged · 0 unreadable · " in first
    assert "documents found" in first
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in first.splitlines() if line.startswith("│ mofcom")}
    assert rows[K58] == ["2025-10-09", "2025-11-08", "3A001, 3B901.a, 3C901.a.1, 3C902"]
    assert rows["mofcom+gacc:2025:70"][0] == "2025-11-07"
    assert rows["mofcom+gacc:2025:70"][2] == "suspends 6 document(s)"
    assert rows["mofcom+gacc:2025:18"][2] == "1C902.a, 1C903, 1C904"
    assert "■ STATUS [critical]  mofcom  mofcom+gacc:2025:56 — mofcom+gacc:2025:56 suspended until 2026-11-10" in first
    assert "■ STATUS [critical]  mofcom  mofcom:2024:46 — mofcom:2024:46 (第二款) suspended until 2026-11-27" in first
    assert "CHANGED" not in first


def test_second_crawl_shows_the_edit_and_the_new_announcement(demo) -> None:
    _, out, _, _ = demo
    second = section(out, "2. The site changes")
    assert "process: 1 new documents · 2 new versions · 0 unchanged · 0 unreadable · 2 alerts queued" in second
    assert f"▲ CHANGED [warning]  mofcom  {K58} — 商务部 海关总署公告2025年第58号" in second
    assert "  code: code 3C901.b added" in second
    assert "    {+(五)3C901.b 磷酸锰铁锂正极材料及其前驱体。" in second  # the alert's diff
    assert "● NEW  mofcom  mofcom:2026:1 — 商务部公告2026年第1号" in second
    assert f"{K58} v1 → v2: 1 code added" in second
    assert "{+(五)3C901.b" in second.split(f"{K58} v1 → v2")[1]  # the change's inline diff, marked


def test_calendar_section_shows_status_around_each_deadline(demo) -> None:
    _, out, _, _ = demo
    lines = section(out, "3. What the relations mean").splitlines()
    assert (f"{K58} suspended until 2026-11-10; in force from 2026-11-11  (by mofcom+gacc:2025:70)"
            in lines)
    after = lines[lines.index(f"{K58} suspended until 2026-11-10; in force from 2026-11-11  (by mofcom+gacc:2025:70)"):]
    assert after[1:3] == ["  on 2026-11-10: suspended until 2026-11-10", "  on 2026-11-11: in_force"]
    i = lines.index("mofcom:2024:46 (第二款) partly suspended until 2026-11-27; in force from 2026-11-28  (by mofcom:2025:72)")
    assert lines[i + 1:i + 3] == ["  on 2026-11-27: partly_suspended until 2026-11-27", "  on 2026-11-28: in_force"]
    # changes that took effect on publication are not deadlines
    assert not any("not yet effective; in force from" in line for line in lines)


def test_deadline_reminders_on_the_pinned_day(demo) -> None:
    _, out, _, _ = demo
    text = section(out, "4. Deadline reminders on 2026-11-23")
    assert "7 deadline alerts queued for 2026-11-23:" in text
    assert ("Deadline passed: mofcom+gacc:2025:56 suspended until 2026-11-10; in force from 2026-11-11"
            in text)
    assert ("Deadline in 4 day(s): mofcom:2024:46 (第二款) partly suspended until 2026-11-27; in force from 2026-11-28"
            in text)
    assert "Tags: deadline:coming, lead:7, status:in_force" in text


def test_demo_database_afterwards(demo) -> None:
    path = demo[3]
    with Store.open(path) as store:
        summary = store.status_summary()
        assert summary["totals"]["documents"] == 19
        assert (summary["pending_captures"], summary["failed_captures"], summary["pending_alerts"]) == (0, 0, 0)
        doc = store.document(K58)
        assert doc.latest_version == 2
        assert "3C901.b" in {t.value for t in store.tags(store.version(doc.id, 2).id) if t.kind == "code"}
        assert store.document("mofcom:2026:1").latest_version == 1
        assert [r.type for r in store.relations_to(K58)] == ["suspends"]
        assert {r.source for r in store.runs()} == {"mofcom"} and len(store.runs()) == 2
