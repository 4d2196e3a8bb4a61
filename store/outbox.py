"""The alert outbox: ``process`` enqueues, ``deliver`` drains and records one Delivery per sink.

Delivery is idempotent per (alert, sink): once a sink has an ok Delivery for an alert,
``delivered_sinks`` lists it and ``record_delivery`` will not add a second ok row for it.
``attempts`` counts delivery passes: ``mark_alert`` adds one when it records an error or
marks the alert delivered (an operator re-queue without error does not count).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exc
from sqlmodel import col, select

from store.errors import NotFound
from store.models import Alert, Delivery
from store.session import StoreBase

ALERT_STATUSES = ("pending", "delivered", "dead")


class OutboxOps(StoreBase):
    """Alerts and their deliveries."""

    def enqueue_alert(
        self,
        *,
        dedup_key: str,
        kind: str,
        severity: str,
        source: str | None,
        doc_key: str | None,
        payload: dict[str, Any],
        created_at: datetime,
    ) -> tuple[int, bool]:
        """Add a pending alert; a ``dedup_key`` already present is not inserted again.

        Returns ``(alert_id, created)``.

        Example:
            >>> store.enqueue_alert(dedup_key="change:7", kind="changed", severity="high", source="mofcom",
            ...                     doc_key="mofcom:2025:61", payload={}, created_at=t)
            (1, True)
        """
        existing = self._alert_id(dedup_key)
        if existing is not None:
            return existing, False
        try:
            with self._write() as s:
                alert = Alert(
                    dedup_key=dedup_key, kind=kind, severity=severity, source=source, doc_key=doc_key,
                    payload=dict(payload), created_at=created_at, updated_at=created_at,
                )  # fmt: skip
                s.add(alert)
                s.flush()
                return alert.id or 0, True
        except exc.IntegrityError:
            # Another process enqueued the same key between our check and insert.
            found = self._alert_id(dedup_key)
            if found is None:
                raise
            return found, False

    def _alert_id(self, dedup_key: str) -> int | None:
        with self._read() as s:
            return s.exec(select(Alert.id).where(Alert.dedup_key == dedup_key)).first()

    def alert(self, alert_id: int) -> Alert:
        """One alert; raises ``NotFound``."""
        with self._read() as s:
            found = s.get(Alert, alert_id)
            if found is None:
                raise NotFound("alert", alert_id)
            return found

    def pending_alerts(self, limit: int = 100, *, after_id: int = 0) -> list[Alert]:
        """Alerts waiting for delivery, oldest first; page with ``after_id`` (the last id seen)."""
        with self._read() as s:
            query = (select(Alert).where(Alert.status == "pending", col(Alert.id) > after_id)
                     .order_by(col(Alert.id)).limit(limit))
            return list(s.exec(query))

    def alerts(self, status: str | None = None, limit: int = 100) -> list[Alert]:
        """Alerts newest first, optionally only those with ``status``."""
        query = select(Alert).order_by(col(Alert.created_at).desc(), col(Alert.id).desc()).limit(limit)
        if status is not None:
            query = query.where(Alert.status == status)
        with self._read() as s:
            return list(s.exec(query))

    def record_delivery(
        self,
        alert_id: int,
        sink: str,
        ok: bool,
        at: datetime,
        external_id: str | None = None,
        detail: str = "",
    ) -> int:
        """Record one attempt to deliver ``alert_id`` to ``sink``; returns the Delivery id.

        A second ok delivery for a sink that already has one is not recorded; the first id is returned.
        """
        with self._write() as s:
            if s.get(Alert, alert_id) is None:
                raise NotFound("alert", alert_id)
            if ok:
                query = select(Delivery.id).where(Delivery.alert_id == alert_id, Delivery.sink == sink, Delivery.ok)
                done = s.exec(query).first()
                if done is not None:
                    return done
            row = Delivery(alert_id=alert_id, sink=sink, ok=ok, external_id=external_id, detail=detail, at=at)
            s.add(row)
            s.flush()
            return row.id or 0

    def delivered_sinks(self, alert_id: int) -> set[str]:
        """Sinks that already have an ok Delivery for this alert (never send to them again)."""
        with self._read() as s:
            query = select(Delivery.sink).where(Delivery.alert_id == alert_id, Delivery.ok)
            return set(s.exec(query))

    def deliveries(self, alert_id: int) -> list[Delivery]:
        """Every delivery attempt of an alert, oldest first."""
        with self._read() as s:
            return list(s.exec(select(Delivery).where(Delivery.alert_id == alert_id).order_by(col(Delivery.id))))

    def mark_alert(self, alert_id: int, status: str, error: str | None = None, *, at: datetime) -> Alert:
        """Set an alert's status (``pending|delivered|dead``) and last error; see module doc for ``attempts``."""
        if status not in ALERT_STATUSES:
            raise ValueError(f"alert status must be one of {', '.join(ALERT_STATUSES)}; got {status!r}")
        with self._write() as s:
            alert = s.get(Alert, alert_id)
            if alert is None:
                raise NotFound("alert", alert_id)
            if error is not None or status == "delivered":
                alert.attempts += 1
            alert.status, alert.updated_at = status, at
            if error is not None:
                alert.last_error = error
            s.add(alert)
            return alert
