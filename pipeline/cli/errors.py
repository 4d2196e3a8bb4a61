"""Map library exceptions to one-line user messages with a hint (None = internal error)."""

from __future__ import annotations

from crawlers.errors import PageError
from pipeline.config import ConfigError
from pipeline.errors import UserError
from pipeline.extract import UnknownSource


def user_message(exc: BaseException) -> str | None:
    from crawlers.runner import CrawlProcessError
    from store.errors import StoreError

    if isinstance(exc, (UserError, ConfigError, PageError, UnknownSource, StoreError)):
        return str(exc)
    if isinstance(exc, CrawlProcessError):  # a crashed/timed-out crawl: the run is recorded as failed
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename} (hint: check the path)"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename} (hint: check file permissions)"
    return None


__all__ = ["user_message"]
