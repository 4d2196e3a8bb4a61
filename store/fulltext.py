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

Queries of 1-2 characters (``search 稀土``; migration 0007) use a gram index instead of a scan: each
distinct 1- and 2-character gram of the title and of the text (``search_grams``). SQLite: the
contentless FTS5 table ``document_grams`` (rowid = document id, rowids only), rebuilt with
``document_fts`` by the same triggers through the SQL function ``regwatch_search_grams`` that
``store.db.make_engine`` registers on every connection (so a writer outside regwatch fails loudly
instead of leaving the index stale); the grams are folded like SQLite's ``lower()``, so the index
alone gives the ``LIKE`` answer. PostgreSQL: the table ``version_grams`` (one ``text[]`` per
version, GIN-indexed), written by a trigger with the SQL function ``regwatch_search_grams``;
``ILIKE`` still decides. Either way the results are exactly the scan's, newest first.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa

log = logging.getLogger(__name__)

FTS_TABLE = "document_fts"
MIN_MATCH_CHARS = 3  # a trigram index cannot match shorter queries
_MIN_SQLITE = (3, 34, 0)
_TITLE_WEIGHT = 5.0  # bm25 weight of a hit in the title relative to the text

GRAMS_TABLE = "document_grams"
GRAMS_FUNCTION = "regwatch_search_grams"  # registered on every SQLite connection by store.db.make_engine
MAX_GRAM_CHARS = 2  # queries of 1-2 characters are served by the gram index
_GRAMS_OF_FTS_ROW = f"{GRAMS_FUNCTION}(title, text)"

_REBUILD_ONE = f"""
    INSERT INTO {GRAMS_TABLE} ({GRAMS_TABLE}, rowid, grams)
        SELECT 'delete', rowid, {_GRAMS_OF_FTS_ROW} FROM {FTS_TABLE} WHERE rowid = {{doc}};
    DELETE FROM {FTS_TABLE} WHERE rowid = {{doc}};
    INSERT INTO {FTS_TABLE} (rowid, title, text)
        SELECT v.document_id, v.title, v.canonical_text FROM version v JOIN document d ON d.id = v.document_id
        WHERE d.id = {{doc}} AND v.number = d.latest_version;
    INSERT INTO {GRAMS_TABLE} (rowid, grams)
        SELECT rowid, {_GRAMS_OF_FTS_ROW} FROM {FTS_TABLE} WHERE rowid = {{doc}};
"""

_TRIGGERS = (f"{FTS_TABLE}_version_ai", f"{FTS_TABLE}_document_au", f"{FTS_TABLE}_document_ad")
_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, text, tokenize='trigram')",
    # contentless, rowids only: one token per distinct 1-2 character gram (see search_grams)
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {GRAMS_TABLE} USING fts5(grams, content='', detail=none, columnsize=0,
        tokenize='ascii')""",
    *(f"DROP TRIGGER IF EXISTS {name}" for name in _TRIGGERS),  # an older definition is replaced
    # rebuilt only when the inserted version is the document's latest (the ORM may update
    # document.latest_version before or after inserting the version row)
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_version_ai AFTER INSERT ON version
        WHEN new.number = (SELECT latest_version FROM document WHERE id = new.document_id) BEGIN
        {_REBUILD_ONE.format(doc="new.document_id")}
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_document_au AFTER UPDATE OF latest_version ON document
        WHEN old.latest_version IS NOT new.latest_version BEGIN
        {_REBUILD_ONE.format(doc="new.id")}
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_document_ad AFTER DELETE ON document BEGIN
        INSERT INTO {GRAMS_TABLE} ({GRAMS_TABLE}, rowid, grams)
            SELECT 'delete', rowid, {_GRAMS_OF_FTS_ROW} FROM {FTS_TABLE} WHERE rowid = old.id;
        DELETE FROM {FTS_TABLE} WHERE rowid = old.id;
    END""",
)


_PG_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
PG_INDEXES = {"ix_version_title_trgm": "title", "ix_version_canonical_text_trgm": "canonical_text"}
_PG_STALE_INDEXES = ("ix_version_text_trgm",)  # on the raw text, searched before migration 0004
PG_GRAMS_TABLE = "version_grams"
PG_GRAMS_INDEX = "ix_version_grams_grams"
# The distinct 1-2 character grams of lower(title) and lower(body), computed in one pass over
# the characters (unnest WITH ORDINALITY + lead: substr() in a loop is quadratic on long texts).
_PG_GRAMS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {GRAMS_FUNCTION}(title text, body text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT g) FILTER (WHERE g IS NOT NULL AND g <> ''), '{{}}')
    FROM (SELECT unnest(ARRAY[c, c || nxt]) AS g
          FROM (SELECT c, lead(c) OVER (PARTITION BY part ORDER BY n) AS nxt
                FROM (SELECT 1 AS part, c, n FROM unnest(regexp_split_to_array(lower(coalesce(title, '')), ''))
                          WITH ORDINALITY AS t(c, n)
                      UNION ALL
                      SELECT 2, c, n FROM unnest(regexp_split_to_array(lower(coalesce(body, '')), ''))
                          WITH ORDINALITY AS b(c, n)) AS chars) AS pairs) AS grams
$$"""
# The grams are a column of their own, written once per version by a trigger: an expression index
# over the function made PostgreSQL evaluate it on every row whenever it chose a scan (a gram found
# in most documents: 5.9 s on 30,000 versions).
_PG_GRAMS_DDL = (
    _PG_GRAMS_FUNCTION,
    f"""CREATE TABLE IF NOT EXISTS {PG_GRAMS_TABLE} (
        version_id integer PRIMARY KEY REFERENCES version (id) ON DELETE CASCADE, grams text[] NOT NULL)""",
    f"CREATE INDEX IF NOT EXISTS {PG_GRAMS_INDEX} ON {PG_GRAMS_TABLE} USING gin (grams)",
    f"""CREATE OR REPLACE FUNCTION regwatch_version_grams() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {PG_GRAMS_TABLE} (version_id, grams) VALUES (NEW.id, {GRAMS_FUNCTION}(NEW.title, NEW.canonical_text))
            ON CONFLICT (version_id) DO UPDATE SET grams = EXCLUDED.grams;
        RETURN NULL;
    END $$""",
    f"DROP TRIGGER IF EXISTS {PG_GRAMS_TABLE}_ai ON version",
    f"""CREATE TRIGGER {PG_GRAMS_TABLE}_ai AFTER INSERT OR UPDATE OF title, canonical_text ON version
        FOR EACH ROW EXECUTE FUNCTION regwatch_version_grams()""",
)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
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
    conn.exec_driver_sql(f"INSERT INTO {GRAMS_TABLE} ({GRAMS_TABLE}) VALUES ('delete-all')")
    conn.exec_driver_sql(
        f"""INSERT INTO {FTS_TABLE} (rowid, title, text)
            SELECT v.document_id, v.title, v.canonical_text FROM version v JOIN document d ON d.id = v.document_id
            WHERE v.number = d.latest_version"""
    )
    conn.exec_driver_sql(f"INSERT INTO {GRAMS_TABLE} (rowid, grams) SELECT rowid, {_GRAMS_OF_FTS_ROW} FROM {FTS_TABLE}")


def _create_pg_trigram_indexes(conn: sa.Connection) -> None:
    """GIN indexes for ``ILIKE`` search: the 1-2 character gram index (always), trigram indexes
    when pg_trgm can be installed (else a warning)."""
    for statement in _PG_GRAMS_DDL:
        conn.exec_driver_sql(statement)
    conn.exec_driver_sql(f"DELETE FROM {PG_GRAMS_TABLE}")
    conn.exec_driver_sql(f"INSERT INTO {PG_GRAMS_TABLE} (version_id, grams) "
                         f"SELECT id, {GRAMS_FUNCTION}(title, canonical_text) FROM version")
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
    version id and document key, best bm25 first (title hits weigh more), then newest.
    """
    query = sa.text(
        f"""SELECT v.id, d.key
            FROM {FTS_TABLE} f
            JOIN document d ON d.id = f.rowid
            JOIN version v ON v.document_id = d.id AND v.number = d.latest_version
            WHERE {FTS_TABLE} MATCH :expr
            ORDER BY bm25({FTS_TABLE}, {_TITLE_WEIGHT}, 1.0), d.last_seen DESC, d.id DESC
            LIMIT :limit"""
    )
    return query, {"expr": match_expression(text), "limit": limit}


def search_grams(title: str | None, text: str | None) -> str:
    """The tokens the SQLite gram index holds for a document: every distinct 1- and 2-character
    gram of ``title`` and of ``text`` (separately, lowered like SQLite's ``lower()``: ASCII only),
    none containing whitespace (a folded query of 1-2 characters never does), each written as the
    hex of its UTF-8 bytes so no character is tokenizer or query syntax; sorted, space-separated.

    Registered as the SQL function ``regwatch_search_grams`` on every SQLite connection (the
    triggers call it). It must stay deterministic: the index deletes a document's old tokens by
    recomputing them, so a change here needs a migration that rebuilds the index
    (``create_fulltext``).

    Example:
        >>> search_grams("稀土", "Ab c")
        '61 6162 62 63 e59c9f e7a880 e7a880e59c9f'
    """
    grams: set[str] = set()
    for part in (title, text):
        if part:
            low = part.translate(_ASCII_LOWER)
            grams.update(low)
            grams.update(low[i : i + 2] for i in range(len(low) - 1))
    return " ".join(sorted(g.encode().hex() for g in grams if not any(ch.isspace() for ch in g)))


def gram_servable(needle: str) -> bool:
    """True when the gram index answers ``needle`` (folded) exactly: 1-2 characters, each ASCII or
    without case (CJK, kana, digits, punctuation), so SQLite's ``lower()`` and PostgreSQL's
    ``lower()`` fold it the same way.

    Example:
        >>> gram_servable("稀土"), gram_servable("1c"), gram_servable("出口管制"), gram_servable("É")
        (True, True, False, False)
    """
    return 0 < len(needle) <= MAX_GRAM_CHARS and all(ch.isascii() or ch.lower() == ch.upper() for ch in needle)


def has_grams_table(conn: sa.Connection) -> bool:
    """True when the database holds the SQLite gram index (created with the FTS table)."""
    query = sa.text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name")
    return conn.dialect.name == "sqlite" and conn.execute(query, {"name": GRAMS_TABLE}).first() is not None


def has_pg_grams_index(conn: sa.Connection) -> bool:
    """True when the PostgreSQL gram table's index exists in the current schema."""
    query = sa.text("SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = :name")
    return conn.dialect.name == "postgresql" and conn.execute(query, {"name": PG_GRAMS_INDEX}).first() is not None


@dataclass(frozen=True)
class GramFilter:
    """A WHERE clause narrowing a search to documents whose latest version holds the query as a
    gram; ``exact`` when it alone gives the ``LIKE`` answer (else the caller keeps its ``LIKE``)."""

    condition: sa.ColumnElement[bool]
    exact: bool


def gram_filter(conn: sa.Connection, needle: str, document_id: sa.ColumnElement,
                version_id: sa.ColumnElement) -> GramFilter | None:
    """The gram-index clause for ``needle`` (``gram_servable``), or None when this database has no
    gram index (the caller then scans with ``LIKE``).

    SQLite: ``document_id IN`` the gram table's rowids; exact, since the grams are taken from the
    indexed latest title and text folded as SQLite's ``lower()`` folds (the ``LIKE`` could only
    repeat it, reading every candidate's text). PostgreSQL: ``version_id IN`` the versions whose
    ``version_grams.grams`` (GIN) hold it; not marked exact, so ``ILIKE`` still decides (its case
    folding is the server's).
    """
    if has_grams_table(conn):
        token = needle.translate(_ASCII_LOWER).encode().hex()
        rowids = sa.text(f"SELECT rowid FROM {GRAMS_TABLE} WHERE {GRAMS_TABLE} MATCH :gram_token")
        return GramFilter(document_id.in_(rowids.bindparams(gram_token=f'"{token}"').columns(sa.column("rowid"))),
                          exact=True)
    if has_pg_grams_index(conn):
        ids = sa.text(f"SELECT version_id FROM {PG_GRAMS_TABLE} WHERE grams @> ARRAY[lower(CAST(:gram_needle AS text))]")
        return GramFilter(version_id.in_(ids.bindparams(gram_needle=needle).columns(sa.column("version_id"))),
                          exact=False)
    return None
