"""The one place that opens SQLModel sessions: read and write units of work for ``Store``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy.engine import Engine
from sqlmodel import Session

from store.db import DEFAULT_TIMEOUT, translate_errors, writer
from store.errors import NotFound
from store.models import Source


class StoreBase:
    """Holds the engine; ``_read()``/``_write()`` give one session per unit of work.

    Sessions use ``expire_on_commit=False``, so returned rows stay readable once detached.
    """

    def __init__(self, engine: Engine, where: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.engine = engine
        self.where = where
        self.timeout = timeout
        self._writer = writer(engine)

    @contextlib.contextmanager
    def _read(self) -> Iterator[Session]:
        with translate_errors(self.where, self.timeout), Session(self.engine, expire_on_commit=False) as session:
            yield session  # closing (not rolling back) keeps the loaded rows readable

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        with translate_errors(self.where, self.timeout), Session(self._writer, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @staticmethod
    def _require_source(session: Session, slug: str) -> None:
        if session.get(Source, slug) is None:
            raise NotFound("source", slug)
