"""Legal status through chains of relations, end to end: announcement pages → process → store →
``status-of`` / ``show`` / ``deadlines`` and the deadline reminders, on SQLite and PostgreSQL.

Invented announcements (numbers and dates are fixtures, not real measures): A (2031 No.40)
suspends B1 and B2 (2031 Nos.11, 12) through D1; C (2031 No.77, published before D1) extends the
period set by A to D2; D (2032 No.5) extends the period set by C to D3. Each names only the
notice it extends. B1 is fetched, B2 only known from A.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from pipeline.cli import main
from pipeline.lookup import StatusReader, status_of
from pipeline.process import process_pending
from pipeline.remind import check_deadlines
from pipeline.core.status import legal_status
from store import Store

LEADS = [30, 7, 1, 0]
B1, B2, A, C, D = "mofcom:2031:11", "mofcom:2031:12", "mofcom:2031:40", "mofcom:2031:77", "mofcom:2032:5"
D1, D2, D3 = date(2031, 11, 10), date(2032, 1, 10), date(2032, 6, 30)
ONE = timedelta(days=1)

_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{day} 18:00">
<title>{title}_中华人民共和国商务部</title></head>
<body><div class="art-box w1200">
  <div class="art-title"><h1>{title}</h1>
    <div class="art-info"><span class="fl">来源：安全与管制局</span><span class="fl">类型：原创</span>
    <span class="fl">{day} 18:00</span></div></div>
  <div class="art-gkxx"><p>【发布单位】安全与管制局</p><p>【发布文号】{number}</p><p>【发文日期】{cday}</p></div>
  <div ergodic="article" class="art-con">
<p style="text-align: center;"><strong>{number}</strong></p>
{paragraphs}
<p style="text-align: right;">商务部</p>
<p style="text-align: right;">{cday}</p>
</div></div></body></html>"""


def publish(store: Store, number: str, title: str, day: date, *paragraphs: str) -> None:
    """A MOFCOM notice page (the 2025 No.70 layout) published on ``day``, crawled and processed that day."""
    cday = f"{day.year}年{day.month}月{day.day}日"
    body = _PAGE.format(title=f"{number} {title}", day=day.isoformat(), number=number, cday=cday, paragraphs="\n".join(
        f'<p style="text-indent: 2em;">　　{p}</p>' for p in (*paragraphs, "特此公告。")))
    url = f"https://www.mofcom.gov.cn/zwgk/zcfb/art/{day.year}/art_{hashlib.md5(number.encode()).hexdigest()}.html"
    at = datetime(day.year, day.month, day.day, 11, tzinfo=timezone.utc)  # 19:00 in Beijing
    store.save_capture(source="mofcom", url=url, final_url=url, status=200, headers={"Content-Type": "text/html"},
                       body=body.encode(), fetched_at=at, kind="detail")
    report = process_pending(store, now=at)
    assert (report.new_documents, report.failed) == (1, 0)


def publish_b1_and_a(store: Store) -> None:
    publish(store, "商务部公告2031年第11号", "关于对有关物项实施出口管制的公告", date(2031, 1, 5),
            "现将有关事项公告如下：", "本公告自发布之日起施行。")
    publish(store, "商务部公告2031年第40号", "关于暂停实施有关出口管制措施的公告", date(2031, 3, 1),
            "自即日起至2031年11月10日暂停实施商务部公告2031年第11号、12号。")


def publish_c(store: Store) -> None:
    publish(store, "商务部公告2031年第77号", "关于延长暂停实施期限的公告", date(2031, 10, 30),
            "将商务部公告2031年第40号规定的暂停实施期限延长至2032年1月10日。", "本公告自发布之日起施行。")


def publish_d(store: Store) -> None:
    publish(store, "商务部公告2032年第5号", "关于延长暂停实施期限的公告", date(2032, 1, 5),
            "鉴于商务部公告2031年第77号规定的暂停期限即将届满，现将有关事项公告如下：",
            "上述暂停期限延长至2032年6月30日。")


def noon(day: date) -> datetime:
    """Noon in Beijing on ``day``."""
    return datetime(day.year, day.month, day.day, 4, tzinfo=timezone.utc)


def remind(store: Store, day: date) -> list:
    """Run the reminders at noon on ``day``; the deadline alerts they queued, oldest first."""
    before = {a.id for a in store.alerts(limit=1000)}
    check_deadlines(store, now=noon(day), lead_days=LEADS)
    return sorted((a for a in store.alerts(limit=1000) if a.id not in before and a.kind == "deadline"),
                  key=lambda a: a.dedup_key)


def keys(alerts: list) -> list[str]:
    return [a.dedup_key for a in alerts]


def key(doc: str, starts: date, what: str) -> str:
    return f"deadline:{doc}:suspended>in_force:{starts.isoformat()}:{what}"


@pytest.fixture
def cli(db_url, capsys, monkeypatch, tmp_path):
    """``cli(*args)`` -> stdout of ``regwatch --db <this store> *args`` (exit code 0 asserted)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("REGWATCH_DB", "REGWATCH_CONFIG", "REGWATCH_NOW"):
        monkeypatch.delenv(name, raising=False)
    target = db_url.render_as_string(hide_password=False) if isinstance(db_url, sa.URL) else str(db_url)

    def run(*args: str) -> str:
        capsys.readouterr()
        code = main(["--db", target, *args])
        out, err = capsys.readouterr()
        assert (code, err) == (0, "")
        return out

    return run


def test_extension_chain_reaches_the_suspended_documents_and_rearms_the_reminders(store, cli) -> None:
    publish_b1_and_a(store)
    # 30 days before D1: the reminders of the end set by A
    assert keys(remind(store, D1 - timedelta(days=30))) == [key(B1, D1 + ONE, "lead30"), key(B2, D1 + ONE, "lead30")]

    publish_c(store)  # C extends A's period to D2
    moved = remind(store, date(2031, 10, 30))
    assert keys(moved) == [key(B1, D2 + ONE, "moved"), key(B2, D2 + ONE, "moved")]
    assert moved[0].payload["title"] == (f"Deadline moved from 2031-11-10 to 2032-01-10 by {C}: {B1} suspended until "
                                         "2032-01-10; in force from 2032-01-11")
    assert cli("deadlines", "--on", "2031-11-11").splitlines() == [
        f"2032-01-10  in 60 day(s)   {key_} suspended until 2032-01-10; in force from 2032-01-11  (by {A}, {C})  "
        f"(moved from 2031-11-10 to 2032-01-10 by {C})" for key_ in (B1, B2)]
    # the old end date is no deadline any more: no 7/1/0-day reminder, and no "passed" after it
    for day in (D1 - timedelta(days=7), D1 - ONE, D1, D1 + ONE, D1 + timedelta(days=2)):
        assert remind(store, day) == []
    # the new date's reminders at its lead days, each saying it was moved
    lead30 = remind(store, D2 - timedelta(days=30))
    assert keys(lead30) == [key(B1, D2 + ONE, "lead30"), key(B2, D2 + ONE, "lead30")]
    assert lead30[0].payload["title"] == (f"Deadline in 30 day(s): {B1} suspended until 2032-01-10; in force from "
                                          f"2032-01-11 (moved from 2031-11-10 to 2032-01-10 by {C})")
    assert keys(remind(store, D2 - timedelta(days=7))) == [key(B1, D2 + ONE, "lead7"), key(B2, D2 + ONE, "lead7")]

    publish_d(store)  # D extends C's period to D3
    moved = remind(store, date(2032, 1, 5))
    assert keys(moved) == [key(B1, D3 + ONE, "moved"), key(B2, D3 + ONE, "moved")]
    assert moved[1].payload["title"].startswith(f"Deadline moved from 2032-01-10 to 2032-06-30 by {D}: {B2} ")
    for day in (D2 - ONE, D2, D2 + ONE):
        assert remind(store, day) == []
    assert keys(remind(store, D3 - ONE)) == [key(B1, D3 + ONE, "lead1"), key(B2, D3 + ONE, "lead1")]
    assert keys(remind(store, D3)) == [key(B1, D3 + ONE, "lead0"), key(B2, D3 + ONE, "lead0")]
    passed = remind(store, D3 + ONE)
    assert keys(passed) == [key(B1, D3 + ONE, "passed"), key(B2, D3 + ONE, "passed")]
    assert passed[0].payload["title"] == (f"Deadline passed: {B1} suspended until 2032-06-30; in force from "
                                          f"2032-07-01 (moved from 2032-01-10 to 2032-06-30 by {D})")
    assert remind(store, D3 + timedelta(days=2)) == []
    # nothing about an old date ever went out after it was moved
    sent = sorted(a.dedup_key for a in store.alerts(limit=1000) if a.kind == "deadline")
    assert [k for k in sent if f":{(D1 + ONE).isoformat()}:" in k] == [key(B1, D1 + ONE, "lead30"),
                                                                      key(B2, D1 + ONE, "lead30")]
    assert [k for k in sent if f":{(D2 + ONE).isoformat()}:" in k and k.endswith(("lead1", "lead0", "passed"))] == []


@pytest.mark.parametrize(("day", "until", "by"), [
    (D1 - ONE, D2, (A, C)),  # C was in force before D1: no gap
    (D1, D2, (A, C)),
    (D1 + ONE, D2, (A, C)),
    (D2, D3, (A, C, D)),
    (D2 + ONE, D3, (A, C, D)),
    (D3, D3, (A, C, D)),
    (D3 + ONE, None, None),
])
def test_status_of_around_each_date(store, cli, day, until, by) -> None:
    publish_b1_and_a(store)
    publish_c(store)
    publish_d(store)
    for doc in (B1, B2):
        line = cli("status-of", doc, "--on", day.isoformat())
        data = json.loads(cli("status-of", doc, "--on", day.isoformat(), "--json"))
        if until is None:
            assert data["status"] == "in_force" and data["until"] is None
            assert line.startswith(f"{doc} on {day.isoformat()}: in_force")
        else:
            assert (data["status"], data["until"], tuple(data["by"])) == ("suspended", until.isoformat(), by)
            assert line == f"{doc} on {day.isoformat()}: suspended until {until.isoformat()} (by {', '.join(by)})\n"
    # the pure function over the graph the store gives is the same computation
    graph = StatusReader(store).graph(B1)
    assert sorted((src, rel.type, rel.target_key) for src, rel in graph) == [
        (A, "suspends", B1), (C, "extends", A), (D, "extends", C)]
    pure = legal_status(on=day, effective=date(2031, 1, 5), published=date(2031, 1, 5), key=B1, incoming=graph,
                        starts={A: date(2031, 3, 1), C: date(2031, 10, 30), D: date(2032, 1, 5)})
    assert pure == status_of(store, B1, day)


def test_deadlines_and_show_over_the_chain(store, cli) -> None:
    publish_b1_and_a(store)
    publish_c(store)
    publish_d(store)
    for day in (D1 - ONE, D1, D1 + ONE, D2, D2 + ONE):
        rows = json.loads(cli("deadlines", "--on", day.isoformat(), "--days", "400", "--json"))
        assert [(r["doc_key"], r["day"], r["cause"], [(m["from"], m["to"], m["by"]) for m in r["moves"]])
                for r in rows] == [(b, "2032-06-30", D, [("2031-11-10", "2032-01-10", C), ("2032-01-10", "2032-06-30", D)])
                                   for b in (B1, B2)]
    rows = json.loads(cli("deadlines", "--on", (D3 + ONE).isoformat(), "--json"))
    assert [(r["doc_key"], r["days_left"], r["after"]["status"]) for r in rows] == [(B1, -1, "in_force"),
                                                                                    (B2, -1, "in_force")]
    assert cli("show", B1, "--on", "2031-11-11").splitlines()[-6:] == [
        "timeline:",
        "  2031-01-05  in_force",
        f"  2031-03-01  suspended until 2031-11-10  ({A})",
        f"  2031-10-30  suspended until 2032-01-10  ({C})",
        f"  2032-01-05  suspended until 2032-06-30  ({D})",
        f"  2032-07-01  in_force  ({D})",
    ]
    not_fetched = json.loads(cli("show", B2, "--json"))
    assert [(c["day"], c["status"], c["cause"]) for c in not_fetched["timeline"]] == [
        ("2031-03-01", "suspended", A), ("2031-10-30", "suspended", C), ("2032-01-05", "suspended", D),
        ("2032-07-01", "in_force", D)]


def test_resumption_ends_the_suspension_early(store, cli) -> None:
    publish_b1_and_a(store)
    publish(store, "商务部公告2031年第50号", "关于恢复实施有关措施的公告", date(2031, 6, 20),
            "经研究，决定自2031年7月1日起恢复实施商务部公告2031年第11号。")
    # announced ten days ahead: B1's suspension now ends on 30 June (the 30-day lead is due), B2's is unchanged
    early = remind(store, date(2031, 6, 20))
    assert keys(early) == [key(B1, date(2031, 7, 1), "lead30")]
    assert early[0].payload["title"] == (f"Deadline in 10 day(s): {B1} suspended until 2031-06-30; in force from "
                                         "2031-07-01 (moved from 2031-11-10 to 2031-06-30 by mofcom:2031:50)")
    assert cli("status-of", B1, "--on", "2031-06-30") == f"{B1} on 2031-06-30: suspended until 2031-11-10 (by {A})\n"
    assert cli("status-of", B1, "--on", "2031-07-01") == f"{B1} on 2031-07-01: in_force\n"
    assert cli("status-of", B2, "--on", "2031-07-01") == f"{B2} on 2031-07-01: suspended until 2031-11-10 (by {A})\n"
    assert cli("show", B1).splitlines()[-2:] == [f"  2031-03-01  suspended until 2031-11-10  ({A})",
                                                 "  2031-07-01  in_force  (mofcom:2031:50)"]
    assert keys(remind(store, D1 - timedelta(days=30))) == [key(B2, D1 + ONE, "lead30")]
    assert keys(remind(store, D1 + ONE)) == [key(B2, D1 + ONE, "passed")]


def test_repeal_of_the_suspending_notice_ends_the_suspension(store, cli) -> None:
    publish_b1_and_a(store)
    publish(store, "商务部公告2031年第60号", "关于废止有关公告的公告", date(2031, 8, 1),
            "商务部公告2031年第40号自即日起废止。")
    for doc in (B1, B2):
        assert json.loads(cli("status-of", doc, "--on", "2031-07-31", "--json"))["status"] == "suspended"
        assert json.loads(cli("status-of", doc, "--on", "2031-08-01", "--json"))["status"] == "in_force"
    assert cli("show", B1).splitlines()[-1] == "  2031-08-01  in_force  (mofcom:2031:60)"
    # effective on publication: reported by the new/status alerts, not a deadline; D1 is no deadline any more
    for day in (date(2031, 8, 1), D1 - timedelta(days=30), D1, D1 + ONE):
        assert remind(store, day) == []
