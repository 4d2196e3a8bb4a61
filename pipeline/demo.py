"""``regwatch demo``: a story played offline on local replicas of all four sites, on a simulated clock.

The story is data (``crawlers/replica_sites/demo-story.json``): steps, each at a simulated time,
naming the replica states to serve and crawl, whether deadline reminders run, and a caption. For
every step the demo does what the daemon would do at that moment — crawl (a child process per
source, the clock pinned, the replica's pages stored under the source's own URLs so nothing depends
on the replica's random port), source health, process, reminders, deliver — with the same stage
functions, then prints every alert that step raised, one block each. Nothing here knows which
announcements the replicas hold: what is printed is what the pipeline found.

Alerts are delivered to the sinks of ``--config`` when one is given (the user's own Slack
channel, JSONL file …), else to a JSONL file in a temporary directory. Every run prints the same
text: the clock is simulated and no port, path or wall-clock time is printed.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from alerts.base import Alert
from alerts.render import KIND_LABELS, SEVERITY_MARKS, one_line, terminal_safe
from crawlers.replica import SITES_DIR, ReplicaServer, site_path
from crawlers.runner import run_crawl_subprocess
from pipeline.clock import FixedClock
from pipeline.config import Config
from pipeline.core.headline import headline
from pipeline.crawl import crawl_source
from pipeline.deliver import deliver_pending
from pipeline.lookup import load_version, status_of
from pipeline.outbox import Routing
from pipeline.process import process_pending
from pipeline.remind import check_deadlines
from store import NotFound, Store

STORY = SITES_DIR / "demo-story.json"
ARCHIVE = "demo-archive"  # the JSONL sink alerts go to without --config
CRAWL_TIMEOUT = 120
MAX_DIFF_LINES = 6
Out = Callable[[str], None]


@dataclass(frozen=True)
class Step:
    """One moment of the story (see ``demo-story.json``'s ``about``)."""

    at: datetime
    caption: str
    crawl: tuple[tuple[str, str], ...] = ()
    remind: bool = False
    repeat: int | str = 1
    quiet: bool = False


def load_story(path: Path = STORY) -> tuple[str, list[Step]]:
    """The story's title and steps, validated (times aware and increasing, known sources)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    steps, last = [], None
    for i, raw in enumerate(data["steps"], 1):
        at = datetime.fromisoformat(raw["at"])
        if at.tzinfo is None or (last is not None and at <= last):
            raise ValueError(f"{path}: step {i}: 'at' {raw['at']!r} must be an aware time after the previous step's")
        for source in raw.get("crawl", {}):
            site_path(source)  # raises, naming the known sites, for a typo
        steps.append(Step(at, raw["caption"], tuple(raw.get("crawl", {}).items()), bool(raw.get("remind")),
                          raw.get("repeat", 1), bool(raw.get("quiet"))))
        last = at
    return data["title"], steps


@dataclass
class _Shown:
    """What the reader has already seen: evidence per document, alerts printed."""

    evidence: set[tuple[str, str]] = field(default_factory=set)
    last_alert: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Run:
    store: Store
    config: Config
    routing: Routing
    sinks: Mapping[str, Any]
    disabled: Mapping[str, str]
    replicas: Mapping[str, ReplicaServer]
    clock: FixedClock
    out: Out
    db_hint: str
    kept: bool
    story: Sequence[Step] = ()
    shown: _Shown = field(default_factory=_Shown)


def run_demo(*, db: str | None, keep: bool, out: Out, config: Config | None = None,
             config_name: str | None = None) -> None:
    """Play the story into ``db`` (a temporary SQLite file when None; ``keep`` moves it to ./regwatch-demo.db).

    ``config``: the user's configuration (``--config``): its sinks and routes receive the demo's
    alerts, its defaults (failure threshold, deadline lead days) apply. ``out`` prints one line.
    """
    title, steps = load_story()
    with tempfile.TemporaryDirectory(prefix="regwatch-demo-") as tmp, ExitStack() as stack:
        db_target = db or str(Path(tmp) / "regwatch-demo.db")
        store = stack.enter_context(Store.open(db_target))
        config, sinks, disabled, where = _delivery(config, config_name, Path(tmp))
        sources = sorted({source for step in steps for source, _ in step.crawl})
        replicas = {s: stack.enter_context(ReplicaServer(site_path(s))) for s in sources}
        hint = db if db is not None else "FILE"
        run = _Run(store, config, Routing.from_config(config) if config_name else _demo_routing(), sinks, disabled,
                   replicas, FixedClock(steps[0].at), out, hint, db is not None, steps)
        known = len(store.documents())
        run.shown.last_alert = max((a.id for a in store.alerts(limit=None)), default=0)
        out(f"regwatch demo — {title}")
        out(f"Played offline on local replicas of {', '.join(sources)} with a simulated clock: every run prints the same.")
        out(f"Alerts go to {where}; below, each alert is one block: kind, document key, title, English headline, facts.")
        if known:
            out(f"The database already holds {known} documents: what it knows already raises no alert again.")
        for number, step in enumerate(steps, 1):
            _play(run, number, step)
        _summary(run, steps[-1].at.date())
        _next_queries(run, keep=keep, db=db)
        if keep and db is None:
            kept = Path.cwd() / "regwatch-demo.db"
            stack.close()
            Path(db_target).replace(kept)
            out(f"database kept at {kept}")


def _delivery(config: Config | None, name: str | None, tmp: Path) -> tuple[Config, dict, dict, str]:
    """``(config, sinks, disabled, description)``: the user's sinks with ``--config``, else a temporary JSONL file."""
    from alerts.jsonl import JsonlSink
    from pipeline.sinks import build_from_config

    if config is not None and name:
        sinks, _, disabled = build_from_config(config)
        names = ", ".join(sorted(sinks)) or "no sink"
        off = "".join(f"; {n} disabled: {why}" for n, why in sorted(disabled.items()))
        return config, sinks, disabled, f"the sinks of {name} ({names}{off}), routed by its routes"
    sink = JsonlSink.from_config(ARCHIVE, {"kind": "jsonl", "path": str(tmp / "alerts.jsonl")})
    return Config(), {ARCHIVE: sink}, {}, "a JSONL file in a temporary directory (--config FILE sends them to your sinks)"


def _demo_routing() -> Routing:
    return Routing(default=(ARCHIVE,))


# --------------------------------------------------------------------------- one step


def _play(run: _Run, number: int, step: Step) -> None:
    run.clock.set(step.at)
    run.out("")
    run.out(f"── {number}. {_local(step.at)}  {step.caption} " + "─" * max(0, 60 - len(step.caption)))
    repeat = run.config.defaults.max_consecutive_failures if step.repeat == "failure-threshold" else int(step.repeat)
    for day in range(repeat):
        if day:
            run.clock.set(step.at + timedelta(days=day))
        _crawl(run, step.crawl)
        before = _appearances(run.store)
        for source, _ in step.crawl:  # one source after the other, in the story's order: the same every run
            report = process_pending(run.store, now=run.clock.now(), source=source, routing=run.routing,
                                     authority=getattr(run.config, "authority", None))
            run.out(f"   process {source}: {report.new_documents} new documents · {report.new_versions} new versions · "
                    f"{report.copies} copies of documents known from their reference site · "
                    f"{report.unchanged} unchanged · {report.failed} unreadable")
        for doc_key, source, url, reference in sorted(_appearances(run.store) - before):
            if not reference:  # a copy: the document's appearance on one more site, never a second document
                run.out(f"   copy linked to its document, no alert: {_safe(doc_key)} also appears on {source} ({_safe(url)})")
        if step.remind:
            check_deadlines(run.store, now=run.clock.now(), lead_days=run.config.defaults.deadline_lead_days,
                            routing=run.routing)
        deliver_pending(run.store, run.sinks, now=run.clock.now(), routing=run.routing, disabled=run.disabled)
        _print_alerts(run, quiet=step.quiet)


def _appearances(store: Store) -> set[tuple[str, str, str, bool]]:
    """``(document label, source, url, reference?)`` of every appearance: where each document was seen."""
    return {(doc.key or doc.canonical_url, a.source, a.url, bool(a.reference)) for doc in store.documents()
            for a in store.appearances(doc.id)}


def _local(at: datetime) -> str:
    """The step's time in Beijing (the calendar of the Chinese documents), e.g. ``2025-10-09 20:00 CST``."""
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M CST")


def _crawl(run: _Run, crawls: Sequence[tuple[str, str]]) -> None:
    """Crawl each named source (in parallel: one child process each) and print one line per source."""
    if not crawls:
        return
    for source, state in crawls:
        run.replicas[source].set_state(state)
    now = run.clock.now().isoformat()

    def one(source: str) -> dict[str, Any]:
        child = partial(run_crawl_subprocess, store_as_source=True, now=now)
        # recheck: the story edits pages between steps fewer than defaults.recheck_days apart
        return crawl_source(run.store, source, config=run.config, clock=run.clock, crawl=child,
                            base_url=run.replicas[source].base_url, delay=0, max_pages=5, recheck=True)

    with ThreadPoolExecutor(max_workers=len(crawls)) as pool:
        summaries = list(pool.map(one, [source for source, _ in crawls]))
    for (source, state), s in zip(crawls, summaries):
        kinds = ", ".join(f"{k} {n}" for k, n in sorted((s.get("error_kinds") or {}).items()))
        run.out(f"   crawl {source} (replica state {state}): {s.get('status')} · pages: {s.get('captures_new', 0)} new, "
                f"{s.get('captures_unchanged', 0)} unchanged · errors: {s.get('errors', 0)}" + (f" ({kinds})" if kinds else ""))


# --------------------------------------------------------------------------- alerts


def _new_alerts(run: _Run) -> list[Alert]:
    rows = [r for r in run.store.alerts(limit=None) if r.id > run.shown.last_alert]
    rows.sort(key=lambda r: r.id)
    if rows:
        run.shown.last_alert = rows[-1].id
    return [Alert.from_payload(r.id, r.payload) for r in rows]


# Within one step, alerts are printed in this order of kinds, then by document: a crawl's pages arrive
# in an order that depends on timing, and so do the ids of the alerts they raise.
_KIND_ORDER = ("source_health", "new", "changed", "withdrawn", "status", "deadline", "sink_health")


def _print_alerts(run: _Run, *, quiet: bool) -> None:
    alerts = sorted(_new_alerts(run), key=lambda a: (_KIND_ORDER.index(a.kind), a.doc_key or "", a.title))
    for alert in alerts:
        run.shown.counts[alert.kind] = run.shown.counts.get(alert.kind, 0) + 1
    if not alerts:
        run.out("   no alert")
        return
    if quiet:
        run.out(f"   {len(alerts)} alerts about what was already there, one line each (in full: "
                f"regwatch --db {run.db_hint} alerts list, then alerts show ID"
                f"{'' if run.kept else ', after a run with --db FILE'}):")
        for alert in alerts:
            run.out(f"     {KIND_LABELS[alert.kind]:<8} {_safe(alert.doc_key or alert.source):<24} {_safe(alert.title)}")
        return
    for alert in alerts:
        for line in alert_block(alert, run.shown.evidence, english=_english(run.store, alert)):
            run.out(line)


def _english(store: Store, alert: Alert) -> str | None:
    """The alert's English headline, else (deadline reminders) the headline of the document it is about."""
    if alert.headline or not alert.doc_key:
        return alert.headline
    try:
        return headline(load_version(store, alert.doc_key).record)
    except NotFound:
        return None


def _safe(text: str) -> str:
    return terminal_safe(one_line(text))


_SHOWN_FACTS = {"new": ("Published", "Effective", "Suspended until", "Expires", "Codes", "Elements"),
                "deadline": ("By",), "source_health": ("Error kinds", "Failed runs")}


def alert_block(alert: Alert, evidence_seen: set[tuple[str, str]], *, english: str | None) -> Iterator[str]:
    """The lines of one alert for a reader skimming: a head line with the document key once, the title
    (without the key again), the English headline, the facts that matter for its kind, the field
    changes and changed lines of an edit, and the evidence the first time it is quoted for a document.

    Example:
        >>> from datetime import datetime, timezone
        >>> a = Alert(3, "status", "critical", "mofcom", "mofcom:2031:1", "mofcom:2031:1 suspended until 2032-01-01",
        ...           "", "https://x.test/", datetime(2031, 1, 1, tzinfo=timezone.utc),
        ...           facts=[("By", "mofcom:2031:9"), ("Until", "2032-01-01"), ("Evidence", "暂停实施。")])
        >>> seen = set()
        >>> print("\\n".join(alert_block(a, seen, english="MOFCOM Announcement 2031 No. 9 suspends …")))
        ■ STATUS  mofcom:2031:1  (critical)
          suspended until 2032-01-01
          » MOFCOM Announcement 2031 No. 9 suspends …
          By mofcom:2031:9 · Until 2032-01-01
          Evidence (mofcom:2031:9): 暂停实施。
        >>> list(alert_block(a, seen, english=None))[-1]
        '  Evidence: as quoted above for mofcom:2031:9'
    """
    key = alert.doc_key or alert.source
    yield f"{SEVERITY_MARKS[alert.severity]} {KIND_LABELS[alert.kind]}  {_safe(key)}  ({alert.severity})"
    title = one_line(alert.title)
    if alert.doc_key and alert.doc_key in title and title != alert.doc_key:  # the key once, in the head line
        title = title.replace(f"{alert.doc_key} ", "", 1).replace(alert.doc_key, "", 1).strip(" :—")
    yield f"  {_safe(title)}"
    if english:
        yield f"  » {_safe(english)}"
    facts = dict(alert.facts)
    if alert.kind == "changed":
        yield f"  {_safe(alert.summary)}"
        yield from (f"  • {_safe(value)}" for _, value in alert.facts)
        diff = [line for line in (alert.diff_text or "").splitlines() if line.strip()]
        yield from (f"    {_safe(line)}" for line in diff[:MAX_DIFF_LINES])
        if len(diff) > MAX_DIFF_LINES:
            yield f"    … {len(diff) - MAX_DIFF_LINES} more lines: regwatch diff {_safe(key)}"
        return
    if alert.kind == "status":
        wanted = ("By", "Until")
    elif alert.kind == "source_health":
        yield f"  {_safe(alert.summary)}"
        wanted = _SHOWN_FACTS["source_health"]
    else:
        wanted = _SHOWN_FACTS.get(alert.kind, _SHOWN_FACTS["new"])
    shown = [f"{label} {_safe(facts[label])}" for label in wanted if facts.get(label)]
    if shown:
        yield "  " + " · ".join(shown)
    quote = facts.get("Evidence")
    if quote:
        by = facts.get("By") or key
        if (by, quote) in evidence_seen:
            yield f"  Evidence: as quoted above for {_safe(by)}"
        else:
            evidence_seen.add((by, quote))
            yield f"  Evidence ({_safe(by)}): {_safe(quote)}"


# --------------------------------------------------------------------------- the end


def _summary(run: _Run, day: date) -> None:
    """A table of every document: key, sites it appears on, published, legal status on ``day``, title."""
    run.out("")
    run.out(f"── Documents and their legal status on {day.isoformat()} " + "─" * 40)
    rows = []
    for doc in sorted(run.store.documents(), key=lambda d: (d.key is None, d.key or "", d.canonical_url)):
        record = load_version(run.store, doc.key or doc.canonical_url).record
        sites = "+".join(sorted({a.source for a in run.store.appearances(doc.id)}))
        if doc.key:
            status = status_of(run.store, doc.key, day)
            state = f"{status.status}" + (f" until {status.until}" if status.until else "")
        else:
            state = "- (no number)"
        if doc.status != "active":
            state += f" [{doc.status}]"
        rows.append((doc.key or "-", sites, str(record.published or "-"), state, record.title or record.url))
    widths = [max(len(r[i]) for r in rows + [("document", "sites", "published", "status", "")]) for i in range(4)]
    head = ("document", "sites", "published", "status", "title")
    for row in [head, *rows]:
        run.out("  " + "  ".join(_safe(c).ljust(w) for c, w in zip(row[:4], widths)) + "  " + _safe(row[4]))
    counts = ", ".join(f"{n} {KIND_LABELS[k].lower()}" for k, n in sorted(run.shown.counts.items()))
    run.out(f"  {len(rows)} documents; alerts raised in this run: {counts or 'none'}")


def _next_queries(run: _Run, *, keep: bool, db: str | None) -> None:
    """The commands a reader would run next, on this database."""
    target = db if db is not None else ("regwatch-demo.db" if keep else None)
    run.out("")
    if target is None:
        run.out("── Next: keep the database and ask it questions " + "─" * 32)
        run.out("  regwatch --db demo.db demo          then, for example:")
        target = "demo.db"
    else:
        run.out("── Next: ask the database questions " + "─" * 44)
    keys = sorted(run.store.document_keys())
    acted = [k for k in keys if run.store.relations_to(k)]
    edited = [k for k in keys if run.store.document(k).latest_version > 1]
    first, last = run.story[0].at.date().isoformat(), run.clock.now().date().isoformat()
    examples = [f"regwatch --db {target} history --since {first}",
                f"regwatch --db {target} alerts list --kind status"]
    if edited:
        examples += [f"regwatch --db {target} diff {edited[0]}"]
    codes = sorted({c.code for k in acted[:1] for c in load_version(run.store, k).record.codes})
    if codes:
        examples += [f"regwatch --db {target} search {codes[0]}", f"regwatch --db {target} history --code {codes[0]}"]
    if acted:
        examples += [f"regwatch --db {target} show {acted[0]}",
                     f"regwatch --db {target} status-of {acted[0]} --on {last}"]
    examples += [f"regwatch --db {target} deadlines --on {last}",
                 f"regwatch --db {target} web   (then open http://127.0.0.1:8787/)"]
    for line in examples:
        run.out(f"  {line}")


__all__ = ["Step", "alert_block", "load_story", "run_demo"]
