"""Stage 3: drain the outbox into sinks — each planned (alert, sink) delivery at most once.

One pass (``deliver_pending``):

1. Alerts queued by an older regwatch without a plan are planned once with the routes in force.
2. Deliveries to sinks that are not available here (not configured, disabled for lack of a
   token) are ``held`` with the reason; they are released when the sink is back. Nothing is
   rerouted and nothing is dropped.
3. Due deliveries are *claimed* one at a time (``Store.claim_delivery``: a lease, and the intent
   recorded before the send), so concurrent ``deliver`` processes and daemons never send the same
   delivery twice. A delivery whose earlier attempt may have reached the sink (its sender died, or
   the sink reported an ambiguous failure) is reconciled first (``find_posted``).
4. The result decides what follows (``DeliveryPolicy``): retryable failures back off
   exponentially with jitter, honouring ``Retry-After``, and the sink is left alone for the rest
   of the pass (an outage costs one attempt per pass, not one per alert); a permanent sink error
   (bad token, unknown channel, missing scope) *blocks* every delivery to that sink and raises one
   ``sink_health`` alert to the other sinks; a blocked sink is probed every ``probe_every`` and at
   once when its configuration (token, channel) changes, and its backlog goes out by itself once a
   probe succeeds. Only retryable failures older than ``dead_after`` make a delivery ``dead``;
   ``regwatch alerts retry`` requeues any dead, blocked or held delivery.
"""

from __future__ import annotations

import inspect
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from alerts.base import Alert, AlertSink, DeliveryResult
from alerts.errors import InvalidAlert, ReconcileError
from pipeline.core.classify import AlertRequest
from pipeline.outbox import Routing, enqueue_request
from store import Store
from store.outbox import Claim

log = logging.getLogger(__name__)
OPS_SOURCE = "regwatch"  # the ``source`` of alerts about regwatch itself (a blocked sink)


@dataclass(frozen=True)
class DeliveryPolicy:
    """When to retry, when to give up, how long a claim lasts.

    Example:
        >>> p = DeliveryPolicy(base_backoff=60, max_backoff=3600, jitter=0.0)
        >>> [p.backoff(1, n) for n in (1, 2, 3, 10)]
        [60.0, 120.0, 240.0, 3600.0]
        >>> p.backoff(1, 1, retry_after=300)
        300.0
    """

    dead_after: timedelta = timedelta(days=7)
    base_backoff: float = 60.0
    max_backoff: float = 3600.0
    jitter: float = 0.2  # ± fraction, deterministic per (delivery, attempt)
    probe_every: float = 1800.0  # seconds between probes of a blocked sink
    lease_seconds: float = 120.0  # for sinks that do not say how long a send can take

    def backoff(self, delivery_id: int, attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt (never less than ``retry_after``)."""
        delay = min(self.max_backoff, self.base_backoff * (2 ** max(0, attempts - 1)))
        if self.jitter:
            delay *= 1 + random.Random(f"{delivery_id}:{attempts}").uniform(-self.jitter, self.jitter)
        return max(delay, retry_after or 0.0)


@dataclass
class DeliverReport:
    delivered: int = 0
    reconciled: int = 0
    failed: int = 0
    dead: int = 0
    blocked: int = 0
    held: int = 0
    sent: list[tuple[int, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    held_sinks: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        data = {k: v for k, v in self.__dict__.items() if k != "sent"}
        return data | {"pending": self.held, "sent": [list(s) for s in self.sent]}  # "pending": schema-2 name of held


def default_owner() -> str:
    """A lease owner name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def deliver_pending(store: Store, sinks: Mapping[str, AlertSink], *, now: datetime,
                    routing: Routing | None = None, policy: DeliveryPolicy | None = None,
                    disabled: Mapping[str, str] | None = None, owner: str | None = None,
                    limit: int = 10_000, clock: Callable[[], datetime] | None = None) -> DeliverReport:
    """One delivery pass over the outbox (see the module doc); returns what happened.

    ``sinks``: the sinks available here, by name. ``routing`` plans alerts queued unplanned (by
    an older regwatch) and the ops alerts of this pass. ``disabled``: sink name → why it is off
    (shown on its held deliveries). ``owner`` names this sender on its leases (default: host:pid).
    ``clock`` (the real clock in the CLI and daemon) stamps each claim and result as it happens, so a
    long pass never hands out leases that have already expired; without it everything is ``now``.

    Example:
        report = deliver_pending(store, sinks, now=clock.now(), routing=Routing.from_config(config))
    """
    policy = policy or DeliveryPolicy()
    routing = routing or Routing()
    owner = owner or default_owner()
    tick = clock or (lambda: now)
    report = DeliverReport()
    _plan_legacy(store, routing, now)
    reasons = {name: f"is disabled: {why}" for name, why in (disabled or {}).items()}
    report.held_sinks = store.hold_unavailable(sinks.keys(), reasons, now)
    report.held = sum(report.held_sinks.values())
    _restore_sinks(store, sinks, now)
    cooling: set[str] = set()  # sinks left alone for the rest of this pass (failing or rate limited)
    handled: list[int] = []
    lease = max([float(getattr(s, "lease_seconds", policy.lease_seconds)) for s in sinks.values()] or [0.0])
    lease = max(lease, policy.lease_seconds)
    while len(handled) < limit:
        claim = store.claim_delivery([n for n in sinks if n not in cooling], owner=owner, now=tick(),
                                     lease_seconds=lease, skip=handled)
        if claim is None:
            break
        handled.append(claim.delivery_id)
        _deliver_claim(store, claim, sinks[claim.sink], routing, policy, tick, report, cooling)
    return report


def _plan_legacy(store: Store, routing: Routing, now: datetime) -> None:
    for row in store.unplanned_alerts():
        try:
            alert = Alert.from_payload(row.id or 0, row.payload)
        except InvalidAlert:
            store.plan_deliveries(row.id or 0, list(routing.default), now)
            continue
        store.plan_deliveries(row.id or 0, routing.sinks_for(alert), now)


def _restore_sinks(store: Store, sinks: Mapping[str, AlertSink], now: datetime) -> None:
    """Give sinks what earlier runs learned (a channel ID); probe a blocked sink whose config changed."""
    for name, sink in sinks.items():
        remembered = store.sink_state(name)
        importer = getattr(sink, "import_state", None)
        if remembered is not None and importer is not None:
            importer(remembered.state or {})
        fingerprint = getattr(sink, "fingerprint", None)
        if fingerprint is None:
            continue
        current = fingerprint()
        if remembered is not None and remembered.blocked_at is not None and remembered.fingerprint != current:
            log.info("sink %s: configuration changed since it was blocked; trying it again", name)
            store.probe_blocked_now(name, at=now)
        if remembered is None or remembered.fingerprint != current:
            store.remember_sink(name, at=now, fingerprint=current)


def _deliver_claim(store: Store, claim: Claim, sink: AlertSink, routing: Routing, policy: DeliveryPolicy,
                   tick: Callable[[], datetime], report: DeliverReport, cooling: set[str]) -> None:
    try:
        alert = Alert.from_payload(claim.alert_id, claim.payload)
    except InvalidAlert as exc:  # no sink can render it: dead at once, visible in `alerts list`
        now = tick()
        store.finish_delivery(claim, outcome="rejected", at=now, detail=f"invalid payload: {exc}")
        report.dead += 1
        report.errors.append(f"alert {claim.alert_id}: invalid payload: {exc}")
        return
    alert = _in_thread(store, claim, sink, alert)
    if claim.reconcile:
        found = _reconcile(sink, claim, alert)
        now = tick()
        if found is not None:
            store.finish_delivery(claim, outcome="reconciled", at=now, external_id=found,
                                  detail="already delivered (found by reconciliation); not sent again")
            report.reconciled += 1
            report.delivered += 1
            _after_success(store, claim, sink, now, routing)
            return
    result = _send(sink, alert)
    now = tick()
    if result.ok:
        store.finish_delivery(claim, outcome="sent", at=now, external_id=result.external_id, detail=result.detail)
        report.delivered += 1
        report.sent.append((claim.alert_id, claim.sink))
        _after_success(store, claim, sink, now, routing)
        return
    report.errors.append(f"alert {claim.alert_id} → {claim.sink}: {result.detail}")
    if not result.blocked and not result.retryable:  # this alert only (e.g. blocks Slack rejects): the sink is fine
        store.finish_delivery(claim, outcome="rejected", at=now, detail=result.detail)
        report.dead += 1
        return
    cooling.add(claim.sink)  # the sink itself is failing: leave it alone for the rest of this pass
    if result.blocked:
        probe_at = now + timedelta(seconds=policy.probe_every)
        store.finish_delivery(claim, outcome="blocked", at=now, detail=result.detail, next_attempt_at=probe_at)
        if store.block_sink(claim.sink, result.detail, at=now, probe_at=probe_at):
            _sink_alert(store, claim.sink, result.detail, now, routing, blocked=True)
        report.blocked += 1
        return
    too_old = now >= claim.age_from + policy.dead_after
    wait = policy.backoff(claim.delivery_id, claim.attempts, result.retry_after)
    state = store.finish_delivery(
        claim, outcome="ambiguous" if result.ambiguous else "retry", at=now, detail=result.detail,
        next_attempt_at=now + timedelta(seconds=wait), dead=too_old,
    )
    if state == "dead":
        report.dead += 1
        log.error("alert %s → %s is dead after %s of failures: %s", claim.alert_id, claim.sink,
                  policy.dead_after, result.detail)
    else:
        report.failed += 1
        log.warning("alert %s → %s: retry in %.0f s: %s", claim.alert_id, claim.sink, wait, result.detail)


def _after_success(store: Store, claim: Claim, sink: AlertSink, now: datetime, routing: Routing) -> None:
    exporter = getattr(sink, "export_state", None)
    if exporter is not None and exporter():
        store.remember_sink(claim.sink, at=now, state=exporter())
    state = None if claim.probe else store.sink_state(claim.sink)
    if claim.probe or (state is not None and state.blocked_at is not None):  # a probe, or a requeued backlog
        released = store.unblock_sink(claim.sink, at=now)
        log.info("sink %s works again; %d blocked deliveries released", claim.sink, released)
        _sink_alert(store, claim.sink, f"{released} waiting alert(s) are being delivered", now, routing, blocked=False)


def _sink_alert(store: Store, sink: str, detail: str, now: datetime, routing: Routing, *, blocked: bool) -> None:
    """One ops alert when a sink becomes blocked (and one when it works again), to the other sinks."""
    state = store.sink_state(sink)
    since = state.blocked_at if state is not None and state.blocked_at is not None else now
    stamp = since.isoformat() if blocked else now.isoformat()
    request = AlertRequest(
        dedup_key=f"sink:{sink}:{'blocked' if blocked else 'recovered'}:{stamp}",
        kind="sink_health", severity="critical" if blocked else "info", source=OPS_SOURCE, doc_key=None,
        title=f"alerts to {sink} are blocked" if blocked else f"alerts to {sink} flow again",
        summary=(f"{detail}; its alerts wait (nothing is lost) until this is fixed — see `regwatch alerts list "
                 f"--sink {sink}`") if blocked else detail,
        url="", facts=(("Sink", sink), ("Since", since.isoformat())), tags=(f"sink:{sink}",),
    )
    enqueue_request(store, request, now, routing.without([sink]))


def _in_thread(store: Store, claim: Claim, sink: AlertSink, alert: Alert) -> Alert:
    """For a sink that threads (``sink.threads``, Slack): the alert as a reply to the first message
    about its document in that sink, when there is one."""
    if not getattr(sink, "threads", False) or not alert.doc_key:
        return alert
    root = store.thread_root(claim.sink, alert.doc_key, before=claim.alert_id)
    return replace(alert, thread=root) if root else alert


def _reconcile(sink: AlertSink, claim: Claim, alert: Alert) -> str | None:
    """Ask the sink whether an earlier attempt got through; None = not found or cannot tell."""
    find_posted = getattr(sink, "find_posted", None)
    if find_posted is None:
        log.warning("alert %s → %s: an earlier attempt may have been delivered and this sink cannot check; "
                    "sending again", claim.alert_id, claim.sink)
        return None
    oldest = (claim.first_attempt_at or claim.alert_created_at) - timedelta(minutes=5)
    accepts = inspect.signature(find_posted).parameters
    extra = {"created_at": alert.created_at} if "created_at" in accepts else {}
    if alert.thread and "thread" in accepts:  # a reply is only found in its thread
        extra["thread"] = alert.thread
    try:
        return find_posted(claim.alert_id, oldest=oldest, **extra)
    except ReconcileError as exc:  # cannot tell: resend (a duplicate beats a lost alert) and say so
        log.warning("alert %s → %s: %s; sending again (a duplicate beats a lost alert)", claim.alert_id,
                    claim.sink, exc)
        return None


def _send(sink: AlertSink, alert: Alert) -> DeliveryResult:
    """A sink should return failures, but a plug-in that raises must not stop the whole run."""
    try:
        return sink.send(alert)
    except Exception as exc:  # noqa: BLE001 - third-party sink code; recorded as a failed delivery
        log.exception("sink %s raised while sending alert %s", getattr(sink, "name", sink), alert.id)
        return DeliveryResult.failure(f"sink raised {type(exc).__name__}: {exc}", retryable=True, ambiguous=True)


__all__ = ["DeliverReport", "DeliveryPolicy", "default_owner", "deliver_pending"]
