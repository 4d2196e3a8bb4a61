"""The daemon: APScheduler 3.x around the three idempotent stages, one job per source.

Each source job runs ``crawl`` in a child process (Scrapy's reactor cannot restart), then
``process``, deadline reminders and ``deliver``; a ``deliver`` job retries the outbox every few
minutes and a daily job raises deadline reminders even when no crawl runs. Jobs run one at a time
(one worker thread: SQLite has one writer anyway), ``coalesce`` folds missed runs into one,
``misfire_grace_time`` comes from schedules.yaml. Only one daemon may run per database: a file
lock next to a SQLite database, a session advisory lock on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.clock import Clock, SystemClock
from pipeline.config import Config, SourceConfig
from pipeline.deliver import DeliveryPolicy, deliver_pending
from pipeline.errors import UserError
from pipeline.health import health_alert
from pipeline.outbox import Routing, enqueue_request
from pipeline.process import process_pending
from pipeline.remind import check_deadlines
from pipeline.sinks import build_from_config
from store import Store

log = logging.getLogger(__name__)
DELIVER_EVERY_MINUTES = 3
REMINDER_CRON = {"hour": 0, "minute": 10, "timezone": "Asia/Shanghai"}  # just after midnight in Beijing
_STREAK_WINDOW = 200  # runs read to find the start of a failure streak
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: ``kind`` is ``cycle`` (per source), ``reminders`` or ``deliver``."""

    id: str
    kind: str
    trigger: Any
    source: str | None = None


def cron_trigger(expr: str, *, timezone: str, jitter: int | None) -> CronTrigger:
    """A CronTrigger with crontab semantics: day-of-week 0 and 7 are Sunday.

    APScheduler's own ``from_crontab`` counts 0 as Monday (agronholm/apscheduler#286), so
    numeric weekdays are translated to names here.

    Example:
        >>> str(cron_trigger("0 9 * * 1-5", timezone="Asia/Tokyo", jitter=None).fields[4])
        'mon-fri'
    """
    minute, hour, day, month, dow = expr.split()
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_named_days(dow),
                       timezone=ZoneInfo(timezone), jitter=jitter or None)


def _named_days(field: str) -> str:
    def name(token: str) -> str:
        return _CRON_DAYS[int(token)] if token.isdigit() and int(token) <= 7 else token

    parts = []
    for part in field.split(","):
        step = ""
        if "/" in part:
            part, step = part.split("/", 1)
            step = "/" + step
        parts.append("-".join(name(t) for t in part.split("-")) + step)
    return ",".join(parts)


def source_trigger(src: SourceConfig, *, jitter: int) -> Any:
    if src.cron:
        return cron_trigger(src.cron, timezone=src.timezone, jitter=jitter)
    return IntervalTrigger(minutes=src.interval_minutes, timezone=ZoneInfo(src.timezone), jitter=jitter or None)


def job_specs(config: Config, *, crawlable: Callable[[str], bool]) -> list[JobSpec]:
    """The jobs for ``config``: one cycle per enabled, crawlable source, plus reminders and delivery."""
    specs = [
        JobSpec(f"cycle:{slug}", "cycle", source_trigger(src, jitter=config.defaults.jitter_seconds), slug)
        for slug, src in sorted(config.sources.items()) if src.enabled and crawlable(slug)
    ]
    specs.append(JobSpec("reminders", "reminders", CronTrigger(
        hour=REMINDER_CRON["hour"], minute=REMINDER_CRON["minute"], timezone=ZoneInfo(REMINDER_CRON["timezone"]))))
    specs.append(JobSpec("deliver", "deliver", IntervalTrigger(minutes=DELIVER_EVERY_MINUTES)))
    return specs


def delivery_policy(config: Config) -> DeliveryPolicy:
    """The outbox policy of a config (``defaults.dead_after_hours``)."""
    from datetime import timedelta

    return DeliveryPolicy(dead_after=timedelta(hours=config.defaults.dead_after_hours))


def crawlable(slug: str) -> bool:
    """A registered source with a spider."""
    from crawlers.sources import SOURCES

    return slug in SOURCES and SOURCES[slug].spider is not None


class Daemon:
    """The stages wired to one store and one config; every method is safe to run again."""

    def __init__(self, config: Config, store: Store, *, clock: Clock | None = None,
                 crawl: Callable[..., dict[str, Any]] | None = None) -> None:
        from crawlers.runner import run_crawl_subprocess

        self.config = config
        self.store = store
        self.clock = clock or SystemClock()
        self.crawl = crawl or run_crawl_subprocess
        self.sinks, routes, disabled = build_from_config(config)
        self.routing = Routing(tuple(routes), tuple(config.default_route))
        self.disabled = disabled
        for name, reason in disabled.items():
            log.warning("Disabled sink %s: %s", name, reason)

    def cycle(self, source: str) -> dict[str, Any]:
        """crawl → process → reminders → deliver for one source; a failed crawl still delivers."""
        from crawlers.runner import CrawlProcessError

        from crawlers.sources import SOURCES

        src = self.config.sources.get(source) or SourceConfig()
        started = self.clock.now()
        known = SOURCES.get(source)
        self.store.ensure_source(source, known.name if known else source, known.base_url if known else "", at=started)
        try:
            summary = self.crawl(source, self.store.dsn, base_url=src.base_url, max_pages=src.max_pages,
                                 timeout=self.config.defaults.crawl_timeout_seconds, delay=src.delay_seconds)
        except CrawlProcessError as exc:  # crashed or timed out: record it so the streak counts it
            log.error("%s", exc)
            run_id = self.store.start_run(source, started)
            self.store.finish_run(run_id, self.clock.now(), "failed", stats={},
                                  errors=[{"kind": "crash", "url": "", "message": str(exc)[:2000]}])
            summary = {"source": source, "status": "failed", "errors": [{"kind": "crash", "message": str(exc)}]}
        now = self.clock.now()
        report = process_pending(self.store, now=now, source=source, routing=self.routing,
                                authority=self.config.authority)
        self._check_health(source, now)
        reminders = check_deadlines(self.store, now=now, lead_days=self.config.defaults.deadline_lead_days,
                                    routing=self.routing)
        delivered = self.deliver()
        log.info("%s: crawl %s, %d new versions, %d alerts, %d reminders, %d delivered", source,
                 summary.get("status"), report.new_versions, report.alerts, reminders, delivered)
        return {"crawl": summary, "process": report.as_dict(), "reminders": reminders, "delivered": delivered}

    def _check_health(self, source: str, now: Any) -> None:
        threshold = self.config.defaults.max_consecutive_failures
        # The whole streak is read so its first run (the alert's dedup key) stays the same however long
        # it lasts; a streak longer than the window alerts again, as a reminder.
        alert = health_alert(source, self.store.runs(source, limit=_STREAK_WINDOW), threshold=threshold)
        if alert is not None:
            enqueue_request(self.store, alert, now, self.routing)

    def reminders(self) -> int:
        return check_deadlines(self.store, now=self.clock.now(), lead_days=self.config.defaults.deadline_lead_days,
                               routing=self.routing)

    def deliver(self) -> int:
        report = deliver_pending(self.store, self.sinks, now=self.clock.now(), routing=self.routing,
                                 policy=delivery_policy(self.config), disabled=self.disabled)
        return report.delivered

    def run_once(self) -> dict[str, Any]:
        """Every enabled source's cycle once, then reminders and delivery (for cron and tests)."""
        results = {spec.source: self.cycle(spec.source) for spec in job_specs(self.config, crawlable=crawlable)
                   if spec.kind == "cycle" and spec.source}
        self.reminders()
        self.deliver()
        return results

    def scheduler(self) -> BlockingScheduler:
        """A BlockingScheduler with every job added (not started)."""
        sched = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": self.config.defaults.misfire_grace_seconds},
            timezone=ZoneInfo("UTC"),
        )
        for spec in job_specs(self.config, crawlable=crawlable):
            func = {"cycle": self.cycle, "reminders": self.reminders, "deliver": self.deliver}[spec.kind]
            args = [spec.source] if spec.source else []
            sched.add_job(func, spec.trigger, args=args, id=spec.id, name=spec.id, replace_existing=True)
        return sched

    def serve(self) -> None:
        """Run until SIGTERM/SIGINT; the running job finishes first (``shutdown(wait=True)``)."""
        with leader_lock(self.store):
            sched = self.scheduler()

            def stop(signum: int, _frame: Any) -> None:
                log.info("signal %s: stopping after the running job", signum)
                sched.shutdown(wait=True)

            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            log.info("daemon started: %s", ", ".join(job.id for job in sched.get_jobs()))
            sched.start()


@contextlib.contextmanager
def leader_lock(store: Store) -> Iterator[None]:
    """Hold the one-daemon-per-database lock, or raise UserError saying another daemon runs."""
    url = store.engine.url
    if url.get_backend_name() == "postgresql":
        with store.engine.connect() as conn:  # a dedicated session: the lock dies with it
            got = conn.exec_driver_sql("SELECT pg_try_advisory_lock(hashtext('regwatch:scheduler'))").scalar()
            if not got:
                raise UserError(f"another regwatch daemon already runs on {store.url}", "stop it first")
            try:
                yield
            finally:
                conn.exec_driver_sql("SELECT pg_advisory_unlock(hashtext('regwatch:scheduler'))")
        return
    import fcntl

    database = url.database
    if not database or database == ":memory:":
        yield
        return
    path = Path(f"{database}.daemon.lock")
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another regwatch daemon already runs on {database} (lock {path})",
                            "stop it first") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = ["Daemon", "JobSpec", "crawlable", "cron_trigger", "delivery_policy", "job_specs", "leader_lock"]
