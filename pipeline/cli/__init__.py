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
    commands_sources,
    commands_tools,
    commands_web,
)
from pipeline.cli.app import app
from pipeline.cli.errors import user_message
from pipeline.logs import LOG_FORMATS, configure_logging

__all__ = ["app", "hoist_globals", "main"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``regwatch`` console script; returns (and exits with) the exit code."""
    fmt = os.environ.get("REGWATCH_LOG_FORMAT", "text")
    configure_logging(fmt if fmt in LOG_FORMATS else "text", only_if_unconfigured=True)
    code = _run(argv)
    if argv is None:
        sys.exit(code)
    return code


GLOBAL_OPTIONS = ("--db", "--config")  # the root callback's options, each with a value


def hoist_globals(argv: list[str]) -> list[str]:
    """Move global options written after the command (``regwatch demo --db x.db``) to the front,
    where click reads them; the same option given twice raises a UserError. Tokens after ``--``
    stay where they are.

    Example:
        >>> hoist_globals(["demo", "--keep", "--db", "x.db"])
        ['--db', 'x.db', 'demo', '--keep']
        >>> hoist_globals(["--config=a.yaml", "alerts", "list", "--db=y.db", "--", "--db"])
        ['--config=a.yaml', '--db=y.db', 'alerts', 'list', '--', '--db']
    """
    from pipeline.errors import UserError

    def option(token: str) -> str | None:
        name = token.split("=", 1)[0]
        return name if name in GLOBAL_OPTIONS else None

    i, front = 0, []
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":  # options before the command
        width = 1 if "=" in argv[i] or not option(argv[i]) else 2
        front += argv[i:i + width]
        i += width
    seen = {option(t) for t in front if option(t)}
    rest, moved = [], []
    while i < len(argv):
        token = argv[i]
        if token == "--":
            rest += argv[i:]
            break
        name = option(token)
        if name is None:
            rest.append(token)
            i += 1
            continue
        width = 1 if "=" in token else 2
        if i + width > len(argv):
            command = " ".join(t for t in rest if not t.startswith("-")) or "COMMAND"
            raise UserError(f"{name} needs a value", f"write it before the command: regwatch {name} "
                            f"{'FILE' if name == '--db' else 'schedules.yaml'} {command}")
        if name in seen:
            raise UserError(f"{name} is given twice", f"give it once, before the command: regwatch {name} VALUE COMMAND …")
        seen.add(name)
        moved += argv[i:i + width]
        i += width
    return front + moved + rest


def _run(argv: list[str] | None) -> int:
    try:
        args = hoist_globals(list(sys.argv[1:] if argv is None else argv))
        result = app(args=args, prog_name="regwatch", standalone_mode=False)
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
