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
    # 0008: when the same body was last fetched again (unchanged or 304; the crawl's re-check
    # cadence reads it) and when the raw body was pruned (retention; the row and hash stay)
    checked_at: datetime | None = _ts(nullable=True)
    pruned_at: datetime | None = _ts(nullable=True)


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


class Appearance(SQLModel, table=True):
    """Where a document appears: one row per (document, source), with what was seen there last.

    A document has one history of its legal text (``Version``); every source that publishes it
    is an appearance. Exactly one appearance per document is the ``reference``: versions are
    made from it only (the authoritative source once seen there, until then the founding one).
    Other appearances are copies: they keep their own latest capture, hash and text (for
    ``regwatch diff KEY --between A B``) and never become a version. ``version_id`` names the
    version whose content equals what was seen there last, when one does. The URLs seen on the
    source are the ``document_url`` rows of that source; ``url`` is the latest of them.
    """

    __tablename__ = "appearance"
    __table_args__ = (sa.UniqueConstraint("document_id", "source"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    source: str = Field(foreign_key="source.slug", index=True)
    url: str
    first_seen: datetime = _ts()
    last_seen: datetime = _ts()
    status: str = "active"  # active | withdrawn
    reference: bool = False
    capture_id: int | None = Field(default=None, foreign_key="capture.id")
    version_id: int | None = Field(default=None, foreign_key="version.id")
    title: str = ""
    content_hash: str = ""  # "" when nothing was read there yet (backfilled copies)
    # both stored as "" / null when they are exactly the version's (store.packing); loaded rows show them
    canonical_text: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    fields: dict[str, Any] = _json(dict)


class Recheck(SQLModel, table=True):
    """One re-check of a known detail URL that left every list: what it answered in one crawl run.

    Written by the crawl (``crawlers.pipelines``) for the URLs it re-checks and for watched URLs
    (gone before, or withdrawn) it reads again; read once by the process stage
    (``pipeline.withdrawals``), which decides whether the run counts and sets ``applied`` to
    ``counted`` or ``ignored``. ``outcome``: ``gone`` (HTTP 404/410) or ``found`` (a readable page).
    One row per (run, appearance): a run counts at most once towards a withdrawal.
    """

    __tablename__ = "recheck"
    __table_args__ = (sa.UniqueConstraint("run_id", "appearance_id"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(foreign_key="source.slug", index=True)
    run_id: int = Field(foreign_key="crawl_run.id", index=True)
    appearance_id: int = Field(foreign_key="appearance.id", index=True)
    url: str
    status: int  # the HTTP status answered (200, 404, 410)
    outcome: str  # gone | found
    checked_at: datetime = _ts()
    applied: str | None = Field(default=None, index=True)  # None (not yet decided) | counted | ignored
    applied_at: datetime | None = _ts(nullable=True)


class WithdrawalCheck(SQLModel, table=True):
    """The re-check state of one appearance: consecutive gone answers (404/410) in runs that count.

    ``gone_count`` is reset by a readable answer and restarts when the appearance's URL changes;
    answers of runs that do not count (lists unreadable, WAF, failed run) never move it.
    ``withdrawn_by`` is the re-check that completed the withdrawal (it names the episode);
    ``returned_at`` when the page was read again after that.
    """

    __tablename__ = "withdrawal_check"
    appearance_id: int = Field(primary_key=True, foreign_key="appearance.id")
    url: str
    gone_count: int = 0
    last_status: int | None = None
    last_checked_at: datetime | None = _ts(nullable=True)
    last_run_id: int | None = None
    gone_since: datetime | None = _ts(nullable=True)
    withdrawn_at: datetime | None = _ts(nullable=True)
    withdrawn_by: int | None = None
    returned_at: datetime | None = _ts(nullable=True)
    updated_at: datetime = _ts()


class Version(SQLModel, table=True):
    """An immutable text version of a document, numbered 1..n per document.

    Rows store each text once (``store.packing``, migration 0009): ``fields`` refers to the
    ``source``/``url``/``title`` columns, and ``text`` is kept deflated against ``canonical_text``
    (the column is then ``""``); loaded rows show the full ``text`` and ``fields``.
    """

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
    published: date | None = Field(default=None, index=True)  # deadline candidates (migration 0007)
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
    """An outbox row: written by ``process`` together with its planned deliveries, drained by ``deliver``.

    ``status`` summarizes the alert's deliveries (see ``store.outbox``); ``planned`` is false for
    alerts queued by a regwatch that did not plan deliveries (they are planned once, by ``deliver``).
    ``acked_*`` record that a person has seen and handled the alert (``regwatch alerts ack``).
    """

    __tablename__ = "alert"
    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(unique=True)
    kind: str
    severity: str = "info"
    source: str | None = None
    doc_key: str | None = None
    payload: dict[str, Any] = _json(dict)
    status: str = Field(default="pending", index=True)  # pending | delivered | held | blocked | dead
    attempts: int = 0
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    planned: bool | None = Field(default=None, nullable=True)
    acked_at: datetime | None = _ts(nullable=True)
    acked_by: str | None = None
    ack_note: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))


class AlertDelivery(SQLModel, table=True):
    """The delivery of one alert to one sink, planned when the alert is queued.

    ``state``: ``pending`` (due at ``next_attempt_at``), ``sending`` (claimed by ``lease_owner``
    until ``lease_expires_at``: intent recorded, the send may be under way), ``delivered``,
    ``held`` (the sink is not configured or disabled here: waits, never dies), ``blocked`` (the
    sink reported a permanent error such as a bad token: waits for the fix), ``dead`` (retryable
    failures for longer than the dead-after age, or rejected by the sink; ``alerts retry`` requeues).
    """

    __tablename__ = "alert_delivery"
    __table_args__ = (sa.UniqueConstraint("alert_id", "sink"),)
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    sink: str = Field(index=True)
    state: str = Field(default="pending", index=True)
    attempts: int = 0
    next_attempt_at: datetime = _ts(index=True)
    lease_owner: str | None = None
    lease_expires_at: datetime | None = _ts(nullable=True)
    reconcile: bool = False  # the last attempt may have reached the sink: look before sending again
    external_id: str | None = None
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    requeued_at: datetime | None = _ts(nullable=True)
    delivered_at: datetime | None = _ts(nullable=True)


class SinkState(SQLModel, table=True):
    """What ``deliver`` remembers about a sink between runs: its resolved channel ID, whether it is
    blocked by a permanent error (and since when), and a fingerprint of its configuration."""

    __tablename__ = "sink_state"
    name: str = Field(primary_key=True)
    state: dict[str, Any] = _json(dict)  # sink-specific, e.g. {"channel_id": "C0123"}
    fingerprint: str | None = None
    blocked_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    blocked_at: datetime | None = _ts(nullable=True)
    updated_at: datetime = _ts()


class Delivery(SQLModel, table=True):
    """The audit trail: one row per attempt to deliver an alert to a sink, never deleted.

    ``outcome``: ``started`` (intent recorded, send under way or interrupted), ``sent``,
    ``reconciled`` (found already posted), ``retry``, ``ambiguous`` (may have been posted),
    ``blocked``, ``rejected``. Rows written before schema 3 have only ``ok``.
    """

    __tablename__ = "delivery"
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    sink: str
    ok: bool
    external_id: str | None = None  # e.g. Slack message ts
    detail: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    at: datetime = _ts()
    outcome: str | None = None
    owner: str | None = None
    finished_at: datetime | None = _ts(nullable=True)


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
    AlertDelivery,
    SinkState,
    Delivery,
    Appearance,
    Recheck,
    WithdrawalCheck,
)
"""Every regwatch table model, in dependency order."""
