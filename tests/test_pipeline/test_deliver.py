"""Stage 3 (deliver_pending): the outbox drained into sinks at most once per (alert, sink), retries,
dead alerts, disabled sinks that keep the backlog, and the JSONL sink's lines."""

from __future__ import annotations

import json

from alerts.base import Alert
from alerts.jsonl import JsonlSink
from alerts.routing import load_routes
from pipeline.deliver import deliver_pending
from pipeline.process import process_pending

BOTH = ["legal", "archive"]


def enqueue(store, clock, n: int = 3, kind: str = "new", severity: str = "info") -> list[int]:
    ids = []
    for i in range(n):
        alert = Alert(0, kind, severity, "mofcom", f"mofcom:2025:{i + 1}", f"公告2025年第{i + 1}号", f"summary {i + 1}",
                      f"https://www.mofcom.gov.cn/art/{i + 1}.html", clock.now(), facts=[("Number", str(i + 1))],
                      tags=[f"code:1C90{i}"])
        payload = alert.to_payload()
        del payload["links"]  # process does not write links; the sink must cope with both shapes
        alert_id, created = store.enqueue_alert(dedup_key=f"test:{kind}:{i}", kind=kind, severity=severity,
                                                source="mofcom", doc_key=alert.doc_key, payload=payload,
                                                created_at=clock.now())
        assert created
        ids.append(alert_id)
    return ids


def run(store, clock, sinks, routes=(), default=BOTH, **kwargs):
    return deliver_pending(store, sinks, load_routes(list(routes)), default=default, now=clock.now(), **kwargs)


def test_drains_to_two_sinks_once(store, clock, fake_sink) -> None:
    ids = enqueue(store, clock)
    legal, archive = fake_sink("legal"), fake_sink("archive")
    report = run(store, clock, {"legal": legal, "archive": archive})
    assert (report.delivered, report.failed, report.dead, report.pending) == (3, 0, 0, 0)
    assert report.sent == [(ids[0], "legal"), (ids[0], "archive"), (ids[1], "legal"), (ids[1], "archive"),
                           (ids[2], "legal"), (ids[2], "archive")]
    assert legal.sent_ids == archive.sent_ids == ids
    assert legal.sent[0].title == "公告2025年第1号" and legal.sent[0].facts == (("Number", "1"),)
    assert [store.alert(i).status for i in ids] == ["delivered"] * 3
    assert [(d.sink, d.ok, d.external_id) for d in store.deliveries(ids[1])] == [
        ("legal", True, "legal-2"), ("archive", True, "archive-2")]

    again = run(store, clock, {"legal": legal, "archive": archive})
    assert (again.delivered, again.sent) == (0, [])
    assert legal.attempts == archive.attempts == 3


def test_failing_sink_keeps_alert_pending_and_the_other_sink_is_not_resent(store, clock, fake_sink) -> None:
    ids = enqueue(store, clock)
    legal, archive = fake_sink("legal"), fake_sink("archive")
    legal.fail()
    report = run(store, clock, {"legal": legal, "archive": archive})
    assert (report.delivered, report.failed) == (0, 3)
    assert report.errors == ["legal: legal: HTTP 503 (fake outage)"] * 3
    assert archive.sent_ids == ids and legal.sent == []
    first = store.alert(ids[0])
    assert (first.status, first.attempts, first.last_error) == ("pending", 1, "legal: legal: HTTP 503 (fake outage)")

    clock.advance(minutes=10)
    legal.recover()
    report = run(store, clock, {"legal": legal, "archive": archive})
    assert (report.delivered, report.failed) == (3, 0)
    assert legal.sent_ids == ids
    assert archive.sent_ids == ids and archive.attempts == 3  # no duplicate in the archive
    assert [store.alert(i).status for i in ids] == ["delivered"] * 3
    assert [(d.sink, d.ok) for d in store.deliveries(ids[0])] == [("legal", False), ("archive", True), ("legal", True)]


def test_alert_goes_dead_after_max_attempts(store, clock, fake_sink) -> None:
    [alert_id] = enqueue(store, clock, 1)
    legal, archive = fake_sink("legal"), fake_sink("archive")
    legal.fail()
    reports = [run(store, clock, {"legal": legal, "archive": archive}, max_attempts=3) for _ in range(3)]
    assert [(r.failed, r.dead) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    alert = store.alert(alert_id)
    assert (alert.status, alert.attempts) == ("dead", 3)
    assert store.status_summary()["dead_alerts"] == 1
    assert run(store, clock, {"legal": legal, "archive": archive}, max_attempts=3).sent == []
    assert (legal.attempts, archive.attempts) == (3, 1)


def test_disabled_sink_keeps_the_backlog_pending_without_spending_attempts(store, clock, fake_sink) -> None:
    ids = enqueue(store, clock, 2)
    archive = fake_sink("archive")
    for _ in range(5):  # e.g. no Slack token: the `legal` sink was not built
        report = run(store, clock, {"archive": archive}, max_attempts=3)
    assert (report.pending, report.delivered, report.failed, report.dead, report.errors) == (2, 0, 0, 0, [])
    assert [(store.alert(i).status, store.alert(i).attempts) for i in ids] == [("pending", 0)] * 2
    assert archive.sent_ids == ids  # sent once, not once per run

    legal = fake_sink("legal")  # the token is configured: the backlog goes out, the archive is not re-sent
    report = run(store, clock, {"legal": legal, "archive": archive}, max_attempts=3)
    assert (report.delivered, report.pending) == (2, 0)
    assert legal.sent_ids == ids and archive.attempts == 2


def test_routes_pick_sinks_and_default_catches_the_rest(store, clock, fake_sink) -> None:
    new_ids = enqueue(store, clock, 2, kind="new")
    [health_id] = [store.enqueue_alert(
        dedup_key="health:mofcom:layout:2025-11-10", kind="source_health", severity="critical", source="mofcom",
        doc_key=None, created_at=clock.now(), payload={
            "kind": "source_health", "severity": "critical", "source": "mofcom", "doc_key": None,
            "title": "mofcom: pages can no longer be read (layout)", "summary": "layout changed",
            "url": "https://www.mofcom.gov.cn/x.html", "created_at": clock.now().isoformat(),
            "facts": [["Source", "mofcom"]], "tags": ["health:layout"], "diff_text": None})[0]]
    legal, ops, archive = fake_sink("legal"), fake_sink("ops"), fake_sink("archive")
    routes = [{"when": {"kind": "source_health"}, "to": ["ops"]}, {"when": {"tag": "code:1C901"}, "to": ["legal"]}]
    report = run(store, clock, {"legal": legal, "ops": ops, "archive": archive}, routes, default=["archive"])
    assert report.delivered == 3
    assert ops.sent_ids == [health_id]
    assert legal.sent_ids == [new_ids[1]]  # tagged code:1C901
    assert archive.sent_ids == [new_ids[0]]  # no route matched


def test_jsonl_sink_lines(store, clock, tmp_path) -> None:
    ids = enqueue(store, clock, 2)
    path = tmp_path / "out" / "alerts.jsonl"
    sink = JsonlSink.from_config("archive", {"kind": "jsonl", "path": str(path)})
    report = run(store, clock, {"archive": sink}, default=["archive"])
    assert report.delivered == 2
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": ids[i], "kind": "new", "severity": "info", "source": "mofcom", "doc_key": f"mofcom:2025:{i + 1}",
         "title": f"公告2025年第{i + 1}号", "summary": f"summary {i + 1}",
         "url": f"https://www.mofcom.gov.cn/art/{i + 1}.html", "created_at": "2025-11-10T03:00:00+00:00",
         "facts": [["Number", str(i + 1)]], "diff_text": None, "links": [], "tags": [f"code:1C90{i}"]}
        for i in range(2)]
    assert "公告" in lines[0]  # UTF-8, not \u-escaped
    assert [d.external_id for d in store.deliveries(ids[1])] == [f"{path}#{len(lines[0].encode()) + 1}"]
    run(store, clock, {"archive": sink}, default=["archive"])
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_processed_fixture_alerts_reach_the_jsonl_archive(store, clock, capture_page, tmp_path) -> None:
    capture_page("2025-58-standard")
    capture_page("2025-72-gonggao")
    process_pending(store, now=clock.now())
    path = tmp_path / "alerts.jsonl"
    sink = JsonlSink.from_config("archive", {"kind": "jsonl", "path": str(path)})
    report = run(store, clock, {"archive": sink}, default=["archive"])
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert report.delivered == len(lines) == 3
    assert [(x["kind"], x["doc_key"]) for x in lines] == [
        ("new", "mofcom+gacc:2025:58"), ("new", "mofcom:2025:72"), ("status", "mofcom:2024:46")]
    assert lines[2]["title"] == "mofcom:2024:46 (第二款) suspended until 2026-11-27"
    assert store.pending_alerts() == []


def test_backlog_for_a_disabled_sink_does_not_starve_newer_alerts(store, clock, fake_sink) -> None:
    """More alerts parked for a disabled sink than one outbox page: later alerts still reach working sinks."""
    parked = enqueue(store, clock, n=5, kind="new")
    fresh = enqueue(store, clock, n=2, kind="status", severity="critical")
    ops = fake_sink("ops")
    routes = [{"when": {"kind": ["new"]}, "to": ["legal"]}, {"when": {"kind": ["status"]}, "to": ["ops"]}]
    report = run(store, clock, {"ops": ops}, routes=routes, default=["ops"], limit=2)  # "legal" disabled
    assert ops.sent_ids == fresh
    assert report.pending == 5 and report.delivered == 2
    assert [store.alert(i).status for i in parked] == ["pending"] * 5


def test_invalid_payload_is_parked_dead_and_the_rest_are_delivered(store, clock, fake_sink) -> None:
    bad, _ = store.enqueue_alert(dedup_key="test:bad", kind="new", severity="info", source="mofcom", doc_key=None,
                                 payload={"kind": "new", "severity": "loud"}, created_at=clock.now())
    good = enqueue(store, clock, n=1)
    legal, archive = fake_sink("legal"), fake_sink("archive")
    report = run(store, clock, {"legal": legal, "archive": archive})
    assert store.alert(bad).status == "dead" and "invalid payload" in (store.alert(bad).last_error or "")
    assert legal.sent_ids == good and report.dead == 1 and report.delivered == 1


def test_a_sink_that_raises_is_a_failed_delivery_not_a_crash(store, clock, fake_sink) -> None:
    ids = enqueue(store, clock, n=2)

    class Exploding:
        kind, name = "boom", "legal"

        def send(self, alert):
            raise RuntimeError("plug-in bug")

    archive = fake_sink("archive")
    report = run(store, clock, {"legal": Exploding(), "archive": archive})
    assert report.failed == 2 and archive.sent_ids == ids
    assert [d.ok for d in store.deliveries(ids[0])] == [False, True]
    assert "plug-in bug" in store.deliveries(ids[0])[0].detail


def test_retry_after_a_lost_response_does_not_post_twice(store, clock, fake_sink) -> None:
    """A sink that can search what it posted (Slack's conversations.history) is asked before a retry."""
    (alert_id,) = enqueue(store, clock, n=1)

    class LostResponse:
        kind, name = "slack", "legal"

        def __init__(self) -> None:
            self.posts = 0

        def send(self, alert):
            self.posts += 1  # Slack got it, but the answer never came back
            from alerts.base import DeliveryResult

            return DeliveryResult.failure("connection reset", retryable=True)

        def find_posted(self, alert_id, *, oldest):
            return "1731.000100" if self.posts else None

    sink, archive = LostResponse(), fake_sink("archive")
    run(store, clock, {"legal": sink, "archive": archive})
    report = run(store, clock, {"legal": sink, "archive": archive})
    assert sink.posts == 1 and report.delivered == 1
    assert [(d.sink, d.ok, d.external_id) for d in store.deliveries(alert_id)] == [
        ("legal", False, None), ("archive", True, "archive-1"), ("legal", True, "1731.000100")]
