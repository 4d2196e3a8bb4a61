"""Stage commands: crawl, process, deliver, and run (all three for one source)."""

from __future__ import annotations

import typer

from pipeline.cli.app import app, clock, config_of, open_store
from pipeline.cli.output import emit_json, stderr, stdout
from pipeline.errors import UserError

JSON = typer.Option(False, "--json", help="Print the stage report as JSON.")


@app.command()
def crawl(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="Source to crawl: mofcom, miit, govcn or meti."),
    base_url: str = typer.Option(None, "--base-url", help="Crawl a replica instead of the live site, e.g. http://127.0.0.1:8800"),
    max_pages: int = typer.Option(None, "--max-pages", help="List pages to read per column (default from schedules.yaml)."),
    delay: float = typer.Option(None, "--delay", help="Seconds between requests (default: the source's polite delay; 0 for a local replica)."),
    as_json: bool = JSON,
) -> None:
    """Fetch index, detail and attachment pages of SOURCE into raw captures (in a child process).

    Example: regwatch crawl mofcom --max-pages 2
    """
    from crawlers.runner import run_crawl_subprocess
    from crawlers.sources import SOURCES

    known = SOURCES.get(source)
    if known is None:
        raise UserError(f"unknown source {source!r}", f"use one of {', '.join(sorted(SOURCES))}")
    if not known.spider:
        raise UserError(f"source {source!r} has no spider yet",
                        "its pages can already be read with `regwatch inspect FILE --source " + source + "`")
    config = config_of(ctx)
    src = config.sources.get(source)
    store = open_store(ctx)
    summary = run_crawl_subprocess(
        source, store.dsn, base_url=base_url or (src.base_url if src else None),
        max_pages=max_pages or (src.max_pages if src else None),
        timeout=config.defaults.crawl_timeout_seconds,
        delay=delay if delay is not None else (src.delay_seconds if src else None),
    )
    if as_json:
        emit_json(summary)
    else:
        stdout().print(_crawl_line(source, summary))
    if summary.get("status") == "failed":
        raise typer.Exit(1)


def _crawl_line(source: str, summary: dict) -> str:
    errors = summary.get("errors") or []
    line = (f"{source}: {summary.get('status')} — {summary.get('captures_new', 0)} new captures, "
            f"{summary.get('captures_unchanged', 0)} unchanged, {len(errors)} errors")
    for err in errors[:5]:
        line += f"\n  {err.get('kind')}: {err.get('url')}: {err.get('message')}"
    return line


@app.command()
def process(
    ctx: typer.Context,
    source: str = typer.Option(None, "--source", help="Only captures of this source."),
    reparse: bool = typer.Option(False, "--reparse", help="Re-read every stored capture (after a parser fix)."),
    as_json: bool = JSON,
) -> None:
    """Turn pending captures into versions, diffs, tags, relations and outbox alerts, then queue
    reminders for legal deadlines coming or just passed (suspensions ending, expiries, effective dates).

    Example: regwatch process --source mofcom
    """
    from pipeline.outbox import Routing
    from pipeline.process import process_pending
    from pipeline.remind import check_deadlines

    config = config_of(ctx)
    routing = Routing.from_config(config)
    store = open_store(ctx)
    if reparse:
        store.requeue_captures(source=source)
    now = clock().now()
    report = process_pending(store, now=now, source=source, routing=routing,
                             authority=config.authority)
    reminders = check_deadlines(store, now=now, lead_days=config.defaults.deadline_lead_days, routing=routing)
    if as_json:
        emit_json(report.as_dict() | {"deadline_alerts": reminders})
        return
    stdout().print(f"processed {report.processed} captures: {report.new_documents} new documents, "
                   f"{report.new_versions} new versions, {report.unchanged} unchanged, {report.failed} failed, "
                   f"{report.alerts} alerts queued; {reminders} deadline alerts queued")
    for err in report.errors[:10]:
        stderr().print(f"  {err}", markup=False)


@app.command()
def deliver(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print pending alerts; send and record nothing."),
    as_json: bool = JSON,
) -> None:
    """Send pending alerts to the sinks their routes name (Slack, console, JSONL) — at most once each.

    Example: regwatch deliver --dry-run
    """
    from alerts.base import Alert
    from alerts.console import ConsoleSink
    from pipeline.daemon import delivery_policy
    from pipeline.deliver import deliver_pending
    from pipeline.outbox import Routing
    from pipeline.sinks import build_from_config

    config = config_of(ctx)
    store = open_store(ctx)
    if dry_run:
        sink = ConsoleSink.from_config("dry-run", {"kind": "console"})
        for row in store.pending_alerts(limit=500):
            sink.send(Alert.from_payload(row.id, row.payload))
        return
    sinks, routes, disabled = build_from_config(config)
    for name, reason in disabled.items():
        stderr().print(f"sink {name} disabled: {reason}", markup=False)
    report = deliver_pending(store, sinks, now=clock().now(), routing=Routing(tuple(routes), tuple(config.default_route)),
                             policy=delivery_policy(config), disabled=disabled)
    if as_json:
        emit_json(report.as_dict())
        return
    stdout().print(f"delivered {report.delivered} ({report.reconciled} found already posted), "
                   f"{report.failed} waiting to retry, {report.held} held for an absent or disabled sink, "
                   f"{report.blocked} blocked, {report.dead} dead")
    for name, count in sorted(report.held_sinks.items()):
        stderr().print(f"  held: {count} for sink {name!r} ({disabled.get(name) or 'not in this configuration'})",
                       markup=False)
    for err in report.errors[:10]:
        stderr().print(f"  {err}", markup=False)


@app.command()
def daemon(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Run every enabled source's cycle once, then exit (for cron)."),
    as_json: bool = JSON,
) -> None:
    """Run the scheduler from schedules.yaml: per source crawl → process → reminders → deliver,
    outbox retries every few minutes, daily deadline reminders. One daemon per database.

    Example: SLACK_BOT_TOKEN=xoxb-… regwatch --config /etc/regwatch/schedules.yaml daemon
    """
    from pipeline.daemon import Daemon, crawlable, job_specs, leader_lock

    config = config_of(ctx)
    store = open_store(ctx)
    runner = Daemon(config, store, clock=clock())
    if once:
        with leader_lock(store):
            results = runner.run_once()
        if as_json:
            emit_json(results)
            return
        for source, result in results.items():
            stdout().print(f"{source}: crawl {result['crawl'].get('status')}, "
                           f"{result['process']['new_versions']} new versions, {result['reminders']} reminders, "
                           f"{result['delivered']} alerts delivered", markup=False)
        if not results:
            stdout().print("no enabled source with a spider in the configuration")
        return
    jobs = job_specs(config, crawlable=crawlable)
    stderr().print("regwatch daemon: " + ", ".join(f"{j.id} ({j.trigger})" for j in jobs), markup=False)
    runner.serve()
