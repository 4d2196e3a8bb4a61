"""``regwatch alerts list|show|retry|ack``: see, resend and acknowledge the outbox's alerts.

Everything shown comes from the store (``store.outbox``): an alert, its planned deliveries (one
per sink, with state, attempts, next attempt, last error, lease) and the attempt audit trail.
Alert titles, summaries and error details are untrusted text (scraped pages, sink replies): they
are printed with rich markup and emoji codes off and control / bidi-override characters replaced
(``alerts.render.terminal_safe``), on one line each.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime, timezone
from typing import Any

import typer

from pipeline.cli.app import app, clock, open_store
from pipeline.cli.output import emit_json, fmt_time, safe_line as safe, say
from pipeline.errors import UserError

alerts_app = typer.Typer(help="See, retry and acknowledge alerts (the outbox).\n\nExample: regwatch alerts list --state blocked",
                         no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
JSON = typer.Option(False, "--json", help="Print JSON on stdout instead of text.")
RETRYABLE = ("dead", "blocked", "held")
NEXT_STEP = "run `regwatch deliver` (or wait for the daemon) to send them"
TITLE_MAX = 120


def utc(value: datetime | None) -> str:
    """A stored time as ``YYYY-MM-DD HH:MM`` in UTC (``-`` when unknown)."""
    return fmt_time(value.astimezone(timezone.utc) if value else None)


def _ordered(deliveries: list) -> list:
    return sorted(deliveries, key=lambda d: d.id or 0)  # the order the routes planned them in


def _sink_states(deliveries: list) -> str:
    return " ".join(f"{d.sink}:{d.state}" for d in _ordered(deliveries)) or "(unplanned)"


def _title(alert) -> str:
    payload = alert.payload if isinstance(alert.payload, dict) else {}
    return str(payload.get("title") or "")


def _ack_json(alert) -> dict[str, Any] | None:
    if alert.acked_at is None:
        return None
    return {"by": alert.acked_by, "at": alert.acked_at, "note": alert.ack_note}


def _check_choice(value: str | None, option: str, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise UserError(f"{option} {value!r} is not known", f"use one of {', '.join(choices)}")


# -- list ------------------------------------------------------------------------------------


@alerts_app.command("list")
def alerts_list(
    ctx: typer.Context,
    state: str = typer.Option(None, "--state", help="Only alerts with a delivery in this state (to --sink if given): "
                                                    "pending, sending, delivered, held, blocked, dead."),
    sink: str = typer.Option(None, "--sink", help="Only alerts planned for this sink, e.g. legal."),
    kind: str = typer.Option(None, "--kind", help="Only this kind: new, changed, status, deadline, …"),
    doc_key: str = typer.Option(None, "--doc", help="Only alerts about this document key."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many alerts."),
    unacked: bool = typer.Option(False, "--unacked", help="Only alerts nobody has acknowledged."),
    as_json: bool = JSON,
) -> None:
    """Alerts, newest first: id, created (UTC), kind, severity, document, status, per-sink states, ack, title.

    Example: regwatch alerts list --state blocked --sink legal --unacked
    """
    from alerts.base import KINDS
    from store.outbox import DELIVERY_STATES

    _check_choice(state, "--state", DELIVERY_STATES)
    _check_choice(kind, "--kind", KINDS)
    store = open_store(ctx)
    rows = store.alerts(limit=limit, sink=sink, kind=kind, doc_key=doc_key, state=state, unacked=unacked)
    planned = {a.id: store.alert_deliveries(a.id or 0) for a in rows}
    if as_json:
        emit_json([{
            "id": a.id, "created_at": a.created_at, "kind": a.kind, "severity": a.severity, "source": a.source,
            "doc_key": a.doc_key, "title": _title(a), "status": a.status,
            "deliveries": {d.sink: d.state for d in _ordered(planned[a.id])},
            "acked_at": a.acked_at, "acked_by": a.acked_by,
        } for a in rows])
        return
    if not rows:
        filtered = any(x is not None for x in (state, sink, kind, doc_key)) or unacked
        say("no alerts" + (" for these filters" if filtered else " queued yet"))
        return
    cells = [[str(a.id), utc(a.created_at), a.kind, a.severity, safe(a.doc_key or a.source or "-"), a.status,
              safe(_sink_states(planned[a.id])), "acked" if a.acked_at else "-"] for a in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    for a, row in zip(rows, cells):
        padded = [row[0].rjust(widths[0])] + [c.ljust(w) for c, w in zip(row[1:], widths[1:])]
        say("  ".join(padded) + "  " + safe(_title(a) or "(untitled)", TITLE_MAX))


# -- show ------------------------------------------------------------------------------------


@alerts_app.command("show")
def alerts_show(
    ctx: typer.Context,
    alert_id: int = typer.Argument(..., metavar="ID", help="Alert id (from `regwatch alerts list`)."),
    as_json: bool = JSON,
) -> None:
    """One alert: its fields, planned deliveries, acknowledgement and every delivery attempt (UTC).

    Each delivery shows its state, attempts, next attempt, last error, the sink's message id and,
    while it is being sent, the lease (owner, expiry).

    Example: regwatch alerts show 42
    """
    store = open_store(ctx)
    alert = store.alert(alert_id)  # NotFound: exit 1 with a hint
    planned = _ordered(store.alert_deliveries(alert_id))
    audit = store.deliveries(alert_id)
    payload = alert.payload if isinstance(alert.payload, dict) else {}
    if as_json:
        emit_json({
            "id": alert.id, "dedup_key": alert.dedup_key, "kind": alert.kind, "severity": alert.severity,
            "source": alert.source, "doc_key": alert.doc_key, "status": alert.status, "planned": bool(alert.planned),
            "failed_attempts": alert.attempts, "last_error": alert.last_error, "created_at": alert.created_at,
            "updated_at": alert.updated_at, "title": payload.get("title"), "summary": payload.get("summary"),
            "url": payload.get("url"), "payload": payload, "ack": _ack_json(alert),
            "deliveries": [{
                "sink": d.sink, "state": d.state, "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
                "last_error": d.last_error, "external_id": d.external_id, "lease_owner": d.lease_owner,
                "lease_expires_at": d.lease_expires_at, "reconcile": d.reconcile, "created_at": d.created_at,
                "requeued_at": d.requeued_at, "delivered_at": d.delivered_at,
            } for d in planned],
            "audit": [{
                "at": r.at, "sink": r.sink, "outcome": r.outcome, "ok": r.ok, "owner": r.owner, "detail": r.detail,
                "external_id": r.external_id, "finished_at": r.finished_at,
            } for r in audit],
        })
        return
    label = alert.kind + (f" [{alert.severity}]" if alert.severity != "info" else "")
    say(f"alert {alert.id}  {label}  {safe(alert.source or '-')}  {safe(alert.doc_key or '-')}  status: {alert.status}")
    say(f"title: {safe(payload.get('title') or '(untitled)')}")
    if payload.get("summary"):
        say(f"summary: {safe(payload['summary'])}")
    if payload.get("url"):
        say(f"url: {safe(payload['url'])}")
    say(f"created: {utc(alert.created_at)} UTC  updated: {utc(alert.updated_at)} UTC  "
        f"failed attempts: {alert.attempts}  dedup key: {safe(alert.dedup_key)}")
    if alert.acked_at:
        note = f" — {safe(alert.ack_note)}" if alert.ack_note else ""
        say(f"acknowledged by {safe(alert.acked_by)} at {utc(alert.acked_at)} UTC{note}")
    else:
        say(f"not acknowledged (regwatch alerts ack {alert.id})")
    if not planned:
        after = (f"`regwatch alerts retry {alert.id}` requeues it" if alert.status == "dead"
                 else "the next `regwatch deliver` plans them")
        say(f"deliveries: none planned (queued by an older regwatch; {after})")
    width = max([len(safe(d.sink)) for d in planned] + [len(safe(r.sink)) for r in audit] + [1])
    if planned:
        say("deliveries:")
        for d in planned:
            say("  " + _delivery_line(d, width))
    if not audit:
        say("attempts: none yet")
        return
    say("attempts:")
    for r in audit:
        outcome = r.outcome or ("sent" if r.ok else "failed")  # rows from before schema 3 have only ok
        parts = [utc(r.at), safe(r.sink).ljust(width), f"{outcome:<10}"]
        parts += [f"owner {safe(r.owner)}"] if r.owner else []
        parts += [f"id {safe(r.external_id)}"] if r.external_id else []
        parts += [safe(r.detail)] if r.detail else []
        say(("  " + "  ".join(parts)).rstrip())


def _delivery_line(d, width: int) -> str:
    parts = [safe(d.sink).ljust(width), f"{d.state:<9}", f"attempts {d.attempts}"]
    if d.state in ("pending", "blocked"):
        parts.append(f"next attempt {utc(d.next_attempt_at)}")
    if d.state == "sending":
        parts.append(f"lease {safe(d.lease_owner)} until {utc(d.lease_expires_at)}")
    if d.state == "delivered":
        parts.append(f"delivered {utc(d.delivered_at)}")
    if d.external_id:
        parts.append(f"id {safe(d.external_id)}")
    if d.reconcile and d.state != "delivered":
        parts.append("may have been posted: checked before resending")
    if d.last_error and d.state != "delivered":
        parts.append(f"last error: {safe(d.last_error)}")
    return "  ".join(parts).rstrip()


# -- retry -----------------------------------------------------------------------------------


@alerts_app.command("retry")
def alerts_retry(
    ctx: typer.Context,
    alert_ids: list[int] = typer.Argument(None, metavar="ID", help="Alert ids: their dead, blocked and held deliveries."),
    all_dead: bool = typer.Option(False, "--all-dead", help="Every dead delivery."),
    all_blocked: bool = typer.Option(False, "--all-blocked", help="Every blocked delivery."),
    sink: str = typer.Option(None, "--sink", help="Only deliveries to this sink."),
    as_json: bool = JSON,
) -> None:
    """Requeue dead, blocked or held deliveries (sent by the next `regwatch deliver` or the daemon).

    Requeued deliveries are due at once and their dead-after clock restarts. Nothing is sent by
    this command. A blocked sink that is still misconfigured blocks them again.

    Example: regwatch alerts retry --all-dead --sink legal
    """
    ids = list(dict.fromkeys(alert_ids or []))
    if ids and (all_dead or all_blocked):
        raise UserError("pass alert ids or --all-dead/--all-blocked, not both",
                        "e.g. regwatch alerts retry 42 43, or regwatch alerts retry --all-dead")
    if not ids and not (all_dead or all_blocked):
        raise UserError("nothing selected to retry", "pass alert ids, --all-dead or --all-blocked "
                                                     "(see `regwatch alerts list --state dead`)")
    store = open_store(ctx)
    now = clock().now()
    states = RETRYABLE if ids else tuple(s for s, on in (("dead", all_dead), ("blocked", all_blocked)) if on)
    if ids:
        alerts = [store.alert(i) for i in ids]  # every id checked before anything changes
    else:
        found = {a.id: a for s in states for a in store.alerts(state=s, sink=sink, limit=None)}
        alerts = [found[i] for i in sorted(found)]
    requeued: list[dict[str, Any]] = []
    revived: list[int] = []
    untouched: list[tuple[int, str]] = []
    for alert in alerts:
        alert_id = alert.id or 0
        planned = _ordered(store.alert_deliveries(alert_id))
        if not planned and alert.status == "dead" and "dead" in states and sink is None:
            if store.revive_unplanned(alert_id, at=now):
                revived.append(alert_id)
                continue
        chosen = [d for d in planned if d.state in states and (sink is None or d.sink == sink)]
        if chosen:
            store.requeue(alert_id, at=now, sinks=[d.sink for d in chosen], states=states)
            requeued += [{"alert_id": alert_id, "sink": d.sink, "was": d.state} for d in chosen]
        else:
            untouched.append((alert_id, _sink_states(planned) + ("; retry it without --sink" if not planned and sink
                                                                 else "")))
    if as_json:
        emit_json({"requeued": requeued, "revived": revived,
                   "untouched": [{"alert_id": i, "deliveries": s} for i, s in untouched]})
        return
    for r in requeued:
        say(f"requeued alert {r['alert_id']} → {safe(r['sink'])} (was {r['was']})")
    for alert_id in revived:
        say(f"requeued alert {alert_id} (dead before deliveries were planned; the next deliver plans them)")
    for alert_id, shown in untouched:
        say(f"alert {alert_id}: nothing to retry ({shown})")
    if not (requeued or revived):
        if not alerts:
            which = " or ".join(states)
            say(f"nothing to retry: no {which} deliveries" + (f" to {safe(sink)}" if sink else ""))
        return
    done = [f"{len(requeued)} {'delivery' if len(requeued) == 1 else 'deliveries'} requeued"] if requeued else []
    done += [f"{len(revived)} unplanned alert{'' if len(revived) == 1 else 's'} requeued"] if revived else []
    say("; ".join(done) + f"; {NEXT_STEP}")


# -- ack -------------------------------------------------------------------------------------


def os_user() -> str:
    """Who runs this command: ``getpass.getuser()``, else ``$USER``; empty when neither is known."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name and no passwd entry (e.g. a bare container uid)
        return os.environ.get("USER", "")


@alerts_app.command("ack")
def alerts_ack(
    ctx: typer.Context,
    alert_id: int = typer.Argument(..., metavar="ID", help="Alert id (from `regwatch alerts list`)."),
    by: str = typer.Option(None, "--by", help="Who handled it (default: your OS user name)."),
    note: str = typer.Option(None, "--note", help="What was done, e.g. 'legal informed, no action'."),
    as_json: bool = JSON,
) -> None:
    """Record who has seen and handled an alert, when, and a note (deliveries are not changed).

    Acknowledging again replaces the earlier acknowledgement (the command says so).

    Example: regwatch alerts ack 42 --by alice --note "checked with legal: no licence needed"
    """
    who = (by if by is not None else os_user()).strip()
    if not who:
        raise UserError("cannot tell who acknowledges" if by is None else "--by is empty",
                        "pass --by NAME, e.g. --by alice")
    store = open_store(ctx)
    before = store.alert(alert_id)  # NotFound: exit 1 with a hint
    text = note.strip() if note and note.strip() else None
    alert = store.ack_alert(alert_id, by=who, at=clock().now(), note=text)
    if as_json:
        emit_json({"id": alert.id, **(_ack_json(alert) or {}), "previous": _ack_json(before)})
        return
    say(f"alert {alert.id} acknowledged by {safe(alert.acked_by)} at {utc(alert.acked_at)} UTC"
        + (f" — {safe(alert.ack_note)}" if alert.ack_note else ""))
    if before.acked_at is not None:
        say(f"  (replaces the acknowledgement by {safe(before.acked_by)} at {utc(before.acked_at)} UTC)")
