"""``regwatch demo``: the whole path, offline, against a local replica of MOFCOM.

1. start the replica site on 127.0.0.1 (state 1) and crawl it in a child process;
2. process the captures into documents and deliver the alerts to the console;
3. switch the replica to state 2 (one new announcement, one edited), crawl and process again;
4. show the change with its diff, the alerts, and the legal status the relations imply around
   each suspension deadline found.
Nothing here knows which announcements the replica holds: it reports what the pipeline found.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from rich.console import Console

from alerts.console import ConsoleSink
from alerts.jsonl import JsonlSink
from alerts.routing import load_routes
from crawlers.replica import ReplicaServer, site_path
from crawlers.runner import run_crawl_subprocess
from pipeline.deliver import deliver_pending
from pipeline.config import DEFAULTS
from pipeline.lookup import collect_deadlines, load_version, status_of
from pipeline.remind import check_deadlines
from pipeline.outbox import Routing
from pipeline.process import process_pending
from pipeline.core.render_diff import render_inline, render_rich
from store import Store

SOURCE = "mofcom"
_EPOCH = date(2000, 1, 1)  # start of the calendar shown in section 3


def run_demo(*, db: str | None, keep: bool, out: Console, now: datetime | None = None) -> None:
    """Run the demo; ``now`` pins "today" for the deadline section (default: the real clock)."""
    with tempfile.TemporaryDirectory(prefix="regwatch-demo-") as tmp:
        db_target = db or str(Path(tmp) / "regwatch-demo.db")
        store = Store.open(db_target)
        sinks = {
            "console": ConsoleSink.from_config("console", {"kind": "console", "color": False}),
            "archive": JsonlSink.from_config("archive", {"kind": "jsonl", "path": str(Path(tmp) / "alerts.jsonl")}),
        }
        with ReplicaServer(site_path(SOURCE)) as replica:
            out.rule("[bold]1. First crawl of the MOFCOM replica")
            out.print(f"replica serving {replica.base_url} (state 1); database {store.url}", markup=False)
            # First crawl: everything is new; show the status alerts, archive the rest.
            _cycle(store, replica.base_url, sinks, out, loud=("status", "source_health"))
            _documents(store, out)

            out.rule("[bold]2. The site changes: a new announcement, an edited one")
            replica.set_state("2")
            changes_before = {r.change_id for r in store.history(limit=1000)}
            _cycle(store, replica.base_url, sinks, out, loud=("new", "changed", "status", "source_health"))
            _changes(store, changes_before, out)

        out.rule("[bold]3. What the relations mean on the calendar")
        _calendar(store, out)
        today = now or _now()
        out.rule(f"[bold]4. Deadline reminders on {today.date().isoformat()}")
        _reminders(store, sinks, today, out)
        out.rule()
        archived = len((Path(tmp) / "alerts.jsonl").read_text(encoding="utf-8").splitlines())
        out.print(f"{archived} alerts were also written by the JSONL sink (to a temporary file)", markup=False)
        if keep and db is None:
            kept = Path.cwd() / "regwatch-demo.db"
            store.close()
            Path(db_target).replace(kept)
            out.print(f"database kept at {kept}; try: regwatch --db {kept} history", markup=False)
        elif db is not None:
            out.print(f"explore it: regwatch --db {db} history, show, diff, deadlines …", markup=False)
        else:
            out.print("to explore the result: regwatch --db demo.db demo, then regwatch --db demo.db history")
        store.close()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _cycle(store: Store, base_url: str, sinks: dict, out: Console, *, loud: tuple[str, ...]) -> None:
    # recheck_all: the story's crawls are days apart, so every known page is due for a re-check
    summary = run_crawl_subprocess(SOURCE, store.dsn, base_url=base_url, max_pages=5, timeout=120, delay=0,
                                   recheck_all=True)
    out.print(f"crawl: {summary.get('status')} · {summary.get('captures_new', 0)} new captures · "
              f"{summary.get('captures_unchanged', 0)} unchanged · {len(summary.get('errors') or [])} errors")
    routes = load_routes([{"when": {"kind": list(loud)}, "to": ["console", "archive"]}])
    report = process_pending(store, now=_now(), routing=Routing(tuple(routes), ("archive",)))
    out.print(f"process: {report.new_documents} new documents · {report.new_versions} new versions · "
              f"{report.unchanged} unchanged · {report.failed} unreadable · {report.alerts} alerts queued")
    out.print(f"[bold]alerts[/bold] (kinds {', '.join(loud)} shown; all archived):")
    report = deliver_pending(store, sinks, now=_now())
    out.print(f"delivered {report.delivered} alerts")


def _documents(store: Store, out: Console) -> None:
    from rich.table import Table

    table = Table(title="documents found", header_style="bold")
    table.add_column("key", no_wrap=True)
    table.add_column("published", no_wrap=True)
    table.add_column("effective", no_wrap=True)
    table.add_column("codes / relations", overflow="fold", max_width=34)
    for row in store.history(limit=1000):
        if row.kind != "new" or not row.document_key:
            continue
        rec = load_version(store, row.document_key).record
        codes = sorted({c.code for c in rec.codes})
        what = ", ".join(codes[:5]) + (" …" if len(codes) > 5 else "")
        if rec.relations:
            what = f"{rec.relations[0].type} {len(rec.relations)} document(s)" + (f"; {what}" if what else "")
        table.add_row(row.document_key, str(rec.published or "-"), str(rec.effective or "-"), what)
    out.print(table)


def _changes(store: Store, before: set[int], out: Console) -> None:
    for row in store.history(limit=1000):
        if row.change_id in before or row.kind != "changed" or not row.document_key:
            continue
        out.print(f"[bold]{row.document_key}[/bold] v{row.from_number} → v{row.to_number}: {row.summary}")
        for change in row.field_changes or []:
            out.print(f"  • {change['summary']}", markup=False)
        from pipeline.core.diff import diff_texts

        old = load_version(store, row.document_key, row.from_number).record
        new = load_version(store, row.document_key, row.to_number).record
        text_diff = diff_texts(old.canonical_text, new.canonical_text)
        if out.is_terminal:
            out.print(render_rich(text_diff))
        else:  # piped or captured: colours are gone, so mark the edits as [-deleted-] {+inserted+}
            out.print(render_inline(text_diff), markup=False)


def _calendar(store: Store, out: Console) -> None:
    """Every status change the stored relations and dates imply, with the status either side of it."""
    for d in collect_deadlines(store, _EPOCH):
        if not d.scheduled:  # took effect on publication: nothing to wait for
            continue
        out.print(d.describe() + (f"  (by {', '.join(d.by)})" if d.by else ""), markup=False)
        for day in (d.day, d.day + timedelta(days=1)):
            st = status_of(store, d.doc_key, day)
            until = f" until {st.until}" if st.until else ""
            out.print(f"  on {day}: {st.status}{until}", markup=False)


def _reminders(store: Store, sinks: dict, now: datetime, out: Console) -> None:
    """The deadline alerts due on ``now``: coming within the lead days, or passed recently."""
    routes = load_routes([{"when": {"kind": ["deadline"]}, "to": ["console", "archive"]}])
    queued = check_deadlines(store, now=now, lead_days=DEFAULTS["deadline_lead_days"][0],
                             routing=Routing(tuple(routes), ("archive",)))
    out.print(f"{queued} deadline alerts queued for {now.date().isoformat()}:")
    deliver_pending(store, sinks, now=now)


__all__ = ["run_demo"]
