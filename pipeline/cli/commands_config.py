"""``regwatch config check``: every problem of schedules.yaml at once, each with its line."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.app import config_app, config_path, reads_config
from pipeline.cli.output import emit_json, stdout
from pipeline.errors import UserError


@config_app.command("check")
@reads_config
def config_check(
    ctx: typer.Context,
    file: Path = typer.Argument(None, help="The file to check (default: the one other commands read: --config, "
                                             "REGWATCH_CONFIG, else ./schedules.yaml)."),
    as_json: bool = typer.Option(False, "--json", help="Print the problems as JSON."),
) -> None:
    """Validate a configuration file and report every problem at once, one line each:
    FILE:LINE: key.path: what is wrong (hint). Unset {$env: NAME} variables are warnings.

    Exit 1 when there is any error, 0 otherwise ("FILE: ok (N sources, M sinks, K routes)").
    The daemon checks its file the same way at start and on SIGHUP.

    Example: regwatch config check /etc/regwatch/schedules.yaml
    """
    from pipeline.config import check_config

    path = file or config_path(ctx)
    if path is None:
        raise UserError("no configuration file to check: ./schedules.yaml does not exist",
                        "pass FILE, or --config / REGWATCH_CONFIG")
    report = check_config(path)
    if as_json:
        emit_json({"file": str(path), "ok": not report.errors, "problems": [
            {"line": p.line, "key": p.where, "severity": "warning" if p.warning else "error", "message": p.message,
             "hint": p.hint} for p in report.problems]})
    else:
        out = stdout()
        for problem in report.problems:
            out.print(str(problem), markup=False)
        if report.config is not None:
            c = report.config
            out.print(f"{path}: ok ({len(c.sources)} sources, {len(c.sinks)} sinks, {len(c.routes)} routes)",
                      markup=False)
        else:
            n = len(report.errors)
            out.print(f"{path}: {n} error{'s' if n != 1 else ''}", markup=False)
    if report.errors:
        raise typer.Exit(1)


__all__ = ["config_check"]
