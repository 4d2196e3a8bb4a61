"""Engine construction: where databases go, and the SQLite connection settings."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

import store.db
from store import Store, make_engine
from store.db import describe, to_url

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)


def test_sqlite_file_pragmas(tmp_path) -> None:
    engine = make_engine(tmp_path / "x.db", timeout=12.5)
    with engine.connect() as conn:
        got = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in
               ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}  # fmt: skip
    engine.dispose()
    assert got == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 12500}


def test_default_database_in_user_data_dir(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(store.db.platformdirs, "user_data_dir", lambda *a, **k: str(tmp_path / "data"))
    with Store.open(at=T0) as s:
        assert s.where == str(tmp_path / "data" / "regwatch.db")
    assert (tmp_path / "data" / "regwatch.db").is_file()


ADDRESSES = {
    "memory": (":memory:", "sqlite://", ":memory:"),
    "path": ("/var/lib/regwatch/r.db", "sqlite:////var/lib/regwatch/r.db", "/var/lib/regwatch/r.db"),
    "sqlite_url": ("sqlite:////srv/r.db", "sqlite:////srv/r.db", "/srv/r.db"),
    "postgres": (
        "postgresql+psycopg://rw:s3cret@db:5432/regwatch",
        "postgresql+psycopg://rw:***@db:5432/regwatch",
        "postgresql+psycopg://rw:***@db:5432/regwatch",
    ),
}


@pytest.mark.parametrize(("given", "url", "where"), ADDRESSES.values(), ids=ADDRESSES.keys())
def test_addresses(given: str, url: str, where: str) -> None:
    parsed = to_url(given)
    assert (parsed.render_as_string(hide_password=True), describe(parsed)) == (url, where)


def test_foreign_keys_enforced(tmp_path) -> None:
    with Store.open(tmp_path / "fk.db", at=T0) as s, pytest.raises(sa.exc.IntegrityError), s.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO crawl_run (source, started_at, status, stats, errors, captures) "
                             "VALUES ('nosuch', '2025-10-09 10:00:00', 'running', '{}', '[]', 0)")  # fmt: skip
