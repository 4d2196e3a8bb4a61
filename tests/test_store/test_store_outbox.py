"""The alert outbox: dedup on enqueue, per-sink deliveries, attempts and statuses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from store import Store

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)


def _enqueue(store: Store, dedup_key: str, minutes: int = 0, **payload) -> tuple[int, bool]:
    return store.enqueue_alert(
        dedup_key=dedup_key, kind="changed", severity="high", source="mofcom", doc_key="mofcom:2025:61",
        payload=payload, created_at=T0 + timedelta(minutes=minutes),
    )  # fmt: skip


def test_enqueue_is_deduplicated(store: Store) -> None:
    first = _enqueue(store, "change:7", title="v1")
    again = _enqueue(store, "change:7", minutes=5, title="v2")
    assert first[1] is True and again == (first[0], False)
    (alert,) = store.alerts()
    assert (alert.payload, alert.created_at) == ({"title": "v1"}, T0)


def test_outbox_flow_partial_failure_then_success(store: Store) -> None:
    a, _ = _enqueue(store, "change:1")
    b, _ = _enqueue(store, "change:2", minutes=1)
    assert [x.id for x in store.pending_alerts()] == [a, b]
    assert [x.id for x in store.pending_alerts(limit=1)] == [a]

    # pass 1: legal ok, ops fails -> alert stays pending with the error
    store.record_delivery(a, "legal", True, T0, external_id="1728467000.000100")
    store.record_delivery(a, "ops", False, T0, detail="ratelimited")
    assert store.delivered_sinks(a) == {"legal"}
    after1 = store.mark_alert(a, "pending", "ops: ratelimited", at=T0 + timedelta(minutes=1))
    assert (after1.status, after1.attempts, after1.last_error) == ("pending", 1, "ops: ratelimited")

    # pass 2: only ops is retried; a repeated ok for legal is not recorded twice
    first_ok = store.deliveries(a)[0].id
    assert store.record_delivery(a, "legal", True, T0 + timedelta(minutes=2)) == first_ok
    store.record_delivery(a, "ops", True, T0 + timedelta(minutes=2), external_id="1728467100.000200")
    assert store.delivered_sinks(a) == {"legal", "ops"}
    done = store.mark_alert(a, "delivered", at=T0 + timedelta(minutes=2))
    assert (done.status, done.attempts, done.updated_at) == ("delivered", 2, T0 + timedelta(minutes=2))
    assert [(d.sink, d.ok, d.external_id) for d in store.deliveries(a)] == [
        ("legal", True, "1728467000.000100"), ("ops", False, None), ("ops", True, "1728467100.000200"),
    ]  # fmt: skip
    assert [x.id for x in store.pending_alerts()] == [b]

    store.mark_alert(b, "dead", "slack: channel_not_found", at=T0 + timedelta(minutes=3))
    assert store.pending_alerts() == []
    assert [x.id for x in store.alerts(status="dead")] == [b]
    assert [x.id for x in store.alerts()] == [b, a]


def test_mark_alert_rejects_unknown_status(store: Store) -> None:
    a, _ = _enqueue(store, "change:1")
    with pytest.raises(ValueError, match="alert status must be one of pending, delivered, dead; got 'sent'"):
        store.mark_alert(a, "sent", at=T0)
