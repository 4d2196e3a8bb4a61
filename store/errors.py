"""Store exceptions: each carries its data and formats its own message plus a fix hint.

The CLI turns them into one line with ``str(exc)`` (message, then ``; `` and the hint).
"""

from __future__ import annotations

from typing import Any

_NOT_FOUND_HINTS = {
    "document": "try `regwatch history` to list keys",
    "version": "try `regwatch show <key> --json` to list its versions",
    "capture": "capture ids come from `regwatch status` / the crawl log",
    "alert": "try `regwatch alerts list` to list alert ids",
    "run": "try `regwatch status` to list recent runs",
    "source": "register it with Store.ensure_source() (crawlers do this at start-up)",
    "change": "try `regwatch history` to list changes",
}


class StoreError(Exception):
    """Any failure of the store, with a hint saying what to do next.

    Example:
        >>> str(StoreError("database x.db is locked", "retry later"))
        'database x.db is locked; retry later'
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class NotFound(StoreError):
    """A lookup by key or id found nothing.

    Example:
        >>> str(NotFound("document", "mofcom:2025:999"))
        "no document 'mofcom:2025:999'; try `regwatch history` to list keys"
    """

    def __init__(self, kind: str, key: Any, hint: str | None = None) -> None:
        self.kind = kind
        self.key = key
        shown = repr(key) if isinstance(key, str) else str(key)
        super().__init__(f"no {kind} {shown}", _NOT_FOUND_HINTS.get(kind, "") if hint is None else hint)


class SchemaTooNew(StoreError):
    """The database records migrations this code does not know (written by a newer regwatch)."""

    def __init__(self, where: str, db_version: int, code_version: int, unknown: list[str]) -> None:
        self.where, self.db_version, self.code_version, self.unknown = where, db_version, code_version, unknown
        if db_version > code_version:
            detail = f"schema {db_version} > {code_version}"
        else:
            detail = f"unknown migrations {', '.join(unknown)}"
        super().__init__(
            f"database {where} was written by a newer regwatch ({detail})",
            "upgrade regwatch (pip install -U regwatch), or pass --db to use another database",
        )


class SchemaTooOld(StoreError):
    """The database lacks migrations that cannot be applied automatically on open."""

    def __init__(self, where: str, pending: list[str]) -> None:
        self.where, self.pending = where, pending
        super().__init__(
            f"database {where} needs migrations {', '.join(pending)}",
            "back it up, then run `regwatch db upgrade`",
        )


class CorruptDatabase(StoreError):
    """The file is not an SQLite database, is damaged, or holds someone else's tables."""

    def __init__(self, where: str, detail: str) -> None:
        self.where, self.detail = where, detail
        super().__init__(
            f"database {where} is not a regwatch database or is corrupt ({detail})",
            "restore it from a backup, or pass --db to use another database",
        )


class DatabaseLocked(StoreError):
    """Another process held the write lock for longer than the busy timeout."""

    def __init__(self, where: str, timeout: float) -> None:
        self.where, self.timeout = where, timeout
        super().__init__(
            f"database {where} stayed locked by another writer for more than {timeout:g} s",
            "wait for the running crawl/process to finish and retry, or check for a stuck regwatch process",
        )
