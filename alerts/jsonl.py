"""JsonlSink: appends one JSON object per alert to a file, one complete line per write call."""

from __future__ import annotations

import errno
import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from alerts.base import Alert, DeliveryResult
from alerts.errors import ReconcileError
from alerts.options import Options

log = logging.getLogger(__name__)

# Errors a retry cannot fix without a human changing permissions or the path.
_PERMANENT = {errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR, errno.EROFS}


def alert_line(alert: Alert) -> bytes:
    """The UTF-8 JSON line for one alert (``id`` first, then the outbox payload).

    Example:
        >>> from datetime import datetime, timezone
        >>> a = Alert(9, "new", "info", "mofcom", None, "公告", "S", "https://x.test/",
        ...           datetime(2025, 1, 1, tzinfo=timezone.utc))
        >>> alert_line(a)[:40].decode()
        '{"id": 9, "kind": "new", "severity": "in'
        >>> "公告" in alert_line(a).decode(), alert_line(a).endswith(b"\\n")
        (True, True)
    """
    return (json.dumps({"id": alert.id, **alert.to_payload()}, ensure_ascii=False) + "\n").encode("utf-8")


class JsonlSink:
    """Append alerts to a JSON Lines file (``path``; ``fsync: true`` to flush to disk each time).

    Each alert is one ``os.write`` of a full line on an ``O_APPEND`` descriptor. A short write is
    rolled back with ``ftruncate``; if an earlier crash left a partial last line, a newline is
    written first so the new line stays parseable. ``find_posted`` lets the outbox check, after a
    crash in the middle of a delivery, that the line is not there already before writing it again.

    Example:
        >>> JsonlSink.from_config("archive", {"kind": "jsonl", "path": "alerts.jsonl"})
        JsonlSink(name='archive', path='alerts.jsonl', fsync=False)
    """

    kind = "jsonl"

    def __init__(self, name: str, path: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.name = name
        self.path = Path(path)
        self.fsync = fsync

    @classmethod
    def from_config(cls, name: str, cfg: Mapping[str, Any]) -> JsonlSink:
        """Build from ``{path: ..., fsync: bool}``; ``~`` in the path is expanded."""
        opts = Options(name, cfg, allowed={"path", "fsync"})
        path = opts.string("path", required=True, hint="set path: /var/lib/regwatch/alerts.jsonl")
        return cls(name, Path(path).expanduser(), fsync=opts.boolean("fsync", default=False))

    def __repr__(self) -> str:
        return f"JsonlSink(name={self.name!r}, path={str(self.path)!r}, fsync={self.fsync})"

    def send(self, alert: Alert) -> DeliveryResult:
        """Append the alert; ``external_id`` is ``"<path>#<byte offset>"`` of its line."""
        line = alert_line(alert)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            return self._failed(exc)
        start: int | None = None
        try:
            start = os.fstat(fd).st_size
            if start and not _ends_with_newline(self.path, start):
                line = b"\n" + line  # repair a torn last line left by an earlier crash
            written = os.write(fd, line)
            if written != len(line):
                os.ftruncate(fd, start)
                return DeliveryResult.failure(
                    f"jsonl {self.name}: short write to {self.path} ({written}/{len(line)} bytes), rolled back",
                    retryable=True,
                )
            if self.fsync:
                os.fsync(fd)
        except OSError as exc:
            _rollback(fd, start)
            return self._failed(exc)
        finally:
            os.close(fd)
        assert start is not None
        offset = start + (1 if line.startswith(b"\n") else 0)
        return DeliveryResult.success(f"{self.path}#{offset}", f"appended alert {alert.id} to {self.path}")

    def _failed(self, exc: OSError) -> DeliveryResult:
        detail = f"jsonl {self.name}: cannot append to {self.path}: {exc.strerror or exc}"
        if exc.errno in _PERMANENT:
            detail += " (fix the path or its permissions, then redeliver)"
        permanent = exc.errno in _PERMANENT  # the sink's path is wrong: every alert waits for the fix
        return DeliveryResult.failure(detail, retryable=not permanent, blocked=permanent)

    def find_posted(self, alert_id: int, *, oldest: datetime, created_at: datetime | None = None) -> str | None:
        """The ``"<path>#<offset>"`` of a line already written for ``alert_id`` (and ``created_at``), else None.

        The outbox asks before writing again after a crash in the middle of a delivery, so the
        archive never holds an alert twice. ``oldest`` is not needed: the file is read whole.
        """
        stamp = created_at.astimezone(timezone.utc).isoformat() if created_at is not None else None
        try:
            fh = open(self.path, "rb")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ReconcileError(self.name, f"cannot read {self.path}: {exc.strerror or exc}") from None
        with fh:
            offset = 0
            for raw in fh:
                start, offset = offset, offset + len(raw)
                if f'"id": {alert_id},'.encode() not in raw and f'"id":{alert_id},'.encode() not in raw:
                    continue
                try:
                    data = json.loads(raw)
                except ValueError:
                    continue  # a torn line from an earlier crash
                if data.get("id") == alert_id and (stamp is None or data.get("created_at") == stamp):
                    return f"{self.path}#{start}"
        return None


def _ends_with_newline(path: Path, size: int) -> bool:
    with open(path, "rb") as fh:
        fh.seek(size - 1)
        return fh.read(1) == b"\n"


def _rollback(fd: int, size: int | None) -> None:
    if size is None:
        return
    try:
        os.ftruncate(fd, size)
    except OSError as exc:  # the write failure itself is reported by the caller
        log.warning("jsonl: could not roll back a failed append (%s); the last line may be partial", exc)
