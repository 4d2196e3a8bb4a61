"""Stage 3: drain the alert outbox into sinks; one Delivery row per (alert, sink).

An alert is committed before any send. A sink that already delivered an alert is never asked
again, so a crash or an outage delays alerts but neither loses nor duplicates them. A sink that
keeps failing moves the alert to ``dead`` after ``max_attempts`` runs (visible in ``status``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts.base import Alert, AlertSink, DeliveryResult
from alerts.errors import InvalidAlert, ReconcileError
from alerts.routing import Route, route
from store import Store

log = logging.getLogger(__name__)


@dataclass
class DeliverReport:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    pending: int = 0
    sent: list[tuple[int, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "sent"} | {"sent": [list(s) for s in self.sent]}


def deliver_pending(store: Store, sinks: Mapping[str, AlertSink], routes: Sequence[Route], *,
                    default: Sequence[str], now: datetime, max_attempts: int = 8,
                    limit: int = 500) -> DeliverReport:
    """Send every pending alert to the sinks its route names.

    Sinks named by a route but not available (disabled: e.g. no Slack token) are skipped and the
    alert stays pending for them, so configuring the token later delivers the backlog.
    """
    report = DeliverReport()
    after = 0
    while True:  # page through the outbox so alerts parked for a disabled sink never starve newer ones
        rows = store.pending_alerts(limit=limit, after_id=after)
        if not rows:
            return report
        for row in rows:
            _deliver_one(store, row, sinks, routes, default, now, max_attempts, report)
        after = rows[-1].id


def _deliver_one(store: Store, row, sinks: Mapping[str, AlertSink], routes: Sequence[Route],
                 default: Sequence[str], now: datetime, max_attempts: int, report: DeliverReport) -> None:
    try:
        alert = Alert.from_payload(row.id, row.payload)
    except InvalidAlert as exc:  # a payload no sink can render: park it where `status` shows it
        store.mark_alert(row.id, "dead", error=f"invalid payload: {exc}", at=now)
        report.dead += 1
        report.errors.append(f"alert {row.id}: invalid payload: {exc}")
        return
    targets = route(alert, list(routes), list(default))
    done = store.delivered_sinks(row.id)
    failures: list[str] = []
    waiting: list[str] = []  # routed sinks that are disabled: not a failed attempt
    for name in targets:
        if name in done:
            continue
        sink = sinks.get(name)
        if sink is None:
            waiting.append(name)
            continue
        result = _reconcile(store, row.id, name, sink, alert) or _send(sink, alert)
        store.record_delivery(row.id, name, result.ok, at=now, external_id=result.external_id, detail=result.detail)
        if result.ok:
            report.sent.append((row.id, name))
        else:
            failures.append(f"{name}: {result.detail}")
    if not failures and not waiting:
        store.mark_alert(row.id, "delivered", at=now)
        report.delivered += 1
    elif not failures:
        # Only disabled sinks are left: keep the alert pending without spending an attempt,
        # so it is delivered once the sink is configured (it never goes dead for this).
        report.pending += 1
        log.info("alert %s waits for disabled sink(s) %s", row.id, ", ".join(waiting))
    elif row.attempts + 1 >= max_attempts:
        store.mark_alert(row.id, "dead", error="; ".join(failures), at=now)
        report.dead += 1
        report.errors.extend(failures)
    else:
        store.mark_alert(row.id, "pending", error="; ".join(failures), at=now)
        report.failed += 1
        report.errors.extend(failures)
        log.warning("alert %s not delivered yet: %s", row.id, "; ".join(failures))


def _reconcile(store: Store, alert_id: int, name: str, sink: AlertSink, alert: Alert) -> DeliveryResult | None:
    """After a failed attempt the post may have gone through anyway (a lost response): sinks that can
    look (Slack's ``find_posted``) are asked first, so a retry never posts twice."""
    find_posted = getattr(sink, "find_posted", None)
    failed = [d for d in store.deliveries(alert_id) if d.sink == name and not d.ok]
    if find_posted is None or not failed:
        return None
    try:
        ts = find_posted(alert_id, oldest=failed[0].at - timedelta(minutes=5))
    except ReconcileError as exc:  # cannot tell: resend (a duplicate beats a lost alert) and say so
        log.warning("alert %s on %s: %s; sending again", alert_id, name, exc)
        return None
    if ts is None:
        return None
    return DeliveryResult(ok=True, external_id=ts, detail="already posted (found in channel history)")


def _send(sink: AlertSink, alert: Alert) -> DeliveryResult:
    """A sink should return failures, but a plug-in that raises must not stop the whole run."""
    try:
        return sink.send(alert)
    except Exception as exc:  # noqa: BLE001 - third-party sink code; recorded as a failed delivery
        log.exception("sink %s raised while sending alert %s", getattr(sink, "name", sink), alert.id)
        return DeliveryResult(ok=False, detail=f"sink raised {type(exc).__name__}: {exc}", retryable=True)


__all__ = ["DeliverReport", "deliver_pending"]
