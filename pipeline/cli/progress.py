"""A rich progress display on stderr for long interactive commands, and nothing when it is not a terminal.

Shown only when stderr is a terminal (rich's own test: ``isatty``, or ``FORCE_COLOR=1`` to force it) and the command was not asked for ``--json``; it is transient (gone
when the work ends), so what a command prints is the same with or without it, and a pipe or a
log file never sees it.

Example:
    with progress("processing captures", enabled=not as_json) as update:
        process_pending(store, now=now, progress=update)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from pipeline.cli.output import stderr

Update = Callable[[int, "int | None"], None]


def _quiet(done: int, total: int | None = None) -> None:
    return None


@contextlib.contextmanager
def progress(description: str, *, enabled: bool = True) -> Iterator[Update]:
    """Yield ``update(done, total)``; a spinner until a total is known, then a bar with done/total."""
    console = stderr()
    if not enabled or not console.is_terminal:
        yield _quiet
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int | None = None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


__all__ = ["progress"]
