"""User-facing errors of the pipeline and the CLI: one clear line plus a hint on what to do."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix (bad argument, missing file, unknown key); CLI exit code 1."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} (hint: {hint})")


__all__ = ["UserError"]
