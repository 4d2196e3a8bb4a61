"""Stage 3 (deliver_pending) with recording fake sinks: at most once per (alert, sink), backoff,
dead-after age, held sinks that keep the backlog, invalid payloads, and the JSONL sink's lines.
Faults against a fake Slack Web API, crashes and concurrent senders: test_delivery_guarantees.py."""

from __future__ import annotations

import json

from alerts.base import Alert
from alerts.jsonl import JsonlSink
from datetime import timedelta

from alerts.routing import load_routes
from pipeline.deliver import DeliveryPolicy, deliver_pending
from pipeline.outbox import Routing, enqueue_request
from pipeline.core.classify import AlertRequest
from pipeline.process import process_pending

BOTH = ["legal", "archive"]


def enqueue(store, clock, n: int = 3, kind: str = "new", severity: str = "info", routes=(), default=BOTH) -> list[int]:
    routing = Routing(tuple(load_routes(list(routes))), tuple(default))
    ids = []
    for i in range(n):
        alert = Alert(0, kind, severity, "mofcom", f"mofcom:2025:{i + 1}", f"公告2025年第{i + 1}号", f"summary {i + 1}",
                      f"https://www.mofcom.gov.cn/art/{i + 1}.html", clock.now(), facts=[("Number", str(i + 1))],
                      tags=[f"code:1C90{i}"])
        payload = alert.to_payload()
        del payload["links"]  # process does not write links; the sink must cope with both shapes
        alert_id, created = store.enqueue_alert(dedup_key=f"test:{kind}:{i}", kind=kind, severity=severity,
                                                source="mofcom", doc_key=alert.doc_key, payload=payload,
                                                created_at=clock.now(), sinks=routing.sinks_for(alert))
        assert created
        ids.append(alert_id)
    return ids


def run(store, clock, sinks, **kwargs):
    return deliver_pending(store, sinks, now=clock.now(), **kwargs)


def test_drains_to_two_sinks_once(store, clock, fake_sink) -> None:
    ids = enqueue(store, clock)
    legal, archive = fake_sink("legal"), fake_sink("archive")
    report = run(store, clock, {"legal": legal, "archive": archive})
    assert (report.delivered, report.failed, report.dead, report.held) == (6, 0, 0, 0)  # deliveries, not alerts
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


def test_failing_sink_backs_off_and_the_other_sink_is_not_resent(store, clock, fake_sink) -> None:
    ids = enqueue(store, clock)
    legal, archive = fake_sink("legal"), fake_sink("archive")
    legal.fail()
    report = run(store, clock, {"legal": legal, "archive": archive})
    # one failed attempt, then the failing sink is left alone for the rest of the pass
    assert (report.delivered, report.failed, legal.attempts) == (3, 1, 1)
    assert report.errors == [f"alert {ids[0]} → legal: legal: HTTP 503 (fake outage)"]
    assert archive.sent_ids == ids and legal.sent == []
    first = store.alert(ids[0])
    assert (first.status, first.attempts, first.last_error) == ("pending", 1, "legal: legal: HTTP 503 (fake outage)")
    waiting = {d.sink: d for d in store.alert_deliveries(ids[0])}["legal"]
    assert clock.now() + timedelta(seconds=47) <= waiting.next_attempt_at <= clock.now() + timedelta(seconds=73)

    again = run(store, clock, {"legal": legal, "archive": archive})  # the next due one is tried, once
    assert (again.sent, again.failed, legal.attempts) == ([], 1, 2)
    clock.advance(minutes=10)
    legal.recover()
    report = run(store, clock, {"legal": legal, "archive": archive})
    assert report.delivered == 3
    assert sorted(legal.sent_ids) == ids  # in order of due time: the untried one first
    assert archive.sent_ids == ids and archive.attempts == 3  # no duplicate in the archive
    assert [store.alert(i).status for i in ids] == ["delivered"] * 3
    assert [(d.sink, d.ok) for d in store.deliveries(ids[0])] == [("legal", False), ("archive", True), ("legal", True)]


def test_a_delivery_goes_dead_only_after_the_dead_after_age_and_can_be_retried(store, clock, fake_sink) -> None:
    [alert_id] = enqueue(store, clock, 1)
    legal, archive = fake_sink("legal"), fake_sink("archive")
    legal.fail()
    policy = DeliveryPolicy(dead_after=timedelta(hours=6), max_backoff=3600, jitter=0.0)
    passes = 0
    while store.alert(alert_id).status != "dead":
        run(store, clock, {"legal": legal, "archive": archive}, policy=policy)
        clock.advance(minutes=3)  # the daemon's delivery job
        passes += 1
        assert passes < 500
    # ~6 h of failures at capped backoff: many passes, but only the due ones tried
    assert 9 <= legal.attempts <= 12 and passes > 100
    assert store.status_summary()["dead_alerts"] == 1
    legal.recover()
    assert run(store, clock, {"legal": legal, "archive": archive}, policy=policy).sent == []  # dead stays dead
    assert store.requeue(alert_id, at=clock.now()) == 1  # `regwatch alerts retry`
    assert run(store, clock, {"legal": legal, "archive": archive}, policy=policy).sent == [(alert_id, "legal")]
    assert archive.attempts == 1 and store.alert(alert_id).status == "delivered"


def test_disabled_sink_holds_the_backlog_without_spending_attempts(store, clock, fake_sink) -> None:
    ids = enqueue(store, clock, 2)
    archive = fake_sink("archive")
    for _ in range(5):  # e.g. no Slack token: the `legal` sink was not built
        report = run(store, clock, {"archive": archive}, disabled={"legal": "slack: no token (set SLACK_BOT_TOKEN)"})
    assert (report.held, report.held_sinks, report.delivered, report.failed, report.dead) == (2, {"legal": 2}, 0, 0, 0)
    assert [(store.alert(i).status, store.alert(i).attempts) for i in ids] == [("held", 0)] * 2
    held = {d.sink: d for d in store.alert_deliveries(ids[0])}["legal"]
    assert held.last_error == "sink 'legal' is disabled: slack: no token (set SLACK_BOT_TOKEN)"
    assert archive.sent_ids == ids  # sent once, not once per run

    legal = fake_sink("legal")  # the token is configured: the backlog goes out, the archive is not re-sent
    report = run(store, clock, {"legal": legal, "archive": archive})
    assert (report.delivered, report.held) == (2, 0)
    assert legal.sent_ids == ids and archive.attempts == 2


def test_routes_decide_at_enqueue_and_a_later_config_never_reroutes(store, clock, fake_sink) -> None:
    routes = [{"when": {"kind": "source_health"}, "to": ["ops"]}, {"when": {"tag": "code:1C901"}, "to": ["legal"]}]
    new_ids = enqueue(store, clock, 2, kind="new", routes=routes, default=["archive"])
    health = AlertRequest(dedup_key="health:mofcom:layout:2025-11-10", kind="source_health", severity="critical",
                          source="mofcom", doc_key=None, title="mofcom: pages can no longer be read (layout)",
                          summary="layout changed", url="https://www.mofcom.gov.cn/x.html",
                          facts=(("Source", "mofcom"),), tags=("health:layout",))
    routing = Routing(tuple(load_routes(routes)), ("archive",))
    assert enqueue_request(store, health, clock.now(), routing) == 1
    [health_id] = [a.id for a in store.alerts(kind="source_health")]
    legal, ops, archive = fake_sink("legal"), fake_sink("ops"), fake_sink("archive")
    # `deliver` run with a config that has only the console (e.g. cron without --config): nothing is rerouted
    console = fake_sink("console")
    report = run(store, clock, {"console": console})
    assert console.sent == [] and report.held_sinks == {"archive": 1, "legal": 1, "ops": 1}
    report = run(store, clock, {"legal": legal, "ops": ops, "archive": archive, "console": console})
    assert ops.sent_ids == [health_id]
    assert legal.sent_ids == [new_ids[1]]  # tags code:1C901
    assert archive.sent_ids == [new_ids[0]]  # no route matched: default
    assert console.sent == [] and report.delivered == 3


def test_jsonl_sink_lines(store, clock, tmp_path) -> None:
    ids = enqueue(store, clock, 2, default=["archive"])
    path = tmp_path / "out" / "alerts.jsonl"
    sink = JsonlSink.from_config("archive", {"kind": "jsonl", "path": str(path)})
    report = run(store, clock, {"archive": sink})
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
    run(store, clock, {"archive": sink})
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_processed_fixture_alerts_reach_the_jsonl_archive(store, clock, capture_page, tmp_path) -> None:
    capture_page("2025-58-standard")
    capture_page("2025-72-gonggao")
    process_pending(store, now=clock.now(), routing=Routing(default=("archive",)))
    path = tmp_path / "alerts.jsonl"
    sink = JsonlSink.from_config("archive", {"kind": "jsonl", "path": str(path)})
    report = run(store, clock, {"archive": sink})
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert report.delivered == len(lines) == 3
    assert [(x["kind"], x["doc_key"]) for x in lines] == [
        ("new", "mofcom+gacc:2025:58"), ("new", "mofcom:2025:72"), ("status", "mofcom:2024:46")]
    assert lines[2]["title"] == "mofcom:2024:46 (第二款) suspended until 2026-11-27"
    assert store.pending_alerts() == []


def test_backlog_for_a_disabled_sink_does_not_starve_newer_alerts(store, clock, fake_sink) -> None:
    """More alerts held for a disabled sink than one pass's limit: later alerts still reach working sinks."""
    routes = [{"when": {"kind": ["new"]}, "to": ["legal"]}, {"when": {"kind": ["status"]}, "to": ["ops"]}]
    parked = enqueue(store, clock, n=5, kind="new", routes=routes, default=["ops"])
    fresh = enqueue(store, clock, n=2, kind="status", severity="critical", routes=routes, default=["ops"])
    ops = fake_sink("ops")
    report = run(store, clock, {"ops": ops}, limit=2)  # "legal" disabled
    assert ops.sent_ids == fresh
    assert report.held == 5 and report.delivered == 2
    assert [store.alert(i).status for i in parked] == ["held"] * 5


def test_invalid_payload_is_parked_dead_and_the_rest_are_delivered(store, clock, fake_sink) -> None:
    bad, _ = store.enqueue_alert(dedup_key="test:bad", kind="new", severity="info", source="mofcom", doc_key=None,
                                 payload={"kind": "new", "severity": "loud"}, created_at=clock.now(), sinks=["legal"])
    good = enqueue(store, clock, n=1)
    legal, archive = fake_sink("legal"), fake_sink("archive")
    report = run(store, clock, {"legal": legal, "archive": archive})
    assert store.alert(bad).status == "dead" and "invalid payload" in (store.alert(bad).last_error or "")
    assert legal.sent_ids == good and report.dead == 1 and report.delivered == 2


def test_a_sink_that_raises_is_a_failed_delivery_not_a_crash(store, clock, fake_sink) -> None:
    ids = enqueue(store, clock, n=2)

    class Exploding:
        kind, name = "boom", "legal"

        def send(self, alert):
            raise RuntimeError("plug-in bug")

    archive = fake_sink("archive")
    report = run(store, clock, {"legal": Exploding(), "archive": archive})
    assert report.failed == 1 and archive.sent_ids == ids
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

            return DeliveryResult.failure("connection reset", retryable=True, ambiguous=True)

        def find_posted(self, alert_id, *, oldest):
            return "1731.000100" if self.posts else None

    sink, archive = LostResponse(), fake_sink("archive")
    run(store, clock, {"legal": sink, "archive": archive})
    clock.advance(minutes=5)
    report = run(store, clock, {"legal": sink, "archive": archive})
    assert sink.posts == 1 and report.delivered == 1
    assert [(d.sink, d.ok, d.external_id) for d in store.deliveries(alert_id)] == [
        ("legal", False, None), ("archive", True, "archive-1"), ("legal", True, "1731.000100")]


def test_a_rejected_alert_is_dead_at_once_and_does_not_hold_up_the_sink(store, clock, fake_sink) -> None:
    from alerts.base import DeliveryResult

    ids = enqueue(store, clock, n=3, default=["legal"])

    class RejectsFirst:
        kind, name = "slack", "legal"

        def __init__(self) -> None:
            self.sent: list[int] = []

        def send(self, alert):
            if alert.id == ids[0]:
                return DeliveryResult.failure("invalid_blocks (rendering bug)", retryable=False)
            self.sent.append(alert.id)
            return DeliveryResult.success(f"ts-{alert.id}")

    sink = RejectsFirst()
    report = run(store, clock, {"legal": sink})
    assert (report.dead, report.delivered, sink.sent) == (1, 2, ids[1:])  # the others went out in the same pass
    assert [store.alert(i).status for i in ids] == ["dead", "delivered", "delivered"]
    assert [d.outcome for d in store.deliveries(ids[0])] == ["rejected"]


def test_a_long_pass_stamps_each_claim_with_the_time_it_happens(store, clock, fake_sink) -> None:
    """Leases are counted from each claim, not from the start of the pass (a slow sink must not leave
    later deliveries with leases that expired before they were even sent)."""
    ids = enqueue(store, clock, n=3, default=["legal"])
    legal = fake_sink("legal")
    real_send = legal.send

    def slow_send(alert):
        clock.advance(seconds=100)  # each post takes 100 s
        return real_send(alert)

    legal.send = slow_send
    start = clock.now()
    deliver_pending(store, {"legal": legal}, now=start, clock=clock.now)
    attempts = [store.deliveries(i)[0] for i in ids]
    assert [(a.at - start).total_seconds() for a in attempts] == [0, 100, 200]  # claimed as it happened
    assert [(a.finished_at - start).total_seconds() for a in attempts] == [100, 200, 300]
