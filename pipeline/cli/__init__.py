"""The ``regwatch`` command line: a thin layer over the store and the pipeline stages.

Exit codes: 0 ok, 1 user error (one line on stderr with a hint), 2 internal error.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from pipeline.cli import (  # noqa: F401
    commands_alerts,
    commands_config,
    commands_doctor,
    commands_fixtures,
    commands_history,
    commands_run,
    commands_tools,
    commands_web,
)
from pipeline.cli.app import app
from pipeline.cli.errors import user_message
from pipeline.logs import LOG_FORMATS, configure_logging

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``regwatch`` console script; returns (and exits with) the exit code."""
    fmt = os.environ.get("REGWATCH_LOG_FORMAT", "text")
    configure_logging(fmt if fmt in LOG_FORMATS else "text", only_if_unconfigured=True)
    code = _run(argv)
    if argv is None:
        sys.exit(code)
    return code


def _run(argv: list[str] | None) -> int:
    try:
        result = app(args=argv, prog_name="regwatch", standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("aborted\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:  # translated once, here at the edge
        if _is_usage_error(exc):
            if type(exc).__name__ == "NoArgsIsHelpError":
                exc.show()  # type: ignore[attr-defined]  # prints the help text
                return 0
            sys.stderr.write(f"error: {exc.format_message()} (hint: see `regwatch --help`)\n")  # type: ignore[attr-defined]
            return 1
        message = user_message(exc)
        if message is not None:  # a ConfigError has one line per problem: each gets its prefix
            sys.stderr.write("".join(f"error: {line}\n" for line in message.splitlines() or [""]))
            return 1
        sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\n"
                         "please report it with the command you ran (set REGWATCH_DEBUG=1 for a traceback)\n")
        if os.environ.get("REGWATCH_DEBUG"):
            traceback.print_exc()
        return 2
    return result if isinstance(result, int) else 0


def _is_usage_error(exc: Exception) -> bool:
    """Click/typer usage errors (bad option, missing argument): user errors, exit code 1.

    Duck-typed because typer vendors click privately (typer._click) in recent releases.
    """
    return hasattr(exc, "format_message") and hasattr(exc, "exit_code") and hasattr(exc, "show")
