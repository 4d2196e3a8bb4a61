"""``regwatch doctor``: check a deployment end to end, one verdict per check, changing nothing.

Each check returns :class:`alerts.base.Check` lines (``ok`` / ``warn`` / ``FAIL`` and a detail
that says what to do). The database is opened without migrating it, its write test is rolled
back, sinks test themselves (``check()``: Slack asks its Web API, JSONL opens its file for
appending) and send nothing, and source sites get one ``HEAD`` each (skipped ``offline``).

Example:
    >>> checks, config = check_config(Path("x.yaml"), lambda: _raise_config("x.yaml: sources.mofcom.cron: bad"))
    >>> checks, config
    ([Check(name='config', verdict='FAIL', detail='x.yaml: sources.mofcom.cron: bad')], None)
    >>> has_failure(checks)
    True
"""

from __future__ import annotations

import shutil
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from alerts.base import FAIL, OK, WARN, Check
from pipeline.config import Config, ConfigError

HEAD_TIMEOUT = 5.0
LOW_DISK_BYTES = 100 * 1024 * 1024


def has_failure(checks: Iterable[Check]) -> bool:
    """True when any check FAILed (``regwatch doctor`` then exits 1).

    Example:
        >>> has_failure([Check("a", OK, ""), Check("b", WARN, "")]), has_failure([Check("c", FAIL, "")])
        (False, True)
    """
    return any(c.verdict == FAIL for c in checks)


def human_size(size: int) -> str:
    """Bytes as a short human size.

    Example:
        >>> human_size(512), human_size(3 * 1024 * 1024 + 1)
        ('512 B', '3.0 MB')
    """
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


# -- configuration -------------------------------------------------------------------------------


def _raise_config(message: str) -> Config:
    raise ConfigError(message)


def check_config(path: Path | None, load: Callable[[], Config]) -> tuple[list[Check], Config | None]:
    """Load the configuration the way every command does; its error text when it does not load."""
    try:
        config = load()
    except ConfigError as exc:
        return [Check("config", FAIL, str(exc))], None
    if path is None:
        return [Check("config", WARN, "no schedules.yaml (built-in defaults: no sources, console only); pass "
                      "--config FILE or set REGWATCH_CONFIG")], config
    enabled = sum(1 for s in config.sources.values() if s.enabled)
    return [Check("config", OK, f"{path}: {enabled} enabled source(s), {len(config.sinks)} sink(s), "
                  f"{len(config.routes)} route(s)")], config


# -- database ------------------------------------------------------------------------------------


@dataclass
class DatabaseReport:
    checks: list[Check]
    store: Any | None  # a Store whose schema is current (None: later checks that read it are skipped)


def check_database(db: str | None) -> DatabaseReport:
    """Reachable, migrated (no pending migration), writable (rolled back), and its size."""
    from pipeline.migrations import MIGRATIONS
    from store import Store
    from store.db import describe, make_engine, to_url
    from store.errors import StoreError

    try:
        url = to_url(db)
    except sa.exc.ArgumentError as exc:
        return DatabaseReport([Check("database", FAIL, f"--db {db!r} is not a path or URL: {exc}")], None)
    where = describe(url)
    backend = url.get_backend_name()
    if backend == "sqlite" and url.database and url.database != ":memory:" and not Path(url.database).exists():
        return DatabaseReport([Check("database", FAIL, f"{where} does not exist yet: run `regwatch db upgrade` "
                                     "(or check --db / REGWATCH_DB)")], None)
    try:
        engine = make_engine(url)
    except StoreError as exc:
        return DatabaseReport([Check("database", FAIL, str(exc))], None)
    store = Store(engine, where, migrations=MIGRATIONS)
    try:
        state = store.schema_state()
    except (StoreError, sa.exc.SQLAlchemyError) as exc:
        store.close()
        return DatabaseReport([Check("database", FAIL, _db_error(where, exc))], None)
    checks = [Check("database", OK, f"{where} reachable ({backend})")]
    schema = _schema_check(where, state, MIGRATIONS.version)
    checks.append(schema)
    if not (state.fresh or state.foreign_tables):  # the write test needs the _migrations table
        checks.append(_write_check(store))
    checks.append(_size_check(store, url))
    if schema.verdict != OK:
        store.close()
        return DatabaseReport(checks, None)
    return DatabaseReport(checks, store)


def _db_error(where: str, exc: BaseException) -> str:
    from store.errors import StoreError

    if isinstance(exc, StoreError):  # names the database and the fix already
        return str(exc)
    orig = getattr(exc, "orig", None)
    return f"cannot read {where}: {str(orig or exc).strip()}"


def _schema_check(where: str, state: Any, head: int) -> Check:
    if state.foreign_tables:
        return Check("database schema", FAIL, f"{where} has tables {', '.join(state.foreign_tables[:5])} but no "
                     "_migrations table: not a regwatch database (pass another --db)")
    if state.fresh:
        return Check("database schema", FAIL, f"{where} is empty: run `regwatch db upgrade` to create the schema")
    if state.unknown:
        return Check("database schema", FAIL, f"written by a newer regwatch (unknown migrations "
                     f"{', '.join(state.unknown)}): upgrade regwatch (pip install -U regwatch)")
    if state.pending:
        names = ", ".join(m.name for m in state.pending)
        return Check("database schema", FAIL, f"schema {state.db_version} of {head}, pending migrations {names}: "
                     "back it up, then run `regwatch db upgrade`")
    return Check("database schema", OK, f"schema version {state.db_version} (up to date)")


def _write_check(store: Any) -> Check:
    """Insert a row into ``_migrations`` inside a transaction and roll it back: proves the lock and permissions."""
    from datetime import datetime, timezone

    from store.db import writer
    from store.migrations import MIGRATIONS_TABLE

    try:
        with writer(store.engine).connect() as conn:
            trans = conn.begin()
            try:
                conn.execute(MIGRATIONS_TABLE.insert().values(name="doctor-write-check", version=0,
                                                              applied_at=datetime.now(timezone.utc)))
            finally:
                trans.rollback()
    except sa.exc.SQLAlchemyError as exc:
        text = str(getattr(exc, "orig", None) or exc).strip()
        hint = ("another process holds the write lock: wait, or look for a stuck regwatch"
                if "locked" in text.lower() else "check the file's and directory's permissions, or the role's grants")
        return Check("database write", FAIL, f"cannot write: {text} ({hint})")
    return Check("database write", OK, "a test write (rolled back) succeeded")


def _size_check(store: Any, url: sa.URL) -> Check:
    if url.get_backend_name() == "postgresql":
        try:
            with store.engine.connect() as conn:
                size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
        except sa.exc.SQLAlchemyError as exc:
            return Check("database size", WARN, f"pg_database_size failed: {str(getattr(exc, 'orig', exc)).strip()}")
        return Check("database size", OK, f"{human_size(int(size or 0))} (PostgreSQL database {url.database})")
    if not url.database or url.database == ":memory:":
        return Check("database size", OK, "in memory")
    path = Path(url.database)
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    free = shutil.disk_usage(path.parent).free
    detail = f"{human_size(size)} ({path}, with its WAL); {human_size(free)} free on its file system"
    if free < max(LOW_DISK_BYTES, size):
        return Check("database size", WARN, detail + ": low — a migration or VACUUM needs room up to the "
                     "database's size")
    return Check("database size", OK, detail)


# -- sinks ---------------------------------------------------------------------------------------


def check_sinks(config: Config, store: Any | None) -> list[Check]:
    """Build each sink on its own (so every broken one is reported) and let it test itself."""
    from alerts.errors import SinkConfigError
    from alerts.registry import build_sinks

    checks: list[Check] = []
    for name, cfg in config.sinks.items():
        try:
            sinks, disabled = build_sinks({name: cfg})
        except SinkConfigError as exc:
            checks.append(Check(f"sink {name}", FAIL, f"{exc} (see README 'Configuration')"))
            continue
        if name in disabled:
            checks.append(Check(f"sink {name}", WARN, f"disabled: {disabled[name]}; its alerts wait (held) until "
                                "it is enabled"))
            continue
        sink = sinks[name]
        state = store.sink_state(name) if store is not None else None
        if state is not None and state.state and callable(getattr(sink, "import_state", None)):
            sink.import_state(state.state)
        check = getattr(sink, "check", None)
        if callable(check):
            checks.extend(check())
        else:
            checks.append(Check(f"sink {name}", OK, f"kind {getattr(sink, 'kind', '?')}: nothing to check"))
    return checks


# -- sources -------------------------------------------------------------------------------------


def check_sources(config: Config, *, offline: bool, timeout: float = HEAD_TIMEOUT) -> list[Check]:
    """One ``HEAD`` per enabled source's base URL (the configured replica, else the live site)."""
    from crawlers.sources import SOURCES
    from pipeline.fetch import USER_AGENT

    checks: list[Check] = []
    for slug, src in config.sources.items():
        if not src.enabled:
            continue
        known = SOURCES.get(slug)
        url = src.base_url or (known.base_url if known else None)
        name = f"source {slug}"
        if url is None:
            checks.append(Check(name, FAIL, f"unknown source {slug!r}; use one of {', '.join(sorted(SOURCES))}"))
        elif offline:
            checks.append(Check(name, OK, f"skipped (--offline): {url}"))
        else:
            checks.append(head_check(name, url, timeout=timeout, user_agent=USER_AGENT))
    return checks


def head_check(name: str, url: str, *, timeout: float, user_agent: str) -> Check:
    """``HEAD url``: any HTTP answer below 500 means the site is reachable from here."""
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": user_agent})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http(s) from config)
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (socket.timeout, TimeoutError)):
            reason = f"no answer within {timeout:g} s"
        return Check(name, FAIL, f"{url} unreachable: {reason} (check DNS, the firewall or a proxy; "
                     "crawls will fail)")
    if status >= 500:
        return Check(name, WARN, f"{url} answers HTTP {status} (the site has trouble; crawls may fail for now)")
    if status >= 400 and status not in (403, 405, 412):
        return Check(name, WARN, f"{url} answers HTTP {status} to HEAD")
    note = "" if status < 400 else " (a HEAD refusal or anti-bot page; the site is reachable)"
    return Check(name, OK, f"{url} reachable: HTTP {status}{note}")


# -- daemon lock and outbox ----------------------------------------------------------------------


def check_daemon(store: Any) -> list[Check]:
    """Who holds the daemon lock, and what waits in the outbox (blocked sinks, dead deliveries)."""
    from pipeline.leader import lock_holder

    holder = lock_holder(store)
    checks = [Check("daemon lock", OK, f"held by {holder}" if holder else "free (no daemon runs on this database)")]
    counts = store.delivery_counts()
    blocked = False
    for state in store.sink_states():
        if state.blocked_reason:
            blocked = True
            waiting = counts.get(state.name, {}).get("blocked", 0)
            since = state.blocked_at.strftime("%Y-%m-%d %H:%M UTC") if state.blocked_at else "?"
            checks.append(Check(f"outbox {state.name}", WARN, f"blocked since {since}: {state.blocked_reason}; "
                                f"{waiting} alert(s) wait and go out by themselves once it is fixed"))
    dead = sum(c.get("dead", 0) for c in counts.values())
    if dead:
        checks.append(Check("outbox dead", WARN, f"{dead} dead deliveries: see `regwatch alerts list --state dead`, "
                            "resend with `regwatch alerts retry --all-dead`"))
    held = sum(c.get("held", 0) for c in counts.values())
    if held:
        sinks = sorted(s for s, c in counts.items() if c.get("held"))
        checks.append(Check("outbox held", WARN, f"{held} deliveries held for sink(s) {', '.join(sinks)} (not "
                            "configured or disabled in the configuration that delivered)"))
    if not (blocked or dead or held):
        pending = sum(c.get("pending", 0) for c in counts.values())
        checks.append(Check("outbox", OK, f"{pending} pending, nothing blocked, held or dead"))
    return checks


def run_checks(*, config_path: Path | None, load_config: Callable[[], Config], db: str | None,
               offline: bool) -> list[Check]:
    """Every check, in order: config, database, sinks, sources, daemon lock and outbox."""
    checks, config = check_config(config_path, load_config)
    report = check_database(db)
    checks += report.checks
    try:
        if config is not None:
            checks += check_sinks(config, report.store)
            checks += check_sources(config, offline=offline)
        if report.store is not None:
            checks += check_daemon(report.store)
    finally:
        if report.store is not None:
            report.store.close()
    return checks


__all__ = ["check_config", "check_daemon", "check_database", "check_sinks", "check_sources", "has_failure",
           "head_check", "human_size", "run_checks"]
