"""version_alerts: which alerts a new version raises, with exact kinds, severities, dedup keys and facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from pipeline.core.classify import record_facts, record_tags, version_alerts
from pipeline.core.diff import diff_texts
from pipeline.core.fielddiff import field_changes, summarize
from pipeline.core.records import CodeTag, DatedEvent, DocNumber, DocumentRecord, FieldChange, Relation

URL = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_x.html"
N70 = DocNumber(("mofcom", "gacc"), "year", "70", 2025, "商务部 海关总署公告2025年第70号")
N58 = DocNumber(("mofcom", "gacc"), "year", "58", 2025, "商务部 海关总署公告2025年第58号")
EVIDENCE = "自即日起至2026年11月10日暂停实施商务部 海关总署公告2025年第56号、58号。"


def record(**kw) -> DocumentRecord:
    base = dict(source="mofcom", url=URL, title="商务部 海关总署公告2025年第58号 公布…的决定", language="zh",
                text="正文", canonical_text="正文", content_hash="h1")
    return DocumentRecord(**{**base, **kw})


PLAIN = record(doc_number=N58, published=date(2025, 10, 9))
CODED = record(doc_number=N58, published=date(2025, 10, 9), effective=date(2025, 11, 8),
               dates=(DatedEvent("published", date(2025, 10, 9)), DatedEvent("effective", date(2025, 11, 8))),
               codes=(CodeTag("cn-dual-use", "3C902"), CodeTag("cn-dual-use", "3A001")), elements=("Li",))
SUSPENDER = record(
    title="商务部 海关总署公告2025年第70号 关于暂停实施有关出口管制措施的公告", doc_number=N70, published=date(2025, 11, 7),
    dates=(DatedEvent("suspended_until", date(2026, 11, 10), None, EVIDENCE),),
    relations=(Relation("suspends", "mofcom+gacc:2025:56", "2025年第56号", date(2026, 11, 10), None, EVIDENCE),
               Relation("suspends", "mofcom+gacc:2025:58", "58号", date(2026, 11, 10), None, EVIDENCE),
               Relation("implements", "mofcom:2025:1", "2025年第1号"),  # not a status change
               Relation("suspends", None, "有关措施", date(2026, 11, 10))))  # unresolved target: no alert


def alerts_for(previous, current, version_id=7):
    changes = field_changes(previous, current)
    tdiff = diff_texts(previous.canonical_text, current.canonical_text) if previous else None
    summary = summarize(changes, tdiff) if previous else "new document"
    return version_alerts(version_id=version_id, previous=previous, current=current, field_changes=changes,
                          text_diff=tdiff, summary=summary, diff_text="{+x+}" if previous else None)


def test_new_document_without_codes_is_info() -> None:
    [alert] = alerts_for(None, PLAIN)
    assert (alert.kind, alert.severity, alert.dedup_key, alert.doc_key) == ("new", "info", "version:7",
                                                                          "mofcom+gacc:2025:58")
    assert alert.summary == "New document mofcom+gacc:2025:58"
    assert alert.facts == (("Number", "商务部 海关总署公告2025年第58号"), ("Published", "2025-10-09"))
    assert (alert.url, alert.title, alert.diff_text) == (URL, PLAIN.title, None)


def test_new_document_with_codes_is_warning_with_facts_and_tags() -> None:
    [alert] = alerts_for(None, CODED, version_id=3)
    assert (alert.kind, alert.severity, alert.dedup_key) == ("new", "warning", "version:3")
    assert alert.facts == (("Number", "商务部 海关总署公告2025年第58号"), ("Published", "2025-10-09"),
                           ("Effective", "2025-11-08"), ("Codes", "3A001, 3C902"), ("Elements", "Li"))
    assert alert.tags == ("code:3C902", "code:3A001", "element:Li", "date:published", "date:effective")


def test_keyless_new_document_is_named_by_url() -> None:
    [alert] = alerts_for(None, record(title=None))
    assert (alert.doc_key, alert.title, alert.summary, alert.facts) == (None, URL, f"New document {URL}", ())


def test_suspension_raises_one_status_alert_per_resolved_target() -> None:
    alerts = alerts_for(None, SUSPENDER, version_id=9)
    assert [(a.kind, a.severity, a.doc_key) for a in alerts] == [
        ("new", "warning", "mofcom+gacc:2025:70"),
        ("status", "critical", "mofcom+gacc:2025:56"),
        ("status", "critical", "mofcom+gacc:2025:58"),
    ]
    status = alerts[1]
    assert status.dedup_key == "status:mofcom+gacc:2025:56:suspends:None:2026-11-10:mofcom+gacc:2025:70"
    assert status.title == "mofcom+gacc:2025:56 suspended until 2026-11-10"
    assert status.summary == "mofcom+gacc:2025:56 suspended until 2026-11-10 by mofcom+gacc:2025:70"
    assert status.facts == (("Target", "mofcom+gacc:2025:56"), ("By", "mofcom+gacc:2025:70"),
                            ("Until", "2026-11-10"), ("Evidence", EVIDENCE))
    assert (status.tags, status.source, status.url) == (("relation:suspends",), "mofcom", URL)
    assert ("Suspended until", "2026-11-10") in alerts[0].facts
    assert ("Suspends", "mofcom+gacc:2025:56 until 2026-11-10") in alerts[0].facts


@pytest.mark.parametrize(("rel_type", "clause", "until", "severity", "title"), [
    ("suspends", "第二款", date(2026, 11, 27), "critical", "mofcom:2024:46 (第二款) suspended until 2026-11-27"),
    ("extends", None, date(2026, 11, 27), "critical", "mofcom:2024:46 suspension extended until 2026-11-27"),
    ("repeals", None, None, "critical", "mofcom:2024:46 repealed"),
    ("amends", "一", None, "warning", "mofcom:2024:46 (一) amended"),
    ("supersedes", None, None, "warning", "mofcom:2024:46 superseded"),
    ("resumes", "第二款", None, "critical", "mofcom:2024:46 (第二款) suspension lifted"),
])
def test_status_alert_wording_and_severity(rel_type, clause, until, severity, title) -> None:
    rel = Relation(rel_type, "mofcom:2024:46", "2024年第46号", until, clause, "证据")
    current = record(doc_number=DocNumber(("mofcom",), "year", "72", 2025, "商务部公告2025年第72号"), relations=(rel,))
    [_, status] = alerts_for(None, current)
    assert (status.kind, status.severity, status.title) == ("status", severity, title)
    assert status.summary == f"{title} by mofcom:2025:72"
    assert status.dedup_key == f"status:mofcom:2024:46:{rel_type}:{clause}:{until}:mofcom:2025:72"
    assert [f for f, _ in status.facts] == ["Target", "By", *(["Until"] if until else []), "Evidence"]


def test_changed_codes_are_warning_with_field_facts_and_diff() -> None:
    edited = replace(CODED, codes=(*CODED.codes, CodeTag("cn-dual-use", "3C901.b")), canonical_text="正文（五）3C901.b",
                     content_hash="h2")
    [alert] = alerts_for(CODED, edited, version_id=8)
    assert (alert.kind, alert.severity, alert.dedup_key) == ("changed", "warning", "version:8")
    assert alert.summary == "1 code added; text: +10/−0 chars"
    assert alert.facts == (("code", "code 3C901.b added"),)
    assert alert.diff_text == "{+x+}"
    assert "code:3C901.b" in alert.tags


@pytest.mark.parametrize(("change", "severity"), [
    (FieldChange("title", "changed", "a", "b", "title a → b"), "info"),
    (FieldChange("element", "added", None, "Mn", "element Mn added"), "info"),
    (FieldChange("attachment", "added", None, "x.pdf", "attachment x.pdf added"), "info"),
    (FieldChange("effective", "changed", "2025-11-08", "2025-12-01", "effective date moved"), "warning"),
    (FieldChange("dates.suspended_until", "changed", "2026-11-10", "2027-11-10", "suspended_until moved"),
     "warning"),
    (FieldChange("dates.expires", "added", None, "2027-01-01", "expires 2027-01-01 added"), "warning"),
    (FieldChange("doc_number", "changed", "mofcom:2025:5", "mofcom:2025:58", "doc number changed"), "warning"),
    (FieldChange("code", "removed", "1C902", None, "code 1C902 removed"), "warning"),
    (FieldChange("relation", "added", None, "suspends x", "relation suspends x added"), "warning"),
], ids=lambda v: v.field if isinstance(v, FieldChange) else v)
def test_changed_severity_by_field(change, severity) -> None:
    [alert] = version_alerts(version_id=2, previous=PLAIN, current=PLAIN, field_changes=[change], text_diff=None,
                             summary=change.summary, diff_text=None)
    assert (alert.kind, alert.severity, alert.facts) == ("changed", severity, ((change.field, change.summary),))


def test_text_only_change_is_info_with_record_facts() -> None:
    [alert] = version_alerts(version_id=2, previous=PLAIN, current=PLAIN, field_changes=[], text_diff=None,
                             summary="", diff_text=None)
    assert (alert.severity, alert.summary, alert.facts) == ("info", "text changed", record_facts(PLAIN))


def test_changed_version_alerts_only_new_relations() -> None:
    moved = replace(SUSPENDER.relations[1], until=date(2027, 11, 10))
    edited = replace(SUSPENDER, relations=(SUSPENDER.relations[0], moved), content_hash="h2")
    alerts = alerts_for(SUSPENDER, edited, version_id=10)
    assert [(a.kind, a.doc_key) for a in alerts] == [("changed", "mofcom+gacc:2025:70"),
                                                      ("status", "mofcom+gacc:2025:58")]
    assert alerts[0].severity == "warning"
    assert alerts[1].title == "mofcom+gacc:2025:58 suspended until 2027-11-10"
    assert alerts[1].dedup_key == "status:mofcom+gacc:2025:58:suspends:None:2027-11-10:mofcom+gacc:2025:70"


def test_facts_are_capped_at_ten_and_codes_at_thirty() -> None:
    codes = tuple(CodeTag("cn-dual-use", f"1C{900 + i}") for i in range(35))
    rels = tuple(Relation("suspends", f"mofcom:2025:{i}", f"第{i}号") for i in range(12))
    facts = record_facts(record(doc_number=N70, codes=codes, relations=rels))
    assert len(facts) == 10
    assert facts[1][0] == "Codes" and facts[1][1].endswith("1C929 …")
    assert record_tags(record(codes=codes[:2] * 2)) == ("code:1C900", "code:1C901")
