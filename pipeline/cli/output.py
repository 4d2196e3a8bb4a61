"""Shared CLI output: JSON on stdout (data only), human tables via rich, messages on stderr."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text


def stdout() -> Console:
    # Built per call so tests capturing sys.stdout see the output; width is generous for CJK titles.
    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def stderr() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def emit_json(data: Any) -> None:
    """Print data as JSON (UTF-8, not ASCII-escaped) on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_default) + "\n")


def table(title: str | None, columns: list[str], rows: list[list[Any]], *, no_wrap: tuple[str, ...] = (),
          ellipsis: dict[str, int] | None = None) -> None:
    """A rich table; ``no_wrap`` columns (keys, times) never break, ``ellipsis`` columns are cut to a width."""
    t = Table(title=title, show_lines=False, header_style="bold")
    for col in columns:
        if col in no_wrap:
            t.add_column(col, no_wrap=True)
        elif ellipsis and col in ellipsis:
            t.add_column(col, no_wrap=True, overflow="ellipsis", max_width=ellipsis[col])
        else:
            t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*[Text("" if v is None else str(v)) for v in row])  # cells are data, never markup
    stdout().print(t)


def fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def safe_line(text: Any, limit: int | None = None) -> str:
    """Untrusted text (titles, sink errors) as one terminal-safe line: control and bidi-override
    characters replaced (``alerts.render.terminal_safe``), whitespace folded, cut to ``limit``.

    Example:
        >>> safe_line("<!channel>\x1b[31m red\n\u202eevil")
        '<!channel>\ufffd[31m red \ufffdevil'
    """
    from alerts.render import one_line, terminal_safe

    line = one_line(terminal_safe("" if text is None else str(text)))
    return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"


def say(text: str) -> None:
    """Print one line on stdout taken literally: no rich markup, emoji codes or highlighting."""
    stdout().print(text, markup=False, emoji=False, highlight=False)


__all__ = ["emit_json", "fmt_time", "safe_line", "say", "stderr", "stdout", "table"]
