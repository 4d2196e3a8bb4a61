"""The one-daemon-per-database lock, and who holds it (``regwatch deliver`` asks before it sends).

PostgreSQL: a session advisory lock (two keys: ``regwatch:scheduler`` and the current schema, so
deployments in different schemas of one database do not block each other) taken on a dedicated
AUTOCOMMIT connection, so the session never sits idle in a transaction and
``idle_in_transaction_session_timeout`` cannot end it; the session turns both idle timeouts off
for itself and names its holder in ``application_name``. If the session dies anyway, the lock
is gone with it: :meth:`LeaderLock.check` (run before every daemon job) then raises LockLost.

SQLite: an exclusive ``flock`` on ``<real path of the database>.daemon.lock`` (symlinks
resolved, so two paths to one file are one lock); the file names its holder. A private
in-memory database has no lock.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pipeline.errors import UserError

_PG_KEYS = "hashtext('regwatch:scheduler'), hashtext(coalesce(current_schema(), ''))"
_PG_HELD = ("SELECT l.pid, a.application_name, a.backend_start FROM pg_locks l "
            "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid = hashtext('regwatch:scheduler')::oid "
            "AND l.objid = hashtext(coalesce(current_schema(), ''))::oid")


class LockLost(UserError):
    """The daemon lock this process held is gone (its database session died or its file was replaced)."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"the regwatch daemon lock on {where} was lost ({why}); stopped so as not to run "
                         "beside another daemon",
                         "check the database connection (server restarts, idle_session_timeout, "
                         "network) and start the daemon again")


@dataclass
class LeaderLock:
    """A held daemon lock: ``holder`` describes this process; ``check()`` raises LockLost when it is gone.

    ``session`` is the PostgreSQL connection that holds the lock (None on SQLite), for diagnostics.
    """

    where: str
    holder: str
    _check: Callable[[], None]
    session: Any = None

    def check(self) -> None:
        self._check()


def describe_holder(now: datetime | None = None) -> str:
    """``regwatch daemon pid N on HOST since …``: what the lock records about its holder.

    Example:
        >>> describe_holder(datetime(2025, 1, 1, tzinfo=timezone.utc)).endswith("since 2025-01-01T00:00:00+00:00")
        True
    """
    import socket

    at = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    return f"regwatch daemon pid {os.getpid()} on {socket.gethostname()} since {at}"


def lock_path(database: str) -> Path:
    """The SQLite lock file: next to the database's real path (symlinks resolved).

    Example:
        >>> lock_path("/tmp/../tmp/r.db").name
        'r.db.daemon.lock'
    """
    return Path(os.path.realpath(database) + ".daemon.lock")


def _is_pg(store: Any) -> bool:
    return store.engine.url.get_backend_name() == "postgresql"


def _sqlite_database(store: Any) -> str | None:
    database = store.engine.url.database
    return None if not database or database == ":memory:" else database


@contextlib.contextmanager
def leader_lock(store: Any) -> Iterator[LeaderLock]:
    """Hold the one-daemon-per-database lock, or raise UserError naming the daemon that holds it."""
    if _is_pg(store):
        with _pg_lock(store) as lock:
            yield lock
        return
    database = _sqlite_database(store)
    if database is None:
        yield LeaderLock(store.url, describe_holder(), lambda: None)
        return
    with _file_lock(lock_path(database)) as lock:
        yield lock


def lock_holder(store: Any) -> str | None:
    """Who holds the daemon lock of ``store`` (a daemon is running), or None.

    ``regwatch deliver`` uses it to tell an operator that a daemon delivers too.
    """
    if _is_pg(store):
        with store.engine.connect() as conn:
            row = conn.exec_driver_sql(_PG_HELD).first()
        if row is None:
            return None
        since = f" since {row.backend_start.isoformat(timespec='seconds')}" if row.backend_start else ""
        return f"{row.application_name or 'a regwatch daemon'} (PostgreSQL backend {row.pid}{since})"
    database = _sqlite_database(store)
    if database is None:
        return None
    return _file_holder(lock_path(database))


# -- PostgreSQL ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _pg_lock(store: Any) -> Iterator[LeaderLock]:
    holder = describe_holder()
    conn = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        names = [n for (n,) in conn.exec_driver_sql(
            "SELECT name FROM pg_settings WHERE name IN ('idle_in_transaction_session_timeout', "
            "'idle_session_timeout')")]
        for name in names:  # idle_session_timeout exists from PostgreSQL 14 on
            conn.exec_driver_sql("SELECT set_config(%s, '0', false)", (name,))
        conn.exec_driver_sql("SELECT set_config('application_name', %s, false)", (holder[:63],))
        if not conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({_PG_KEYS})").scalar():
            other = lock_holder(store) or "another regwatch daemon"
            raise UserError(f"another regwatch daemon already runs on {store.url}: {other}", "stop it first")

        def check() -> None:
            try:
                held = conn.exec_driver_sql(_PG_HELD + " AND l.pid = pg_backend_pid()").first()
            except sa.exc.SQLAlchemyError as exc:
                cause = getattr(exc, "orig", None) or exc
                raise LockLost(store.url, f"its database session ended: {str(cause).strip()}") from None
            if held is None:
                raise LockLost(store.url, "the advisory lock is no longer held by this session")

        try:
            yield LeaderLock(store.url, holder, check, conn)
        finally:
            with contextlib.suppress(sa.exc.SQLAlchemyError):  # a dead session holds nothing any more
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_KEYS})")
    finally:
        conn.invalidate()  # never hand a session that may still hold the lock back to the pool
        conn.close()


# -- SQLite -------------------------------------------------------------------------------------


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[LeaderLock]:
    import fcntl

    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip() or "another regwatch daemon"
            raise UserError(f"another regwatch daemon already runs on {path.name.removesuffix('.daemon.lock')}: "
                            f"{other} (lock {path})", "stop it first") from None
        holder = describe_holder()
        handle.seek(0)
        handle.truncate()
        handle.write(holder + "\n")
        handle.flush()
        inode = os.fstat(handle.fileno()).st_ino

        def check() -> None:
            try:
                same = os.stat(path).st_ino == inode
            except FileNotFoundError:
                same = False
            if not same:
                raise LockLost(str(path), "the lock file was removed or replaced")

        try:
            yield LeaderLock(str(path), holder, check)
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _file_holder(path: Path) -> str | None:
    import fcntl

    try:
        handle = path.open("r", encoding="utf-8")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip() or f"a regwatch daemon (lock {path})"
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


__all__ = ["LeaderLock", "LockLost", "describe_holder", "leader_lock", "lock_holder", "lock_path"]
