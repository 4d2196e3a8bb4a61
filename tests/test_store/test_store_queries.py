"""History filters, search, relations, NotFound messages and the status summary."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from store import NotFound, Store

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)
M61 = "https://www.mofcom.gov.cn/art/2025/art_61.html"
M70 = "https://www.mofcom.gov.cn/art/2025/art_70.html"
G61 = "https://www.gov.cn/zhengce/zhengceku/61.htm"


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def world(store: Store, record) -> dict[str, int]:
    """Two documents: 61 (new, then version 2 from gov.cn, tagged 1C902.a) and 70 (new, suspends 61)."""
    ids = {}

    def change(result, kind: str, minutes: int) -> int:
        return store.record_change(
            document_id=result.document_id, from_version_id=result.previous_version_id,
            to_version_id=result.version_id, kind=kind, text_diff={}, field_changes=[{"field": "x"}],
            summary=f"{kind} {result.document_key}", created_at=_at(minutes),
        )  # fmt: skip

    r61 = record("mofcom:2025:61", M61, "稀土物项出口管制 1C902.a", minutes=0, title="关于稀土物项的决定")
    ids["61-new"] = change(r61, "new", 0)
    store.replace_tags(r61.version_id, [{"kind": "code", "scheme": "cn-dual-use", "value": "1C902.a"}])
    # gov.cn named as the authority: its copy takes over as the reference, version 2
    r61b = record("mofcom:2025:61", G61, "稀土物项出口管制（修订） 1C902.a", minutes=60, source="govcn",
                  authority="govcn")
    ids["61-changed"] = change(r61b, "changed", 60)
    r70 = record("mofcom:2025:70", M70, "暂停实施2025年第61号公告", minutes=120, title="暂停实施的公告")
    ids["70-new"] = change(r70, "new", 120)
    store.replace_relations(r70.version_id, "mofcom:2025:70", [{"type": "suspends", "target_key": "mofcom:2025:61"}])
    ids["61-doc"], ids["70-doc"], ids["70-v1"] = r61.document_id, r70.document_id, r70.version_id
    return ids


def test_history_newest_first_with_version_numbers(store: Store, world) -> None:
    rows = store.history()
    assert [(r.change_id, r.document_key, r.kind, r.from_number, r.to_number) for r in rows] == [
        (world["70-new"], "mofcom:2025:70", "new", None, 1),
        (world["61-changed"], "mofcom:2025:61", "changed", 1, 2),
        (world["61-new"], "mofcom:2025:61", "new", None, 1),
    ]
    top = rows[0]
    assert (top.title, top.source, top.url, top.summary, top.created_at) == (
        "暂停实施的公告", "mofcom", M70, "new mofcom:2025:70", _at(120),
    )  # fmt: skip
    assert top.field_changes == [{"field": "x"}]


FILTERS = {
    "key": ({"key": "mofcom:2025:61"}, ["61-changed", "61-new"]),
    "source_of_new_version": ({"source": "govcn"}, ["61-changed"]),
    "since_inclusive": ({"since": T0 + timedelta(minutes=60)}, ["70-new", "61-changed"]),
    "since_other_zone": ({"since": datetime(2025, 10, 9, 19, 1, tzinfo=timezone(timedelta(hours=8)))}, ["70-new"]),
    "code_case_insensitive": ({"code": "1c902.A"}, ["61-changed", "61-new"]),
    "code_unknown": ({"code": "3A001"}, []),
    "combined": ({"code": "1C902.a", "source": "mofcom"}, ["61-new"]),
    "limit": ({"limit": 1}, ["70-new"]),
}


@pytest.mark.parametrize(("kwargs", "expected"), FILTERS.values(), ids=FILTERS.keys())
def test_history_filters(store: Store, world, kwargs, expected) -> None:
    assert [r.change_id for r in store.history(**kwargs)] == [world[name] for name in expected]


def test_history_unknown_key_is_not_found(store: Store, world) -> None:
    with pytest.raises(NotFound) as err:
        store.history(key="mofcom:2025:999")
    assert str(err.value) == "no document 'mofcom:2025:999'; try `regwatch history` to list keys"
    assert (err.value.kind, err.value.key) == ("document", "mofcom:2025:999")


def test_not_found_lookups(store: Store, world) -> None:
    with pytest.raises(NotFound, match="^no document 'mofcom:2025:999'; try `regwatch history` to list keys$"):
        store.document("mofcom:2025:999")
    with pytest.raises(NotFound, match="^no document 12345"):
        store.document(12345)
    with pytest.raises(NotFound, match="^no version 'mofcom:2025:61 v9'"):
        store.version(world["61-doc"], 9)
    for call in (lambda: store.capture(999), lambda: store.capture_body(999), lambda: store.alert(999),
                 lambda: store.change(999), lambda: store.relations_from("mofcom:2025:1")):  # fmt: skip
        with pytest.raises(NotFound):
            call()


def test_search_latest_versions(store: Store, world) -> None:
    assert [(h.document_key, h.number) for h in store.search("修订")] == [("mofcom:2025:61", 2)]
    hits = store.search("暂停")
    assert [(h.document_key, h.title, h.url) for h in hits] == [("mofcom:2025:70", "暂停实施的公告", M70)]
    assert "暂停实施2025年第61号公告" in hits[0].snippet
    assert [h.document_key for h in store.search("1c902.a")] == ["mofcom:2025:61"]
    assert store.search("100%") == []
    with pytest.raises(ValueError, match="search text is empty"):
        store.search("  ")


def test_relations_only_from_latest_version(store: Store, world, record) -> None:
    assert [(r.source_key, r.type) for r in store.relations_to("mofcom:2025:61")] == [("mofcom:2025:70", "suspends")]
    assert [r.target_key for r in store.relations_from("mofcom:2025:70")] == ["mofcom:2025:61"]
    r = record("mofcom:2025:70", M70, "暂停实施已撤回", minutes=200)  # new version states no relation
    assert r.created and store.relations_to("mofcom:2025:61") == []
    assert store.relations_from("mofcom:2025:70") == []


def test_status_summary(store: Store, world) -> None:
    failed = store.start_run("govcn", _at(0))
    store.finish_run(failed, _at(1), "failed", {}, [{"kind": "http", "url": G61, "message": "412"}])
    offsite = {"kind": "offsite", "url": G61, "message": "redirected to another host"}
    store.finish_run(store.start_run("govcn", _at(2)), _at(3), "failed", {},
                     [offsite, offsite, {"kind": "challenge", "url": G61, "message": "412"}])
    store.finish_run(store.start_run("mofcom", _at(4)), _at(5), "ok")
    store.enqueue_alert(dedup_key="x", kind="new", severity="info", source="mofcom", doc_key=None, payload={},
                        created_at=_at(0))  # fmt: skip
    store.save_capture(source="miit", url="https://www.miit.gov.cn/a.html", final_url="https://www.miit.gov.cn/a.html",
                       status=200, headers={}, body=b"x", fetched_at=_at(0))  # fmt: skip
    summary = store.status_summary()
    assert summary["sources"]["govcn"] == {
        "name": "中国政府网", "last_run_at": _at(3), "last_run_status": "failed", "last_run_log": None,
        "last_run_errors": {"challenge": 1, "offsite": 2}, "consecutive_failures": 2, "documents": 0, "versions": 1,
    }  # fmt: skip
    assert summary["sources"]["mofcom"] == {
        "name": "商务部", "last_run_at": _at(5), "last_run_status": "ok", "last_run_log": None, "last_run_errors": {},
        "consecutive_failures": 0, "documents": 2, "versions": 2,
    }  # fmt: skip
    assert summary["sources"]["miit"]["last_run_at"] is None
    assert summary["totals"] == {"documents": 2, "versions": 3, "changes": 3, "captures": 1}
    assert (summary["pending_alerts"], summary["dead_alerts"], summary["pending_captures"]) == (1, 0, 1)


def test_consecutive_failures_streak(store: Store) -> None:
    for minutes, status in enumerate(["failed", "ok", "failed", "partial", "failed", "killed", "failed"]):
        store.finish_run(store.start_run("mofcom", _at(minutes)), _at(minutes), status)
    store.start_run("mofcom", _at(10))  # still running: not counted
    assert store.consecutive_failures("mofcom") == 3  # a killed run is a failure
    assert store.consecutive_failures("miit") == 0
    assert [r.status for r in store.runs("mofcom", limit=3)] == ["running", "failed", "killed"]


def test_run_keeps_the_process_stamp_of_its_start(store: Store) -> None:
    run_id = store.start_run("mofcom", _at(0), stats={"pid": 4242, "host": "crawler-1"})
    assert store.runs("mofcom")[0].stats == {"pid": 4242, "host": "crawler-1"}
    store.finish_run(run_id, _at(1), "partial", {"pages": 3}, [])
    assert store.runs("mofcom")[0].stats == {"pid": 4242, "host": "crawler-1", "pages": 3}
    with pytest.raises(ValueError, match="run status must be one of ok, failed, partial, killed"):
        store.finish_run(run_id, _at(2), "running")
