"""Round trips of every table through the Store API, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone

import pytest

from store import CaptureInfo, NotFound, Store

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)
CST = timezone(timedelta(hours=8))
URL = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_0a1b.html"


def test_source_round_trip(store: Store) -> None:
    store.ensure_source("meti", "経済産業省", "https://www.meti.go.jp", at=T0)
    store.ensure_source("meti", "METI", "https://www.meti.go.jp/english")  # update keeps created_at
    meti = next(s for s in store.sources() if s.slug == "meti")
    assert (meti.name, meti.base_url, meti.created_at) == ("METI", "https://www.meti.go.jp/english", T0)
    assert [s.slug for s in store.sources()] == ["govcn", "meti", "miit", "mofcom"]


def test_run_round_trip(store: Store) -> None:
    run_id = store.start_run("mofcom", T0)
    assert store.runs("mofcom")[0].status == "running"
    errors = [{"kind": "layout", "url": URL, "message": "div.art-title h1 matched 0"}]
    store.finish_run(run_id, T0 + timedelta(minutes=5), "partial", {"pages": 3}, errors)
    (run,) = store.runs("mofcom")
    assert (run.id, run.source, run.started_at, run.finished_at) == (run_id, "mofcom", T0, T0 + timedelta(minutes=5))
    assert (run.status, run.stats, run.errors, run.captures) == ("partial", {"pages": 3}, errors, 0)
    assert store.runs("govcn") == []


def test_capture_round_trip(store: Store) -> None:
    run_id = store.start_run("mofcom", T0)
    body = "<html><h1>商务部公告2025年第61号</h1></html>".encode("gb18030")
    cid, created = store.save_capture(
        source="mofcom", url=URL, final_url=URL + "?x=1", status=200, headers={"Content-Type": "text/html"},
        body=body, fetched_at=T0.astimezone(CST), run_id=run_id, kind="detail",
    )  # fmt: skip
    assert created is True
    info = store.capture(cid)
    assert isinstance(info, CaptureInfo)
    assert (info.source, info.run_id, info.kind, info.url, info.final_url, info.status) == (
        "mofcom", run_id, "detail", URL, URL + "?x=1", 200,
    )  # fmt: skip
    assert info.headers == {"Content-Type": "text/html"}
    assert info.size == len(body)
    assert info.body_sha256 == hashlib.sha256(body).hexdigest()
    assert info.fetched_at == T0 and info.fetched_at.tzinfo == timezone.utc
    assert (info.state, info.error, info.processed_at) == ("pending", None, None)
    assert store.capture_body(cid) == body
    assert store.runs("mofcom")[0].captures == 1


def test_capture_states(store: Store) -> None:
    ids = [
        store.save_capture(source=src, url=f"{URL}?p={i}", final_url=URL, status=200, headers={}, body=b"x%d" % i,
                           fetched_at=T0)[0]  # fmt: skip
        for i, src in enumerate(["mofcom", "mofcom", "govcn"])
    ]
    assert [c.id for c in store.pending_captures()] == ids
    assert [c.id for c in store.pending_captures(source="govcn")] == [ids[2]]
    assert [c.id for c in store.pending_captures(limit=1)] == [ids[0]]
    store.mark_capture(ids[0], "processed", at=T0 + timedelta(hours=1))
    store.mark_capture(ids[1], "failed", "LayoutChanged: div.art-title h1", at=T0 + timedelta(hours=1))
    failed = store.capture(ids[1])
    assert (failed.state, failed.error, failed.processed_at) == (
        "failed", "LayoutChanged: div.art-title h1", T0 + timedelta(hours=1),
    )  # fmt: skip
    assert [c.id for c in store.pending_captures()] == [ids[2]]
    assert store.requeue_captures(source="mofcom") == 2
    again = store.capture(ids[1])
    assert (again.state, again.error, again.processed_at) == ("pending", None, None)
    assert [c.id for c in store.pending_captures()] == ids
    with pytest.raises(ValueError, match="capture state must be one of"):
        store.mark_capture(ids[0], "done", at=T0)


def test_document_version_change_round_trip(store: Store) -> None:
    cid, _ = store.save_capture(source="mofcom", url=URL, final_url=URL, status=200, headers={}, body=b"v1",
                                fetched_at=T0)  # fmt: skip
    fields = {"doc_number": "商务部公告2025年第61号", "dates": [{"type": "effective", "date": "2025-10-09"}]}
    r = store.record_version(
        source="mofcom", key="mofcom:2025:61", url=URL, title="关于对境外相关稀土物项实施出口管制的决定",
        text="正文\n第一条", canonical_text="正文\n第一条", content_hash="h1", fields=fields,
        published=date(2025, 10, 9), capture_id=cid, seen_at=T0,
    )  # fmt: skip
    doc = store.document("mofcom:2025:61")
    assert (doc.id, doc.key, doc.canonical_url, doc.source, doc.title) == (
        r.document_id, "mofcom:2025:61", URL, "mofcom", "关于对境外相关稀土物项实施出口管制的决定",
    )  # fmt: skip
    assert (doc.first_seen, doc.last_seen, doc.latest_version, doc.status) == (T0, T0, 1, "active")
    assert store.document(doc.id).key == "mofcom:2025:61"
    assert store.document(URL).id == doc.id
    assert [(u.url, u.source) for u in store.document_urls(doc.id)] == [(URL, "mofcom")]
    v = store.version(doc.id, 1)
    assert (v.id, v.capture_id, v.source, v.url, v.text, v.canonical_text, v.content_hash) == (
        r.version_id, cid, "mofcom", URL, "正文\n第一条", "正文\n第一条", "h1",
    )  # fmt: skip
    assert (v.fields, v.published, v.created_at) == (fields, date(2025, 10, 9), T0)
    assert store.version_by_id(v.id).number == 1
    change_id = store.record_change(
        document_id=doc.id, from_version_id=None, to_version_id=v.id, kind="new",
        text_diff={"ops": [["+", "正文"]]}, field_changes=[{"field": "title", "old": None, "new": "x"}],
        summary="新公告", created_at=T0,
    )  # fmt: skip
    ch = store.change(change_id)
    assert (ch.document_id, ch.from_version_id, ch.to_version_id, ch.kind, ch.summary, ch.created_at) == (
        doc.id, None, v.id, "new", "新公告", T0,
    )  # fmt: skip
    assert (ch.text_diff, ch.field_changes) == ({"ops": [["+", "正文"]]}, [{"field": "title", "old": None, "new": "x"}])
    assert [c.id for c in store.changes(doc.id)] == [change_id]
    assert store.set_document_status(doc.id, "withdrawn").status == "withdrawn"
    assert store.document(doc.id).status == "withdrawn"


def test_tags_and_relations_round_trip(store: Store, record) -> None:
    r = record("mofcom:2025:70", URL, "暂停实施第61号公告")
    tags = [
        {"kind": "code", "scheme": "cn-dual-use", "value": "1C902.a", "evidence": "管制编码：1C902.a"},
        {"kind": "element", "value": "Dy"},
    ]
    assert store.replace_tags(r.version_id, tags) == 2
    got = [(t.kind, t.scheme, t.value, t.evidence) for t in store.tags(r.version_id)]
    assert got == [("code", "cn-dual-use", "1C902.a", "管制编码：1C902.a"), ("element", None, "Dy", "")]
    store.replace_tags(r.version_id, [{"kind": "hs", "value": "2805.30"}])
    assert [t.value for t in store.tags(r.version_id)] == ["2805.30"]
    rel = {"type": "suspends", "target_key": "mofcom:2025:61", "target_text": "2025年第61号", "until": "2026-11-10",
           "since": date(2025, 11, 10), "clause": "第二款", "evidence": "暂停实施"}  # fmt: skip
    assert store.replace_relations(r.version_id, "mofcom:2025:70", [rel]) == 1
    (got_rel,) = store.relations_from("mofcom:2025:70")
    assert (got_rel.source_key, got_rel.type, got_rel.target_key, got_rel.target_text, got_rel.clause) == (
        "mofcom:2025:70", "suspends", "mofcom:2025:61", "2025年第61号", "第二款",
    )  # fmt: skip
    assert (got_rel.until, got_rel.since, got_rel.evidence) == (date(2026, 11, 10), date(2025, 11, 10), "暂停实施")
    with pytest.raises(ValueError, match=r"unknown keys \['colour'\]"):
        store.replace_tags(r.version_id, [{"kind": "code", "value": "x", "colour": "red"}])
    with pytest.raises(NotFound, match="no version 999"):
        store.replace_tags(999, [])


def test_alert_and_delivery_round_trip(store: Store) -> None:
    payload = {"title": "商务部公告2025年第61号", "tags": ["1C902.a"]}
    alert_id, created = store.enqueue_alert(
        dedup_key="change:1", kind="new", severity="high", source="mofcom", doc_key="mofcom:2025:61",
        payload=payload, created_at=T0,
    )  # fmt: skip
    a = store.alert(alert_id)
    assert created and (a.dedup_key, a.kind, a.severity, a.source, a.doc_key, a.payload) == (
        "change:1", "new", "high", "mofcom", "mofcom:2025:61", payload,
    )  # fmt: skip
    assert (a.status, a.attempts, a.created_at, a.updated_at, a.last_error) == ("pending", 0, T0, T0, None)
    store.plan_deliveries(alert_id, ["slack-legal"], T0)
    claim = store.claim_delivery(["slack-legal"], owner="me", now=T0, lease_seconds=60)
    store.finish_delivery(claim, outcome="sent", at=T0, external_id="1728467000.000100", detail="ok")
    (d,) = store.deliveries(alert_id)
    assert (d.id, d.alert_id, d.sink, d.ok, d.external_id, d.detail, d.at, d.outcome, d.owner, d.finished_at) == (
        claim.attempt_id, alert_id, "slack-legal", True, "1728467000.000100", "ok", T0, "sent", "me", T0,
    )  # fmt: skip


def test_naive_datetime_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive datetime 2025-10-09T10:00:00 refused"):
        store.start_run("mofcom", datetime(2025, 10, 9, 10, 0))


def test_unknown_source_refused(store: Store) -> None:
    with pytest.raises(NotFound, match=r"no source 'nra'; register it with Store.ensure_source\(\)"):
        store.start_run("nra", T0)


def test_in_memory_sessions_share_one_database() -> None:
    with Store.in_memory() as s:
        s.ensure_source("mofcom", "商务部", at=T0)
        s.save_capture(source="mofcom", url=URL, final_url=URL, status=200, headers={}, body=b"x", fetched_at=T0)
        assert [c.url for c in s.pending_captures()] == [URL]
        assert s.url == "sqlite://" and s.where == ":memory:"
    with Store.in_memory() as fresh:
        assert fresh.sources() == []
