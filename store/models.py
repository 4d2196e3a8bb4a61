"""SQLModel tables of the regwatch database (the head schema; see ``store.migrations``).

Datetimes are timezone-aware in Python and stored as UTC (``UTCDateTime``); JSON columns use
SQLAlchemy's portable ``JSON`` type; capture bodies are zlib-compressed bytes.
Rows have no ORM relationships on purpose: ``Store`` returns detached rows, and plain
columns are always safe to read after the session has closed.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

UTC = timezone.utc


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime column that stores UTC and returns aware UTC datetimes; naive input is refused.

    SQLite has no time zone type, so values are stored as naive UTC text there and the zone is
    re-attached on load; PostgreSQL gets ``timestamptz``.

    Example:
        >>> from datetime import timedelta
        >>> cst = timezone(timedelta(hours=8))
        >>> UTCDateTime().process_bind_param(datetime(2025, 1, 1, 8, tzinfo=cst), None)
        datetime.datetime(2025, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise ValueError(f"expected a datetime, got {type(value).__name__} {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} refused: pass a timezone-aware datetime "
                "(e.g. datetime(..., tzinfo=timezone.utc))"
            )
        value = value.astimezone(UTC)
        if dialect is not None and dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


def _json(factory: type, nullable: bool = False) -> Any:
    return Field(default_factory=factory, sa_column=sa.Column(sa.JSON(), nullable=nullable))


class Source(SQLModel, table=True):
    """A watched regulator site (``mofcom``, ``miit``, ``govcn``, ``meti``)."""

    __tablename__ = "source"
    slug: str = Field(primary_key=True)
    name: str
    base_url: str = ""
    created_at: datetime = _ts()


class CrawlRun(SQLModel, table=True):
    """One crawl of one source: status ``running`` until finished as ``ok|failed|partial``."""

    __tablename__ = "crawl_run"
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(foreign_key="source.slug", index=True)
    started_at: datetime = _ts()
    finished_at: datetime | None = _ts(nullable=True)
    status: str = "running"
    stats: dict[str, Any] = _json(dict)
    errors: list[dict[str, Any]] = _json(list)  # [{kind, url, message}]
    captures: int = 0


class Capture(SQLModel, table=True):
    """A raw fetched response, stored before parsing so history can be re-parsed."""

    __tablename__ = "capture"
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(foreign_key="source.slug", index=True)
    run_id: int | None = Field(default=None, foreign_key="crawl_run.id", index=True)
    kind: str = "detail"  # list | detail | attachment
    url: str = Field(index=True)
    final_url: str
    status: int
    headers: dict[str, Any] = _json(dict)
    body: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))  # zlib-compressed
    body_sha256: str = Field(index=True)  # of the uncompressed body
    size: int  # uncompressed bytes
    fetched_at: datetime = _ts()
    state: str = Field(default="pending", index=True)  # pending | processed | failed | skipped | held
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    processed_at: datetime | None = _ts(nullable=True)


class Document(SQLModel, table=True):
    """One announcement, identified by canonical key (or canonical URL when it has no number)."""

    __tablename__ = "document"
    id: int | None = Field(default=None, primary_key=True)
    key: str | None = Field(default=None, unique=True)
    canonical_url: str = Field(index=True)
    source: str = Field(foreign_key="source.slug", index=True)  # first seen on
    title: str = ""
    first_seen: datetime = _ts()
    last_seen: datetime = _ts()
    latest_version: int = 0
    status: str = "active"  # active | withdrawn


class DocumentUrl(SQLModel, table=True):
    """An URL where a document was seen (one announcement appears on several columns/sites)."""

    __tablename__ = "document_url"
    __table_args__ = (sa.UniqueConstraint("document_id", "url"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    url: str = Field(index=True)
    source: str = Field(foreign_key="source.slug")


class Version(SQLModel, table=True):
    """An immutable text version of a document, numbered 1..n per document."""

    __tablename__ = "version"
    __table_args__ = (sa.UniqueConstraint("document_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    number: int
    capture_id: int | None = Field(default=None, foreign_key="capture.id")
    source: str = Field(foreign_key="source.slug", index=True)
    url: str
    title: str = ""
    text: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    canonical_text: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    content_hash: str = Field(index=True)
    fields: dict[str, Any] = _json(dict)
    published: date | None = None
    created_at: datetime = _ts()


class Change(SQLModel, table=True):
    """What happened between two versions; ``from_version_id`` is null for a new document."""

    __tablename__ = "change"
    __table_args__ = (sa.UniqueConstraint("to_version_id", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    from_version_id: int | None = Field(default=None, foreign_key="version.id")
    to_version_id: int = Field(foreign_key="version.id")
    kind: str  # new | changed | withdrawn | status
    text_diff: dict[str, Any] = _json(dict)
    field_changes: list[dict[str, Any]] = _json(list)
    summary: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    created_at: datetime = _ts(index=True)


class Tag(SQLModel, table=True):
    """A tag found in a version: a control code, element, HS code, typed date ..."""

    __tablename__ = "tag"
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="version.id", index=True)
    kind: str = Field(index=True)  # code | element | hs | date ...
    scheme: str | None = None
    value: str
    evidence: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))


class Relation(SQLModel, table=True):
    """A relation stated by a version: ``source_key`` suspends/amends/... ``target_key``."""

    __tablename__ = "relation"
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="version.id", index=True)
    source_key: str | None = None
    type: str
    target_key: str | None = Field(default=None, index=True)
    target_text: str = ""
    until: date | None = None
    since: date | None = None
    clause: str | None = None
    evidence: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))


class Alert(SQLModel, table=True):
    """An outbox row: written by ``process``, drained by ``deliver``."""

    __tablename__ = "alert"
    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(unique=True)
    kind: str
    severity: str = "info"
    source: str | None = None
    doc_key: str | None = None
    payload: dict[str, Any] = _json(dict)
    status: str = Field(default="pending", index=True)  # pending | delivered | dead
    attempts: int = 0
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))


class Delivery(SQLModel, table=True):
    """One attempt to deliver an alert to one sink; an ok delivery is never repeated."""

    __tablename__ = "delivery"
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    sink: str
    ok: bool
    external_id: str | None = None  # e.g. Slack message ts
    detail: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    at: datetime = _ts()


TABLES: tuple[type[SQLModel], ...] = (
    Source,
    CrawlRun,
    Capture,
    Document,
    DocumentUrl,
    Version,
    Change,
    Tag,
    Relation,
    Alert,
    Delivery,
)
"""Every regwatch table model, in dependency order."""
