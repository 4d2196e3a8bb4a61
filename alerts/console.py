"""ConsoleSink: prints a readable block per alert (dry runs, ``regwatch deliver --dry-run``)."""

from __future__ import annotations

import os
import sys
from typing import Any, Mapping, TextIO

from rich.console import Console
from rich.text import Text

from alerts.base import Alert, DeliveryResult
from alerts.options import Options
from alerts.render import plain_lines

SEVERITY_STYLES = {"info": "bold cyan", "warning": "bold yellow", "critical": "bold red"}
ROLE_STYLES = {
    "headline": "bold",
    "summary": "",
    "fact": "",
    "tags": "dim",
    "link": "blue",
    "diff_head": "dim",
    "diff_add": "green",
    "diff_del": "red",
    "diff": "",
    "note": "dim italic",
}
COLOR_CHOICES = ("auto", "always", "never")


def use_color(mode: str, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Decide on colour: ``always``/``never`` as told; ``auto`` = a TTY and no ``NO_COLOR``.

    An explicit ``always`` in config overrides ``NO_COLOR`` (no-color.org allows explicit opt-in).

    Example:
        >>> import io
        >>> use_color("auto", io.StringIO(), {}), use_color("always", io.StringIO(), {"NO_COLOR": "1"})
        (False, True)
    """
    if mode == "always":
        return True
    if mode == "never" or environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class ConsoleSink:
    """Write each alert as a block to a stream (default: stdout), coloured with rich on a TTY.

    Config: ``color`` (``auto`` | ``always`` | ``never``, or true/false; default ``auto``),
    ``max_diff_lines`` (default 40).

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> sink = ConsoleSink.from_config("dry", {"kind": "console"}, stream=out)
        >>> sink.kind, sink.name, sink.color
        ('console', 'dry', False)
    """

    kind = "console"

    def __init__(self, name: str, *, stream: TextIO | None = None, color: bool = False, max_diff_lines: int = 40) -> None:
        self.name = name
        self.stream = stream if stream is not None else sys.stdout
        self.color = color
        self.max_diff_lines = max_diff_lines

    @classmethod
    def from_config(
        cls,
        name: str,
        cfg: Mapping[str, Any],
        *,
        stream: TextIO | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ConsoleSink:
        """Build from a config dict (see the class docstring for the options)."""
        opts = Options(name, cfg, allowed={"color", "max_diff_lines"})
        raw = cfg.get("color", "auto")
        mode = {True: "always", False: "never"}.get(raw, raw) if isinstance(raw, bool) else raw
        mode = Options(name, {"color": mode}, allowed={"color"}).choice("color", COLOR_CHOICES, default="auto")
        max_lines = int(opts.number("max_diff_lines", default=40))
        stream = stream if stream is not None else sys.stdout
        env = os.environ if environ is None else environ
        return cls(name, stream=stream, color=use_color(mode, stream, env), max_diff_lines=max_lines)

    def __repr__(self) -> str:
        return f"ConsoleSink(name={self.name!r}, color={self.color})"

    def send(self, alert: Alert) -> DeliveryResult:
        """Print the alert block followed by a blank line.

        Example:
            >>> import io
            >>> from datetime import datetime, timezone
            >>> out = io.StringIO()
            >>> a = Alert(5, "new", "info", "mofcom", "mofcom:2025:61", "T", "S", "https://x.test/",
            ...           datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> ConsoleSink("dry", stream=out).send(a).ok
            True
            >>> print(out.getvalue(), end="")
            ● NEW  mofcom  mofcom:2025:61 — T
              S
              https://x.test/
            <BLANKLINE>
        """
        lines = plain_lines(alert, max_diff_lines=self.max_diff_lines)
        try:
            if self.color:
                self._print_rich(alert, lines)
            else:
                self.stream.write("\n".join(text for _, text in lines) + "\n\n")
            self.stream.flush()
        except OSError as exc:  # closed pipe, full disk behind a redirect
            return DeliveryResult.failure(f"console {self.name}: cannot write: {exc}", retryable=True)
        return DeliveryResult.success(None, f"printed alert {alert.id}")

    def _print_rich(self, alert: Alert, lines: list[tuple[str, str]]) -> None:
        console = Console(
            file=self.stream, force_terminal=True, no_color=False, color_system="standard",
            highlight=False, markup=False, emoji=False, soft_wrap=True,
        )
        text = Text()
        for role, line in lines:
            style = SEVERITY_STYLES[alert.severity] if role == "head" else ROLE_STYLES.get(role, "")
            text.append(line, style=style)
            text.append("\n")
        console.print(text, end="\n")
