"""``Store``: the one API over the regwatch database (SQLite file, in-memory SQLite or PostgreSQL).

The methods live in small modules by stage (``captures``, ``documents``, ``annotations``,
``queries``, ``outbox``, ``withdrawals``); this module opens the database, checks and applies
migrations, and manages sources. Every method is one unit of work in its own session; rows come back detached
and fully loaded, so callers can read them after the session has closed.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from store.annotations import AnnotationOps
from store.captures import CaptureOps
from store.db import DEFAULT_TIMEOUT, describe, make_engine, read_only, to_url, translate_errors, writer
from store.documents import DocumentOps
from store.errors import CorruptDatabase, SchemaTooNew, SchemaTooOld
from store.migrations import MIGRATIONS, Migrations, SchemaState
from store.models import Source
from store.outbox import OutboxOps
from store.queries import QueryOps
from store.retention import RetentionOps
from store.withdrawals import WithdrawalOps

_PG_MIGRATION_LOCK = 0x72657477  # "retw": serializes concurrent migrators on PostgreSQL


class Store(CaptureOps, DocumentOps, AnnotationOps, QueryOps, OutboxOps, WithdrawalOps, RetentionOps):
    """The regwatch database.

    Example:
        >>> store = Store.in_memory()
        >>> store.ensure_source("mofcom", "商务部", "https://www.mofcom.gov.cn").slug
        'mofcom'
        >>> store.close()
    """

    def __init__(
        self, engine: Engine, where: str, timeout: float = DEFAULT_TIMEOUT, migrations: Migrations = MIGRATIONS
    ) -> None:
        super().__init__(engine, where, timeout)
        self.migrations = migrations
        self.migration_reports: dict[str, str] = {}  # name -> what a migration applied here did to the data

    @classmethod
    def open(
        cls,
        url_or_path: str | Path | None = None,
        *,
        upgrade: bool | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        migrations: Migrations = MIGRATIONS,
        at: datetime | None = None,
    ) -> Store:
        """Open (creating if needed) a database and bring its schema up to date.

        ``url_or_path``: None (``regwatch.db`` in the user data dir), a file path, ``":memory:"``
        or an SQLAlchemy URL (``postgresql+psycopg://...``). ``upgrade``: None applies pending
        migrations only when all are additive, True applies all (``regwatch db upgrade``),
        False applies none and refuses an out-of-date database. ``timeout``: seconds a writer
        waits for the SQLite lock. ``at`` stamps applied migrations (default: now).

        Example:
            >>> Store.open(":memory:").schema_version == MIGRATIONS.version
            True
        """
        url = to_url(url_or_path)
        engine = make_engine(url, timeout=timeout)
        store = cls(engine, describe(url), timeout, migrations)
        try:
            store._migrate(upgrade, at or datetime.now(timezone.utc))
        except BaseException:
            engine.dispose()
            raise
        return store

    @classmethod
    def open_read_only(cls, url_or_path: str | Path | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Store:
        """Open an up-to-date database whose connections refuse every write (for ``regwatch web``).

        Nothing is migrated (an out-of-date database raises ``SchemaTooOld``). SQLite connections
        run ``PRAGMA query_only=ON``, PostgreSQL sessions ``default_transaction_read_only``, so a
        write raises a driver error instead of changing anything.

        Example:
            >>> Store.open_read_only(":memory:").engine.url.get_backend_name()
            'sqlite'
        """
        store = cls.open(url_or_path, upgrade=False, timeout=timeout)
        read_only(store.engine)
        return store

    @classmethod
    def in_memory(cls, *, migrations: Migrations = MIGRATIONS) -> Store:
        """A fresh private in-memory database (tests, demos).

        Example:
            >>> Store.in_memory().url
            'sqlite://'
        """
        return cls.open(":memory:", migrations=migrations)

    @property
    def url(self) -> str:
        """The database URL with any password hidden (for display)."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dsn(self) -> str:
        """The full database URL, password included: for child processes only, never for display."""
        return self.engine.url.render_as_string(hide_password=False)

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    # -- schema -----------------------------------------------------------------------

    def schema_state(self) -> SchemaState:
        """Applied, pending and unknown migrations of this database."""
        with translate_errors(self.where, self.timeout), self.engine.connect() as conn:
            return self.migrations.state(conn)

    @property
    def schema_version(self) -> int:
        """The highest migration number recorded in the database."""
        return self.schema_state().db_version

    def upgrade(self, at: datetime | None = None) -> list[str]:
        """Apply every pending migration; returns their names (empty when up to date).

        Example:
            >>> Store.in_memory().upgrade()
            []
        """
        return self._migrate(True, at or datetime.now(timezone.utc))

    def _migrate(self, upgrade: bool | None, at: datetime) -> list[str]:
        state = self._check(self.schema_state())
        if not state.fresh and not state.pending:
            return []
        if not state.fresh:
            allowed = upgrade is True or (upgrade is None and all(m.additive for m in state.pending))
            if not allowed:
                raise SchemaTooOld(self.where, [m.name for m in state.pending])
        with translate_errors(self.where, self.timeout), writer(self.engine).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            state = self._check(self.migrations.state(conn))  # again, now that we hold the lock
            if state.fresh:
                self.migrations.create(conn, at)
                return list(self.migrations.names)
            return self.migrations.apply(conn, state.pending, at, self.migration_reports)

    def _check(self, state: SchemaState) -> SchemaState:
        if state.unknown:
            raise SchemaTooNew(self.where, state.db_version, self.migrations.version, state.unknown)
        if state.foreign_tables:
            shown = ", ".join(state.foreign_tables[:5])
            raise CorruptDatabase(self.where, f"it has tables {shown} but no _migrations table")
        return state

    # -- sources ----------------------------------------------------------------------

    def ensure_source(self, slug: str, name: str, base_url: str = "", *, at: datetime | None = None) -> Source:
        """Create or update a source row; ``at`` (default now) stamps a new row's ``created_at``.

        Example:
            >>> store.ensure_source("meti", "経済産業省", "https://www.meti.go.jp").name
            '経済産業省'
        """
        with self._write() as s:
            row = s.get(Source, slug)
            if row is None:
                row = Source(slug=slug, name=name, base_url=base_url, created_at=at or datetime.now(timezone.utc))
            else:
                row.name, row.base_url = name, base_url
            s.add(row)
            return row

    def sources(self) -> list[Source]:
        """Every source, by slug."""
        with self._read() as s:
            return list(s.exec(select(Source).order_by(col(Source.slug))))
