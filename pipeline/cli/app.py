"""The typer application object, global options (--db, --config) and shared helpers for commands."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pipeline.clock import Clock, FixedClock, SystemClock
from pipeline.errors import UserError

if TYPE_CHECKING:
    from pipeline.config import Config

app = typer.Typer(
    name="regwatch",
    help="Watch export-control regulators (MOFCOM, MIIT, gov.cn, METI) and report new, changed, "
    "suspended and expiring rules.\n\nExample: regwatch history --since 2025-11-01",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
db_app = typer.Typer(help="Database maintenance.\n\nExample: regwatch db upgrade", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.callback()
def _db(ctx: typer.Context) -> None:
    refuse_unused_config(ctx)
config_app = typer.Typer(help="Check the configuration file (schedules.yaml).\n\nExample: regwatch config check",
                         no_args_is_help=True)
app.add_typer(config_app, name="config")


def reads_config(func):
    """Mark a command that reads ``--config`` (through :func:`config_of`); put it under ``@app.command()``.

    ``--config`` given to any other command is an error rather than silently ignored.
    """
    func.reads_config = True
    return func


def command_reads_config(command) -> bool:
    """A click command marked with :func:`reads_config`; a group if any of its commands is."""
    subcommands = getattr(command, "commands", None)
    if isinstance(subcommands, dict):
        return any(command_reads_config(c) for c in subcommands.values())
    return bool(getattr(getattr(command, "callback", None), "reads_config", False))


class LogFormat(str, Enum):
    text = "text"
    json = "json"


@dataclass
class Globals:
    db: str | None
    config: Path | None
    config_given: bool = False  # --config on the command line (not from the environment)


@app.callback()
def _root(
    ctx: typer.Context,
    db: str = typer.Option(None, "--db", envvar="REGWATCH_DB", show_envvar=True,
                           help="SQLite path or SQLAlchemy URL (postgresql+psycopg://…). "
                                "Default: regwatch.db in the user data directory."),
    config: Path = typer.Option(None, "--config", envvar="REGWATCH_CONFIG", show_envvar=True,
                                help="schedules.yaml with sources, sinks and routes (default: ./schedules.yaml if present)."),
    log_format: LogFormat = typer.Option(LogFormat.text, "--log-format", envvar="REGWATCH_LOG_FORMAT",
                                         show_envvar=True, case_sensitive=False,
                                         help="Log lines on stderr as text, or as JSON (one object per line: "
                                              "ts, level, logger, message, source, run_id, stage)."),
) -> None:
    from pipeline.logs import configure_logging, register_secrets, url_password

    chosen = getattr(ctx.get_parameter_source("log_format"), "name", "") in ("COMMANDLINE", "ENVIRONMENT")
    configure_logging(log_format.value, only_if_unconfigured=not chosen)
    register_secrets(url_password(db))
    ctx.obj = Globals(db=db, config=config)
    source = ctx.get_parameter_source("config")
    ctx.obj.config_given = config is not None and getattr(source, "name", "") == "COMMANDLINE"
    refuse_unused_config(ctx)


def refuse_unused_config(ctx: typer.Context) -> None:
    """``--config`` given on the command line to a command that does not read it is an error (a
    group passes when one of its commands reads it; its own callback then checks the one invoked)."""
    name = ctx.invoked_subcommand
    if not getattr(globals_of(ctx), "config_given", False) or not name:
        return
    command = ctx.command.get_command(ctx, name)  # type: ignore[attr-defined]
    if command is not None and not command_reads_config(command):
        top = ctx.command_path.split()[1] if ctx.parent is not None else name  # `regwatch db`, as typed first
        raise UserError(f"--config is not used by `regwatch {top}`", "drop it")


def globals_of(ctx: typer.Context) -> Globals:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Globals) else Globals(db=os.environ.get("REGWATCH_DB"), config=None)


def clock() -> Clock:
    """The system clock, or a fixed one from ``REGWATCH_NOW`` (ISO datetime with offset) for
    replays and tests: e.g. ``REGWATCH_NOW=2026-11-09T04:00:00+00:00 regwatch process``."""
    pinned = os.environ.get("REGWATCH_NOW")
    if not pinned:
        return SystemClock()
    try:
        return FixedClock(datetime.fromisoformat(pinned))
    except ValueError as exc:  # also raised for a naive datetime
        raise UserError(f"REGWATCH_NOW={pinned!r} is not an aware ISO datetime",
                        "use e.g. 2026-11-09T04:00:00+00:00, or unset it") from exc


def today() -> date:
    """Today (UTC) by ``clock()``."""
    return clock().now().date()


def open_store(ctx: typer.Context):
    """Open the store named by --db / REGWATCH_DB (the default file is created on first use)."""
    from store import Store

    return Store.open(globals_of(ctx).db)


def config_path(ctx: typer.Context) -> Path | None:
    """The file the CLI reads: --config / REGWATCH_CONFIG, else ./schedules.yaml if present, else None."""
    path = globals_of(ctx).config
    if path is None and Path("schedules.yaml").is_file():
        path = Path("schedules.yaml")
    return path


def config_of(ctx: typer.Context) -> Config:
    """The validated configuration (``load_config``: ConfigError with FILE:LINE lines when invalid).

    A command calling this must be marked with :func:`reads_config`.
    """
    from pipeline.config import load_config
    from pipeline.logs import config_secrets, register_secrets

    config = load_config(config_path(ctx))
    register_secrets(config_secrets(config.sinks))  # never in a log line, whatever logs them
    return config


def configured(ctx: typer.Context) -> Config | None:
    """The validated configuration, or None when there is no file (``config_path``): a query
    command then uses the built-in defaults without importing the config models (pydantic, the
    sink plug-ins, slack_sdk, the scheduler), which cost more than the query itself.

    A command calling this must be marked with :func:`reads_config`.
    """
    return config_of(ctx) if config_path(ctx) is not None else None


__all__ = ["app", "clock", "command_reads_config", "config_app", "config_of", "config_path", "configured", "db_app", "globals_of",
           "open_store", "reads_config", "today"]
