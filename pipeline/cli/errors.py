"""Map library exceptions to one-line user messages with a hint (None = internal error)."""

from __future__ import annotations

import sys

from pipeline.errors import UserError

# Exception classes of modules a command may never have imported (the config models, the
# extractor, the crawlers, the store): an exception of one can only exist once its module is
# loaded, so they are looked up in sys.modules rather than imported here (CLI start-up time).
_TRANSLATED = (("pipeline.config", "ConfigError"), ("crawlers.errors", "PageError"),
               ("pipeline.extract", "UnknownSource"), ("store.errors", "StoreError"),
               ("crawlers.runner", "CrawlProcessError"))


def _loaded(module: str, name: str) -> type | None:
    loaded = sys.modules.get(module)
    return getattr(loaded, name, None) if loaded is not None else None


def user_message(exc: BaseException) -> str | None:
    known = tuple(cls for cls in (_loaded(m, n) for m, n in _TRANSLATED) if cls is not None)
    if isinstance(exc, (UserError, *known)):  # a crashed/timed-out crawl too: the run is recorded as failed
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename} (hint: check the path)"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename} (hint: check file permissions)"
    return None


__all__ = ["user_message"]
