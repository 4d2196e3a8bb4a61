"""The alert outbox: dedup on enqueue, planned deliveries, claims with leases, blocking, requeue, ack."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from store import Store
from store.migrations import MIGRATIONS

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)


def _enqueue(store: Store, dedup_key: str, minutes: int = 0, sinks=("legal", "ops"), **payload) -> tuple[int, bool]:
    return store.enqueue_alert(
        dedup_key=dedup_key, kind="changed", severity="warning", source="mofcom", doc_key="mofcom:2025:61",
        payload=payload, created_at=T0 + timedelta(minutes=minutes), sinks=list(sinks) if sinks else None,
    )  # fmt: skip


def _claim(store: Store, sinks=("legal", "ops"), owner="w1", at=T0, lease=60.0, skip=()):
    return store.claim_delivery(list(sinks), owner=owner, now=at, lease_seconds=lease, skip=skip)


def test_enqueue_is_deduplicated_and_plans_each_sink_once(store: Store) -> None:
    first = _enqueue(store, "change:7", title="v1", sinks=("legal", "ops", "legal"))
    again = _enqueue(store, "change:7", minutes=5, title="v2")
    assert first[1] is True and again == (first[0], False)
    (alert,) = store.alerts()
    assert (alert.payload, alert.created_at, alert.planned, alert.status) == ({"title": "v1"}, T0, True, "pending")
    assert [(d.sink, d.state, d.next_attempt_at) for d in store.alert_deliveries(first[0])] == [
        ("legal", "pending", T0), ("ops", "pending", T0)]


def test_enqueue_inside_a_rolled_back_unit_of_work_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.unit_of_work():
        _enqueue(store, "change:1")
        raise RuntimeError("crash before commit")
    assert store.alerts() == [] and store.delivery_counts() == {}


def test_claim_leases_one_delivery_and_a_second_owner_gets_the_next(store: Store) -> None:
    a, _ = _enqueue(store, "change:1", sinks=("legal",))
    b, _ = _enqueue(store, "change:2", minutes=1, sinks=("legal",))
    one = _claim(store, owner="w1", at=T0 + MIN)
    two = _claim(store, owner="w2", at=T0 + MIN)
    assert (one.alert_id, one.owner, one.attempts, one.reconcile) == (a, "w1", 1, False)
    assert (two.alert_id, two.owner) == (b, "w2")
    assert _claim(store, owner="w3", at=T0 + MIN) is None  # both leased
    (attempt,) = store.deliveries(a)
    assert (attempt.outcome, attempt.owner, attempt.ok) == ("started", "w1", False)  # intent before the send


def test_an_expired_lease_is_reclaimed_with_reconcile_set(store: Store) -> None:
    a, _ = _enqueue(store, "change:1", sinks=("legal",))
    first = _claim(store, owner="dead-process", at=T0, lease=60)
    assert _claim(store, owner="w2", at=T0 + timedelta(seconds=59)) is None
    again = _claim(store, owner="w2", at=T0 + timedelta(seconds=61))
    assert (again.delivery_id, again.reconcile, again.attempts, again.first_attempt_at) == (
        first.delivery_id, True, 2, T0)
    # the dead process's late finish cannot overwrite the new owner's claim
    assert store.finish_delivery(first, outcome="retry", at=T0 + 2 * MIN, detail="late") == "sending"
    assert store.finish_delivery(again, outcome="reconciled", at=T0 + 2 * MIN, external_id="1.1") == "delivered"
    assert store.alert(a).status == "delivered"
    assert [(d.owner, d.outcome) for d in store.deliveries(a)] == [("dead-process", "retry"), ("w2", "reconciled")]


def test_finish_states_and_alert_summary(store: Store) -> None:
    a, _ = _enqueue(store, "change:1")
    legal = _claim(store, sinks=("legal",))
    assert store.finish_delivery(legal, outcome="sent", at=T0, external_id="1.1", detail="posted") == "delivered"
    ops = _claim(store, sinks=("ops",))
    later = T0 + 5 * MIN
    assert store.finish_delivery(ops, outcome="ambiguous", at=T0, detail="timeout", next_attempt_at=later) == "pending"
    alert = store.alert(a)
    assert (alert.status, alert.attempts, alert.last_error) == ("pending", 1, "ops: timeout")
    assert _claim(store, sinks=("ops",), at=later - MIN) is None  # backing off
    retry = _claim(store, sinks=("ops",), at=later)
    assert retry.reconcile is True  # the ambiguous attempt may have been posted
    assert store.finish_delivery(retry, outcome="retry", at=later, detail="500", dead=True) == "dead"
    assert store.alert(a).status == "dead"
    assert store.requeue(a, at=later + MIN) == 1
    row = {d.sink: d for d in store.alert_deliveries(a)}["ops"]
    assert (row.state, row.requeued_at, store.alert(a).status) == ("pending", later + MIN, "pending")


def test_block_and_unblock_a_sink(store: Store) -> None:
    a, _ = _enqueue(store, "change:1", sinks=("legal",))
    b, _ = _enqueue(store, "change:2", sinks=("legal",))
    claim = _claim(store, sinks=("legal",))
    probe_at = T0 + 30 * MIN
    store.finish_delivery(claim, outcome="blocked", at=T0, detail="invalid_auth", next_attempt_at=probe_at)
    assert store.block_sink("legal", "invalid_auth", at=T0, probe_at=probe_at) is True
    assert store.block_sink("legal", "invalid_auth", at=T0 + MIN, probe_at=probe_at) is False  # one episode
    assert {store.alert(a).status, store.alert(b).status} == {"blocked"}
    assert _claim(store, sinks=("legal",), at=T0 + MIN) is None
    probe = _claim(store, sinks=("legal",), at=probe_at)
    assert probe.probe is True
    store.finish_delivery(probe, outcome="sent", at=probe_at, external_id="2.2")
    assert store.unblock_sink("legal", at=probe_at) == 1
    assert store.sink_state("legal").blocked_at is None
    assert _claim(store, sinks=("legal",), at=probe_at).alert_id in (a, b)


def test_hold_unavailable_sinks_and_release_them(store: Store) -> None:
    a, _ = _enqueue(store, "change:1")
    assert store.hold_unavailable(["legal"], {"ops": "is disabled: no token"}, T0) == {"ops": 1}
    ops = {d.sink: d for d in store.alert_deliveries(a)}["ops"]
    assert (ops.state, ops.last_error, store.alert(a).status) == ("held", "sink 'ops' is disabled: no token", "held")
    assert _claim(store, sinks=("ops",)) is None
    assert store.hold_unavailable(["legal", "ops"], {}, T0 + MIN) == {}
    assert {d.state for d in store.alert_deliveries(a)} == {"pending"}


def test_ack_records_who_when_and_note(store: Store) -> None:
    a, _ = _enqueue(store, "change:1")
    acked = store.ack_alert(a, by="lawyer", at=T0 + MIN, note="seen, no action")
    assert (acked.acked_by, acked.acked_at, acked.ack_note, acked.status) == ("lawyer", T0 + MIN, "seen, no action", "pending")


def test_filters(store: Store) -> None:
    a, _ = _enqueue(store, "change:1", sinks=("legal",))
    b, _ = _enqueue(store, "change:2", minutes=1, sinks=("ops",))
    assert [x.id for x in store.alerts(sink="ops")] == [b]
    assert [x.id for x in store.alerts()] == [b, a]
    assert [x.id for x in store.pending_alerts()] == [a, b]
    assert store.delivery_counts() == {"legal": {"pending": 1}, "ops": {"pending": 1}}


def test_filter_by_delivery_state_and_unacked(store: Store) -> None:
    a, _ = _enqueue(store, "change:1")
    b, _ = _enqueue(store, "change:2", minutes=1)
    legacy, _ = _enqueue(store, "legacy:1", minutes=2, sinks=None)
    store.block_sink("legal", "invalid_auth", at=T0 + MIN, probe_at=T0 + 30 * MIN)
    claim = _claim(store, ("ops",), at=T0 + MIN)
    store.finish_delivery(claim, outcome="rejected", at=T0 + MIN, detail="invalid blocks")
    assert (claim.alert_id, store.alert(a).status, store.alert(b).status) == (a, "dead", "blocked")
    assert [x.id for x in store.alerts(state="blocked")] == [b, a]  # a is dead overall, its legal delivery blocked
    assert [x.id for x in store.alerts(state="dead")] == [a]
    assert [x.id for x in store.alerts(state="pending")] == [legacy, b]  # unplanned: by its status
    assert [x.id for x in store.alerts(state="pending", sink="ops")] == [b]
    assert [x.id for x in store.alerts(state="dead", sink="legal")] == []
    store.ack_alert(b, by="lawyer", at=T0 + MIN)
    assert [x.id for x in store.alerts(unacked=True)] == [legacy, a]
    assert [x.id for x in store.alerts(state="blocked", unacked=True, limit=None)] == [a]


def test_unplanned_alert_is_planned_once_without_touching_delivered_sinks(store: Store) -> None:
    a, _ = _enqueue(store, "legacy:1", sinks=None)
    assert [x.id for x in store.unplanned_alerts()] == [a]
    assert store.plan_deliveries(a, ["legal", "ops"], T0) == ["legal", "ops"]
    assert store.plan_deliveries(a, ["legal", "archive"], T0) == ["archive"]
    assert store.unplanned_alerts() == []


def test_migration_from_schema_2_backfills_deliveries(tmp_path) -> None:
    """A schema-2 database (deliveries were an attempt log only) upgrades in place."""
    path = tmp_path / "old.db"
    with Store.open(path, at=T0) as s:
        s.ensure_source("mofcom", "商务部", at=T0)
        done, _ = _enqueue(s, "change:1", sinks=None)
        half, _ = _enqueue(s, "change:2", sinks=None)
        with s.engine.begin() as conn:  # turn it into what regwatch 0.1 wrote
            for table in ("alert_delivery", "sink_state"):
                conn.exec_driver_sql(f"DROP TABLE {table}")
            for column in ("planned", "acked_at", "acked_by", "ack_note"):
                conn.exec_driver_sql(f"ALTER TABLE alert DROP COLUMN {column}")
            for column in ("outcome", "owner", "finished_at"):
                conn.exec_driver_sql(f"ALTER TABLE delivery DROP COLUMN {column}")
            # (0004 re-keys documents and needs `regwatch db upgrade`; there are none here to re-key)
            conn.exec_driver_sql("DELETE FROM _migrations WHERE version >= 3 AND name <> '0004_rekey_agency_codes'")
            conn.execute(sa.text("UPDATE alert SET status = 'delivered' WHERE id = :a"), {"a": done})
            conn.execute(sa.text("INSERT INTO delivery (alert_id, sink, ok, external_id, detail, at) VALUES "
                                 "(:a, 'legal', 1, '1.1', 'ok', :t), (:b, 'legal', 1, '2.2', 'ok', :t), "
                                 "(:b, 'ops', 0, NULL, 'HTTP 500', :t)"), {"a": done, "b": half, "t": "2025-10-09 10:00:00"})
    with Store.open(path, at=T0) as s:  # additive: applied on open
        assert s.schema_version == MIGRATIONS.version
        assert s.alert(done).planned is True and s.alert(half).planned is None
        assert [(d.sink, d.state, d.external_id) for d in s.alert_deliveries(half)] == [("legal", "delivered", "2.2")]
        assert [x.id for x in s.unplanned_alerts()] == [half]
        assert [d.outcome for d in s.deliveries(half)] == ["sent", "retry"]


def test_an_alert_queued_for_a_blocked_sink_waits_with_its_backlog(store: Store) -> None:
    a, _ = _enqueue(store, "change:1", sinks=("legal",))
    claim = _claim(store, sinks=("legal",))
    probe_at = T0 + 30 * MIN
    store.finish_delivery(claim, outcome="blocked", at=T0, detail="invalid_auth", next_attempt_at=probe_at)
    store.block_sink("legal", "invalid_auth", at=T0, probe_at=probe_at)
    b, _ = _enqueue(store, "change:2", minutes=5, sinks=("legal", "ops"))
    assert {d.sink: (d.state, d.next_attempt_at, d.last_error) for d in store.alert_deliveries(b)} == {
        "legal": ("blocked", probe_at, "invalid_auth"), "ops": ("pending", T0 + 5 * MIN, None)}
    assert store.alert(b).status == "blocked"
    assert _claim(store, sinks=("legal",), at=T0 + 10 * MIN) is None  # no call to a sink known to be broken


def test_two_processes_creating_the_same_sink_state_at_once(db_url) -> None:
    """Three `deliver` processes on PostgreSQL each remember the sink's channel ID: the second insert of
    the same row must wait and then update it, not fail with a unique violation."""
    import threading

    with Store.open(db_url, at=T0) as one, Store.open(db_url) as two:
        if one.engine.dialect.name != "postgresql":
            pytest.skip("SQLite writers are serialized by BEGIN IMMEDIATE")
        done: list[object] = []
        with one.unit_of_work():
            one.remember_sink("legal", at=T0, state={"channel_id": "C1"})
            worker = threading.Thread(target=lambda: done.append(
                two.remember_sink("legal", at=T0 + MIN, state={"channel": "#x"})))
            worker.start()
            worker.join(timeout=1)
            assert worker.is_alive()  # blocked on the uncommitted row
        worker.join(timeout=10)
        assert len(done) == 1
        assert two.sink_state("legal").state == {"channel_id": "C1", "channel": "#x"}
