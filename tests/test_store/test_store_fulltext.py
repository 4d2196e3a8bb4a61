"""Full-text search (migration 0002): upgrade from schema 1, fresh databases, literal queries, ranking."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from store import MIGRATIONS, Migration, Migrations, Store
from store.fulltext import FTS_TABLE, create_fulltext
from store.migrations import create_tables

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)
SCHEMA_1 = Migrations([Migration("0001_initial_schema", create_tables)])  # what regwatch wrote before 0002
# every migration that Store.open applies by itself (0004 needs the pipeline's rules: test_store_rekey.py)
ADDITIVE = Migrations([m for m in MIGRATIONS.migrations if m.additive])
LONG = "前言" * 40 + "对稀土物项实施出口管制，物项编号2B902。" + "附则" * 40


def _version(store: Store, key: str, text: str, minutes: int, title: str = "公告"):
    return store.record_version(
        source="mofcom", key=key, url=f"https://mofcom.example/{key}", title=title, text=text, canonical_text=text,
        content_hash=f"h:{text}", fields={}, published=None, capture_id=None, seen_at=T0 + timedelta(minutes=minutes),
    )  # fmt: skip


def _keys(store: Store, text: str) -> list[str | None]:
    return sorted(h.document_key for h in store.search(text))


def _schema(store: Store) -> list[tuple[str, str, str]]:
    with store.engine.connect() as conn:
        return sorted(conn.exec_driver_sql("SELECT type, name, sql FROM sqlite_master").all())


def _fts_rows(store: Store) -> list[tuple[int, str]]:
    with store.engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT rowid, text FROM {FTS_TABLE} ORDER BY rowid").all()


def _pg_trigram_indexes(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        query = sa.text(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'version' "
            "AND indexname LIKE :pattern ORDER BY 1"
        )
        return list(conn.execute(query, {"pattern": "%trgm"}).scalars())


def _schema_1_database(db_url) -> dict[str, int]:
    with Store.open(db_url, migrations=SCHEMA_1, at=T0) as old:
        assert old.schema_version == 1
        old.ensure_source("mofcom", "商务部", at=T0)
        a1 = _version(old, "mofcom:2025:1", "旧的文本 alpha", 0)
        _version(old, "mofcom:2025:1", "关于对稀土物项实施出口管制的决定 2B902", 10)
        b = _version(old, "mofcom:2025:2", "暂停实施出口许可", 20)
        if old.engine.dialect.name == "sqlite":
            assert FTS_TABLE not in sa.inspect(old.engine).get_table_names()
        return {"a": a1.document_id, "b": b.document_id}


def test_upgrade_from_schema_1_backfills_and_keeps_syncing(db_url) -> None:
    ids = _schema_1_database(db_url)
    with Store.open(db_url, at=T0, migrations=ADDITIVE) as s:  # additive: applied on open
        assert [n for n in s.schema_state().applied] == ADDITIVE.names
        assert s.schema_version == ADDITIVE.version and s.upgrade() == []
        hits = s.search("出口管制")
        assert [(h.document_id, h.document_key, h.number) for h in hits] == [(ids["a"], "mofcom:2025:1", 2)]
        assert _keys(s, "旧的文本") == []  # only latest versions are searched
        assert _keys(s, "出口") == ["mofcom:2025:1", "mofcom:2025:2"]
        assert [v.text for v in s.versions(ids["a"])] == ["旧的文本 alpha", "关于对稀土物项实施出口管制的决定 2B902"]
        _version(s, "mofcom:2025:2", "恢复实施 3C901", 30)  # written after the upgrade: the triggers index it
        _version(s, "mofcom:2025:3", "新的公告 3C901", 40)
        assert _keys(s, "3c901") == ["mofcom:2025:2", "mofcom:2025:3"]
        assert _keys(s, "暂停实施") == []
        if s.engine.dialect.name == "postgresql":
            assert _pg_trigram_indexes(s) == ["ix_version_canonical_text_trgm", "ix_version_title_trgm"]
        else:
            before = _fts_rows(s)
            assert [doc for doc, _ in before] == [ids["a"], ids["b"], ids["b"] + 1]
            with s.engine.begin() as conn:  # idempotent: running it again rebuilds the same rows
                create_fulltext(conn)
            assert _fts_rows(s) == before


def test_upgraded_sqlite_schema_equals_fresh(tmp_path) -> None:
    from pipeline.migrations import MIGRATIONS as BOUND  # every migration, 0004 included

    _schema_1_database(tmp_path / "old.db")
    with Store.open(tmp_path / "old.db", migrations=BOUND, upgrade=True) as upgraded, \
            Store.open(tmp_path / "fresh.db") as fresh:
        assert _schema(upgraded) == _schema(fresh)
        assert any(name == FTS_TABLE for _, name, _ in _schema(fresh))


@pytest.fixture
def docs(store: Store) -> dict[str, int]:
    made = {
        "code": _version(store, "mofcom:2025:10", LONG, 0, title="出口管制的决定"),
        "short": _version(store, "mofcom:2025:11", "出口许可证 2B", 10, title="许可"),
        "syntax": _version(store, "mofcom:2025:12", 'he said "AND" then x*y - NEAR(a b) OR c 100_0', 20),
        "title": _version(store, "mofcom:2025:13", "正文没有那个词", 30, title="稀土管理办法"),
    }
    return {name: r.document_id for name, r in made.items()}


SEARCHES = {
    "match_cjk": ("出口管制", ["mofcom:2025:10"]),
    "two_cjk_chars_use_like": ("出口", ["mofcom:2025:10", "mofcom:2025:11"]),
    "code_case_insensitive": ("2b902", ["mofcom:2025:10"]),
    "short_code": ("2b", ["mofcom:2025:10", "mofcom:2025:11"]),
    "title_only": ("稀土管理", ["mofcom:2025:13"]),
    "quote": ('"AND"', ["mofcom:2025:12"]),
    "single_quote_char": ('"', ["mofcom:2025:12"]),
    "star": ("x*y", ["mofcom:2025:12"]),
    "short_star": ("x*", ["mofcom:2025:12"]),
    "near": ("NEAR(", ["mofcom:2025:12"]),
    "minus": ("- NEAR", ["mofcom:2025:12"]),
    "or_literal": ("OR c", ["mofcom:2025:12"]),
    "boolean_not_applied": ("稀土 OR said", []),
    "column_filter_not_applied": ("text:said", []),
    "like_wildcards_literal": ("0%0", []),
    "underscore_literal": ("100_0", ["mofcom:2025:12"]),
    "underscore_not_wildcard": ("1000", []),
    "nothing": ("不存在的词", []),
}


@pytest.mark.parametrize(("text", "expected"), SEARCHES.values(), ids=SEARCHES.keys())
def test_search_is_literal_and_case_insensitive(store: Store, docs, text, expected) -> None:
    assert _keys(store, text) == expected


def test_snippet_is_cut_by_characters_around_the_hit(store: Store, docs) -> None:
    [hit] = store.search("2b902")
    assert (hit.document_key, hit.title, hit.url, hit.number) == (
        "mofcom:2025:10", "出口管制的决定", "https://mofcom.example/mofcom:2025:10", 1,
    )  # fmt: skip
    assert hit.snippet == "…" + "前言" * 12 + "对稀土物项实施出口管制，物项编号2B902。" + "附则" * 19 + "附"  # 40 either side
    [title_only] = store.search("稀土管理")
    assert title_only.snippet == "正文没有那个词"


def test_limit_and_ranking(store: Store, docs) -> None:
    # both mention 出口许; the title hit of 2025:11 ranks first on SQLite (bm25), LIKE orders newest first
    assert [h.document_key for h in store.search("出口许", limit=1)] == ["mofcom:2025:11"]
    _version(store, "mofcom:2025:14", "稀土" * 30 + "出口管制", 5, title="稀土")  # newer, shorter, no title hit
    keys = [h.document_key for h in store.search("出口管制")]
    if store.engine.dialect.name == "sqlite":
        assert keys == ["mofcom:2025:10", "mofcom:2025:14"]  # bm25: the title hit wins
    else:
        assert keys == ["mofcom:2025:14", "mofcom:2025:10"]  # ILIKE: newest first


def test_full_width_query_finds_what_the_ascii_query_finds(store: Store) -> None:
    """The query is folded like the indexed canonical text (NFKC): on SQLite (FTS5 and LIKE) and PostgreSQL."""
    ascii_doc = _version(store, "mofcom:2025:20", "物项编号1C902的出口管制", 0)
    wide = store.record_version(  # a page printing full-width characters: its canonical text is NFKC
        source="mofcom", key="mofcom:2025:21", url="https://mofcom.example/21", title="公告",
        text="物项编号１Ｃ９０２．ａ，出口许可", canonical_text="公告\n物项编号1C902.a,出口许可", content_hash="h:21",
        fields={}, published=None, capture_id=None, seen_at=T0 + timedelta(minutes=5),
    )  # fmt: skip
    for query in ("1C902", "１Ｃ９０２", "１ｃ９０２", " 1C902\u200b "):
        assert _keys(store, query) == ["mofcom:2025:20", "mofcom:2025:21"], query
    for query in ("1C902.a", "１Ｃ９０２．ａ"):
        assert _keys(store, query) == ["mofcom:2025:21"], query
    assert _keys(store, "１Ｃ") == ["mofcom:2025:20", "mofcom:2025:21"]  # short: LIKE on both backends
    hits = {h.document_id: h.snippet for h in store.search("１Ｃ９０２")}
    assert hits[ascii_doc.document_id] == "物项编号1C902的出口管制"  # the text as published when it holds the query
    assert hits[wide.document_id] == "公告\n物项编号1C902.a,出口许可"  # else the canonical text it matched in


def test_fresh_postgres_database_has_trigram_indexes(store: Store) -> None:
    if store.engine.dialect.name == "postgresql":
        assert _pg_trigram_indexes(store) == ["ix_version_canonical_text_trgm", "ix_version_title_trgm"]
    else:
        assert FTS_TABLE in sa.inspect(store.engine).get_table_names()


def test_without_trigram_support_search_falls_back_to_like(db_url, monkeypatch, caplog) -> None:
    monkeypatch.setattr("store.fulltext.trigram_supported", lambda conn: False)
    monkeypatch.setattr("store.queries.trigram_supported", lambda conn: False)
    monkeypatch.setattr("store.fulltext._PG_EXTENSION", "CREATE EXTENSION IF NOT EXISTS rw_no_such_extension")
    with caplog.at_level(logging.WARNING, logger="store.fulltext"), Store.open(db_url, at=T0) as s:
        if s.engine.dialect.name == "postgresql":
            assert "cannot install the PostgreSQL extension pg_trgm (" in caplog.text
            assert "rw_no_such_extension" in caplog.text and _pg_trigram_indexes(s) == []
        else:
            assert "has no FTS5 trigram tokenizer" in caplog.text
            assert FTS_TABLE not in sa.inspect(s.engine).get_table_names()
        s.ensure_source("mofcom", "商务部", at=T0)
        _version(s, "mofcom:2025:1", LONG, 0)
        assert [h.document_key for h in s.search("2b902")] == ["mofcom:2025:1"]
        assert s.schema_version == MIGRATIONS.version


def test_migration_registry_has_fulltext_step() -> None:
    assert MIGRATIONS.names[:2] == ["0001_initial_schema", "0002_add_fulltext_search"]
    assert MIGRATIONS.migrations[1].additive
    assert [(m.name, m.additive) for m in MIGRATIONS.migrations[-5:]] == [("0004_rekey_agency_codes", False),
                                                                        ("0006_withdrawal_checks", True),
                                                                        ("0007_short_term_index", True),
                                                                        ("0008_capture_checks", True),
                                                                        ("0009_texts_stored_once", True)]
