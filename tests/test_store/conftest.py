"""Store fixtures: every backend test runs on SQLite (tmp file) and on PostgreSQL.

PostgreSQL runs when REGWATCH_TEST_PG_URL is set; each test gets its own schema
(``rw_test_<hex>`` via ``search_path``) that is dropped afterwards. With
REGWATCH_TEST_PG_REQUIRED=1 an unreachable server fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from store import Store

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)


def at(minutes: int) -> datetime:
    """A fixed aware timestamp ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


def _pg_schema_url() -> Iterator[sa.URL]:
    base = os.environ.get("REGWATCH_TEST_PG_URL")
    required = os.environ.get("REGWATCH_TEST_PG_REQUIRED") == "1"
    if not base:
        if required:
            pytest.fail("REGWATCH_TEST_PG_REQUIRED=1 but REGWATCH_TEST_PG_URL is not set")
        pytest.skip("REGWATCH_TEST_PG_URL not set")
    schema = f"rw_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as err:
        admin.dispose()
        message = f"PostgreSQL at {sa.make_url(base).render_as_string(hide_password=True)} unreachable: {err.orig}"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[sa.URL | str]:
    """A URL (or path) of an empty database on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "regwatch.db")
    else:
        yield from _pg_schema_url()


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
