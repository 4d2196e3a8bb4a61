"""Logging for the daemon and the CLI: text or JSON lines, a stage context, secrets redacted, crawl logs kept.

* ``configure_logging(fmt, level)`` puts one stderr handler on the root logger: ``text``
  (``LEVEL logger: message [stage=crawl source=mofcom run=7]``) or ``json`` (one object per line:
  ``ts`` UTC ISO, ``level``, ``logger``, ``message``, ``source``, ``run_id``, ``stage``).
* ``log_context(stage=…, source=…, run_id=…)`` sets the context every record logged inside it
  carries (a contextvar: the daemon's one worker thread and the CLI).
* Secrets never reach a log line: values registered with ``register_secrets`` (sink tokens and
  webhook URLs from the configuration, the password of a database URL) and the values of
  environment variables whose names say they are secret (``*TOKEN*``, ``*SECRET*``,
  ``*PASSWORD*``, ``*API_KEY*``, ``*WEBHOOK*``) are replaced with ``***`` in every formatted line,
  tracebacks included.
* Crawl child logs: one file per run under ``crawl_log_dir(...)/<source>/``, the newest
  ``keep`` per source kept (``rotate_crawl_logs``).

Example:
    >>> import io, logging
    >>> stream = io.StringIO(); _ = configure_logging("json", stream=stream, secrets=["xoxb-123456789"])
    >>> with log_context(stage="deliver", source="mofcom"):
    ...     logging.getLogger("regwatch.test").warning("posted with xoxb-123456789")
    >>> import json; line = json.loads(stream.getvalue())
    >>> line["message"], line["stage"], line["source"], line["run_id"]
    ('posted with ***', 'deliver', 'mofcom', None)
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

LOG_FORMATS = ("text", "json")
CONTEXT_KEYS = ("stage", "source", "run_id")
SECRET_ENV = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|WEBHOOK", re.I)
SECRET_OPTION = re.compile(r"token|secret|password|webhook|api_key", re.I)
MIN_SECRET = 6  # shorter values would redact ordinary words
REDACTED = "***"

_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("regwatch_log_context", default={})
_secrets: set[str] = set()


@contextlib.contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Records logged inside carry ``values`` (stage, source, run_id) on top of the outer context."""
    token = _context.set({**_context.get(), **{k: v for k, v in values.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def register_secrets(values: Iterable[str | None]) -> None:
    """Never let these strings appear in a log line (tokens, passwords)."""
    _secrets.update(v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET)


def env_secrets(env: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables whose names say they are secret.

    Example:
        >>> env_secrets({"SLACK_BOT_TOKEN": "xoxb-1-2-3", "HOME": "/root", "DB_PASSWORD": "pw"})
        ['xoxb-1-2-3']
    """
    env = os.environ if env is None else env
    return [v for k, v in env.items() if SECRET_ENV.search(k) and len(v) >= MIN_SECRET]


def config_secrets(sinks: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Secret option values of the configured sinks (``token``, ``webhook_url``, …), as resolved.

    Example:
        >>> config_secrets({"legal": {"kind": "slack", "token": "xoxb-42-42", "channel": "#x"}})
        ['xoxb-42-42']
    """
    return [str(v) for options in sinks.values() for k, v in options.items()
            if SECRET_OPTION.search(k) and isinstance(v, str)]


def url_password(url: str | None) -> list[str]:
    """The password of a database URL, if it has one.

    Example:
        >>> url_password("postgresql+psycopg://rw:s3cret-pw@db/rw"), url_password("sqlite:///x.db")
        (['s3cret-pw'], [])
    """
    if not url or "://" not in url:
        return []
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password] if password else []


def redact(text: str) -> str:
    """``text`` with every registered or environment secret replaced by ``***``."""
    for secret in sorted(_secrets | set(env_secrets()), key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        for key in CONTEXT_KEYS:
            if not hasattr(record, key):
                setattr(record, key, context.get(key))
        return True


class TextFormatter(logging.Formatter):
    """``LEVEL logger: message [stage=… source=… run=…]``, secrets redacted."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        parts = [f"{'run' if k == 'run_id' else k}={getattr(record, k)}" for k in CONTEXT_KEYS
                 if getattr(record, k, None) is not None]
        return redact(line + (f" [{' '.join(parts)}]" if parts else ""))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts (UTC), level, logger, message, source, run_id, stage (+ exc)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **{k: getattr(record, k, None) for k in ("source", "run_id", "stage")},
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(out, ensure_ascii=False, default=str))


def configure_logging(fmt: str = "text", level: str | int | None = None, *, stream: TextIO | None = None,
                      secrets: Iterable[str] = (), only_if_unconfigured: bool = False) -> logging.Handler | None:
    """One handler on the root logger writing ``fmt`` (``text`` or ``json``) to ``stream`` (stderr).

    ``level`` (else ``REGWATCH_LOG``) sets the root level; without either the root level is left
    as it is (WARNING unless someone changed it). ``secrets`` are registered for redaction.
    Only a handler this function installed before is replaced; others (pytest's) stay. With
    ``only_if_unconfigured`` nothing is installed when the root logger already has another handler
    (``logging.basicConfig``'s rule: the CLI's default, so an embedding application keeps its own).
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}; got {fmt!r}")
    register_secrets(secrets)
    root = logging.getLogger()
    if only_if_unconfigured and any(not getattr(h, "regwatch", False) for h in root.handlers):
        return None
    for old in [h for h in root.handlers if getattr(h, "regwatch", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.regwatch = True  # type: ignore[attr-defined]
    handler.addFilter(_ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    level = level or os.environ.get("REGWATCH_LOG")
    if level:
        root.setLevel(level.upper() if isinstance(level, str) else level)
    return handler


# -- crawl child logs ------------------------------------------------------------------------------


def crawl_log_dir(configured: str | None, db_url: str | None) -> Path:
    """Where crawl logs go: the configured directory, else ``logs/`` beside a SQLite database file,
    else the user log directory (``~/.local/state/regwatch/log`` on Linux).

    Example:
        >>> str(crawl_log_dir(None, "sqlite:////var/lib/regwatch/regwatch.db"))
        '/var/lib/regwatch/logs'
        >>> str(crawl_log_dir("/var/log/regwatch", "postgresql+psycopg://db/rw"))
        '/var/log/regwatch'
    """
    if configured:
        return Path(configured).expanduser()
    if db_url and db_url.startswith("sqlite:///") and db_url != "sqlite:///:memory:":
        return Path(db_url.removeprefix("sqlite:///")).parent / "logs"
    import platformdirs

    return Path(platformdirs.user_log_dir("regwatch"))


def new_crawl_log(directory: Path, source: str, at: datetime) -> Path:
    """A fresh log file path for one crawl of ``source`` started ``at`` (the writer creates its folder)."""
    folder = directory / source
    stem = at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stem}.log"
    n = 1
    while path.exists():
        path, n = folder / f"{stem}-{n}.log", n + 1
    return path


def rotate_crawl_logs(directory: Path, source: str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` crawl logs of ``source``; returns the deleted paths."""
    folder = directory / source
    if not folder.is_dir():
        return []
    logs = sorted(folder.glob("*.log"), key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    gone = logs[max(keep, 0):]
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


__all__ = ["LOG_FORMATS", "JsonFormatter", "TextFormatter", "config_secrets", "configure_logging", "crawl_log_dir",
           "env_secrets", "log_context", "new_crawl_log", "redact", "register_secrets", "rotate_crawl_logs",
           "url_password"]
