"""Copies and appearances: a reprint on another site is not an amendment (issue 8).

Observed: MIIT and gov.cn crawled into one database, gov.cn's copy of the same order became
version 2 of the MIIT document and raised CHANGED ("title changed; 1 attachment removed; text:
+0/−102 chars"), and the crawl order decided the direction of that fake diff. Here the same
order (工业和信息化部 国家发展改革委 自然资源部令第71号) is read from the MIIT and gov.cn replica
sites (crawlers/replica_sites; gov.cn's reprint omits 第二条, the signatures and the PDF) in both
crawl orders, on SQLite and PostgreSQL, through ``process_pending`` and the CLI.
"""

from __future__ import annotations

import doctest
import importlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.core.authority import DEFAULT_AUTHORITY, authoritative_source
from pipeline.cli import main
from pipeline.process import process_pending
from store import Store

REPLICAS = Path(__file__).resolve().parents[2] / "crawlers" / "replica_sites"
T0 = datetime(2025, 11, 10, 3, 0, tzinfo=timezone.utc)
KEY = "miit+ndrc+mnr:order:71"
HEADERS = {"Content-Type": "text/html; charset=utf-8", "Server": "nginx"}
PAGES = {
    "miit": ("https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2025/art_a6180d57b5c191dc3b7b4fca7be0918d.html",
             REPLICAS / "miit/base/zwgk/zcwj/wjfb/tz/art/2025/art_a6180d57b5c191dc3b7b4fca7be0918d.html"),
    "govcn": ("https://www.gov.cn/zhengce/zhengceku/202508/content_7037412.htm",
              REPLICAS / "govcn/base/zhengce/zhengceku/202508/content_7037412.htm"),
}
ARTICLE_2 = "第二条国家对稀土开采和稀土冶炼分离实行总量调控管理"  # canonical form (no space between Han), as diffs show it
ORDERS = {"miit-first": ("miit", "govcn"), "govcn-first": ("govcn", "miit")}


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL (or file path) of an empty database with the four sources, on each backend."""
    if request.param == "sqlite":
        yield from _with_sources(str(tmp_path / "regwatch.db"))
    else:
        yield from _with_sources(request.getfixturevalue("pg_url_factory")())


def _with_sources(url) -> Iterator[str]:
    with Store.open(url, at=T0) as s:
        for slug in ("mofcom", "miit", "govcn", "meti"):
            s.ensure_source(slug, slug, f"https://{slug}.example", at=T0)
    yield url.render_as_string(hide_password=False) if isinstance(url, sa.URL) else url


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    s = Store.open(db)
    yield s
    s.close()


def capture(store: Store, source: str, hours: float, body: bytes | None = None) -> int:
    url, path = PAGES[source]
    capture_id, _ = store.save_capture(source=source, url=url, final_url=url, status=200, headers=HEADERS,
                                       body=path.read_bytes() if body is None else body,
                                       fetched_at=T0 + timedelta(hours=hours))
    return capture_id


def edited(source: str, old: str, new: str) -> bytes:
    body = PAGES[source][1].read_bytes()
    assert body.count(old.encode()) == 1
    return body.replace(old.encode(), new.encode())


def crawl_both(store: Store, order: tuple[str, str]) -> dict[str, object]:
    """Capture and process the order on each site in ``order``, an hour apart; the two reports."""
    reports = {}
    for hours, source in enumerate(order):
        capture(store, source, hours)
        reports[source] = process_pending(store, now=T0 + timedelta(hours=hours)).as_dict()
    return reports


def kinds(items) -> Counter:
    return Counter(item.kind for item in items)


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
def test_a_reprint_is_an_appearance_not_an_amendment(store: Store, order) -> None:
    reports = crawl_both(store, order)
    assert store.document_keys() == [KEY]  # exactly one document
    doc = store.document(KEY)
    changes = store.changes(doc.id)
    assert kinds(changes)["new"] == 1 and kinds(changes)["changed"] == 0
    assert kinds(store.alerts(limit=100)) == {"new": 1}  # no CHANGED alert in either order
    [new_alert] = store.alerts(limit=100)
    assert new_alert.source == order[0]  # the copy seen first founds the document

    appearances = {a.source: a for a in store.appearances(doc.id)}
    assert [a.source for a in store.appearances(doc.id)] == list(order)  # in order of first sighting
    assert {s: a.reference for s, a in appearances.items()} == {"miit": True, "govcn": False}
    assert {s: a.url for s, a in appearances.items()} == {s: PAGES[s][0] for s in PAGES}
    assert {s: a.status for s, a in appearances.items()} == {"miit": "active", "govcn": "active"}
    assert appearances["govcn"].content_hash != appearances["miit"].content_hash  # each copy keeps its own text
    assert ARTICLE_2 not in appearances["govcn"].canonical_text
    latest = store.latest_version(doc.id)
    assert (latest.source, latest.url) == ("miit", PAGES["miit"][0])  # the legal text is MIIT's
    assert ARTICLE_2 in latest.canonical_text
    assert appearances["miit"].version_id == latest.id
    assert doc.title == latest.title

    if order[0] == "miit":
        assert [c.kind for c in changes] == ["new"] and doc.latest_version == 1
        assert appearances["govcn"].version_id is None
        assert reports["govcn"]["copies"] == 1 and reports["govcn"]["new_versions"] == 0
    else:  # gov.cn founded it; MIIT's text became the reference without a diff alert
        assert [c.kind for c in changes] == ["new", "reference"] and doc.latest_version == 2
        reference = changes[1]
        assert reference.summary == "reference text from miit (was the copy from govcn)"
        assert (reference.from_version_id, reference.to_version_id) == (store.version(doc.id, 1).id, latest.id)
        assert reference.text_diff  # the copy difference is kept for inspection
        assert appearances["govcn"].version_id == store.version(doc.id, 1).id
        assert reports["miit"]["alerts"] == 0 and reports["miit"]["copies"] == 0


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
def test_a_real_edit_on_the_authoritative_copy_alerts_and_an_edit_of_the_copy_does_not(store: Store, order) -> None:
    crawl_both(store, order)
    doc = store.document(KEY)
    versions_before = doc.latest_version

    capture(store, "govcn", 5, edited("govcn", "本办法自公布之日起施行。", "本办法自2025年9月1日起施行。"))
    report = process_pending(store, now=T0 + timedelta(hours=5))
    assert (report.copies, report.new_versions, report.alerts) == (1, 0, 0)
    copy = store.appearance(doc.id, "govcn")
    assert "本办法自2025年9月1日起施行" in copy.canonical_text and copy.version_id is None
    assert copy.last_seen == T0 + timedelta(hours=5)
    assert store.document(KEY).latest_version == versions_before

    capture(store, "miit", 6, edited("miit", "实施动态管理", "实施年度动态管理"))
    report = process_pending(store, now=T0 + timedelta(hours=6))
    assert (report.new_versions, report.copies) == (1, 0)
    [changed] = [a for a in store.alerts(limit=100) if a.kind == "changed"]
    assert (changed.source, changed.doc_key) == ("miit", KEY)
    assert "{+年度+}" in changed.payload["diff_text"]
    last = store.changes(doc.id)[-1]
    assert last.kind == "changed" and last.summary.startswith("text: +2/−0 chars")
    assert kinds(store.alerts(limit=100)) == {"new": 1, "changed": 1}

    assert store.requeue_captures(source="govcn") == 2  # a reparse of the copies makes nothing new
    again = process_pending(store, now=T0 + timedelta(hours=7))
    assert (again.copies, again.new_versions, again.alerts, again.new_documents) == (2, 0, 0, 0)
    reparsed = store.appearance(doc.id, "govcn")
    assert reparsed.canonical_text == copy.canonical_text  # the latest capture is read last and wins
    assert reparsed.capture_id == copy.capture_id


def test_authority_comes_from_the_configured_table(store: Store, tmp_path: Path) -> None:
    """``authority: {miit: govcn}`` makes gov.cn the reference for MIIT orders: MIIT's page is then the copy."""
    crawl_first = capture(store, "miit", 0)
    process_pending(store, now=T0, authority={**DEFAULT_AUTHORITY, "miit": "govcn"})
    capture(store, "govcn", 1)
    report = process_pending(store, now=T0 + timedelta(hours=1), authority={**DEFAULT_AUTHORITY, "miit": "govcn"})
    doc = store.document(KEY)
    assert {a.source: a.reference for a in store.appearances(doc.id)} == {"miit": False, "govcn": True}
    assert [c.kind for c in store.changes(doc.id)] == ["new", "reference"] and report.alerts == 0
    assert store.version(doc.id, 1).capture_id == crawl_first
    assert store.latest_version(doc.id).source == "govcn"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no ./schedules.yaml
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("REGWATCH_DB", "REGWATCH_CONFIG", "REGWATCH_DEBUG", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
def test_show_lists_appearances_and_diff_between_compares_the_copies(capsys, cli_env, tmp_path, order) -> None:
    db = str(tmp_path / "cli.db")  # SQLite: the CLI opens its own store per command
    with Store.open(db, at=T0) as store:
        for slug in PAGES:
            store.ensure_source(slug, slug, at=T0)
        crawl_both(store, order)
    code, out, err = cli(capsys, "--db", db, "show", KEY, "--on", "2025-11-10")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    start = lines.index("appearances:")
    end = lines.index("timeline:") if "timeline:" in lines else len(lines)
    rows = {line.split()[0]: line for line in lines[start + 1:end]}
    assert list(rows) == list(order)
    first = {order[0]: "2025-11-10 03:00", order[1]: "2025-11-10 04:00"}
    for source, role in (("miit", "reference, authoritative"), ("govcn", "copy")):
        assert re.fullmatch(rf"  {source} +{role} +active +first {first[source]}  last {first[source]}  "
                            rf"{re.escape(PAGES[source][0])}", rows[source]), rows[source]

    code, out, _ = cli(capsys, "--db", db, "show", KEY, "--json")
    shown = {a["source"]: (a["reference"], a["authoritative"], a["status"], a["urls"])
             for a in json.loads(out)["appearances"]}
    assert code == 0 and shown == {"miit": (True, True, "active", [PAGES["miit"][0]]),
                                   "govcn": (False, False, "active", [PAGES["govcn"][0]])}

    code, out, err = cli(capsys, "--db", db, "diff", KEY, "--between", "miit", "govcn")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"{KEY}  miit → govcn"
    assert lines[1].startswith("• title 工业和信息化部 国家发展改革委 自然资源部令第71号 ")
    # gov.cn's copy is dated by the order's 成文日期; MIIT's own page by its posting time
    assert lines[2] == "• published date 2025-08-22 → 2025-07-28"
    assert lines[3].startswith("• attachment 稀土开采和稀土冶炼分离总量调控管理暂行办法.pdf (") and lines[3].endswith(" removed")
    assert f"[-{ARTICLE_2}" in out  # what gov.cn's reprint leaves out
    code, out, _ = cli(capsys, "--db", db, "diff", KEY, "--between", "govcn", "miit", "--json")
    data = json.loads(out)
    assert (data["from_source"], data["to_source"], data["from_url"], data["to_url"]) == (
        "govcn", "miit", PAGES["govcn"][0], PAGES["miit"][0])
    assert data["deleted_chars"] == 0 and data["inserted_chars"] > len(ARTICLE_2)
    assert "{+" in data["inline"] and "第二条" in data["inline"]

    code, _, err = cli(capsys, "--db", db, "diff", KEY, "--between", "miit", "mofcom")
    assert code == 1
    assert err.strip() == f"error: no appearance '{KEY} on mofcom'; it appears on govcn, miit"
    code, _, err = cli(capsys, "--db", db, "diff", KEY, "1", "--between", "miit", "govcn")
    assert code == 1 and "--between compares copies, not versions" in err


def test_authority_table_examples_run() -> None:
    result = doctest.testmod(importlib.import_module("pipeline.core.authority"))
    assert result.attempted > 0 and result.failed == 0
    assert authoritative_source("mofcom+gacc:2025:56") == "mofcom"
    assert authoritative_source("gacc:2025:1") == "mofcom"  # customs announcements are on MOFCOM's site
    assert authoritative_source("miit-general-office:工信厅原函:2026:58") == "miit"
    assert authoritative_source("ndrc+miit:2025:3") == "miit"  # first listed issuer that has an entry
    assert authoritative_source("meti:press:20251009-001") == "meti"


def test_process_command_reads_the_authority_table_from_schedules_yaml(capsys, cli_env, tmp_path) -> None:
    """``authority: {miit: govcn}`` in ./schedules.yaml reaches ``regwatch process``: gov.cn's copy takes over."""
    (tmp_path / "schedules.yaml").write_text("authority: {miit: govcn}\n", encoding="utf-8")
    db = str(tmp_path / "yaml.db")
    with Store.open(db, at=T0) as store:
        for slug in PAGES:
            store.ensure_source(slug, slug, at=T0)
        capture(store, "miit", 0)
        capture(store, "govcn", 1)
    code, _, err = cli(capsys, "--db", db, "process")
    assert (code, err) == (0, "")
    with Store.open(db) as store:
        doc = store.document(KEY)
        assert [c.kind for c in store.changes(doc.id)] == ["new", "reference"]
        assert {a.source: a.reference for a in store.appearances(doc.id)} == {"miit": False, "govcn": True}
    code, out, _ = cli(capsys, "--db", db, "show", KEY, "--json")
    assert {a["source"]: a["authoritative"] for a in json.loads(out)["appearances"]} == {"miit": False,
                                                                                         "govcn": True}


def test_the_reference_text_still_raises_status_alerts_for_relations_the_copy_left_out(store: Store) -> None:
    """MOFCOM No.70 suspends six announcements; a gov.cn copy (seen first) that states only the first
    suspension must not hide the other five: they are alerted once when MOFCOM's text takes over."""
    from dataclasses import replace

    from pipeline.extract import extract_page
    from pipeline.outbox import Routing
    from pipeline.process import ProcessReport, _record, _Run

    pages = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "mofcom" / "MofcomNoticePage"
    meta = json.loads((pages / "2025-70-ergodic" / "meta.json").read_text(encoding="utf-8"))
    body = (pages / "2025-70-ergodic" / "body.html").read_bytes()
    mofcom = extract_page(body, source="mofcom", url=meta["url"], headers=meta["headers"], status=200)
    assert len(mofcom.relations) == 6
    copy = replace(mofcom, source="govcn", url="https://www.gov.cn/zhengce/zhengceku/202511/content_70.htm",
                   relations=mofcom.relations[:1], canonical_text=mofcom.canonical_text + "（转载）",
                   content_hash="copy-of-70", attachments=())
    report = ProcessReport()
    _record(_Run(store, T0, Routing(), report), None, copy)
    _record(_Run(store, T0 + timedelta(hours=1), Routing(), report), None, mofcom)
    alerts = store.alerts(limit=100)
    assert kinds(alerts) == {"new": 1, "status": 6}
    assert sorted(a.doc_key for a in alerts if a.kind == "status") == sorted(r.target_key for r in mofcom.relations)
    doc = store.document(mofcom.doc_key)
    assert [c.kind for c in store.changes(doc.id)] == ["new", "reference"]
    assert sorted(r.target_key for r in store.relations_from(mofcom.doc_key)) == sorted(
        r.target_key for r in mofcom.relations)  # status now reads the reference text's relations


def test_an_unchanged_fetch_is_the_document_seen_again(store: Store, capture_page, clock) -> None:
    """A 304 (the middleware hands back the stored body) or an unchanged page moves ``last_seen`` of
    the appearance read from that capture and of its document; an older replay does not move it back."""
    first = clock.now()
    capture_page("2025-58-standard", at=first)
    process_pending(store, now=first)
    [doc] = [d for d in store.documents() if d.key == "mofcom+gacc:2025:58"]
    [before] = store.appearances(doc.id)
    assert before.last_seen == first
    later = first + timedelta(days=3)
    capture_page("2025-58-standard", at=later)  # same body: no new capture, no pending work
    assert store.pending_captures() == []
    [after] = store.appearances(doc.id)
    assert (after.last_seen, store.document(doc.key).last_seen) == (later, later)
    capture_page("2025-58-standard", at=first + timedelta(days=1))  # out of order: never backwards
    assert store.appearances(doc.id)[0].last_seen == later
