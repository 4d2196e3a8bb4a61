"""The daemon: APScheduler 3.x around the three idempotent stages, one job per source.

Each source job runs ``crawl`` in a child process (Scrapy's reactor cannot restart), then
``process``, deadline reminders and ``deliver``; a ``deliver`` job retries the outbox every few
minutes and a daily job raises deadline reminders even when no crawl runs. Jobs run one at a time
(one worker thread: SQLite has one writer anyway), ``coalesce`` folds missed runs into one,
``misfire_grace_time`` comes from schedules.yaml. Only one daemon may run per database
(``pipeline.leader``: a file lock next to a SQLite database, a session advisory lock on
PostgreSQL), and every job first checks that the lock is still held.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.clock import Clock, SystemClock
from pipeline.config import Config, ConfigReport, SourceConfig, check_config
from pipeline.crawl import crawl_source
from pipeline.logs import log_context
from pipeline.deliver import DeliveryPolicy, deliver_pending
from pipeline.leader import LeaderLock, LockLost, leader_lock, lock_holder
from pipeline.outbox import Routing
from pipeline.process import process_pending
from pipeline.remind import check_deadlines
from pipeline.retention import prune_old_captures
from pipeline.sinks import build_from_config
from pipeline.triggers import cron_trigger, schedule_trigger
from pipeline.withdrawals import check_withdrawals
from store import Store

log = logging.getLogger(__name__)
DELIVER_EVERY_MINUTES = 3
REMINDER_CRON = {"hour": 0, "minute": 10, "timezone": "Asia/Shanghai"}  # just after midnight in Beijing
PRUNE_CRON = {"hour": 4, "minute": 40, "timezone": "UTC"}  # daily, when defaults.capture_retention_days is set


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: ``kind`` is ``cycle`` (per source), ``reminders`` or ``deliver``."""

    id: str
    kind: str
    trigger: Any
    source: str | None = None


def source_trigger(src: SourceConfig, *, jitter: int) -> Any:
    """The trigger of one source: its cron (crontab semantics) or its interval, in its time zone."""
    return schedule_trigger(src.cron, src.interval_minutes, timezone=src.timezone, jitter=jitter)


def job_specs(config: Config, *, crawlable: Callable[[str], bool]) -> list[JobSpec]:
    """The jobs for ``config``: one cycle per enabled, crawlable source, plus reminders and delivery."""
    specs = [
        JobSpec(f"cycle:{slug}", "cycle", source_trigger(src, jitter=config.defaults.jitter_seconds), slug)
        for slug, src in sorted(config.sources.items()) if src.enabled and crawlable(slug)
    ]
    specs.append(JobSpec("reminders", "reminders", CronTrigger(
        hour=REMINDER_CRON["hour"], minute=REMINDER_CRON["minute"], timezone=ZoneInfo(REMINDER_CRON["timezone"]))))
    specs.append(JobSpec("deliver", "deliver", IntervalTrigger(minutes=DELIVER_EVERY_MINUTES)))
    if config.defaults.capture_retention_days is not None:
        specs.append(JobSpec("prune", "prune", CronTrigger(
            hour=PRUNE_CRON["hour"], minute=PRUNE_CRON["minute"], timezone=ZoneInfo(PRUNE_CRON["timezone"]))))
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
        self.lock: LeaderLock | None = None
        self.lost: LockLost | None = None
        self.sched: BlockingScheduler | None = None
        sinks, _, disabled = build_from_config(config)
        self._use(config, sinks, disabled)

    def _use(self, config: Config, sinks: dict[str, Any], disabled: dict[str, str]) -> None:
        self.config = config
        self.sinks = sinks
        self.routing = Routing.from_config(config)
        self.disabled = disabled
        for name, reason in disabled.items():
            log.warning("Disabled sink %s: %s", name, reason)

    def reload(self, path: str | Path | None = None, *, env: Mapping[str, str] | None = None) -> list[str]:
        """Switch to the configuration in ``path`` (default: the file this one came from).

        The file is checked exactly as at start (``pipeline.config.check_config``). When it has
        errors, the old configuration keeps running, and the problems are logged and returned
        (one ``FILE:LINE: key: problem`` line each). When it is valid, sinks, routing and defaults
        follow it and the jobs are rebuilt (``replace_existing``; a source no longer scheduled
        loses its job). Returns ``[]`` then. SIGHUP calls this between jobs (``serve``).
        """
        path = path if path is not None else self.config.path
        if path is None:
            problem = "no configuration file to reload: the daemon runs on the built-in defaults (start it with --config)"
            log.error("config reload: %s", problem)
            return [problem]
        report: ConfigReport = check_config(path, env=env)
        problems = [str(p) for p in report.errors]
        if not problems and report.config is not None:
            try:
                wiring = build_from_config(report.config)
            except Exception as exc:  # validated above; still never trade a running config for a broken one
                problems = [f"{path}: {type(exc).__name__}: {exc}"]
        if problems or report.config is None:
            log.error("config reload: %s has %d error(s); keeping the old configuration:\n  %s", path, len(problems),
                      "\n  ".join(problems))
            return problems
        for warning in report.warnings:
            log.warning("config reload: %s", warning)
        sinks, _, disabled = wiring
        self._use(report.config, sinks, disabled)
        if self.sched is not None:
            self._add_jobs(self.sched)
        jobs = ", ".join(job.id for job in self.sched.get_jobs()) if self.sched is not None else "-"
        log.info("config reloaded from %s: %s", path, jobs)
        return []

    def cycle(self, source: str) -> dict[str, Any]:
        """crawl → process (and withdrawals) → reminders → deliver for one source; a failed crawl still delivers.

        The crawl stage records the run and checks the source's health itself
        (``pipeline.crawl.crawl_source``), exactly as ``regwatch crawl`` does.
        """
        self.check_lock()
        with log_context(source=source):  # one log line per stage, each with the source and the crawl's run id
            summary = crawl_source(self.store, source, config=self.config, clock=self.clock, crawl=self.crawl)
            with log_context(run_id=summary.get("run_id")):
                now = self.clock.now()
                with log_context(stage="process"):
                    report = process_pending(self.store, now=now, source=source, routing=self.routing,
                                             authority=self.config.authority)
                    withdrawals = check_withdrawals(self.store, now,
                                                    threshold=self.config.defaults.withdrawal_after_checks,
                                                    routing=self.routing, source=source)
                    log.info("process: %d new versions, %d alerts queued, %d withdrawn", report.new_versions,
                             report.alerts, withdrawals.withdrawn_documents)
                reminders = self.reminders()
                delivered = self.deliver()
        return {"crawl": summary, "process": report.as_dict(), "withdrawals": withdrawals.as_dict(),
                "reminders": reminders, "delivered": delivered}

    def check_lock(self) -> None:
        """Raise LockLost when the daemon lock this daemon holds (``self.lock``) is gone."""
        if self.lock is not None:
            self.lock.check()

    def reminders(self) -> int:
        self.check_lock()
        with log_context(stage="remind"):
            queued = check_deadlines(self.store, now=self.clock.now(), lead_days=self.config.defaults.deadline_lead_days,
                                     routing=self.routing)
            log.info("remind: %d deadline reminders queued", queued)
        return queued

    def deliver(self) -> int:
        self.check_lock()
        with log_context(stage="deliver"):
            report = deliver_pending(self.store, self.sinks, now=self.clock.now(), routing=self.routing,
                                     policy=delivery_policy(self.config), disabled=self.disabled, clock=self.clock.now)
            log.info("deliver: %d delivered", report.delivered)
        return report.delivered

    def prune(self) -> dict[str, Any] | None:
        """Retention (``defaults.capture_retention_days``): drop old raw capture bodies; None when off."""
        self.check_lock()
        return prune_old_captures(self.store, self.config, now=self.clock.now())

    def run_once(self, lock: LeaderLock | None = None) -> dict[str, Any]:
        """Every enabled source's cycle once, then reminders and delivery (for cron and tests).

        With ``lock`` (held by the caller) every stage first checks that it is still held.
        """
        self.lock = lock or self.lock
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
        self.sched = sched
        self._add_jobs(sched)
        return sched

    def _add_jobs(self, sched: BlockingScheduler) -> None:
        """(Re)add every job of the current config; cycles of sources no longer scheduled are removed."""
        specs = job_specs(self.config, crawlable=crawlable)
        wanted = {spec.id for spec in specs}
        for job in sched.get_jobs():
            if job.id.startswith("cycle:") and job.id not in wanted:
                sched.remove_job(job.id)
        for spec in specs:
            func = {"cycle": self.cycle, "reminders": self.reminders, "deliver": self.deliver,
                    "prune": self.prune}[spec.kind]
            args = [spec.source] if spec.source else []
            sched.add_job(self._stop_when_lock_lost(func, sched), spec.trigger, args=args, id=spec.id,
                          name=spec.id, replace_existing=True,
                          misfire_grace_time=self.config.defaults.misfire_grace_seconds)

    def _stop_when_lock_lost(self, func: Callable[..., Any], sched: BlockingScheduler) -> Callable[..., Any]:
        """``func`` as a job: a lost daemon lock stops the scheduler (``serve`` then raises it)."""

        def job(*args: Any) -> Any:
            try:
                return func(*args)
            except LockLost as exc:
                log.error("%s", exc)
                self.lost = exc
                sched.shutdown(wait=False)
                return None

        job.__name__ = getattr(func, "__name__", "job")
        return job

    def _queue_reload(self, sched: BlockingScheduler, running: threading.Event) -> None:
        """Run :meth:`reload` as a job: the one worker runs it between jobs, never beside a cycle.

        Waits until the scheduler runs: APScheduler 3 files a job added while ``start()`` is under
        way (after it scheduled the pending jobs, before it calls itself running) as pending for
        good, so a SIGHUP during start-up would be lost."""
        log.info("SIGHUP: reloading %s after the running job", self.config.path)
        running.wait()
        sched.add_job(self.reload, id="reload", name="reload", replace_existing=True)

    def serve(self) -> None:
        """Run until SIGTERM/SIGINT; the running job finishes first (``shutdown(wait=True)``).

        SIGHUP reloads the configuration file between jobs (:meth:`reload`): an invalid file is
        logged and the old configuration keeps running.

        Every job first checks that the daemon lock is still held; when it is not (the
        PostgreSQL session died, the lock file was replaced), the daemon stops with LockLost
        instead of running beside another one.
        """
        with leader_lock(self.store) as lock:
            self.lock = lock
            sched = self.scheduler()

            def stop(signum: int, _frame: Any) -> None:
                log.info("signal %s: stopping after the running job", signum)
                sched.shutdown(wait=True)

            running = threading.Event()

            def hup(_signum: int, _frame: Any) -> None:
                # Nothing else here: a signal handler interrupts the main thread, which may hold the
                # scheduler's lock or be half-way through writing a log line (a line logged here
                # would be a reentrant write to the stream, and lost).
                threading.Thread(target=self._queue_reload, args=(sched, running), daemon=True).start()

            def started(_event: Any) -> None:
                running.set()
                log.info("daemon started (%s): %s", lock.holder, ", ".join(job.id for job in sched.get_jobs()))

            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            if hasattr(signal, "SIGHUP"):
                signal.signal(signal.SIGHUP, hup)
            sched.add_listener(started, EVENT_SCHEDULER_STARTED)
            sched.start()
        if self.lost is not None:
            raise self.lost


__all__ = ["Daemon", "JobSpec", "LeaderLock", "LockLost", "crawlable", "cron_trigger", "delivery_policy", "job_specs",
           "leader_lock", "lock_holder", "source_trigger"]
