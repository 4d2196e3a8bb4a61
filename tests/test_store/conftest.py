"""Store fixtures: every backend test runs on SQLite (tmp file) and on PostgreSQL (``db_url``,
defined in tests/conftest.py).

PostgreSQL runs when REGWATCH_TEST_PG_URL is set; each test gets its own schema
(``rw_test_<hex>`` via ``search_path``) that is dropped afterwards. With
REGWATCH_TEST_PG_REQUIRED=1 an unreachable server fails the tests instead of skipping them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from store import Store

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)


def at(minutes: int) -> datetime:
    """A fixed aware timestamp ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def store(db_url) -> Iterator[Store]:
    """A migrated Store on each backend, with the sources the tests use."""
    s = Store.open(db_url, at=T0)
    for slug, name in (("mofcom", "商务部"), ("govcn", "中国政府网"), ("miit", "工业和信息化部")):
        s.ensure_source(slug, name, f"https://{slug}.example", at=T0)
    yield s
    s.close()


@pytest.fixture
def record(store: Store):
    """``record(key, url, text, minutes=0, **overrides)`` -> VersionResult, with sensible defaults."""

    def _record(key: str | None, url: str, text: str, minutes: int = 0, **overrides):
        args = dict(
            source="mofcom", key=key, url=url, title=f"公告 {text[:10]}", text=text, canonical_text=text,
            content_hash=f"hash:{text}", fields={"text": text}, published=None, capture_id=None, seen_at=at(minutes),
        )  # fmt: skip
        args.update(overrides)
        return store.record_version(**args)

    return _record
