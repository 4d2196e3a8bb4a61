"""Source health: when a source's crawls keep failing, ops hear about it once per failure streak,
and once more when the source works again.

The decisions are pure (runs in → AlertRequest out): :func:`failure_streak`, :func:`health_alert`,
:func:`recovery_alert`, :func:`run_is_gone`. :func:`check_source_health` is the one edge every
stage calls after it recorded a crawl run (``regwatch crawl``, the daemon's cycle), so cron-style
deployments raise the same alerts as the daemon: it finishes runs whose process is gone as
``killed``, then queues the streak alert and the recovery alert (each deduplicated by a key
naming the first failed run of the streak, so calling it again queues nothing new).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pipeline.core.classify import AlertRequest

FAILED = ("failed", "killed")  # run statuses that count in a failure streak
RUN_GRACE = timedelta(minutes=5)  # margin over the crawl timeout before a silent run counts as killed
STREAK_WINDOW = 200  # runs read to find the start of a failure streak


def failure_streak(runs: Sequence[Any]) -> list[Any]:
    """The newest runs that failed (or were killed) in a row; ``runs`` newest first, running ones skipped.

    Example:
        >>> from types import SimpleNamespace as R
        >>> [r.id for r in failure_streak([R(id=3, status="killed"), R(id=2, status="running"),
        ...                                R(id=1, status="failed"), R(id=0, status="ok")])]
        [3, 1]
    """
    streak = []
    for run in runs:
        if run.status == "running":
            continue
        if run.status not in FAILED:
            break
        streak.append(run)
    return streak


def _kinds(streak: Sequence[Any], limit: int | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    errors = [e for run in streak[:limit] for e in (run.errors or [])]
    return sorted({str(e.get("kind", "error")) for e in errors}) or ["failed"], errors


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def health_alert(source: str, runs: Sequence[Any], *, threshold: int) -> AlertRequest | None:
    """A ``source_health`` alert when the last ``threshold`` finished runs all failed, else None.

    The dedup key names the first failed run of the streak, so one streak raises one alert
    however long it lasts, and a new streak after a success raises a new one.
    """
    streak = failure_streak(runs)
    if len(streak) < threshold:
        return None
    first = streak[-1]
    kinds, errors = _kinds(streak, threshold)
    last = errors[0] if errors else {}
    return AlertRequest(
        dedup_key=f"health:{source}:streak:{first.id}",
        kind="source_health", severity="critical", source=source, doc_key=None,
        title=f"{source}: {len(streak)} crawls in a row failed ({', '.join(kinds)})",
        summary=f"last error: {last.get('message', 'no detail recorded')}"[:300].replace("\n", " "),
        url=str(last.get("url") or ""),
        facts=(("Source", source), ("Failed runs", str(len(streak))), ("Since", first.started_at.isoformat()),
               ("Error kinds", ", ".join(kinds))),
        tags=("health:failures", *(f"health:{k}" for k in kinds)),
    )


def recovery_alert(source: str, runs: Sequence[Any], *, threshold: int) -> AlertRequest | None:
    """An info ``source_health`` alert when the newest finished runs succeed after a streak that alerted.

    The streak is the failures right before the newest successful runs; it alerted when it
    reached ``threshold``. The dedup key names the streak's first run (like the streak alert's),
    so the recovery goes out once, however many successful runs follow.

    Example:
        >>> from datetime import timezone
        >>> from types import SimpleNamespace as R
        >>> t = datetime(2025, 1, 1, 8, tzinfo=timezone.utc)
        >>> runs = [R(id=4, status="ok", started_at=t, finished_at=t, errors=[])] + [
        ...     R(id=i, status="failed", started_at=t - timedelta(hours=4 - i), errors=[]) for i in (3, 2, 1)]
        >>> recovery_alert("mofcom", runs, threshold=3).title
        'mofcom: crawling works again after 3 failed runs since 2025-01-01 05:00 UTC'
        >>> recovery_alert("mofcom", runs, threshold=4) is None
        True
    """
    finished = [run for run in runs if run.status != "running"]
    good = 0
    while good < len(finished) and finished[good].status not in FAILED:
        good += 1
    if good == 0:
        return None  # no run yet, or the newest one failed: still in the streak
    streak = failure_streak(finished[good:])
    if len(streak) < threshold:
        return None
    first, back = streak[-1], finished[good - 1]
    kinds, _ = _kinds(streak)
    return AlertRequest(
        dedup_key=f"health:{source}:recovered:{first.id}",
        kind="source_health", severity="info", source=source, doc_key=None,
        title=f"{source}: crawling works again after {len(streak)} failed runs since {_when(first.started_at)}",
        summary=f"crawl run {back.id} finished {back.status} at {_when(back.finished_at or back.started_at)}",
        url="",
        facts=(("Source", source), ("Failed runs", str(len(streak))), ("Since", first.started_at.isoformat()),
               ("Working again", back.started_at.isoformat()), ("Error kinds", ", ".join(kinds))),
        tags=("health:recovered",),
    )


def run_is_gone(run: Any, *, now: datetime, max_age: timedelta, host: str, alive: Callable[[int], bool]) -> bool:
    """True for a ``running`` run whose crawl process is gone.

    Gone means: its process id (``stats["pid"]``, recorded at start with ``stats["host"]``) is not
    alive on this host, or it started more than ``max_age`` ago (the crawl timeout plus a margin;
    this also covers runs of other hosts and reused process ids).

    Example:
        >>> from datetime import timezone
        >>> from types import SimpleNamespace as R
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> run = R(status="running", started_at=t, stats={"pid": 42, "host": "a"})
        >>> [run_is_gone(run, now=t, max_age=timedelta(hours=1), host=h, alive=lambda pid: False) for h in "ab"]
        [True, False]
        >>> run_is_gone(run, now=t + timedelta(hours=2), max_age=timedelta(hours=1), host="b", alive=bool)
        True
    """
    if run.status != "running":
        return False
    if now - run.started_at > max_age:
        return True
    stats = run.stats or {}
    pid = stats.get("pid")
    return isinstance(pid, int) and stats.get("host") == host and not alive(pid)


def killed_error(run: Any, *, now: datetime, max_age: timedelta, host: str,
                 alive: Callable[[int], bool]) -> dict[str, str]:
    """The error recorded on a run finished as ``killed``: why it is considered gone."""
    stats = run.stats or {}
    pid = stats.get("pid")
    if isinstance(pid, int) and stats.get("host") == host and not alive(pid):
        why = f"its process {pid} on {host} is gone"
    else:
        why = (f"still 'running' {int((now - run.started_at).total_seconds())} s after it started, longer than "
               f"the crawl timeout plus margin ({int(max_age.total_seconds())} s)")
    return {"kind": "killed", "url": "",
            "message": f"crawl run {run.id} ended without recording a result: {why} (killed, crashed or the "
                       "machine restarted); see the crawl log of that time"}


def _max_age(crawl_timeout: float) -> timedelta:
    return timedelta(seconds=crawl_timeout) + RUN_GRACE


def effective_runs(runs: Sequence[Any], *, now: datetime, crawl_timeout: float) -> list[Any]:
    """``runs`` with every gone ``running`` run shown as ``killed`` (read-only: nothing is written)."""
    from types import SimpleNamespace

    from crawlers.runner import process_alive, this_host

    host, max_age = this_host(), _max_age(crawl_timeout)
    return [SimpleNamespace(**{**run.model_dump(), "status": "killed"})
            if run_is_gone(run, now=now, max_age=max_age, host=host, alive=process_alive) else run
            for run in runs]


def reap_gone_runs(store: Any, source: str, now: datetime, *, crawl_timeout: float) -> list[int]:
    """Finish every ``running`` run of ``source`` whose process is gone as ``killed``; returns their ids."""
    from crawlers.runner import process_alive, this_host

    host, max_age = this_host(), _max_age(crawl_timeout)
    reaped = []
    for run in store.runs(source, limit=STREAK_WINDOW):
        if run_is_gone(run, now=now, max_age=max_age, host=host, alive=process_alive):
            store.finish_run(run.id, now, "killed", errors=[killed_error(run, now=now, max_age=max_age, host=host,
                                                                   alive=process_alive)])
            reaped.append(run.id)
    return reaped


def check_source_health(store: Any, source: str, now: datetime, threshold: int, *,
                        crawl_timeout: float = 900, routing: Any = None) -> int:
    """After a crawl run was recorded: finish gone runs as killed, queue streak/recovery alerts.

    Returns how many alerts were newly queued (0 when they were queued before: dedup keys).
    ``threshold`` is ``defaults.max_consecutive_failures``, ``crawl_timeout`` its
    ``crawl_timeout_seconds``; ``routing`` (``pipeline.outbox.Routing``) plans the alerts' deliveries.
    """
    from pipeline.outbox import enqueue_request

    reap_gone_runs(store, source, now, crawl_timeout=crawl_timeout)
    # The whole streak is read so its first run (the alerts' dedup key) stays the same however long
    # it lasts; a streak longer than the window alerts again, as a reminder.
    runs = store.runs(source, limit=STREAK_WINDOW)
    queued = 0
    for alert in (health_alert(source, runs, threshold=threshold), recovery_alert(source, runs, threshold=threshold)):
        if alert is not None:
            queued += enqueue_request(store, alert, now, routing)
    return queued


def live_health(store: Any, source: str, now: datetime, *, crawl_timeout: float = 900) -> dict[str, Any]:
    """``{last_run_status, consecutive_failures}`` of ``source`` with gone runs counted as killed (for status)."""
    runs = effective_runs(store.runs(source, limit=STREAK_WINDOW), now=now, crawl_timeout=crawl_timeout)
    return {"last_run_status": runs[0].status if runs else None, "consecutive_failures": len(failure_streak(runs))}


__all__ = ["FAILED", "check_source_health", "effective_runs", "failure_streak", "health_alert", "killed_error",
           "live_health", "reap_gone_runs", "recovery_alert", "run_is_gone"]
