"""Short searches (1-2 characters, migration 0007) through the gram index: exactly the scan's answer."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from store import MIGRATIONS, Migrations, Store
from store.fulltext import GRAMS_TABLE, PG_GRAMS_INDEX, create_fulltext, fold_query, gram_servable, search_grams

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)
BEFORE_0007 = Migrations([m for m in MIGRATIONS.migrations if m.name != "0007_short_term_index"])
ALPHABET = "稀土出口管制镓锗石墨物项许可公告第号。，、；（）《》%_\\\"'*-: aAbBcC12éÉİß\u3000１Ｃ"
HOSTILE = ["稀土", "稀", "土", "%", "_", "\\", '"', "'", "*", "%_", "\\%", '""', "a", "A", "aB", "1c", "１Ｃ", "C1",
           "。", "，稀", "土。", "é", "É", "İ", "ß", "x", "镓锗", " 稀 ", "\u200b稀\u200b", "（", "》第", "-:", "NE"]


def _version(store: Store, key: str, text: str, minutes: int, title: str = "公告"):
    return store.record_version(
        source="mofcom", key=key, url=f"https://mofcom.example/{key}", title=title, text=text, canonical_text=text,
        content_hash=f"h:{text}:{title}", fields={}, published=None, capture_id=None,
        seen_at=T0 + timedelta(minutes=minutes),
    )  # fmt: skip


def _brute(store: Store, query: str, limit: int = 1000) -> list[str]:
    """The answer by definition: latest versions whose title or canonical text contains the folded
    query, case-folded as the backend's LIKE does (SQLite lower(): ASCII only), newest first."""
    needle = fold_query(query)
    pg = store.engine.dialect.name == "postgresql"

    def low(s: str) -> str:
        return s.lower() if pg else re.sub("[A-Z]+", lambda m: m.group().lower(), s)

    with store.engine.connect() as conn:
        latest = conn.exec_driver_sql(
            "SELECT d.last_seen, d.id, d.key, v.title, v.canonical_text FROM document d "
            "JOIN version v ON v.document_id = d.id AND v.number = d.latest_version").all()
    rows = [(seen, doc_id, key) for seen, doc_id, key, title, text in latest
            if any(low(needle) in low(part or "") for part in (title, text))]
    return [key for _, _, key in sorted(rows, reverse=True)][:limit]


@pytest.fixture
def store(db_url):
    """A fresh store on each backend with the mofcom source."""
    with Store.open(db_url, at=T0) as s:
        s.ensure_source("mofcom", "商务部", at=T0)
        yield s


def _random_corpus(store: Store, n: int, seed: int) -> None:
    rng = random.Random(seed)
    for i in range(n):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30)))
        title = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 4)))
        _version(store, f"mofcom:2025:{rng.randint(1, n // 2)}", text, i, title=title)  # often a new version


def _uses_gram_index(store: Store) -> bool:
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "postgresql":
            query = sa.text("SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = :n")
            return conn.execute(query, {"n": PG_GRAMS_INDEX}).first() is not None
        return GRAMS_TABLE in sa.inspect(conn).get_table_names()


def test_short_searches_equal_the_brute_force_answer(store: Store) -> None:
    _random_corpus(store, 120, seed=7)
    assert _uses_gram_index(store)
    rng = random.Random(11)
    queries = HOSTILE + ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 2))) for _ in range(60)]
    checked = 0
    for query in queries:
        if not fold_query(query):
            continue
        assert [h.document_key for h in store.search(query, limit=1000)] == _brute(store, query), repr(query)
        checked += 1
    assert checked > 80
    assert [h.document_key for h in store.search("稀", limit=3)] == _brute(store, "稀", limit=3)  # limit keeps order


def test_index_follows_new_versions_and_deleted_documents(store: Store) -> None:
    a = _version(store, "mofcom:2025:1", "关于稀土的公告", 0)
    _version(store, "mofcom:2025:2", "关于镓的公告", 1)
    assert [h.document_key for h in store.search("稀土")] == ["mofcom:2025:1"]
    _version(store, "mofcom:2025:1", "关于石墨的公告", 2)  # the new latest version no longer says 稀土
    assert store.search("稀土") == [] and [h.document_key for h in store.search("石墨")] == ["mofcom:2025:1"]
    _version(store, "mofcom:2025:2", "镓", 3, title="稀土")  # found by its title
    assert [h.document_key for h in store.search("稀土")] == ["mofcom:2025:2"]
    with store.engine.begin() as conn:  # a deleted document leaves the index with its rows
        for table in ("document_url", "appearance", "change", "version"):
            conn.exec_driver_sql(f"DELETE FROM {table} WHERE document_id = {a.document_id}")
        conn.exec_driver_sql(f"DELETE FROM document WHERE id = {a.document_id}")
    assert store.search("石墨") == []
    with store.engine.begin() as conn:  # rebuilding from scratch gives the same answers
        create_fulltext(conn)
    assert [h.document_key for h in store.search("稀土")] == ["mofcom:2025:2"]
    assert [h.document_key for h in store.search("镓")] == ["mofcom:2025:2"]
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:  # the contentless index is consistent after the deletes
            conn.exec_driver_sql(f"INSERT INTO {GRAMS_TABLE} ({GRAMS_TABLE}, rank) VALUES ('integrity-check', 1)")


_OLD_REBUILD = """DELETE FROM document_fts WHERE rowid = {doc};
    INSERT INTO document_fts (rowid, title, text) SELECT v.document_id, v.title, v.canonical_text FROM version v
    JOIN document d ON d.id = v.document_id WHERE d.id = {doc} AND v.number = d.latest_version;"""
_SCHEMA_6 = {  # what regwatch created before 0007: the trigram index only (store.fulltext at 0006)
    "sqlite": ["DROP TABLE document_grams", "DROP INDEX ix_version_published",
               "DROP TRIGGER document_fts_version_ai", "DROP TRIGGER document_fts_document_au",
               "DROP TRIGGER document_fts_document_ad",
               f"CREATE TRIGGER document_fts_version_ai AFTER INSERT ON version BEGIN "
               f"{_OLD_REBUILD.format(doc='new.document_id')} END",
               f"CREATE TRIGGER document_fts_document_au AFTER UPDATE OF latest_version ON document BEGIN "
               f"{_OLD_REBUILD.format(doc='new.id')} END",
               "CREATE TRIGGER document_fts_document_ad AFTER DELETE ON document BEGIN "
               "DELETE FROM document_fts WHERE rowid = old.id; END"],
    "postgresql": ["DROP TABLE version_grams", "DROP TRIGGER version_grams_ai ON version",
                   "DROP FUNCTION regwatch_version_grams", "DROP FUNCTION regwatch_search_grams",
                   "DROP INDEX ix_version_published"],
}


def test_upgrade_to_0007_builds_the_index(db_url) -> None:
    with Store.open(db_url, migrations=BEFORE_0007, at=T0) as old:
        with old.engine.begin() as conn:
            for statement in _SCHEMA_6[conn.dialect.name]:
                conn.exec_driver_sql(statement)
        old.ensure_source("mofcom", "商务部", at=T0)
        _version(old, "mofcom:2025:1", "关于稀土的公告", 0)
        _version(old, "mofcom:2025:2", "管制", 1)
        assert not _uses_gram_index(old)
        assert [h.document_key for h in old.search("稀土")] == ["mofcom:2025:1"]  # the scan
    with Store.open(db_url, at=T0) as s:  # additive: applied on open
        assert "0007_short_term_index" in s.schema_state().applied and _uses_gram_index(s)
        assert "ix_version_published" in {i["name"] for i in sa.inspect(s.engine).get_indexes("version")}
        assert [h.document_key for h in s.search("稀土")] == ["mofcom:2025:1"]
        assert [h.document_key for h in s.search("管")] == ["mofcom:2025:2"]
        _version(s, "mofcom:2025:3", "稀土管制", 2)
        assert [h.document_key for h in s.search("管制")] == ["mofcom:2025:3", "mofcom:2025:2"]


def test_search_grams_is_deterministic_and_skips_whitespace() -> None:
    assert search_grams("A b", None) == search_grams("a b", "") == "61 62"
    assert search_grams(None, None) == ""
    assert search_grams("稀土", "稀土") == " ".join(sorted(["e7a880", "e59c9f", "e7a880e59c9f"]))


@pytest.mark.parametrize(("needle", "served"), [("稀土", True), ("1c", True), ("%", True), ("é", False),
                                                ("出口管", False), ("", False)])
def test_gram_servable(needle: str, served: bool) -> None:
    assert gram_servable(needle) is served
