"""Engines for SQLite and PostgreSQL, and translation of driver errors into ``StoreError``.

SQLite follows ECOSYSTEM.md §4: WAL, ``synchronous=NORMAL``, ``foreign_keys=ON`` and a busy
timeout set on every connection; the driver's own transaction handling is switched off
(``isolation_level = None``) and we emit ``BEGIN`` ourselves: ``BEGIN IMMEDIATE`` on the
writer engine (``writer(engine)``), a plain deferred ``BEGIN`` for readers. A writer therefore
takes the lock up front and waits (up to the busy timeout) instead of failing later with
"database is locked" on a read-to-write upgrade, while WAL readers never wait at all.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs
import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import StaticPool

from store.errors import CorruptDatabase, DatabaseLocked, StoreError
from store.fulltext import GRAMS_FUNCTION, search_grams

DEFAULT_TIMEOUT = 30.0
# Page size of a NEW SQLite database (an existing file keeps its own until VACUUMed with another).
# With 4096-byte pages a 2.1 KB compressed capture row filled a page alone: half the capture table
# was empty space (issue 11, storage). It must be set before the first table is written.
PAGE_SIZE = 8192
# JSON columns (fields, payloads, diffs, headers) keep CJK as UTF-8: the default \uXXXX escapes made
# a version's fields twice the size of its text (issue 11, storage). Rows written before still read.
_JSON = functools.partial(json.dumps, ensure_ascii=False)
_WRITE_OPTION = "regwatch_write"


def default_path() -> Path:
    """The default database file: ``regwatch.db`` in the user data dir (platformdirs).

    Example:
        >>> default_path().name
        'regwatch.db'
    """
    return Path(platformdirs.user_data_dir("regwatch", appauthor=False)) / "regwatch.db"


def to_url(url_or_path: str | Path | sa.URL | None) -> sa.URL:
    """Turn ``None``, a path, ``":memory:"`` or an SQLAlchemy URL string into a URL.

    Example:
        >>> to_url(":memory:").render_as_string()
        'sqlite://'
        >>> to_url("/tmp/x.db").database
        '/tmp/x.db'
    """
    if url_or_path is None:
        path = default_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return sa.URL.create("sqlite", database=str(path))
    if isinstance(url_or_path, sa.URL):
        return url_or_path
    if isinstance(url_or_path, Path):
        return sa.URL.create("sqlite", database=str(url_or_path))
    if url_or_path == ":memory:":
        return sa.URL.create("sqlite")
    if "://" in url_or_path:
        return make_url(url_or_path)
    return sa.URL.create("sqlite", database=str(Path(url_or_path).expanduser()))


def is_memory(url: sa.URL) -> bool:
    """True for an in-memory SQLite URL."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def describe(url: sa.URL) -> str:
    """How to name the database in messages: the file path, ``:memory:``, or the URL without password.

    Example:
        >>> describe(make_url("postgresql+psycopg://u:secret@h/db"))
        'postgresql+psycopg://u:***@h/db'
    """
    if url.get_backend_name() == "sqlite":
        return ":memory:" if is_memory(url) else str(url.database)
    return url.render_as_string(hide_password=True)


def make_engine(url_or_path: str | Path | sa.URL | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Engine:
    """Create the engine for a regwatch database (SQLite file, in-memory SQLite, or any URL).

    ``timeout`` is SQLite's busy timeout in seconds (how long a writer waits for the lock).
    Use ``writer(engine)`` for sessions that write.

    Example:
        >>> engine = make_engine(":memory:")
        >>> with engine.connect() as conn:
        ...     conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
        1
    """
    url = to_url(url_or_path)
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, json_serializer=_JSON)
    if is_memory(url):
        # One shared connection, so every session sees the same in-memory database.
        engine = sa.create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}, json_serializer=_JSON
        )
    else:
        parent = Path(str(url.database)).parent
        if not parent.is_dir():
            raise StoreError(
                f"cannot create database {url.database}: directory {parent} does not exist",
                "create the directory first, or pass another --db path",
            )
        engine = sa.create_engine(url, connect_args={"timeout": timeout}, json_serializer=_JSON)
    busy_ms = int(timeout * 1000)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see module docstring)
        # the search index triggers call it (store.fulltext); a writer without it fails loudly
        dbapi_conn.create_function(GRAMS_FUNCTION, 2, search_grams, deterministic=True)
        cur = dbapi_conn.cursor()
        try:
            # page_size first: it only takes effect on an empty database, before WAL writes the header
            pragmas = (f"page_size={PAGE_SIZE}", "journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       f"busy_timeout={busy_ms}")
            for pragma in pragmas:
                cur.execute(f"PRAGMA {pragma}")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def read_only(engine: Engine) -> Engine:
    """Make every connection of ``engine`` refuse writes (connections already pooled are dropped).

    SQLite: ``PRAGMA query_only=ON``; PostgreSQL: ``SET SESSION CHARACTERISTICS AS TRANSACTION
    READ ONLY``. An in-memory SQLite engine keeps its one connection (it holds the data) and is
    switched in place.

    Example:
        >>> engine = read_only(make_engine(":memory:"))
        >>> with engine.connect() as conn:
        ...     conn.exec_driver_sql("PRAGMA query_only").scalar()
        1
    """
    sqlite = engine.url.get_backend_name() == "sqlite"

    def _switch(dbapi_conn: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            cur.execute("PRAGMA query_only=ON" if sqlite else "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        finally:
            cur.close()
        if not sqlite:
            dbapi_conn.commit()  # the SET ran in an implicit transaction: make it the session's setting

    event.listen(engine, "connect", lambda dbapi_conn, _record: _switch(dbapi_conn))
    if sqlite and is_memory(engine.url):
        with engine.connect() as conn:
            _switch(conn.connection.dbapi_connection)
    else:
        engine.dispose()
    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, marked so its SQLite transactions start with ``BEGIN IMMEDIATE``.

    Example:
        >>> writer(make_engine(":memory:")).get_execution_options()["regwatch_write"]
        True
    """
    return engine.execution_options(**{_WRITE_OPTION: True})


@contextlib.contextmanager
def translate_errors(where: str, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Re-raise driver errors that mean "locked", "corrupt" or "unreachable" as ``StoreError``s.

    Example:
        >>> with translate_errors("x.db"):
        ...     pass
    """
    try:
        yield
    except exc.DBAPIError as err:
        text = str(err.orig).lower() if err.orig is not None else str(err).lower()
        if "database is locked" in text or "database is busy" in text:
            raise DatabaseLocked(where, timeout) from err
        if "file is not a database" in text or "malformed" in text or "not a database" in text:
            raise CorruptDatabase(where, str(err.orig)) from err
        if err.connection_invalidated or isinstance(err, exc.InterfaceError) or _is_connect_error(text):
            raise StoreError(
                f"cannot connect to database {where}: {str(err.orig).strip()}",
                "check that the server is running and the --db URL is right",
            ) from err
        raise
    except exc.StatementError as err:
        if isinstance(err.orig, ValueError):  # our own validation, e.g. a naive datetime
            raise err.orig from None
        raise


def _is_connect_error(text: str) -> bool:
    return any(
        marker in text
        for marker in ("connection refused", "could not connect", "unable to open database file", "connection failed")
    )
