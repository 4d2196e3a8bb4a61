"""Full-text search over the latest version of each document (schema migration 0002).

What is indexed is each latest version's title and its *canonical text* (``Version.canonical_text``:
NFKC, so full-width ``１Ｃ９０２`` is ``1C902``; whitespace folded as ``pipeline.core.normalize`` does),
and the query is folded the same way (``fold_query``: NFKC, zero-width characters dropped,
whitespace runs collapsed), so ``１Ｃ９０２`` and ``1C902`` find the same documents on both backends.
Spaces inserted between CJK characters are dropped from the canonical text by the pipeline; the CLI
passes its query through the same ``pipeline.core.normalize.canonical_text`` before calling the store.

SQLite (ECOSYSTEM.md §4): an FTS5 table ``document_fts`` with the ``trigram`` tokenizer holds the
title and canonical text of each document's latest version, ``rowid`` = ``document.id``. Triggers
keep it in sync, so every writer (the Store, a script, a future bulk import) updates it in the same
transaction: after a version is inserted and after ``document.latest_version`` changes, the
document's row is rebuilt from the current latest version; deleting a document deletes its row.
Trigram needs SQLite >= 3.34 with FTS5; without it the table is not created (a warning is logged)
and search falls back to ``LIKE``. Queries shorter than 3 characters always use ``LIKE`` on the
version table, because a trigram index cannot match fewer than 3 characters.

PostgreSQL has no FTS table: search uses ``ILIKE`` on the latest versions. Migration 0002 there
tries ``CREATE EXTENSION IF NOT EXISTS pg_trgm`` (trusted since PostgreSQL 13: needs CREATE on the
database) and adds GIN trigram indexes on ``version.title`` and ``version.canonical_text``, which
serve the same ``ILIKE`` queries; without the permission it logs a warning and ``ILIKE`` scans the
table. ``create_fulltext`` is idempotent and brings an older index up to this definition (it
recreates the SQLite triggers and drops the PostgreSQL index on the raw ``version.text`` that
earlier versions searched); migration 0004 runs it after re-computing canonical texts.
"""

from __future__ import annotations

import logging
import re
import unicodedata

import sqlalchemy as sa

log = logging.getLogger(__name__)

FTS_TABLE = "document_fts"
MIN_MATCH_CHARS = 3  # a trigram index cannot match shorter queries
_MIN_SQLITE = (3, 34, 0)
_TITLE_WEIGHT = 5.0  # bm25 weight of a hit in the title relative to the text

_REBUILD_ONE = f"""
    DELETE FROM {FTS_TABLE} WHERE rowid = {{doc}};
    INSERT INTO {FTS_TABLE} (rowid, title, text)
        SELECT v.document_id, v.title, v.canonical_text FROM version v JOIN document d ON d.id = v.document_id
        WHERE d.id = {{doc}} AND v.number = d.latest_version;
"""

_TRIGGERS = (f"{FTS_TABLE}_version_ai", f"{FTS_TABLE}_document_au", f"{FTS_TABLE}_document_ad")
_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, text, tokenize='trigram')",
    *(f"DROP TRIGGER IF EXISTS {name}" for name in _TRIGGERS),  # an older definition is replaced
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_version_ai AFTER INSERT ON version BEGIN
        {_REBUILD_ONE.format(doc="new.document_id")}
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_document_au AFTER UPDATE OF latest_version ON document BEGIN
        {_REBUILD_ONE.format(doc="new.id")}
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_document_ad AFTER DELETE ON document BEGIN
        DELETE FROM {FTS_TABLE} WHERE rowid = old.id;
    END""",
)


_PG_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
PG_INDEXES = {"ix_version_title_trgm": "title", "ix_version_canonical_text_trgm": "canonical_text"}
_PG_STALE_INDEXES = ("ix_version_text_trgm",)  # on the raw text, searched before migration 0004
_ZERO_WIDTH = re.compile(r"[\u200b-\u200d\u2060\ufeff]")


def trigram_supported(conn: sa.Connection) -> bool:
    """True when this SQLite library has FTS5 and the trigram tokenizer (>= 3.34).

    Example:
        >>> from store.db import make_engine
        >>> with make_engine(":memory:").connect() as conn:
        ...     trigram_supported(conn)
        True
    """
    if conn.dialect.name != "sqlite":
        return False
    version = conn.exec_driver_sql("SELECT sqlite_version()").scalar() or "0"
    parts = tuple(int(p) for p in re.findall(r"\d+", version)[:3])
    options = {row[0] for row in conn.exec_driver_sql("PRAGMA compile_options")}
    return parts >= _MIN_SQLITE and "ENABLE_FTS5" in options


def has_fts_table(conn: sa.Connection) -> bool:
    """True when the database holds the ``document_fts`` table (SQLite with trigram only)."""
    if conn.dialect.name != "sqlite":
        return False
    query = sa.text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name")
    return conn.execute(query, {"name": FTS_TABLE}).first() is not None


def create_fulltext(conn: sa.Connection) -> None:
    """Create the FTS table and its triggers (SQLite), then fill it from the latest versions.

    Idempotent: existing objects are kept and the index is rebuilt. On PostgreSQL: pg_trgm GIN
    indexes when the extension can be installed (see module doc); on a SQLite without trigram
    support it logs a warning and search uses ``LIKE``.

    Example:
        >>> from store import Store
        >>> with Store.in_memory() as store, store.engine.begin() as conn:
        ...     create_fulltext(conn)  # already there on a fresh database: rebuilt, nothing lost
        ...     has_fts_table(conn)
        True
    """
    if conn.dialect.name == "postgresql":
        for name in _PG_STALE_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        _create_pg_trigram_indexes(conn)
        return
    if conn.dialect.name != "sqlite":
        return
    if not trigram_supported(conn):
        version = conn.exec_driver_sql("SELECT sqlite_version()").scalar()
        log.warning(
            "SQLite %s has no FTS5 trigram tokenizer (needs >= 3.34 with FTS5): `regwatch search` uses LIKE "
            "(slower); upgrade SQLite/Python, then recreate the database to get full-text search",
            version,
        )
        return
    for statement in _DDL:
        conn.exec_driver_sql(statement)
    conn.exec_driver_sql(f"DELETE FROM {FTS_TABLE}")
    conn.exec_driver_sql(
        f"""INSERT INTO {FTS_TABLE} (rowid, title, text)
            SELECT v.document_id, v.title, v.canonical_text FROM version v JOIN document d ON d.id = v.document_id
            WHERE v.number = d.latest_version"""
    )


def _create_pg_trigram_indexes(conn: sa.Connection) -> None:
    """GIN trigram indexes for ``ILIKE`` search; skipped (with a warning) when pg_trgm cannot be installed."""
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(_PG_EXTENSION)
    except sa.exc.DBAPIError as err:
        log.warning(
            "cannot install the PostgreSQL extension pg_trgm (%s): `regwatch search` works but scans every "
            "version; for speed have an administrator run `%s` and create GIN trigram indexes %s on version",
            str(err.orig).strip(), _PG_EXTENSION, ", ".join(PG_INDEXES),
        )  # fmt: skip
        return
    schema = conn.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
    ).scalar_one()
    opclass = f"{conn.dialect.identifier_preparer.quote_identifier(schema)}.gin_trgm_ops"
    for name, column in PG_INDEXES.items():
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON version USING gin ({column} {opclass})")


def fold_query(text: str) -> str:
    """A search query in the form of the indexed canonical text: NFKC (full-width letters and
    digits become ASCII, U+3000 and NBSP a space), zero-width characters dropped, whitespace runs
    collapsed to one space, trimmed.

    Example:
        >>> fold_query(" １Ｃ９０２\u3000出口\u200b管制  ")
        '1C902 出口管制'
    """
    folded = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text))
    return " ".join(folded.split())


def match_expression(text: str) -> str:
    """``text`` as one FTS5 phrase: quoted, inner quotes doubled, so no character is FTS syntax.

    Example:
        >>> match_expression('a "b" OR c*')
        '"a ""b"" OR c*"'
    """
    return '"' + text.replace('"', '""') + '"'


def match_query(text: str, limit: int) -> tuple[sa.TextClause, dict[str, object]]:
    """The ranked FTS5 query for ``text`` (>= 3 characters, folded by ``fold_query``): rows of
    document id, key, title, url, version number, text and canonical text, best bm25 first (title
    hits weigh more), then newest.
    """
    query = sa.text(
        f"""SELECT d.id, d.key, v.title, v.url, v.number, v.text, v.canonical_text
            FROM {FTS_TABLE} f
            JOIN document d ON d.id = f.rowid
            JOIN version v ON v.document_id = d.id AND v.number = d.latest_version
            WHERE {FTS_TABLE} MATCH :expr
            ORDER BY bm25({FTS_TABLE}, {_TITLE_WEIGHT}, 1.0), d.last_seen DESC, d.id DESC
            LIMIT :limit"""
    )
    return query, {"expr": match_expression(text), "limit": limit}
