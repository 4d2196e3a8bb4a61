"""``regwatch doctor``: check configuration, database, sinks, source sites and the daemon lock."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.app import app, config_of, globals_of, reads_config
from pipeline.cli.output import emit_json, safe_line, say


@app.command()
@reads_config
def doctor(
    ctx: typer.Context,
    offline: bool = typer.Option(False, "--offline", help="Do not contact the regulators' sites (Slack and the "
                                 "database are still checked)."),
    as_json: bool = typer.Option(False, "--json", help='Print [{"check", "verdict", "detail"}] as JSON.'),
) -> None:
    """Check a deployment, changing nothing: one line per check with a verdict (ok / warn / FAIL)
    and what to do. Exit 1 when any check FAILs.

    Checks: the config loads; the database is reachable, migrated, writable (a rolled-back test
    write) and its size; each sink (Slack: auth.test, channel ID, chat:write and channels:history
    scopes, bot in the channel; JSONL: path appendable; disabled sinks as warnings); each enabled
    source's base URL answers a HEAD within 5 s (skipped with --offline); the daemon lock; blocked
    sinks and dead deliveries in the outbox.

    Example: regwatch --config /etc/regwatch/schedules.yaml doctor --offline
    """
    from pipeline.doctor import has_failure, run_checks

    g = globals_of(ctx)
    path = g.config
    if path is None and Path("schedules.yaml").is_file():
        path = Path("schedules.yaml")
    checks = run_checks(config_path=path, load_config=lambda: config_of(ctx), db=g.db, offline=offline)
    if as_json:
        emit_json([{"check": c.name, "verdict": c.verdict, "detail": c.detail} for c in checks])
    else:
        width = max((len(c.name) for c in checks), default=0)
        for c in checks:
            say(f"{c.verdict:<4}  {safe_line(c.name):<{width}}  {safe_line(c.detail)}")
    if has_failure(checks):
        raise typer.Exit(1)
