"""Migrations (upgrade in place, newer schema refused) and clear errors for bad databases."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from store import (
    MIGRATIONS,
    CorruptDatabase,
    DatabaseLocked,
    Migration,
    SchemaTooNew,
    SchemaTooOld,
    Store,
    StoreError,
)

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)
URL = "https://www.mofcom.gov.cn/art/2025/art_61.html"


def _add_note_column(conn: sa.Connection) -> None:
    conn.execute(sa.text("ALTER TABLE document ADD COLUMN note TEXT"))


def _add_watch_table(conn: sa.Connection) -> None:
    conn.execute(sa.text("CREATE TABLE watch (id INTEGER PRIMARY KEY, doc_key VARCHAR NOT NULL)"))


V3_NOT_ADDITIVE = MIGRATIONS.plus(Migration("9001_document_note", _add_note_column, additive=False))
V3_ADDITIVE = MIGRATIONS.plus(Migration("9001_watch_table", _add_watch_table))


def _fill(db_url) -> int:
    with Store.open(db_url, at=T0) as s:
        s.ensure_source("mofcom", "商务部", at=T0)
        r = s.record_version(
            source="mofcom", key="mofcom:2025:61", url=URL, title="决定", text="正文", canonical_text="正文",
            content_hash="h1", fields={"n": 61}, published=None, capture_id=None, seen_at=T0,
        )  # fmt: skip
        s.enqueue_alert(dedup_key="change:1", kind="new", severity="high", source="mofcom", doc_key="mofcom:2025:61",
                        payload={"t": "决定"}, created_at=T0)  # fmt: skip
        assert s.schema_version == HEAD
        return r.document_id


HEAD = MIGRATIONS.version


def _head() -> list[tuple[str, int]]:
    return [(name, i) for i, name in enumerate(MIGRATIONS.names, start=1)]


def _applied(store: Store) -> list[tuple[str, int]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text("SELECT name, version FROM _migrations ORDER BY version"))]


def _assert_data_intact(store: Store, doc_id: int) -> None:
    doc = store.document("mofcom:2025:61")
    assert (doc.id, doc.title, doc.first_seen) == (doc_id, "决定", T0)
    assert [(v.text, v.fields) for v in store.versions(doc_id)] == [("正文", {"n": 61})]
    assert [a.payload for a in store.alerts()] == [{"t": "决定"}]


def test_fresh_database_records_every_migration(db_url) -> None:
    with Store.open(db_url, at=T0, migrations=V3_ADDITIVE) as s:
        assert _applied(s) == [*_head(), ("9001_watch_table", HEAD + 1)]
        assert s.schema_version == HEAD + 1 and s.upgrade() == []
        # the baseline builds the head schema from the models; later steps are only recorded
        assert "watch" not in sa.inspect(s.engine).get_table_names()


def test_upgrade_in_place_keeps_data(db_url) -> None:
    doc_id = _fill(db_url)
    with pytest.raises(SchemaTooOld, match="needs migrations 9001_document_note; back it up, then run `regwatch db up"):
        Store.open(db_url, migrations=V3_NOT_ADDITIVE)
    with Store.open(db_url, migrations=V3_NOT_ADDITIVE, upgrade=True, at=T0 + timedelta(days=1)) as s:
        assert _applied(s) == [*_head(), ("9001_document_note", HEAD + 1)]
        assert "note" in {c["name"] for c in sa.inspect(s.engine).get_columns("document")}
        _assert_data_intact(s, doc_id)
        s.record_version(
            source="mofcom", key="mofcom:2025:61", url=URL, title="决定", text="正文2", canonical_text="正文2",
            content_hash="h2", fields={}, published=None, capture_id=None, seen_at=T0 + timedelta(days=1),
        )  # fmt: skip
        assert [v.number for v in s.versions(doc_id)] == [1, 2]


def test_additive_migrations_apply_on_open(db_url) -> None:
    doc_id = _fill(db_url)
    with pytest.raises(SchemaTooOld):
        Store.open(db_url, migrations=V3_ADDITIVE, upgrade=False)
    with Store.open(db_url, migrations=V3_ADDITIVE, at=T0) as s:
        assert s.schema_version == HEAD + 1
        assert "watch" in sa.inspect(s.engine).get_table_names()
        _assert_data_intact(s, doc_id)


def test_newer_schema_is_refused(db_url) -> None:
    _fill(db_url)
    Store.open(db_url, migrations=V3_ADDITIVE, at=T0).close()
    with pytest.raises(SchemaTooNew) as err:
        Store.open(db_url)
    where = err.value.where
    assert str(err.value).startswith(f"database {where} was written by a newer regwatch (schema {HEAD + 1} > {HEAD}); upgrade regwatch")


def test_unknown_migration_name_is_refused(tmp_path) -> None:
    path = tmp_path / "renamed.db"
    Store.open(path, migrations=V3_ADDITIVE, at=T0).close()
    renamed = MIGRATIONS.plus(Migration("9001_something_else", _add_watch_table))
    with pytest.raises(SchemaTooNew, match="newer regwatch \\(unknown migrations 9001_watch_table\\)"):
        Store.open(path, migrations=renamed)


def test_corrupt_file_names_path_and_hint(tmp_path) -> None:
    path = tmp_path / "regwatch.db"
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(CorruptDatabase) as err:
        Store.open(path)
    assert str(err.value) == (
        f"database {path} is not a regwatch database or is corrupt (file is not a database); "
        "restore it from a backup, or pass --db to use another database"
    )


def test_foreign_sqlite_database_is_refused(tmp_path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.close()
    with pytest.raises(CorruptDatabase, match="it has tables customers but no _migrations table"):
        Store.open(path)


def test_locked_database_beyond_timeout(tmp_path) -> None:
    path = tmp_path / "regwatch.db"
    Store.open(path, at=T0).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with Store.open(path, timeout=0.2) as s:
            assert s.sources() == []  # WAL readers do not wait for the writer
            with pytest.raises(DatabaseLocked) as err:
                s.ensure_source("mofcom", "商务部", at=T0)
        assert str(err.value).startswith(f"database {path} stayed locked by another writer for more than 0.2 s; wait")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_missing_directory(tmp_path) -> None:
    with pytest.raises(StoreError, match="directory .*nowhere does not exist; create the directory first"):
        Store.open(tmp_path / "nowhere" / "regwatch.db")


def test_unreachable_postgres() -> None:
    with pytest.raises(StoreError, match="^cannot connect to database postgresql\\+psycopg://u:\\*\\*\\*@127.0.0.1:1/x"):
        Store.open("postgresql+psycopg://u:secret@127.0.0.1:1/x?connect_timeout=2")
