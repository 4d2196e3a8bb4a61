"""Run a crawl in a child process (Scrapy's reactor cannot restart) and return its JSON summary.

Example (with ``python -m crawlers.replica mofcom --port 8800`` running)::

    from crawlers.runner import run_crawl_subprocess
    run_crawl_subprocess("mofcom", "sqlite:////tmp/r.db", base_url="http://127.0.0.1:8800", delay=0)["status"]
    # -> 'ok'
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Any


class CrawlProcessError(RuntimeError):
    """The crawl child process crashed, timed out or printed no summary.

    ``pid`` is the child's process id (its CrawlRun carries it in ``stats["pid"]``), None when
    no child was started.
    """

    def __init__(self, source: str, message: str, stderr: str = "", *, pid: int | None = None,
                 returncode: int | None = None) -> None:
        self.source = source
        self.stderr = stderr
        self.pid = pid
        self.returncode = returncode
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        super().__init__(f"crawl of {source!r} {message}; run `python -m crawlers {source} --db …` by hand "
                         f"to see the full log" + (f"\n--- last log lines ---\n{tail}" if tail else ""))


def this_host() -> str:
    """The host name recorded on a crawl run next to its process id."""
    return socket.gethostname()


def process_stamp() -> dict[str, Any]:
    """``{"pid", "host"}`` of this process: a crawl child records it in its run's stats at start.

    Example:
        >>> process_stamp()["pid"] == os.getpid()
        True
    """
    return {"pid": os.getpid(), "host": this_host()}


def process_alive(pid: int) -> bool:
    """True when a process ``pid`` exists on this host (signal 0 probes without signalling).

    Example:
        >>> process_alive(os.getpid())
        True
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def keep_log(text: str, log_file: str | None) -> str:
    """Write the child's (already redacted) log to ``log_file`` when given; returns ``text``."""
    if log_file:
        os.makedirs(os.path.dirname(log_file) or ".", exist_ok=True)
        with open(log_file, "w", encoding="utf-8") as out:
            out.write(text)
    return text


# The crawl child's options (``crawlers.__main__``): keyword of ``crawl_command`` /
# ``run_crawl_subprocess`` -> flag. A True value is a bare flag; None and False are left out.
CHILD_FLAGS: dict[str, str] = {
    "base_url": "--base-url", "max_pages": "--max-pages", "delay": "--delay", "log_level": "--log-level",
    "recheck_hours": "--recheck-hours", "max_rechecks": "--max-rechecks",
    "source_json": "--source-json",  # a source configured in schedules.yaml (crawlers.sources.generic_to_json)
    "store_as_source": "--store-as-source", "now": "--now", "recheck_days": "--recheck-days",
    "recheck_all": "--recheck", "max_page_bytes": "--max-page-bytes", "retry_after_max": "--retry-after-max",
    "concurrency": "--concurrency", "unconditional": "--no-conditional",
}


def crawl_command(source: str, db_url: str, **options: Any) -> list[str]:
    """The argv of one crawl child process (``options``: see ``CHILD_FLAGS``).

    Example:
        >>> crawl_command("mofcom", "sqlite:///x.db", max_pages=2, delay=0, recheck_all=True)[1:]
        ['-m', 'crawlers', 'mofcom', '--db', 'sqlite:///x.db', '--max-pages', '2', '--delay', '0', '--recheck']
    """
    unknown = sorted(set(options) - set(CHILD_FLAGS))
    if unknown:
        raise TypeError(f"crawl_command: unknown option(s) {', '.join(unknown)} (known: {', '.join(CHILD_FLAGS)})")
    cmd = [sys.executable, "-m", "crawlers", source, "--db", db_url]
    for name, flag in CHILD_FLAGS.items():
        value = options.get(name)
        if value is None or value is False or value == "":
            continue
        cmd += [flag] if value is True else [flag, str(value)]
    return cmd


def run_crawl_subprocess(source: str, db_url: str, base_url: str | None = None, max_pages: int | None = None,
                         timeout: float = 600, *, log_file: str | None = None,
                         redact: Callable[[str], str] | None = None, **options: Any) -> dict[str, Any]:
    """Run ``python -m crawlers`` for one source and return its summary dict.

    ``options`` are the child's (``CHILD_FLAGS``: delay, re-check cadences, limits, concurrency, …).
    The summary has ``source, run_id, status (ok|partial|failed), pages, fetched, captures_new,
    captures_unchanged, new_by_kind, errors`` (a count), ``error_kinds`` (kind -> count),
    ``first_errors`` (the first few ``{kind, url, message}``), ``offsite_skipped``, ``list_entries``,
    ``rechecks`` (``{requested, gone, found}``: re-checks of known pages), ``finish_reason``
    and ``stderr_tail`` (last log lines). ``redact`` cleans the child's log before anything keeps
    it (secrets); ``log_file`` receives the whole (redacted) log. A crash, a timeout (the child is killed) or a missing
    summary raises CrawlProcessError with the child's pid; a failed crawl returns normally with
    ``status == "failed"``.
    """
    clean = redact or (lambda text: text)
    cmd = crawl_command(source, db_url, base_url=base_url, max_pages=max_pages, **options)
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                          errors="replace") as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            _, stderr = proc.communicate()
            stderr = keep_log(clean(stderr or ""), log_file)
            raise CrawlProcessError(source, f"timed out after {timeout:g} s", stderr, pid=proc.pid,
                                    returncode=proc.returncode) from exc
    stderr = keep_log(clean(stderr), log_file)
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise CrawlProcessError(source, f"exited {proc.returncode} without a summary", stderr, pid=proc.pid,
                                returncode=proc.returncode)
    try:
        summary: dict[str, Any] = json.loads(lines[-1])
    except ValueError as exc:
        raise CrawlProcessError(source, f"printed an unreadable summary {lines[-1][:200]!r}", stderr,
                                pid=proc.pid, returncode=proc.returncode) from exc
    summary["exit_code"] = proc.returncode
    summary["stderr_tail"] = "\n".join(stderr.strip().splitlines()[-20:])
    return summary
