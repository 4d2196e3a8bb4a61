"""One daemon per database: the lock survives idle timeouts, notices when it is lost, resolves
symlinked SQLite paths, and tells ``deliver`` who holds it."""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

import pipeline.daemon
from pipeline.config import load_config
from pipeline.daemon import Daemon
from pipeline.errors import UserError
from pipeline.leader import LockLost, leader_lock, lock_holder, lock_path
from store import Store

CONFIG = "defaults: {jitter_seconds: 0}\nsources:\n  mofcom: {interval_minutes: 600, enabled: false}\n"


# -- SQLite ----------------------------------------------------------------------------------------


def test_a_symlinked_sqlite_path_is_the_same_lock(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    real = tmp_path / "data" / "regwatch.db"
    link = tmp_path / "link.db"
    Store.open(real).close()
    link.symlink_to(real)
    with Store.open(real) as store, leader_lock(store) as lock:
        assert lock.where == str(real) + ".daemon.lock" and lock_path(str(link)) == Path(lock.where)
        with Store.open(link) as other:
            with pytest.raises(UserError, match=f"another regwatch daemon already runs on regwatch.db: "
                                                f"regwatch daemon pid {os.getpid()} on "):
                with leader_lock(other):
                    pass
            assert lock_holder(other) == lock.holder
    with Store.open(link) as store:
        assert lock_holder(store) is None
        with leader_lock(store):
            pass
    assert not (tmp_path / "link.db.daemon.lock").exists()


def test_a_replaced_lock_file_is_a_lost_lock(tmp_path: Path) -> None:
    with Store.open(tmp_path / "d.db") as store, leader_lock(store) as lock:
        lock.check()
        Path(lock.where).unlink()  # e.g. a clean-up job: another daemon could now take a new file
        with pytest.raises(LockLost, match="lock file was removed or replaced"):
            lock.check()


def test_in_memory_database_has_no_lock() -> None:
    with Store.in_memory() as store, leader_lock(store) as lock:
        lock.check()
        assert lock_holder(store) is None


def test_the_daemon_stops_when_its_lock_is_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "schedules.yaml").write_text(CONFIG, encoding="utf-8")
    config = load_config(tmp_path / "schedules.yaml", env={})
    monkeypatch.setattr(pipeline.daemon, "DELIVER_EVERY_MINUTES", 0.01)  # a deliver job every 0.6 s
    monkeypatch.setattr(pipeline.daemon.signal, "signal", lambda *_args: None)  # keep pytest's handlers
    with Store.open(tmp_path / "d.db") as store:
        runner = Daemon(config, store)
        delivered: list[int] = []
        real_deliver = runner.deliver

        def deliver() -> int:
            delivered.append(1)
            return real_deliver()

        runner.deliver = deliver  # type: ignore[method-assign]
        threading.Timer(1.0, lambda: lock_path(str(tmp_path / "d.db")).unlink()).start()
        started = time.monotonic()
        with pytest.raises(LockLost, match="daemon lock on .*d.db.daemon.lock was lost"):
            runner.serve()
    assert delivered and time.monotonic() - started < 10
    assert runner.lost is not None


# -- PostgreSQL ------------------------------------------------------------------------------------


@pytest.fixture
def pg_url(pg_url_factory) -> sa.URL:
    """A PostgreSQL URL whose search_path is a fresh schema (dropped afterwards)."""
    return pg_url_factory()


@pytest.mark.pg
def test_pg_lock_outlives_idle_in_transaction_timeout(pg_url: sa.URL) -> None:
    with Store.open(pg_url) as store, leader_lock(store) as lock:
        lock.session.exec_driver_sql("SET idle_in_transaction_session_timeout = '1s'")
        time.sleep(2)
        with Store.open(pg_url) as other:
            with pytest.raises(UserError, match="another regwatch daemon already runs on postgresql"):
                with leader_lock(other):
                    pass
            holder = lock_holder(other)
            assert holder is not None and holder.startswith(f"regwatch daemon pid {os.getpid()} on ")
            with other.engine.connect() as conn:
                state = conn.exec_driver_sql("SELECT state FROM pg_stat_activity WHERE application_name = %s",
                                             (lock.holder[:63],)).scalar()
        assert state == "idle"  # not "idle in transaction": there is no transaction to time out
        lock.check()
    with Store.open(pg_url) as store:
        assert lock_holder(store) is None


@pytest.mark.pg
def test_pg_lock_in_a_transaction_would_be_killed(pg_url: sa.URL) -> None:
    """The failure the autocommit session avoids: a lock session idle in a transaction is ended by
    the server, and a second daemon gets the lock (this is what happened before)."""
    with Store.open(pg_url) as store, store.engine.connect() as conn:
        conn.exec_driver_sql("SET idle_in_transaction_session_timeout = '1s'")
        assert conn.exec_driver_sql(
            "SELECT pg_try_advisory_lock(hashtext('regwatch:scheduler'), hashtext(current_schema()))").scalar()
        time.sleep(2)
        with Store.open(pg_url) as other, leader_lock(other):
            pass  # taken over
        conn.invalidate()


@pytest.mark.pg
def test_pg_lock_lost_with_its_session_is_noticed(pg_url: sa.URL) -> None:
    with Store.open(pg_url) as store, leader_lock(store) as lock:
        backend = lock.session.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_terminate_backend(%s)", (backend,)).scalar()
        with pytest.raises(LockLost, match="its database session ended"):
            lock.check()
        with Store.open(pg_url) as other, leader_lock(other):
            pass  # the lock went with the session: a new daemon may start, the old one stops


@pytest.mark.pg
def test_pg_locks_of_two_schemas_are_independent(pg_url: sa.URL) -> None:
    schema = f"rw_lock_{uuid.uuid4().hex[:12]}"
    with Store.open(pg_url) as store, leader_lock(store):
        with store.engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        try:
            with Store.open(pg_url.update_query_dict({"options": f"-csearch_path={schema}"})) as other:
                assert lock_holder(other) is None
                with leader_lock(other):
                    pass
        finally:
            with store.engine.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
