"""The one place that opens SQLModel sessions: read and write units of work for ``Store``.

Every ``Store`` method runs in its own transaction unless the caller holds a *unit of work*
(``with store.unit_of_work(): ...``): then every read and write inside it shares one session and
one transaction, committed when the block ends and rolled back (nothing written at all) when it
raises — or when the process dies half-way, since an uncommitted transaction never reaches the
file. The process stage uses it so a version, its tags, relations, change row, alerts, planned
deliveries and the capture's new state are stored together or not at all.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, select

from store.db import DEFAULT_TIMEOUT, translate_errors, writer
from store.errors import NotFound
from store.models import Capture, Source, Version


def core(session: Session) -> Connection:
    """``session``'s connection, for a Core statement in its transaction: after flushing what the
    session holds unwritten (as an ORM query's autoflush would), so the statement sees it. A lookup
    of ids or a few columns costs a fraction of the same ``session.exec`` (no ORM compile and
    loading context), which matters in the process stage's per-capture unit of work."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()


def insert_rows(session: Session, rows: Sequence[SQLModel]) -> list[int]:
    """INSERT new model objects of one table with Core statements, in ``session``'s transaction;
    returns their ids. For rows nothing reads back as objects in the same unit of work: the ORM's
    flush of one new row costs about ten times the statement here (identity map, unit-of-work sort,
    attribute events), and the process stage writes several per document. Column values are the
    objects' own, so the models' Python-side defaults apply as with ``session.add``."""
    if not rows:
        return []
    table = type(rows[0]).__table__  # type: ignore[attr-defined]
    names = [c.name for c in table.columns if not c.primary_key]
    values = [{name: state.get(name) for name in names} for state in (vars(row) for row in rows)]
    connection, insert = core(session), table.insert()  # values as parameters: one cached statement
    return [connection.execute(insert, value).inserted_primary_key[0] for value in values]


class StoreBase:
    """Holds the engine; ``_read()``/``_write()`` give one session per unit of work.

    Sessions use ``expire_on_commit=False``, so returned rows stay readable once detached.
    """

    def __init__(self, engine: Engine, where: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.engine = engine
        self.where = where
        self.timeout = timeout
        self._writer = writer(engine)
        self._local = threading.local()  # the open unit of work of this thread, if any

    def _current(self) -> Session | None:
        return getattr(self._local, "session", None)

    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """Run every store call inside the block in ONE write transaction (nested blocks join it).

        Example:
            >>> with store.unit_of_work():
            ...     _ = store.ensure_source("miit", "工业和信息化部")
            ...     _ = store.ensure_source("govcn", "中国政府网")
        """
        if self._current() is not None:
            yield
            return
        with translate_errors(self.where, self.timeout), Session(self._writer, expire_on_commit=False) as session:
            self._local.session = session
            try:
                yield
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                self._local.session = None

    @contextlib.contextmanager
    def _read(self) -> Iterator[Session]:
        current = self._current()
        if current is not None:
            yield current  # reads inside a unit of work see its own uncommitted writes
            return
        with translate_errors(self.where, self.timeout), Session(self.engine, expire_on_commit=False) as session:
            yield session  # closing (not rolling back) keeps the loaded rows readable

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        current = self._current()
        if current is not None:
            yield current
            current.flush()  # what a commit would have made visible to the next call
            return
        with translate_errors(self.where, self.timeout), Session(self._writer, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @staticmethod
    def _require_source(session: Session, slug: str) -> None:
        """NotFound unless source ``slug`` exists (asked once per session: sources are never deleted)."""
        known = session.info.setdefault("known_sources", set())
        if slug in known:
            return
        if session.get(Source, slug) is None:
            raise NotFound("source", slug)
        known.add(slug)

    @staticmethod
    def _document_of(session: Session, version_id: int) -> int:
        """The document id of version ``version_id``; NotFound when there is none. Reads one column:
        loading the ORM row would read and decode its text and ``fields`` JSON just to test it."""
        found = core(session).execute(select(Version.document_id).where(Version.id == version_id)).scalar()
        if found is None:
            raise NotFound("version", version_id)
        return found

    @staticmethod
    def _require_capture(session: Session, capture_id: int) -> None:
        """NotFound unless capture ``capture_id`` exists (its id only: never its body)."""
        if core(session).execute(select(Capture.id).where(Capture.id == capture_id)).first() is None:
            raise NotFound("capture", capture_id)
