"""Stage commands: crawl, process, deliver, and run (all three for one source)."""

from __future__ import annotations

import typer

from pipeline.cli.app import app, clock, config_of, open_store, reads_config
from pipeline.cli.output import emit_json, stderr, stdout
from pipeline.errors import UserError

JSON = typer.Option(False, "--json", help="Print the stage report as JSON.")


@app.command()
@reads_config
def crawl(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="Source to crawl: mofcom, miit, govcn, meti or one configured in schedules.yaml."),
    base_url: str = typer.Option(None, "--base-url", help="Crawl a replica instead of the live site, e.g. http://127.0.0.1:8800"),
    max_pages: int = typer.Option(None, "--max-pages", help="List pages to read per column (default from schedules.yaml)."),
    delay: float = typer.Option(None, "--delay", help="Seconds between requests (default: the source's polite delay; 0 for a local replica)."),
    recheck: bool = typer.Option(False, "--recheck", help="Fetch every listed page already stored again now "
                                 "(default: after defaults.recheck_days), to catch silent edits."),
    as_json: bool = JSON,
) -> None:
    """Fetch index, detail and attachment pages of SOURCE into raw captures (in a child process).

    Listed detail pages already stored are fetched again (conditionally) only every
    defaults.recheck_days, and list paging stops at the first page with nothing new on it;
    --recheck fetches them all now.

    The run is recorded (a crash or timeout as a failed run) and the source's health checked:
    after defaults.max_consecutive_failures failed runs in a row a source-health alert is
    queued, and a recovery alert when the source works again. Exit 1 when the crawl failed.

    Example: regwatch crawl mofcom --max-pages 2
    """
    from crawlers.sources import SOURCES
    from pipeline.crawl import crawl_source

    config = config_of(ctx)  # first: it registers the sources configured by selectors
    known = SOURCES.get(source)
    if known is None:
        raise UserError(f"unknown source {source!r}", f"use one of {', '.join(sorted(SOURCES))}")
    if not known.spider:
        raise UserError(f"source {source!r} has no spider yet",
                        "its pages can already be read with `regwatch inspect FILE --source " + source + "`")
    from pipeline.cli.progress import progress

    store = open_store(ctx)
    with progress(f"crawling {source}", enabled=not as_json):
        summary = crawl_source(store, source, config=config, clock=clock(), crawl=_crawler(),
                               base_url=base_url, max_pages=max_pages, delay=delay, recheck=recheck)
    if as_json:
        emit_json(summary)
    else:
        stdout().print(crawl_line(source, summary), markup=False)
    if summary.get("status") == "failed":
        raise typer.Exit(1)


def _crawler():
    from crawlers.runner import run_crawl_subprocess  # looked up at call time: tests replace it

    return run_crawl_subprocess


def crawl_line(source: str, summary: dict, *, first: int = 5) -> str:
    """The crawl report: counts, errors by kind, the first errors, queued health alerts.

    Example:
        >>> print(crawl_line("mofcom", {"run_id": 7, "status": "partial", "captures_new": 3, "captures_unchanged": 1,
        ...     "errors": 2, "error_kinds": {"offsite": 1, "challenge": 1},
        ...     "first_errors": [{"kind": "challenge", "url": "u", "message": "HTTP 412"}]}, first=1))
        mofcom: partial — 3 new captures, 1 unchanged, 2 errors: 1 challenge, 1 offsite
          challenge: u: HTTP 412
          … 1 more recorded on crawl run 7
        >>> print(crawl_line("mofcom", {"status": "ok", "errors": 0,
        ...                             "rechecks": {"requested": 2, "gone": 1, "found": 1}}))
        mofcom: ok — 0 new captures, 0 unchanged, 0 errors
          re-checked 2 known page(s) on no list: 1 gone (404/410), 1 read (applied by `regwatch process`)
    """
    errors = summary.get("errors") or 0
    first_errors = list(summary.get("first_errors") or (errors if isinstance(errors, list) else []))
    count = len(errors) if isinstance(errors, list) else int(errors)
    kinds = summary.get("error_kinds") or {}
    line = (f"{source}: {summary.get('status')} — {summary.get('captures_new', 0)} new captures, "
            f"{summary.get('captures_unchanged', 0)} unchanged, {count} errors")
    if kinds:
        line += ": " + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    for err in first_errors[:first]:
        line += f"\n  {err.get('kind')}: {err.get('url') or '-'}: {err.get('message')}"
    if count > min(first, len(first_errors)):
        line += f"\n  … {count - min(first, len(first_errors))} more recorded on crawl run {summary.get('run_id')}"
    rechecks = summary.get("rechecks") or {}
    if rechecks.get("requested") or rechecks.get("found"):
        line += (f"\n  re-checked {rechecks.get('requested', 0)} known page(s) on no list: "
                 f"{rechecks.get('gone', 0)} gone (404/410), {rechecks.get('found', 0)} read "
                 "(applied by `regwatch process`)")
    if summary.get("health_alerts"):
        line += f"\n  source health: {summary['health_alerts']} alert(s) queued (see `regwatch deliver`)"
    return line


@app.command()
@reads_config
def process(
    ctx: typer.Context,
    source: str = typer.Option(None, "--source", help="Only captures of this source."),
    reparse: bool = typer.Option(False, "--reparse", help="Re-read every stored capture (after a parser fix)."),
    accept: int = typer.Option(None, "--accept", metavar="CAPTURE",
                               help="Release a capture held as a suspected misread: make its version without the check."),
    by: str = typer.Option(None, "--by", help="Who accepts it (with --accept; default: the OS user)."),
    as_json: bool = JSON,
) -> None:
    """Turn pending captures into versions, diffs, tags, relations and outbox alerts, apply the
    re-checks of pages that left every list (withdrawals), then queue reminders for legal deadlines
    coming or just passed (suspensions ending, expiries, effective dates).

    A capture that lost its substance compared with the document's last version is held as a
    suspected misread (no version; see `regwatch status`); `--accept CAPTURE` releases it.
    A page on no list whose URL answered 404/410 in defaults.withdrawal_after_checks crawls in a
    row (while the lists still parse) is withdrawn; a withdrawn alert goes out once per document.

    Example: regwatch process --source mofcom
    """
    from pipeline.outbox import Routing
    from pipeline.process import accept_capture, process_pending
    from pipeline.remind import check_deadlines
    from pipeline.withdrawals import check_withdrawals

    config = config_of(ctx)
    routing = Routing.from_config(config)
    store = open_store(ctx)
    if accept is not None and (reparse or source):
        raise UserError("--accept processes one held capture", "drop --reparse/--source when using --accept")
    if reparse:
        store.requeue_captures(source=source)
    now = clock().now()
    if accept is not None:
        import getpass

        report = accept_capture(store, accept, now=now, by=by or getpass.getuser(), routing=routing,
                                authority=config.authority)
    else:
        from pipeline.cli.progress import progress

        with progress("re-reading captures" if reparse else "processing captures", enabled=not as_json) as update:
            report = process_pending(store, now=now, source=source, routing=routing, authority=config.authority,
                                     progress=update)
    withdrawals = check_withdrawals(store, now, threshold=config.defaults.withdrawal_after_checks, routing=routing,
                                    source=source)
    reminders = check_deadlines(store, now=now, lead_days=config.defaults.deadline_lead_days, routing=routing)
    if as_json:
        emit_json(report.as_dict() | {"deadline_alerts": reminders, "withdrawals": withdrawals.as_dict()})
        return
    if accept is not None:
        stdout().print(f"accepted capture {accept}: {report.new_versions} new versions, {report.unchanged} unchanged, "
                       f"{report.failed} failed, {report.alerts} alerts queued; {reminders} deadline alerts queued")
    else:
        stdout().print(f"processed {report.processed} captures: {report.new_documents} new documents, "
                       f"{report.new_versions} new versions, {report.unchanged} unchanged, {report.failed} failed, "
                       + (f"{report.held} held as suspected misreads, " if report.held else "")
                       + f"{report.alerts} alerts queued; {reminders} deadline alerts queued")
    line = withdrawals_line(withdrawals)
    if line:
        stdout().print(line, markup=False)
    for err in report.errors[:10] + report.held_reasons[:10]:
        stderr().print(f"  {err}", markup=False)


def withdrawals_line(report) -> str:
    """One line on what the re-checks of pages that left every list did (empty when nothing).

    Example:
        >>> from pipeline.withdrawals import WithdrawalReport
        >>> withdrawals_line(WithdrawalReport(counted=2, gone=1, ignored=1, withdrawn_documents=1, alerts=1,
        ...                                   ignored_because={"the run failed": 1}))
        're-checks: 2 applied (1 gone), 1 ignored (the run failed); 1 documents withdrawn; 1 alerts queued'
    """
    if not (report.counted or report.ignored or report.withdrawn_appearances or report.restored_appearances
            or report.withdrawn_documents or report.restored_documents):
        return ""
    line = f"re-checks: {report.counted} applied ({report.gone} gone)"
    if report.ignored:
        line += f", {report.ignored} ignored ({'; '.join(sorted(report.ignored_because))})"
    if report.withdrawn_appearances > report.withdrawn_documents:
        line += f"; {report.withdrawn_appearances} appearances withdrawn"
    if report.withdrawn_documents:
        line += f"; {report.withdrawn_documents} documents withdrawn"
    if report.restored_appearances or report.restored_documents:
        line += f"; {report.restored_documents} documents active again"
    if report.alerts:
        line += f"; {report.alerts} alerts queued"
    return line


@app.command()
@reads_config
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
    from pipeline.leader import lock_holder
    from pipeline.outbox import Routing
    from pipeline.sinks import build_from_config

    config = config_of(ctx)
    store = open_store(ctx)
    if dry_run:
        sink = ConsoleSink.from_config("dry-run", {"kind": "console"})
        for row in store.pending_alerts(limit=500):
            sink.send(Alert.from_payload(row.id, row.payload))
        return
    sinks, _, disabled = build_from_config(config)
    for name, reason in disabled.items():
        stderr().print(f"sink {name} disabled: {reason}", markup=False)
    holder = lock_holder(store)
    if holder:  # safe (each delivery is leased to one sender), but the operator should know
        stderr().print(f"note: a daemon delivers on this database too: {holder}; each alert still goes out once",
                       markup=False)
    now = clock()
    report = deliver_pending(store, sinks, now=now.now(), routing=Routing.from_config(config),
                             policy=delivery_policy(config), disabled=disabled, clock=now.now)
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
@reads_config
def daemon(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Run every enabled source's cycle once, then exit (for cron)."),
    as_json: bool = JSON,
) -> None:
    """Run the scheduler from schedules.yaml: per source crawl → process → reminders → deliver,
    outbox retries every few minutes, daily deadline reminders. One daemon per database.

    SIGHUP reloads the configuration file between jobs; an invalid file is logged and the old
    configuration keeps running. With --once, exit 1 when a source's crawl failed.

    Example: SLACK_BOT_TOKEN=xoxb-… regwatch --config /etc/regwatch/schedules.yaml daemon
    """
    import logging
    import os

    from pipeline.daemon import Daemon, crawlable, job_specs, leader_lock

    if not os.environ.get("REGWATCH_LOG"):  # the daemon logs a line per stage (INFO) unless told otherwise
        logging.getLogger().setLevel(logging.INFO)
    config = config_of(ctx)
    store = open_store(ctx)
    runner = Daemon(config, store, clock=clock())
    if once:
        with leader_lock(store) as lock:
            results = runner.run_once(lock)
        failed = sorted(source for source, result in results.items() if result["crawl"].get("status") == "failed")
        if as_json:
            emit_json(results)
        else:
            for source, result in results.items():
                stdout().print(f"{source}: crawl {result['crawl'].get('status')}, "
                               f"{result['process']['new_versions']} new versions, {result['reminders']} reminders, "
                               f"{result['delivered']} alerts delivered", markup=False)
            if not results:
                stdout().print("no enabled source with a spider in the configuration")
        if failed:
            stderr().print(f"crawl failed: {', '.join(failed)} (see `regwatch status`)", markup=False)
            raise typer.Exit(1)
        return
    jobs = job_specs(config, crawlable=crawlable)
    stderr().print("regwatch daemon: " + ", ".join(f"{j.id} ({j.trigger})" for j in jobs), markup=False)
    runner.serve()
