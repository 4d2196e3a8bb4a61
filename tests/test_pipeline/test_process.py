"""Stage 2 (process_pending) on real MOFCOM fixture captures: documents, versions, tags, relations,
changes and outbox alerts; idempotent reruns; unreadable pages never become versions."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

import pipeline.process as process_module
from pipeline.process import process_pending

BASE = ("2024-46-standard", "2025-18-table", "2025-58-standard", "2025-70-ergodic", "2025-72-gonggao")
KEYS = {
    "2024-46-standard": "mofcom:2024:46",
    "2025-18-table": "mofcom+gacc:2025:18",
    "2025-58-standard": "mofcom+gacc:2025:58",
    "2025-70-ergodic": "mofcom+gacc:2025:70",
    "2025-72-gonggao": "mofcom:2025:72",
}
SUSPENDED_BY_70 = ["mofcom+gacc:2025:55", "mofcom+gacc:2025:56", "mofcom+gacc:2025:57", "mofcom+gacc:2025:58",
                   "mofcom:2025:61", "mofcom:2025:62"]
URL_58 = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_1aeba4fb358b98298b62eda62106d2de.html"
URL_70 = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_8f9973bcbfee6f7a014c8258a50f702d.html"


def snapshot(store) -> dict:
    """Everything process may write, to prove a failed page changed nothing."""
    docs = {}
    for row in store.history(limit=1000):
        doc = store.document(row.document_id)
        docs[doc.id] = (doc.key, doc.title, doc.status, doc.latest_version, doc.canonical_url,
                        [v.content_hash for v in store.versions(doc.id)])
    return {"docs": docs, "changes": len(store.history(limit=1000)),
            "alerts": sorted(a.dedup_key for a in store.alerts(limit=1000))}


def test_fixture_pages_become_documents_with_tags_relations_and_changes(store, clock, capture_page) -> None:
    ids = {case: capture_page(case) for case in BASE}
    report = process_pending(store, now=clock.now())
    assert (report.processed, report.new_documents, report.new_versions, report.unchanged, report.failed) == (
        5, 5, 5, 0, 0)
    assert report.errors == []
    assert {store.capture(i).state for i in ids.values()} == {"processed"}

    for case, key in KEYS.items():
        doc = store.document(key)
        assert (doc.latest_version, doc.source, doc.status) == (1, "mofcom", "active")
        [change] = store.changes(doc.id)
        assert (change.kind, change.from_version_id, change.summary) == ("new", None, "new document")
        assert store.version(doc.id, 1).capture_id == ids[case]

    v58 = store.latest_version(store.document("mofcom+gacc:2025:58").id)
    tags = store.tags(v58.id)
    assert sorted(t.value for t in tags if t.kind == "code") == ["3A001", "3B901.a", "3C901.a.1", "3C902"]
    assert {t.scheme for t in tags if t.kind == "code"} == {"cn-dual-use"}
    assert [t.value for t in tags if t.kind == "doc_number"] == ["mofcom+gacc:2025:58"]
    assert ("effective", "2025-11-08") in {(t.scheme, t.value) for t in tags if t.kind == "date"}
    v18 = store.latest_version(store.document("mofcom+gacc:2025:18").id)
    assert {"1C902.a", "1C903", "1C904"} <= {t.value for t in store.tags(v18.id) if t.kind == "code"}

    [rel] = store.relations_to("mofcom+gacc:2025:56")  # never fetched, still suspended by No.70
    assert (rel.type, rel.source_key, rel.until, rel.clause) == ("suspends", "mofcom+gacc:2025:70",
                                                                 date(2026, 11, 10), None)
    [rel] = store.relations_to("mofcom:2024:46")
    assert (rel.type, rel.source_key, rel.until, rel.clause) == ("suspends", "mofcom:2025:72",
                                                                 date(2026, 11, 27), "第二款")
    assert sorted(r.target_key for r in store.relations_from("mofcom+gacc:2025:70")) == SUSPENDED_BY_70


def test_alerts_new_and_status_one_per_target(store, clock, capture_page) -> None:
    for case in BASE:
        capture_page(case)
    report = process_pending(store, now=clock.now())
    alerts = store.alerts(limit=1000)
    assert report.alerts == len(alerts) == 12
    assert Counter(a.kind for a in alerts) == {"new": 5, "status": 7}
    assert len({a.dedup_key for a in alerts}) == len(alerts)
    status = {a.doc_key: a for a in alerts if a.kind == "status"}
    assert sorted(status) == sorted([*SUSPENDED_BY_70, "mofcom:2024:46"])
    a56 = status["mofcom+gacc:2025:56"]
    assert (a56.severity, a56.status, a56.source) == ("critical", "pending", "mofcom")
    assert a56.dedup_key == "status:mofcom+gacc:2025:56:suspends:None:2026-11-10:mofcom+gacc:2025:70"
    assert a56.payload["title"] == "mofcom+gacc:2025:56 suspended until 2026-11-10"
    assert a56.payload["url"] == URL_70
    assert ["Until", "2026-11-10"] in a56.payload["facts"]
    assert status["mofcom:2024:46"].payload["title"] == "mofcom:2024:46 (第二款) suspended until 2026-11-27"
    new = {a.doc_key: a for a in alerts if a.kind == "new"}
    assert new["mofcom+gacc:2025:58"].dedup_key.startswith("version:")
    assert "code:3C902" in new["mofcom+gacc:2025:58"].payload["tags"]
    assert new["mofcom+gacc:2025:58"].payload["created_at"] == clock.now().isoformat()


def test_rerun_and_reparse_create_nothing_new(store, clock, capture_page) -> None:
    for case in BASE:
        capture_page(case)
    process_pending(store, now=clock.now())
    before = snapshot(store)

    clock.advance(hours=2)
    again = process_pending(store, now=clock.now())
    assert (again.processed, again.new_versions, again.alerts) == (0, 0, 0)  # nothing pending

    for case in BASE:  # the crawler fetches the same bodies again: no new captures
        assert capture_page(case) in range(1, 6)
    assert store.requeue_captures(source="mofcom") == 5
    reparse = process_pending(store, now=clock.now())
    assert (reparse.processed, reparse.unchanged, reparse.new_versions, reparse.new_documents, reparse.alerts) == (
        5, 5, 0, 0, 0)
    assert snapshot(store) == before


def test_edited_page_makes_version_2_with_field_changes_and_changed_alert(store, clock, capture_page) -> None:
    capture_page("2025-58-standard")
    process_pending(store, now=clock.now())
    clock.advance(days=1)
    capture_page("2025-58-edited-state2")
    report = process_pending(store, now=clock.now())
    assert (report.processed, report.new_versions, report.new_documents, report.alerts) == (1, 1, 0, 1)

    doc = store.document("mofcom+gacc:2025:58")
    assert doc.latest_version == 2
    v2 = store.version(doc.id, 2)
    assert "3C901.b" in {t.value for t in store.tags(v2.id) if t.kind == "code"}
    change = store.changes(doc.id)[-1]
    assert (change.kind, change.from_version_id, change.to_version_id) == (
        "changed", store.version(doc.id, 1).id, v2.id)
    assert {"field": "code", "kind": "added", "old": None, "new": "3C901.b", "summary": "code 3C901.b added"} in (
        change.field_changes)
    assert change.summary.startswith("1 code added")
    assert change.text_diff  # the stored TextDiff JSON

    [alert] = [a for a in store.alerts(limit=100) if a.kind == "changed"]
    assert (alert.doc_key, alert.severity, alert.dedup_key) == ("mofcom+gacc:2025:58", "warning", f"version:{v2.id}")
    assert alert.payload["summary"] == change.summary
    assert ["code", "code 3C901.b added"] in alert.payload["facts"]
    assert "{+" in alert.payload["diff_text"] and "3C901.b" in alert.payload["diff_text"]
    [row] = [r for r in store.history(key="mofcom+gacc:2025:58") if r.kind == "changed"]
    assert (row.from_number, row.to_number) == (1, 2)


def test_status_alerts_are_not_repeated_when_the_suspension_is_seen_again(store, clock, capture_page) -> None:
    capture_page("2025-70-ergodic")
    process_pending(store, now=clock.now())
    first = sorted(a.dedup_key for a in store.alerts(limit=100) if a.kind == "status")
    assert len(first) == len(set(first)) == 6
    clock.advance(days=1)
    store.requeue_captures()
    process_pending(store, now=clock.now())
    # the same announcement at a second URL (a reprint) is the same document: no new alerts
    capture_page("2025-70-ergodic", url=URL_70.replace("www.", "xkzj."))
    process_pending(store, now=clock.now())
    assert sorted(a.dedup_key for a in store.alerts(limit=100) if a.kind == "status") == first
    assert store.document("mofcom+gacc:2025:70").latest_version == 1


BINARY = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


@pytest.mark.parametrize(("case", "overrides", "health"), [
    ("error-waf-412", {"url": URL_58}, False),
    ("error-ssi", {"url": URL_58}, False),
    ("error-empty-202", {"url": URL_58}, False),
    ("2025-58-standard", {"body": b"", "status": 200}, False),
    ("2025-58-standard", {"body": BINARY}, False),
    ("error-js-redirect", {"url": URL_58}, False),
    ("error-layout-changed", {}, True),  # at No.70's URL
], ids=["waf-412", "ssi-challenge", "empty-202", "empty-200", "binary", "js-redirect", "layout-changed"])
def test_unreadable_page_stores_nothing_false_and_loses_nothing(store, clock, capture_page, case, overrides,
                                                                  health) -> None:
    capture_page("2025-58-standard")
    capture_page("2025-70-ergodic")
    process_pending(store, now=clock.now())
    before = snapshot(store)

    clock.advance(hours=6)
    capture_id = capture_page(case, **overrides)
    report = process_pending(store, now=clock.now())

    url = store.capture(capture_id).url
    assert url in (URL_58, URL_70)
    assert (report.processed, report.failed, report.new_versions) == (0, 1, 0)
    [error] = report.errors
    capture = store.capture(capture_id)
    assert capture.state == "failed" and capture.error == error
    assert f"({url})" in error and error.startswith("mofcom: ")
    after = snapshot(store)
    assert after["docs"] == before["docs"]  # no version, nothing deleted, title/status untouched
    assert after["changes"] == before["changes"]
    new_alerts = [a for a in store.alerts(limit=100) if a.dedup_key not in before["alerts"]]
    if health:
        [alert] = new_alerts
        assert (alert.kind, alert.severity, alert.source, alert.doc_key) == (
            "source_health", "critical", "mofcom", None)
        assert alert.dedup_key == "health:mofcom:layout:2025-11-10"
        assert alert.payload["url"] == url and "layout changed" in alert.payload["summary"]
        assert report.alerts == 1
    else:
        assert new_alerts == [] and report.alerts == 0


def test_layout_alert_once_per_source_and_day(store, clock, capture_page, load_page) -> None:
    body, _ = load_page("mofcom", "MofcomNoticePage", "error-layout-changed")
    capture_page("error-layout-changed")
    capture_page("error-layout-changed", url=URL_58)
    report = process_pending(store, now=clock.now())
    assert (report.failed, report.alerts) == (2, 1)
    clock.advance(days=1)
    capture_page("error-layout-changed", body=body + b"\n<!-- next day -->")
    report = process_pending(store, now=clock.now())
    assert (report.failed, report.alerts) == (1, 1)
    assert sorted(a.dedup_key for a in store.alerts(limit=100)) == [
        "health:mofcom:layout:2025-11-10", "health:mofcom:layout:2025-11-11"]


def test_failed_capture_reprocessed_after_requeue_makes_no_duplicates(store, clock, capture_page) -> None:
    capture_page("error-layout-changed")
    capture_page("error-waf-412")
    process_pending(store, now=clock.now())
    assert store.requeue_captures() == 2
    report = process_pending(store, now=clock.now())
    assert (report.failed, report.alerts) == (2, 0)
    assert [a.kind for a in store.alerts(limit=100)] == ["source_health"]


def test_parser_crash_on_one_page_does_not_block_the_queue(store, clock, capture_page, monkeypatch) -> None:
    real = process_module.extract_page

    def flaky(body, **kwargs):
        if kwargs["url"] == URL_58:
            raise IndexError("list index out of range")
        return real(body, **kwargs)

    monkeypatch.setattr(process_module, "extract_page", flaky)
    bad = capture_page("2025-58-standard")
    good = capture_page("2025-70-ergodic")
    report = process_pending(store, now=clock.now())
    assert (report.processed, report.failed) == (1, 1)
    assert store.capture(good).state == "processed"
    capture = store.capture(bad)
    assert capture.state == "failed"
    assert capture.error == (f"mofcom: internal error reading capture {bad} ({URL_58}): IndexError: list index "
                             "out of range; report it, then rerun `regwatch process --reparse`")
    assert not [a for a in store.alerts(limit=100) if a.kind == "source_health"]


def test_list_and_attachment_captures_are_skipped(store, clock, capture_page) -> None:
    list_id = capture_page("page-1", page_class="MofcomListFragment", kind="list")
    att_id = capture_page("2025-58-standard", body=BINARY, url=URL_58 + ".pdf", kind="attachment")
    report = process_pending(store, now=clock.now())
    assert (report.skipped, report.processed, report.failed) == (2, 0, 0)
    assert store.capture(list_id).state == store.capture(att_id).state == "skipped"
    assert store.history() == []


def test_source_filter_and_limit(store, clock, capture_page) -> None:
    capture_page("2025-58-standard")
    capture_page("2025-70-ergodic")
    assert process_pending(store, now=clock.now(), source="miit").processed == 0
    assert process_pending(store, now=clock.now(), limit=1).processed == 1
    assert process_pending(store, now=clock.now(), source="mofcom").processed == 1
    assert process_pending(store, now=clock.now()).as_dict() == {
        "processed": 0, "new_documents": 0, "new_versions": 0, "unchanged": 0, "copies": 0, "skipped": 0, "failed": 0,
        "held": 0, "alerts": 0, "errors": [], "held_reasons": []}


def test_reparse_after_an_edit_makes_no_revert_version_and_no_alert(store, clock, capture_page) -> None:
    """`process --reparse` re-reads every stored capture: the older capture of an edited page is history."""
    from datetime import timedelta

    capture_page("2025-58-standard")
    process_pending(store, now=clock.now())
    clock.advance(days=1)
    capture_page("2025-58-edited-state2")
    process_pending(store, now=clock.now())
    key = "mofcom+gacc:2025:58"
    before = ([v.number for v in store.versions(store.document(key).id)], len(store.alerts(limit=1000)))
    assert before[0] == [1, 2]
    clock.advance(hours=1)
    assert store.requeue_captures() == 2
    report = process_pending(store, now=clock.now() + timedelta(minutes=1))
    assert (report.new_versions, report.unchanged) == (0, 2)
    assert ([v.number for v in store.versions(store.document(key).id)], len(store.alerts(limit=1000))) == before
