"""The alert outbox: alerts, their planned deliveries (one per alert and sink) and the attempt log.

Life of a delivery (``AlertDelivery.state``), driven by ``pipeline.deliver``::

    pending --claim--> sending --sent/reconciled--> delivered
       ^                  |  \\--retryable/ambiguous--> pending (next_attempt_at = backoff)
       |                  |   \\--permanent sink error--> blocked (every pending delivery of the sink)
       |                  \\--rejected / too old-------> dead
       +-- held (sink not configured here) / blocked (fixed) / dead (``alerts retry``)

* **Planned at enqueue.** ``enqueue_alert(..., sinks=[...])`` writes the alert and its
  deliveries in one transaction, so the routes in force when the alert was queued decide where
  it goes; a later run with another configuration never reroutes it.
* **At most one sender.** ``claim_delivery`` moves one due delivery to ``sending`` with a lease
  (owner, expiry) in a compare-and-set ``UPDATE``, and records the intent (an attempt row with
  outcome ``started``) in the same transaction, *before* anything is sent. Any number of
  ``deliver`` processes can run: a claimed delivery is invisible to the others until its lease
  expires. An expired lease means its sender died mid-send: the next claim is flagged
  ``reconcile`` (look for the earlier post before sending again).
* **Nothing is dropped.** Deliveries wait (``held``/``blocked``) rather than die; only
  retryable failures older than the dead-after age become ``dead``, and ``requeue`` revives any.

``Alert.status`` summarizes the deliveries: ``delivered`` when all are, otherwise the most
urgent of ``dead`` > ``blocked`` > ``held`` > ``pending``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from store.errors import NotFound
from store.models import Alert, AlertDelivery, Delivery, SinkState
from store.session import StoreBase, core, insert_rows

ALERT_STATUSES = ("pending", "delivered", "held", "blocked", "dead")
DELIVERY_STATES = ("pending", "sending", "delivered", "held", "blocked", "dead")
OUTCOMES = ("sent", "reconciled", "retry", "ambiguous", "blocked", "rejected")


@dataclass(frozen=True)
class Claim:
    """A delivery claimed for sending: only ``owner`` may send it until ``lease_expires_at``.

    ``reconcile`` is true when an earlier attempt may have reached the sink (its sender died
    mid-send, or the sink said the outcome was ambiguous): look for that post before sending.
    ``probe`` is true for a blocked delivery tried again to see whether its sink was fixed.
    """

    delivery_id: int
    attempt_id: int
    alert_id: int
    sink: str
    owner: str
    attempts: int
    reconcile: bool
    probe: bool
    payload: dict[str, Any]
    alert_created_at: datetime
    first_attempt_at: datetime | None
    age_from: datetime  # when the dead-after clock started (planned, or last requeued)
    lease_expires_at: datetime


def _summarize(states: Iterable[str]) -> str:
    states = set(states)
    if not states or states == {"delivered"}:
        return "delivered"
    for status in ("dead", "blocked", "held"):
        if status in states:
            return status
    return "pending"


def _refresh_alert(s: Session, alert_id: int, at: datetime, error: str | None = None) -> None:
    alert = s.get(Alert, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    states = s.exec(select(AlertDelivery.state).where(AlertDelivery.alert_id == alert_id)).all()
    alert.status, alert.updated_at = _summarize(states), at
    if error is not None:
        alert.last_error = error
    s.add(alert)


def _planned(s: Session, alert_id: int, sink: str, at: datetime) -> AlertDelivery:
    """A new delivery of alert ``alert_id`` to ``sink``: pending now, or joining the sink's blocked
    backlog (and its probe time) when the sink is blocked."""
    row = AlertDelivery(alert_id=alert_id, sink=sink, next_attempt_at=at, created_at=at, updated_at=at)
    blocked = _blocked_sinks(s)
    if sink in blocked:
        probe = s.exec(select(sa.func.min(AlertDelivery.next_attempt_at)).where(
            AlertDelivery.sink == sink, AlertDelivery.state == "blocked")).first()
        row.state, row.last_error, row.next_attempt_at = "blocked", blocked[sink], probe or at
    return row


def _blocked_sinks(s: Session) -> dict[str, str | None]:
    """Blocked sink -> its reason, read once per session (every alert of a capture plans deliveries to
    the same few sinks); ``block_sink`` / ``unblock_sink`` drop the session's copy."""
    if "blocked_sinks" not in s.info:
        rows = core(s).execute(select(SinkState.name, SinkState.blocked_reason)
                               .where(col(SinkState.blocked_at).is_not(None)))
        s.info["blocked_sinks"] = {name: reason for name, reason in rows}
    return s.info["blocked_sinks"]


def _add_plan(s: Session, alert: Alert, sinks: Sequence[str], at: datetime) -> list[str]:
    """Plan deliveries of ``alert`` (already stored, maybe planned in part) to the ``sinks`` it has
    none for; returns the states planned. Another process may plan the same alert meanwhile: each
    delivery is inserted in its own savepoint and a duplicate is skipped."""
    have = set(s.exec(select(AlertDelivery.sink).where(AlertDelivery.alert_id == alert.id)).all())
    states = []
    for sink in dict.fromkeys(sinks):
        if sink in have:
            continue
        row = _planned(s, alert.id or 0, sink, at)
        try:
            with s.begin_nested():  # two deliver processes planning the same legacy alert at once
                s.add(row)
                s.flush()
            states.append(row.state)
        except sa.exc.IntegrityError:
            pass
    alert.planned = True
    s.add(alert)
    s.flush()
    return states


def _sink_row(s: Session, name: str, at: datetime) -> SinkState:
    """The sink's state row, created if missing — safely when several ``deliver`` processes do it at
    once on PostgreSQL (the losing insert waits for the winner, then reads its row)."""
    row = s.get(SinkState, name)
    if row is not None:
        return row
    try:
        with s.begin_nested():
            s.add(SinkState(name=name, updated_at=at))
            s.flush()
    except sa.exc.IntegrityError:
        pass
    row = s.get(SinkState, name)
    if row is None:
        raise NotFound("sink state", name)
    return row


class OutboxOps(StoreBase):
    """Alerts, planned deliveries, claims with leases, and the attempt log."""

    # -- queueing --------------------------------------------------------------------

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
        sinks: Sequence[str] | None = None,
    ) -> tuple[int, bool]:
        """Add an alert and plan its deliveries to ``sinks``; a known ``dedup_key`` adds nothing.

        ``sinks=None`` leaves the alert unplanned (``deliver`` plans it with its routes).
        Returns ``(alert_id, created)``.

        Example:
            >>> store.enqueue_alert(dedup_key="change:7", kind="changed", severity="warning", source="mofcom",
            ...                     doc_key="mofcom:2025:61", payload={}, created_at=t, sinks=["legal"])
            (1, True)
        """
        with self._write() as s:
            existing = core(s).execute(select(Alert.id).where(Alert.dedup_key == dedup_key)).scalar()
            if existing is not None:
                return existing, False
            # A fresh alert's plan is made before it is inserted, so the row is written once, planned
            # and with the status its deliveries give (what _refresh_alert would read back); no other
            # process can see it to plan it too, so the deliveries need no lookup and no savepoint.
            plan = [_planned(s, 0, sink, created_at) for sink in dict.fromkeys(sinks or ())]
            alert = Alert(
                dedup_key=dedup_key, kind=kind, severity=severity, source=source, doc_key=doc_key,
                payload=dict(payload), created_at=created_at, updated_at=created_at,
            )  # fmt: skip
            if sinks is not None:
                alert.planned, alert.status = True, _summarize([row.state for row in plan])
            try:
                with s.begin_nested():  # PostgreSQL: another process may insert the same key meanwhile
                    alert_id = insert_rows(s, [alert])[0]
            except sa.exc.IntegrityError:
                found = s.exec(select(Alert.id).where(Alert.dedup_key == dedup_key)).first()
                if found is None:
                    raise
                return found, False
            for row in plan:
                row.alert_id = alert_id
            insert_rows(s, plan)
            return alert_id, True

    def unplanned_alerts(self, limit: int = 500) -> list[Alert]:
        """Alerts queued without a delivery plan (by an older regwatch), oldest first; dead ones excluded."""
        with self._read() as s:
            query = select(Alert).where(sa.or_(col(Alert.planned).is_(None), Alert.planned == sa.false()),
                                        Alert.status != "dead").order_by(col(Alert.id)).limit(limit)
            return list(s.exec(query))

    def plan_deliveries(self, alert_id: int, sinks: Sequence[str], at: datetime) -> list[str]:
        """Plan deliveries of an alert to ``sinks`` it has none for; returns the sinks added."""
        with self._write() as s:
            alert = s.get(Alert, alert_id)
            if alert is None:
                raise NotFound("alert", alert_id)
            before = set(s.exec(select(AlertDelivery.sink).where(AlertDelivery.alert_id == alert_id)).all())
            _add_plan(s, alert, sinks, at)
            _refresh_alert(s, alert_id, at)
            return [x for x in dict.fromkeys(sinks) if x not in before]

    # -- sinks that are absent, blocked, remembered ------------------------------------

    def hold_unavailable(self, available: Iterable[str], reasons: dict[str, str], at: datetime) -> dict[str, int]:
        """Park pending deliveries of sinks not ``available`` here as ``held`` (reason from ``reasons``,
        else "not configured"), and release held deliveries of available sinks. Returns held counts per sink."""
        available = set(available)
        with self._write() as s:
            table = AlertDelivery.__table__  # type: ignore[attr-defined]
            touched = set(s.exec(select(AlertDelivery.alert_id).where(
                AlertDelivery.state == "held", col(AlertDelivery.sink).in_(available))).all())
            s.connection().execute(table.update().where(table.c.state == "held", table.c.sink.in_(available))
                      .values(state="pending", next_attempt_at=at, updated_at=at, last_error=None))
            pending = s.exec(select(AlertDelivery).where(
                AlertDelivery.state == "pending", col(AlertDelivery.sink).not_in(available))).all()
            for row in pending:
                row.state, row.updated_at = "held", at
                row.last_error = f"sink {row.sink!r} " + (reasons.get(row.sink) or "is not configured")
                s.add(row)
                touched.add(row.alert_id)
            s.flush()
            for alert_id in touched:
                _refresh_alert(s, alert_id, at)
            counts = s.exec(select(AlertDelivery.sink, sa.func.count()).where(AlertDelivery.state == "held")
                            .group_by(col(AlertDelivery.sink))).all()
            return {sink: n for sink, n in counts}

    def sink_state(self, name: str) -> SinkState | None:
        """What deliver remembered about sink ``name`` (channel ID, blocked reason), or None."""
        with self._read() as s:
            return s.get(SinkState, name)

    def sink_states(self) -> list[SinkState]:
        """Every remembered sink, by name."""
        with self._read() as s:
            return list(s.exec(select(SinkState).order_by(col(SinkState.name))))

    def remember_sink(self, name: str, *, at: datetime, state: dict[str, Any] | None = None,
                      fingerprint: str | None = None) -> SinkState:
        """Store a sink's own state (merged) and/or its configuration fingerprint."""
        with self._write() as s:
            row = _sink_row(s, name, at)
            if state:
                row.state = {**(row.state or {}), **state}
            if fingerprint is not None:
                row.fingerprint = fingerprint
            row.updated_at = at
            s.add(row)
            return row

    def block_sink(self, name: str, reason: str, *, at: datetime, probe_at: datetime) -> bool:
        """Park every pending delivery of sink ``name`` as ``blocked`` until ``probe_at``.

        Returns True when the sink was not blocked before (the caller raises one ops alert then).
        """
        with self._write() as s:
            s.info.pop("blocked_sinks", None)
            row = _sink_row(s, name, at)
            newly = row.blocked_at is None
            row.blocked_reason, row.updated_at = reason, at
            row.blocked_at = row.blocked_at or at
            s.add(row)
            rows = s.exec(select(AlertDelivery).where(
                AlertDelivery.sink == name, col(AlertDelivery.state).in_(("pending", "blocked")))).all()
            for d in rows:
                d.state, d.next_attempt_at, d.updated_at, d.last_error = "blocked", probe_at, at, reason
                s.add(d)
            s.flush()
            for alert_id in {d.alert_id for d in rows}:
                _refresh_alert(s, alert_id, at)
            return newly

    def unblock_sink(self, name: str, *, at: datetime) -> int:
        """The sink works again: its blocked deliveries are due now. Returns how many."""
        with self._write() as s:
            s.info.pop("blocked_sinks", None)
            row = s.get(SinkState, name)
            if row is not None:
                row.blocked_reason, row.blocked_at, row.updated_at = None, None, at
                s.add(row)
            rows = s.exec(select(AlertDelivery).where(AlertDelivery.sink == name,
                                                      AlertDelivery.state == "blocked")).all()
            for d in rows:
                d.state, d.next_attempt_at, d.updated_at = "pending", at, at
                s.add(d)
            s.flush()
            for alert_id in {d.alert_id for d in rows}:
                _refresh_alert(s, alert_id, at)
            return len(rows)

    def probe_blocked_now(self, name: str, *, at: datetime) -> None:
        """Make one blocked delivery of ``name`` due now (its configuration changed: try it)."""
        with self._write() as s:
            first = s.exec(select(AlertDelivery).where(AlertDelivery.sink == name, AlertDelivery.state == "blocked")
                           .order_by(col(AlertDelivery.id)).limit(1)).first()
            if first is not None:
                first.next_attempt_at = at
                s.add(first)

    # -- claiming and finishing ------------------------------------------------------

    def claim_delivery(self, sinks: Sequence[str], *, owner: str, now: datetime, lease_seconds: float,
                       skip: Iterable[int] = ()) -> Claim | None:
        """Claim the next due delivery to one of ``sinks`` for ``owner`` (see module doc), or None.

        Due: ``pending`` with ``next_attempt_at <= now``; ``sending`` whose lease has expired; a
        ``blocked`` one whose probe time has come (one per sink at a time). ``skip``: delivery ids
        this caller already handled in this run.
        """
        if not sinks:
            return None
        skip = list(skip)
        table = AlertDelivery.__table__  # type: ignore[attr-defined]
        due = sa.or_(
            sa.and_(table.c.state.in_(("pending", "blocked")), table.c.next_attempt_at <= now),
            sa.and_(table.c.state == "sending", table.c.lease_expires_at < now),
        )
        with self._write() as s:
            conn = s.connection()
            for _ in range(20):  # compare-and-set: retry when another process took the candidate first
                query = sa.select(table).where(table.c.sink.in_(list(sinks)), due)
                if skip:
                    query = query.where(table.c.id.not_in(skip))
                row = conn.execute(query.order_by(table.c.next_attempt_at, table.c.id).limit(1)).mappings().first()
                if row is None:
                    return None
                expires = now + timedelta(seconds=lease_seconds)
                updated = conn.execute(
                    table.update()
                    .where(table.c.id == row["id"], table.c.state == row["state"],
                           table.c.attempts == row["attempts"])  # attempts counts claims: the CAS token
                    .values(state="sending", lease_owner=owner, lease_expires_at=expires,
                            attempts=table.c.attempts + 1, updated_at=now,
                            reconcile=bool(row["reconcile"]) or row["state"] == "sending")
                )
                if updated.rowcount != 1:
                    continue
                reconcile = bool(row["reconcile"]) or row["state"] == "sending"
                attempt = Delivery(alert_id=row["alert_id"], sink=row["sink"], ok=False, outcome="started",
                                   owner=owner, at=now, detail="")
                s.add(attempt)
                alert = s.get(Alert, row["alert_id"])
                if alert is None:
                    raise NotFound("alert", row["alert_id"])
                first = s.exec(select(sa.func.min(Delivery.at)).where(
                    Delivery.alert_id == row["alert_id"], Delivery.sink == row["sink"])).first()
                s.flush()
                return Claim(
                    delivery_id=row["id"], attempt_id=attempt.id or 0, alert_id=row["alert_id"], sink=row["sink"],
                    owner=owner, attempts=row["attempts"] + 1, reconcile=reconcile, probe=row["state"] == "blocked",
                    payload=dict(alert.payload), alert_created_at=alert.created_at, first_attempt_at=first,
                    age_from=row["requeued_at"] or row["created_at"], lease_expires_at=expires,
                )  # fmt: skip
            return None

    def finish_delivery(self, claim: Claim, *, outcome: str, at: datetime, detail: str = "",
                        external_id: str | None = None, next_attempt_at: datetime | None = None,
                        dead: bool = False) -> str:
        """Record how a claimed attempt ended and move the delivery on; returns its new state.

        ``outcome``: ``sent``/``reconciled`` (delivered), ``retry``/``ambiguous`` (pending again at
        ``next_attempt_at``, or ``dead`` when ``dead``), ``blocked`` (stays blocked until the next
        probe at ``next_attempt_at``), ``rejected`` (dead). A delivered delivery stays delivered
        even if this claim's lease had expired meanwhile: a post that happened is a fact.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"delivery outcome must be one of {', '.join(OUTCOMES)}; got {outcome!r}")
        with self._write() as s:
            row = s.get(AlertDelivery, claim.delivery_id)
            attempt = s.get(Delivery, claim.attempt_id)
            if row is None or attempt is None:
                raise NotFound("delivery", claim.delivery_id)
            ok = outcome in ("sent", "reconciled")
            attempt.ok, attempt.outcome, attempt.detail = ok, outcome, detail
            attempt.external_id, attempt.finished_at = external_id, at
            s.add(attempt)
            ours = row.state == "sending" and row.lease_owner == claim.owner
            if row.state == "delivered" or (not ours and not ok):
                s.flush()  # someone else finished it (our lease had expired): only the attempt is recorded
                return row.state
            row.lease_owner, row.lease_expires_at, row.updated_at = None, None, at
            if ok:
                row.state, row.external_id, row.delivered_at, row.last_error, row.reconcile = (
                    "delivered", external_id, at, None, False)
            elif outcome == "rejected" or dead:
                row.state, row.last_error = "dead", detail
            elif outcome == "blocked":
                row.state, row.last_error = "blocked", detail
                row.next_attempt_at = next_attempt_at or at
            else:
                row.state, row.last_error = "pending", detail
                row.reconcile = row.reconcile or outcome == "ambiguous"
                row.next_attempt_at = next_attempt_at or at
            s.add(row)
            s.flush()
            alert = s.get(Alert, claim.alert_id)
            if alert is not None and not ok:
                alert.attempts += 1
            _refresh_alert(s, claim.alert_id, at, error=None if ok else f"{claim.sink}: {detail}")
            return row.state

    # -- operators -------------------------------------------------------------------

    def requeue(self, alert_id: int, *, at: datetime, sinks: Sequence[str] | None = None,
                states: Sequence[str] = ("dead", "blocked", "held")) -> int:
        """Make ``dead``/``blocked``/``held`` deliveries of an alert due now (``regwatch alerts retry``);
        the dead-after clock restarts. Returns how many were requeued."""
        with self._write() as s:
            if s.get(Alert, alert_id) is None:
                raise NotFound("alert", alert_id)
            query = select(AlertDelivery).where(AlertDelivery.alert_id == alert_id,
                                                col(AlertDelivery.state).in_(list(states)))
            if sinks:
                query = query.where(col(AlertDelivery.sink).in_(list(sinks)))
            rows = s.exec(query).all()
            for d in rows:
                d.state, d.next_attempt_at, d.requeued_at, d.updated_at = "pending", at, at, at
                s.add(d)
            s.flush()
            _refresh_alert(s, alert_id, at)
            return len(rows)

    def revive_unplanned(self, alert_id: int, *, at: datetime) -> bool:
        """An unplanned alert an older regwatch marked dead becomes pending (to be planned again)."""
        with self._write() as s:
            alert = s.get(Alert, alert_id)
            if alert is None:
                raise NotFound("alert", alert_id)
            if alert.planned or alert.status != "dead":
                return False
            alert.status, alert.updated_at = "pending", at
            s.add(alert)
            return True

    def ack_alert(self, alert_id: int, *, by: str, at: datetime, note: str | None = None) -> Alert:
        """Record that ``by`` has seen and handled the alert (deliveries are not changed)."""
        with self._write() as s:
            alert = s.get(Alert, alert_id)
            if alert is None:
                raise NotFound("alert", alert_id)
            alert.acked_at, alert.acked_by, alert.ack_note = at, by, note
            s.add(alert)
            return alert

    # -- reading ---------------------------------------------------------------------

    def alert(self, alert_id: int) -> Alert:
        """One alert; raises ``NotFound``."""
        with self._read() as s:
            found = s.get(Alert, alert_id)
            if found is None:
                raise NotFound("alert", alert_id)
            return found

    def pending_alerts(self, limit: int = 100, *, after_id: int = 0) -> list[Alert]:
        """Alerts not yet delivered everywhere and not dead (pending, held, blocked), oldest first."""
        with self._read() as s:
            query = (select(Alert).where(col(Alert.status).in_(("pending", "held", "blocked")), col(Alert.id) > after_id)
                     .order_by(col(Alert.id)).limit(limit))
            return list(s.exec(query))

    def alerts(self, status: str | None = None, limit: int | None = 100, *, sink: str | None = None,
               kind: str | None = None, doc_key: str | None = None, state: str | None = None,
               unacked: bool = False) -> list[Alert]:
        """Alerts newest first, filtered by status, a sink they are planned for, kind or doc key.

        ``state``: alerts with a delivery (to ``sink`` when given) in that state, or — without
        ``sink`` — whose summary ``status`` is that state (so unplanned alerts of an older regwatch
        are found too). ``unacked``: only alerts nobody acknowledged. ``limit`` None: all.

        Example:
            >>> [a.id for a in store.alerts(state="blocked", sink="legal")]
            [7, 3]
        """
        query = select(Alert).order_by(col(Alert.created_at).desc(), col(Alert.id).desc()).limit(limit)
        if status is not None:
            query = query.where(Alert.status == status)
        if state is not None:
            having = select(AlertDelivery.alert_id).where(AlertDelivery.state == state)
            if sink is not None:
                having = having.where(AlertDelivery.sink == sink)
            found = col(Alert.id).in_(having)
            query = query.where(found if sink is not None else sa.or_(found, Alert.status == state))
        if unacked:
            query = query.where(col(Alert.acked_at).is_(None))
        if kind is not None:
            query = query.where(Alert.kind == kind)
        if doc_key is not None:
            query = query.where(Alert.doc_key == doc_key)
        if sink is not None:
            query = query.where(col(Alert.id).in_(select(AlertDelivery.alert_id).where(AlertDelivery.sink == sink)))
        with self._read() as s:
            return list(s.exec(query))

    def alert_deliveries(self, alert_id: int) -> list[AlertDelivery]:
        """The planned deliveries of an alert, by sink."""
        with self._read() as s:
            query = select(AlertDelivery).where(AlertDelivery.alert_id == alert_id).order_by(col(AlertDelivery.sink))
            return list(s.exec(query))

    def thread_root(self, sink: str, doc_key: str, *, before: int) -> str | None:
        """The sink's id (a Slack ``ts``) of the earliest alert about ``doc_key`` older than alert
        ``before`` that was delivered to ``sink``: where a later alert about the document replies.

        The earliest delivered one is always a top-level message: when it was sent, no older alert
        about the document had been delivered to the sink (else it would not be the earliest now).

        Example:
            >>> store.thread_root("legal", "mofcom+gacc:2025:55", before=22)
            '1762508000.000100'
        """
        with self._read() as s:
            query = (select(AlertDelivery.external_id)
                     .join(Alert, col(Alert.id) == col(AlertDelivery.alert_id))
                     .where(Alert.doc_key == doc_key, col(Alert.id) < before, AlertDelivery.sink == sink,
                            AlertDelivery.state == "delivered", col(AlertDelivery.external_id).is_not(None))
                     .order_by(col(Alert.id)).limit(1))
            return s.exec(query).first()

    def deliveries(self, alert_id: int) -> list[Delivery]:
        """The audit trail: every delivery attempt of an alert, oldest first."""
        with self._read() as s:
            return list(s.exec(select(Delivery).where(Delivery.alert_id == alert_id).order_by(col(Delivery.id))))

    def delivery_counts(self) -> dict[str, dict[str, int]]:
        """``{sink: {state: count}}`` over every planned delivery (for ``status``)."""
        with self._read() as s:
            rows = s.exec(select(AlertDelivery.sink, AlertDelivery.state, sa.func.count())
                          .group_by(col(AlertDelivery.sink), col(AlertDelivery.state))).all()
        out: dict[str, dict[str, int]] = {}
        for sink, state, n in rows:
            out.setdefault(sink, {})[state] = n
        return out
