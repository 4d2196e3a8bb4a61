"""Named, ordered schema migrations recorded in a ``_migrations`` table (sqlite-utils pattern).

The schema version is the number of migrations in the registry; each applied migration is
recorded with its name and position. Rules:

* A fresh (empty) database gets the *head* schema built from ``store.models`` by the first
  (baseline) migration, and every later migration is recorded as applied without running:
  the models already include them (Alembic's "create_all, then stamp head" recipe). So each
  later migration must also be reflected in ``store.models``.
* An older database gets the missing migrations in registry order. ``Store.open`` applies
  pending migrations automatically when all of them are ``additive`` (new tables, new
  nullable columns, new indexes: nothing an older reader would trip on); otherwise it refuses
  with ``SchemaTooOld`` and ``regwatch db upgrade`` (``Store.open(..., upgrade=True)``) applies them.
* Objects that are not SQLModel tables (the SQLite FTS table of ``store.fulltext``) are created
  by their migration *and* by the baseline ``create_schema``, so a fresh database and an
  upgraded one end up with the same schema.
* A database that records a migration this code does not know was written by a newer regwatch
  and is refused with ``SchemaTooNew``.
* A migration's ``apply`` may return a report (text) of what it did to the data; ``Store`` keeps
  the reports of the migrations it applied (``Store.migration_reports``) and ``regwatch db
  upgrade`` prints them.
* A migration that needs the pipeline's rules (``0004_rekey_agency_codes``: document keys and
  canonical text, see ``store.rekey``) is registered here with an ``apply`` that refuses to run,
  because ``store`` imports nothing internal; ``Migrations.bind`` gives the registry with the real
  ``apply``, and ``pipeline.migrations.MIGRATIONS`` is that registry. Names and order are the same
  in both, so every opener agrees on the schema version; only ``regwatch db upgrade`` (which uses
  the bound registry) can run it, and it is not additive, so other openers ask for that command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import SQLModel

from store.appearances import create_appearances
from store.errors import StoreError
from store.fulltext import create_fulltext
from store.models import (
    TABLES,
    Alert,
    AlertDelivery,
    Capture,
    Delivery,
    Recheck,
    SinkState,
    UTCDateTime,
    Version,
    WithdrawalCheck,
)
from store.packing import pack_rows

_meta = sa.MetaData()
MIGRATIONS_TABLE = sa.Table(
    "_migrations",
    _meta,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("applied_at", UTCDateTime(), nullable=False),
)


@dataclass(frozen=True)
class Migration:
    """One named schema step; ``apply`` runs inside the migrating transaction and may return a
    report of what it changed (shown by ``regwatch db upgrade``)."""

    name: str
    apply: Callable[[sa.Connection], str | None]
    additive: bool = True


@dataclass(frozen=True)
class SchemaState:
    """What a database holds compared with a registry."""

    fresh: bool
    applied: list[str] = field(default_factory=list)
    pending: list[Migration] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    db_version: int = 0
    foreign_tables: list[str] = field(default_factory=list)


class Migrations:
    """An ordered registry of migrations; position 1..n is the schema version.

    Example:
        >>> registry = Migrations([Migration("0001_initial", create_schema)])
        >>> registry.version, registry.names
        (1, ['0001_initial'])
    """

    def __init__(self, migrations: Sequence[Migration]) -> None:
        names = [m.name for m in migrations]
        if not names:
            raise ValueError("a migrations registry needs at least the baseline migration")
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate migration names in {names}")
        self.migrations = list(migrations)

    @property
    def version(self) -> int:
        return len(self.migrations)

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.migrations]

    def plus(self, migration: Migration) -> Migrations:
        """A new registry with one more migration at the end (used by tests and plug-ins)."""
        return Migrations([*self.migrations, migration])

    def bind(self, name: str, apply: Callable[[sa.Connection], str | None]) -> Migrations:
        """The same registry with migration ``name`` running ``apply`` (names, order, additivity kept).

        Example:
            >>> bound = MIGRATIONS.bind(REKEY_AGENCY_CODES, lambda conn: "done")
            >>> bound.names == MIGRATIONS.names, bound.migrations[-1].apply(None)
            (True, 'done')
        """
        if name not in self.names:
            raise ValueError(f"no migration {name!r} to bind; known: {', '.join(self.names)}")
        return Migrations([Migration(m.name, apply, m.additive) if m.name == name else m for m in self.migrations])

    def state(self, conn: sa.Connection) -> SchemaState:
        """Compare the database behind ``conn`` with this registry (reads only)."""
        tables = set(sa.inspect(conn).get_table_names())
        if MIGRATIONS_TABLE.name not in tables:
            return SchemaState(fresh=not tables, foreign_tables=sorted(tables))
        rows = conn.execute(sa.select(MIGRATIONS_TABLE.c.name, MIGRATIONS_TABLE.c.version)).all()
        applied = {name for name, _ in rows}
        return SchemaState(
            fresh=False,
            applied=[n for n in self.names if n in applied],
            pending=[m for m in self.migrations if m.name not in applied],
            unknown=sorted(applied - set(self.names)),
            db_version=max((v for _, v in rows), default=0),
        )

    def create(self, conn: sa.Connection, at: datetime) -> None:
        """Build a fresh database: run the baseline, record every migration as applied."""
        MIGRATIONS_TABLE.create(conn)
        self.migrations[0].apply(conn)
        for number, migration in enumerate(self.migrations, start=1):
            self._record(conn, migration, number, at)

    def apply(
        self, conn: sa.Connection, pending: Sequence[Migration], at: datetime, reports: dict[str, str] | None = None
    ) -> list[str]:
        """Run ``pending`` migrations in registry order and record them; returns their names.
        The reports migrations return are put in ``reports`` (by name) when it is given."""
        done = []
        for migration in pending:
            report = migration.apply(conn)
            self._record(conn, migration, self.names.index(migration.name) + 1, at)
            done.append(migration.name)
            if report and reports is not None:
                reports[migration.name] = report
        return done

    @staticmethod
    def _record(conn: sa.Connection, migration: Migration, number: int, at: datetime) -> None:
        conn.execute(MIGRATIONS_TABLE.insert().values(name=migration.name, version=number, applied_at=at))


def create_tables(conn: sa.Connection) -> None:
    """Create every table of ``store.models`` (what schema 1 held; tests use it to build old databases)."""
    SQLModel.metadata.create_all(conn, tables=[t.__table__ for t in TABLES])  # type: ignore[attr-defined]


def create_schema(conn: sa.Connection) -> None:
    """Baseline migration: the head schema, i.e. the model tables plus the full-text index."""
    create_tables(conn)
    create_fulltext(conn)


def add_fulltext_search(conn: sa.Connection) -> None:
    """Migration 2: SQLite gets the FTS5 trigram table and triggers, filled from the latest
    versions (idempotent, nothing else touched); PostgreSQL gets pg_trgm GIN indexes for its ILIKE
    search when the extension can be installed (see ``store.fulltext``)."""
    create_fulltext(conn)


def _add_columns(conn: sa.Connection, table: sa.Table, names: Sequence[str]) -> None:
    """``ALTER TABLE ... ADD COLUMN`` for model columns the table lacks (nullable ones only)."""
    have = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    for name in names:
        column = table.c[name]
        if name not in have:
            assert column.nullable, f"{table.name}.{name}: only nullable columns can be added in place"
            conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {name} {column.type.compile(conn.dialect)}")


def add_delivery_plan(conn: sa.Connection) -> None:
    """Migration 3: deliveries planned per (alert, sink) with state, backoff and lease
    (``alert_delivery``), remembered sink state (``sink_state``), acknowledgements on alerts and
    outcome/owner on the attempt log (``delivery``).

    Backfill: every (alert, sink) with an ok attempt becomes a ``delivered`` planned delivery and
    delivered alerts count as planned; pending alerts stay unplanned, so the next ``deliver`` plans
    their remaining sinks once with the routes in force then. Alerts an older regwatch marked
    ``dead`` stay dead (visible in ``regwatch alerts list``; ``regwatch alerts retry`` resends them).
    """
    SQLModel.metadata.create_all(conn, tables=[AlertDelivery.__table__, SinkState.__table__])  # type: ignore[attr-defined]
    _add_columns(conn, Alert.__table__, ("planned", "acked_at", "acked_by", "ack_note"))  # type: ignore[attr-defined]
    _add_columns(conn, Delivery.__table__, ("outcome", "owner", "finished_at"))  # type: ignore[attr-defined]
    attempts = Delivery.__table__  # type: ignore[attr-defined]
    plan = AlertDelivery.__table__  # type: ignore[attr-defined]
    done = conn.execute(
        sa.select(attempts.c.alert_id, attempts.c.sink, sa.func.min(attempts.c.at), sa.func.max(attempts.c.external_id))
        .where(attempts.c.ok == sa.true())
        .group_by(attempts.c.alert_id, attempts.c.sink)
    ).all()
    planned = {tuple(r) for r in conn.execute(sa.select(plan.c.alert_id, plan.c.sink)).all()}
    rows = [
        {"alert_id": alert_id, "sink": sink, "state": "delivered", "attempts": 1, "next_attempt_at": at,
         "reconcile": False, "external_id": ext, "created_at": at, "updated_at": at, "delivered_at": at}
        for alert_id, sink, at, ext in done if (alert_id, sink) not in planned
    ]
    if rows:
        conn.execute(plan.insert(), rows)
    alerts = Alert.__table__  # type: ignore[attr-defined]
    conn.execute(alerts.update().where(alerts.c.status == "delivered").values(planned=True))
    conn.execute(attempts.update().where(attempts.c.outcome.is_(None)).values(
        outcome=sa.case((attempts.c.ok == sa.true(), "sent"), else_="retry")))


def add_withdrawal_checks(conn: sa.Connection) -> None:
    """Migration 0006: re-checks of detail URLs that left every list (``recheck``: one answer per
    run and appearance) and the consecutive gone count per appearance (``withdrawal_check``).
    New tables only; nothing to backfill (no URL was re-checked before)."""
    SQLModel.metadata.create_all(conn, tables=[Recheck.__table__, WithdrawalCheck.__table__])  # type: ignore[attr-defined]


def add_short_term_index(conn: sa.Connection) -> None:
    """Migration 0007: indexes for work that grew with the database. One serving 1-2 character
    searches (``search 稀土``), which the trigram index cannot: on SQLite the contentless FTS5 gram
    table ``document_grams`` (filled from the search index, kept in sync by its triggers), on
    PostgreSQL the GIN-indexed table ``version_grams`` written by a trigger; the search index
    is rebuilt (``store.fulltext.create_fulltext``). And ``ix_version_published``, so the deadline
    candidates (``Store.dated_keys``, every ``process`` and ``/deadlines``) no longer read every
    version row. Additive."""
    create_fulltext(conn)
    for index in Version.__table__.indexes:  # type: ignore[attr-defined]
        if index.name == "ix_version_published":
            index.create(conn, checkfirst=True)


def add_capture_checks(conn: sa.Connection) -> None:
    """Migration 0008: ``capture.checked_at`` (the last time the same body was fetched again, for the
    crawl's re-check cadence) and ``capture.pruned_at`` (the raw body was dropped by retention).
    Nullable columns only; a capture never fetched again reads as checked when it was fetched."""
    _add_columns(conn, Capture.__table__, ("checked_at", "pruned_at"))  # type: ignore[attr-defined]


def store_texts_once(conn: sa.Connection) -> str | None:
    """Migration 0009: each text stored once (``store.packing``): a version's ``fields`` no longer
    repeats its ``source``, ``url``, ``title`` and ``text`` columns, and an appearance whose content
    is its version's keeps no copy of it. Data only; every reader sees what it saw before. Space
    freed is reused by SQLite for new rows; ``VACUUM`` (with a larger ``PRAGMA page_size`` first
    if wanted) shrinks the file."""
    versions, appearances = pack_rows(conn)
    if versions or appearances:
        return f"stored once: the copies of {versions} version(s) and {appearances} appearance(s)"
    return None


REKEY_AGENCY_CODES = "0004_rekey_agency_codes"


def rekey_needs_rules(conn: sa.Connection) -> None:
    """Migration 0004 as registered by ``store``: it needs the pipeline's key rules (see ``store.rekey``)."""
    raise StoreError(
        f"migration {REKEY_AGENCY_CODES} re-keys documents with the pipeline's document-number rules",
        "run `regwatch db upgrade` (in code: Store.open(..., migrations=pipeline.migrations.MIGRATIONS, upgrade=True))",
    )


MIGRATIONS = Migrations(
    [
        Migration("0001_initial_schema", create_schema),
        Migration("0002_add_fulltext_search", add_fulltext_search),
        Migration("0003_outbox_delivery_plan", add_delivery_plan),
        # 0005: one appearance per (document, source), backfilled from document_url/version rows
        # (store.appearances); additive, reads only the 0001 schema.
        Migration("0005_appearances", create_appearances),
        # 0004: keys per DOMAIN.md B.2 (agency codes kept; merged documents split), canonical texts
        # re-hashed, search index rebuilt on them; data only (store.rekey). It runs after 0005, so
        # it always finds the appearance table and keeps it consistent with the split documents.
        Migration(REKEY_AGENCY_CODES, rekey_needs_rules, additive=False),
        # 0006: withdrawal re-checks (new tables only; see pipeline.withdrawals)
        Migration("0006_withdrawal_checks", add_withdrawal_checks),
        # 0007: the 1-2 character gram index for short searches (store.fulltext), version.published index
        Migration("0007_short_term_index", add_short_term_index),
        # 0008: capture re-check time and pruned marker (nullable columns; see store.captures)
        Migration("0008_capture_checks", add_capture_checks),
        # 0009: texts stored once (store.packing): copies in version.fields and appearances dropped
        Migration("0009_texts_stored_once", store_texts_once),
    ]
)
"""The registry this version of regwatch knows; append new migrations at the end."""
