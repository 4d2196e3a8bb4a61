"""Query commands: history, show, diff, search, status, status-of."""

from __future__ import annotations

from datetime import date, datetime, timezone

import typer
from rich.markup import escape

from pipeline.cli.app import app, clock, config_of, config_path, configured, open_store, reads_config, today
from pipeline.cli.output import emit_json, fmt_time, safe_line, say, stderr, stdout, table
from pipeline.errors import UserError

JSON = typer.Option(False, "--json", help="Print JSON on stdout instead of a table.")


def _parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} {value!r} is not a date", "use YYYY-MM-DD, e.g. 2026-01-31") from None


@app.command()
def history(
    ctx: typer.Context,
    doc_key: str = typer.Argument(None, help="Canonical document key, e.g. mofcom+gacc:2025:56 or miit:工信部原:2012:285."),
    source: str = typer.Option(None, "--source", help="Only this source (mofcom, miit, govcn, meti)."),
    since: str = typer.Option(None, "--since", help="Only changes on/after this day (YYYY-MM-DD, UTC)."),
    code: str = typer.Option(None, "--code", help="Only documents tagged with this control code, e.g. 1C914."),
    limit: int = typer.Option(100, "--limit", help="At most this many rows."),
    as_json: bool = JSON,
) -> None:
    """Change history, newest first (times in UTC): new documents and new versions with their summaries.

    Example: regwatch history --code 2B902 --since 2025-10-01
    """
    day = _parse_day(since, "--since")
    since_dt = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) if day else None
    store = open_store(ctx)
    if doc_key:
        store.document(doc_key)  # NotFound with a hint when the key is unknown
    rows = store.history(key=doc_key, source=source, since=since_dt, code=code, limit=limit)
    if as_json:
        emit_json([_history_json(r) for r in rows])
        return
    if not rows:
        stdout().print("no changes recorded" + (" for these filters" if (doc_key or source or since or code) else ""))
        return
    out = stdout()
    # One change per line pair: fixed-width facts first, then the (long, CJK) title indented.
    for r in rows:
        doc = r.document_key or _short_url(r.url)
        out.print(f"{fmt_time(r.created_at)}  {r.kind:<8} {doc}  {_versions(r)}  {r.summary}", markup=False)
        out.print(f"    {r.title}", markup=False)


def _short_url(url: str) -> str:
    """A keyless document (no number) in a table: its page name, enough to find it in --json output."""
    name = url.rstrip("/").rsplit("/", 1)[-1]
    return "(no number) " + (name if len(name) <= 24 else name[:20] + "…")


def _versions(row) -> str:
    return f"v{row.from_number}→v{row.to_number}" if row.from_number else f"v{row.to_number}"


def _history_json(row) -> dict:
    return {
        "created_at": row.created_at, "kind": row.kind, "doc_key": row.document_key, "source": row.source,
        "url": row.url, "title": row.title, "from_version": row.from_number, "to_version": row.to_number,
        "summary": row.summary, "field_changes": row.field_changes,
    }


@app.command()
@reads_config
def show(
    ctx: typer.Context,
    doc_key: str = typer.Argument(..., help="Canonical document key."),
    version: int = typer.Option(None, "--version", "-v", help="Version number (default: latest)."),
    on: str = typer.Option(None, "--on", help="Legal status on this day (default: today, UTC)."),
    as_json: bool = JSON,
) -> None:
    """One document: its extracted fields, versions, legal status, the timeline of its status (each
    change, the new status and the document that caused it) and its appearances (the sources it is on).

    Example: regwatch show mofcom+gacc:2025:70 --version 1
    """
    day = _parse_day(on, "--on") or today()
    with open_store(ctx) as store:
        _show(ctx, store, doc_key, version, day, as_json)


def _show(ctx: typer.Context, store, doc_key: str, version: int | None, day: date, as_json: bool) -> None:
    from pipeline.lookup import StatusReader, change_json, load_version, status_json

    from store.errors import NotFound

    try:
        stored = load_version(store, doc_key, version)
    except NotFound:
        if version is not None or not store.relations_to(doc_key):
            raise
        _show_known_by_relations(store, doc_key, day, as_json)
        return
    reader = StatusReader(store)
    status = reader.status(doc_key, day)
    timeline = reader.timeline(doc_key, None)
    versions = store.versions(stored.document.id)
    appearances = _appearances(ctx, store, stored.document)
    if as_json:
        data = stored.record.to_json()
        data["version"] = stored.version.number
        data["versions"] = [{"number": v.number, "created_at": v.created_at, "url": v.url, "source": v.source,
                             "content_hash": v.content_hash} for v in versions]
        data["status"] = status_json(status)
        data["timeline"] = [change_json(c) for c in timeline]
        data["appearances"] = appearances
        data["document_status"] = stored.document.status
        emit_json(data)
        return
    rec = stored.record
    out = stdout()
    # Titles, URLs and clauses are scraped text: never let them be read as rich markup.
    out.print(f"[bold]{escape(doc_key)}[/bold]  {escape(rec.title or '')}")
    out.print(f"version {stored.version.number} of {len(versions)}  ·  {rec.source}  ·  {rec.url}", markup=False)
    until = f" until {status.until.isoformat()}" if status.until else ""
    by = f" by {', '.join(status.by)}" if status.by else ""
    clauses = f" ({', '.join(status.clauses)})" if status.clauses else ""
    out.print(f"status on {day.isoformat()}: [bold]{status.status}[/bold]{escape(clauses + until + by)}")
    availability = _availability(stored.document.status, appearances)
    if availability:
        say(availability)
    for label, value in (("published", rec.published), ("signed", rec.signed), ("effective", rec.effective)):
        if value:
            out.print(f"{label}: {value.isoformat()}")
    for event in rec.dates:
        if event.type not in ("published", "signed", "effective") or event.clause:
            out.print(f"{event.type}{' [' + event.clause + ']' if event.clause else ''}: {event.date.isoformat()}",
                      markup=False)
    if rec.codes:
        out.print("codes: " + ", ".join(sorted({c.code for c in rec.codes})))
    if rec.elements:
        out.print("elements: " + ", ".join(rec.elements))
    if rec.hs_codes:
        out.print("HS codes: " + ", ".join(rec.hs_codes))
    for rel in rec.relations:
        extra = (f" {rel.clause}" if rel.clause else "") + (f" until {rel.until.isoformat()}" if rel.until else "")
        out.print(f"{rel.type} → {rel.target_key or rel.target_text}{extra}", markup=False)
    for att in rec.attachments:
        out.print(f"attachment: {att.title} {att.url}", markup=False)
    out.print("appearances:")
    for a in appearances:
        role = ("reference" if a["reference"] else "copy") + (", authoritative" if a["authoritative"] else "")
        out.print(f"  {a['source']:<7} {role:<24} {a['status']:<9} first {fmt_time(a['first_seen'])}  "
                  f"last {fmt_time(a['last_seen'])}  {a['url']}", markup=False)
        if a["recheck"]:
            say(f"  {'':<7} {_recheck_line(a['status'], a['recheck'])}")
        for url in a["urls"]:
            if url != a["url"]:
                out.print(f"  {'':<7} also at {url}", markup=False)
    _print_timeline(timeline)


def _appearances(ctx: typer.Context, store, document) -> list[dict]:
    """The sources a document appears on, each marked reference/copy and authoritative or not."""
    from pipeline.core.authority import DEFAULT_AUTHORITY, authoritative_source

    config = configured(ctx)
    return _appearance_rows(store, document,
                            authoritative_source(document.key, config.authority if config else DEFAULT_AUTHORITY))


def _appearance_rows(store, document, authority: str | None) -> list[dict]:
    """The appearances of a document with their re-checks (``authority``: the authoritative source, if known)."""
    urls = store.document_urls(document.id)
    checks = store.withdrawal_checks(document.id)
    return [{"source": a.source, "url": a.url, "urls": [u.url for u in urls if u.source == a.source],
             "first_seen": a.first_seen, "last_seen": a.last_seen, "status": a.status, "reference": a.reference,
             "authoritative": a.source == authority, "content_hash": a.content_hash or None,
             "capture_id": a.capture_id, "version_id": a.version_id, "recheck": _recheck_json(checks.get(a.id))}
            for a in store.appearances(document.id)]


def _recheck_json(check) -> dict | None:
    """What the re-checks of an appearance's page found (None: never re-checked)."""
    if check is None:
        return None
    return {"url": check.url, "gone_count": check.gone_count, "last_status": check.last_status,
            "last_checked_at": check.last_checked_at, "gone_since": check.gone_since,
            "withdrawn_at": check.withdrawn_at, "returned_at": check.returned_at}


def _recheck_line(status: str, check: dict) -> str:
    """One line on an appearance's re-checks.

    Example:
        >>> from datetime import datetime, timezone
        >>> t = datetime(2025, 11, 13, 3, tzinfo=timezone.utc)
        >>> _recheck_line("withdrawn", {"gone_count": 3, "last_status": 404, "last_checked_at": t,
        ...     "gone_since": t, "withdrawn_at": t, "returned_at": None})
        'withdrawn 2025-11-13 03:00: on no list, HTTP 404 in 3 checks in a row since 2025-11-13 03:00'
    """
    gone = (f"HTTP {check['last_status']} in {check['gone_count']} checks in a row since "
            f"{fmt_time(check['gone_since'])}")
    if status == "withdrawn":
        return f"withdrawn {fmt_time(check['withdrawn_at'])}: on no list, {gone}"
    if check["gone_count"]:
        return f"on no list, re-checked: {gone} (last {fmt_time(check['last_checked_at'])})"
    if check["returned_at"] is not None:
        return f"active again since {fmt_time(check['returned_at'])} (it had been withdrawn)"
    return f"on no list, re-checked {fmt_time(check['last_checked_at'])}: HTTP {check['last_status']}"


def _availability(document_status: str, appearances: list[dict]) -> str:
    """The document's line on withdrawal: withdrawn, or active again after a withdrawal ("" otherwise)."""
    if document_status == "withdrawn":
        when = max((a["recheck"]["withdrawn_at"] for a in appearances if a["recheck"] and a["recheck"]["withdrawn_at"]),
                   default=None)
        return (f"WITHDRAWN {fmt_time(when)}: on no list of any source and its page answers "
                "404/410 (`regwatch status` shows the re-checks)")
    back = [a for a in appearances if a["status"] == "active" and a["recheck"] and a["recheck"]["returned_at"]]
    if back:
        return f"active again since {fmt_time(back[0]['recheck']['returned_at'])} on {back[0]['source']} " \
               "(it had been withdrawn)"
    return ""


def _print_timeline(timeline) -> None:
    """``timeline:`` then one line per change: day, new status (clauses, end) and its cause."""
    if not timeline:
        return
    out = stdout()
    out.print("timeline:")
    for change in timeline:
        st = change.status
        clauses = f" [{', '.join(st.clauses)}]" if st.clauses else ""
        until = f" until {st.until.isoformat()}" if st.until else ""
        cause = f"  ({change.cause})" if change.cause else ""
        out.print(f"  {change.day.isoformat()}  {st.status}{clauses}{until}{cause}", markup=False)


def _show_known_by_relations(store, doc_key: str, day: date, as_json: bool) -> None:
    """A document regwatch has not fetched but other documents act on (e.g. suspend)."""
    from pipeline.lookup import StatusReader, change_json, status_json

    reader = StatusReader(store)
    status = reader.status(doc_key, day)
    timeline = reader.timeline(doc_key, None)
    incoming = reader.relations_to(doc_key)
    if as_json:
        emit_json({"doc_key": doc_key, "fetched": False, "status": status_json(status),
                   "relations_in": [{"from": key, "type": r.type, "clause": r.clause,
                                     "since": r.since, "until": r.until} for key, r in incoming],
                   "timeline": [change_json(c) for c in timeline]})
        return
    out = stdout()
    out.print(f"{doc_key}  (not fetched: known from documents that act on it)", markup=False)
    until = f" until {status.until.isoformat()}" if status.until else ""
    out.print(f"status on {day.isoformat()}: {status.status}{until}" + (f" — {status.note}" if status.note else ""),
              markup=False)
    for key, rel in incoming:
        extra = (f" {rel.clause}" if rel.clause else "") + (f" until {rel.until.isoformat()}" if rel.until else "")
        out.print(f"{key} {rel.type} it{extra}", markup=False)
    _print_timeline(timeline)


@app.command()
def diff(
    ctx: typer.Context,
    doc_key: str = typer.Argument(..., help="Canonical document key."),
    v1: int = typer.Argument(None, help="Old version (default: the one before V2)."),
    v2: int = typer.Argument(None, help="New version (default: latest)."),
    between: tuple[str, str] | None = typer.Option(
        None, "--between", metavar="SOURCE SOURCE",
        help="Compare the latest copies on two sources instead of two versions, e.g. --between miit govcn."),
    unified: bool = typer.Option(False, "--unified", "-u", help="Line-based unified view instead of inline."),
    as_json: bool = JSON,
) -> None:
    """What changed between two versions (or differs between the copies on two sites): field changes and the text diff.

    Example: regwatch diff mofcom+gacc:2025:56 1 2
    """
    from pipeline.core.diff import diff_texts
    from pipeline.core.fielddiff import field_changes
    from pipeline.lookup import load_version

    store = open_store(ctx)
    if between is not None:
        if v1 is not None or v2 is not None:
            raise UserError("--between compares copies, not versions", "drop V1/V2, or drop --between")
        older, newer = (_copy_record(store, doc_key, source) for source in between)
        tdiff = diff_texts(older.canonical_text, newer.canonical_text)
        _print_diff(f"{between[0]} → {between[1]}", {
            "doc_key": doc_key, "from_source": between[0], "to_source": between[1],
            "from_url": older.url, "to_url": newer.url,
        }, field_changes(older, newer), tdiff, unified, as_json)
        return
    newest = load_version(store, doc_key, v2)
    new_n = newest.version.number
    old_n = v1 if v1 is not None else new_n - 1
    if old_n < 1:
        raise UserError(f"{doc_key} has only version {new_n}", "nothing to compare; see `regwatch show`")
    older_v = load_version(store, doc_key, old_n)
    tdiff = diff_texts(older_v.record.canonical_text, newest.record.canonical_text)
    _print_diff(f"v{old_n} → v{new_n}", {"doc_key": doc_key, "from_version": old_n, "to_version": new_n},
                field_changes(older_v.record, newest.record), tdiff, unified, as_json)


def _copy_record(store, doc_key: str, source: str):
    """The record last read from the document's appearance on ``source`` (raises with a hint)."""
    from pipeline.core.records import record_from_json

    seen = store.appearance(store.document(doc_key).id, source)
    if not seen.content_hash:
        raise UserError(f"no text of {doc_key} recorded on {source} yet (its appearance predates appearances)",
                        f"run `regwatch process --reparse --source {source}` to read its captures again")
    return record_from_json(seen.fields, canonical_text=seen.canonical_text, content_hash=seen.content_hash)


def _print_diff(label: str, head: dict, changes, tdiff, unified: bool, as_json: bool) -> None:
    from pipeline.core.render_diff import render_inline, render_rich, render_unified

    if as_json:
        emit_json({
            **head,
            "field_changes": [{"field": c.field, "kind": c.kind, "old": c.old, "new": c.new, "summary": c.summary}
                              for c in changes],
            "inserted_chars": tdiff.inserted_chars, "deleted_chars": tdiff.deleted_chars,
            "inline": render_inline(tdiff), "unified": render_unified(tdiff),
        })
        return
    out = stdout()
    out.print(f"[bold]{escape(head['doc_key'])}[/bold]  {escape(label)}")
    for change in changes:
        out.print(f"• {change.summary}", markup=False)
    if not tdiff.changed:
        out.print("text unchanged")
    elif unified:
        out.print(render_unified(tdiff), markup=False)
    elif out.is_terminal:
        out.print(render_rich(tdiff))
    else:  # piped or redirected: colours are gone, so mark the edits as [-deleted-] {+inserted+}
        out.print(render_inline(tdiff), markup=False)


@app.command()
def search(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="Words to find in titles and texts (Chinese, Japanese or codes)."),
    limit: int = typer.Option(20, "--limit"),
    as_json: bool = JSON,
) -> None:
    """Find documents whose latest version mentions TEXT (taken literally, case-insensitive: 2b902 finds 2B902).

    TEXT is normalized like the indexed text: full-width １Ｃ９０２ finds 1C902, and spaces between
    Chinese characters are ignored. Best matches first (SQLite full-text index; newest first for
    1-2 character queries and on PostgreSQL).

    Example: regwatch search 稀土
    """
    from pipeline.core.normalize import canonical_text

    query = canonical_text(text)
    if not query:
        raise UserError("search text is empty", "pass a word or code to look for, e.g. regwatch search 稀土")
    store = open_store(ctx)
    rows = store.search(query, limit=limit)
    if as_json:
        emit_json([{"doc_key": r.document_key, "title": r.title, "url": r.url, "version": r.number,
                    "snippet": r.snippet} for r in rows])
        return
    if not rows:
        stdout().print(f"nothing matches {text!r}", markup=False)
        return
    table(None, ["document", "version", "title", "snippet"],
          [[r.document_key or r.url, r.number, r.title, r.snippet] for r in rows])


@app.command()
@reads_config
def status(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Health of every source (last run, failures in a row), document counts and the alert backlog.

    Example: regwatch status --json
    """
    from pipeline.health import live_health

    store = open_store(ctx)
    summary = store.status_summary()
    timeout, now = _crawl_timeout(ctx), clock().now()
    for slug, src in summary["sources"].items():  # a 'running' run whose process is gone counts as killed
        src.update(live_health(store, slug, now, crawl_timeout=timeout))
    held = store.held_captures(limit=500)
    withdrawals = store.withdrawal_summary()
    if as_json:
        emit_json(summary | {"held_captures": [
            {"id": c.id, "source": c.source, "url": c.final_url or c.url, "reason": c.error, "held_at": c.processed_at}
            for c in held], "withdrawals": withdrawals})
        return
    table("sources", ["source", "name", "last run (UTC)", "status", "fails", "errors", "docs", "versions"], [
        [slug, s["name"], fmt_time(s["last_run_at"]), s["last_run_status"] or "-", s["consecutive_failures"],
         ", ".join(f"{n} {kind}" for kind, n in s["last_run_errors"].items()) or "-", s["documents"], s["versions"]]
        for slug, s in summary["sources"].items()
    ], no_wrap=("source", "last run (UTC)"))
    for slug, s in summary["sources"].items():
        if s.get("last_run_log"):
            say(f"last crawl log: {slug}: {s['last_run_log']}")
    _print_withdrawals(withdrawals, _threshold(ctx))
    _print_deliveries(summary)
    totals, alerts = summary["totals"], summary["alerts"]
    stdout().print(f"documents: {totals['documents']}  versions: {totals['versions']}  changes: {totals['changes']}  "
                   f"captures: {totals['captures']} ({summary['pending_captures']} pending, "
                   f"{summary['failed_captures']} unreadable{f', {len(held)} held as suspected misreads' if held else ''})  "
                   f"alerts: {alerts['pending']} pending, {alerts['held']} held, {alerts['blocked']} blocked, "
                   f"{alerts['dead']} dead")
    if held:
        table("captures held as suspected misreads (no version made)", ["capture", "source", "held (UTC)", "url",
                                                                         "reason"],
              [[c.id, c.source, fmt_time(c.processed_at), c.final_url or c.url, c.error] for c in held],
              no_wrap=("capture", "held (UTC)"))
        say("release one whose page really says this now with `regwatch process --accept CAPTURE`")


def _print_withdrawals(withdrawals: dict, threshold: int) -> None:
    """One line per source whose pages that left every list are being re-checked, e.g.
    ``re-checks of pages on no list: mofcom: 3 re-checked, 1 gone (2 of 3 checks before withdrawal),
    0 withdrawn; last check 2025-11-12 03:00``."""
    for source, w in withdrawals.items():
        parts = [f"{w['rechecked']} re-checked"]
        if w["gone"]:
            parts.append(f"{w['gone']} gone ({w['max_gone_count']} of {threshold} checks before withdrawal)")
        parts.append(f"{w['withdrawn']} withdrawn")
        if w["returned"]:
            parts.append(f"{w['returned']} active again")
        if w["pending"]:
            parts.append(f"{w['pending']} answers waiting for `regwatch process`")
        say(f"re-checks of pages on no list: {source}: {', '.join(parts)}; last check {fmt_time(w['last_checked_at'])}")


def _threshold(ctx: typer.Context) -> int:
    """``defaults.withdrawal_after_checks`` (the default when the configuration is broken)."""
    from pipeline.defaults import DEFAULTS

    if config_path(ctx) is None:
        return int(DEFAULTS["withdrawal_after_checks"][0])
    from pipeline.config import ConfigError

    try:
        return config_of(ctx).defaults.withdrawal_after_checks
    except ConfigError:
        return int(DEFAULTS["withdrawal_after_checks"][0])


def _print_deliveries(summary: dict) -> None:
    """The alert backlog per sink: a table of delivery states, then why sinks are blocked or held."""
    from store.outbox import DELIVERY_STATES

    if not summary["deliveries"]:
        return
    table("alert deliveries", ["sink", *DELIVERY_STATES], [
        [sink, *(counts.get(state, 0) for state in DELIVERY_STATES)] for sink, counts in summary["deliveries"].items()
    ], no_wrap=("sink",))
    for b in summary["blocked_sinks"]:
        say(f"sink {safe_line(b['sink'])} blocked since {fmt_time(b['since'])} UTC: {safe_line(b['reason'] or '?')} — "
            f"{b['blocked']} waiting; they go out by themselves once it is fixed "
            f"(see `regwatch alerts list --sink {safe_line(b['sink'])} --state blocked`)")
    for h in summary["held_sinks"]:
        say(f"{h['held']} held for sink {safe_line(h['sink'])}: {safe_line(h['reason'] or 'not configured here')}")


def _crawl_timeout(ctx: typer.Context) -> int:
    """The configured crawl timeout; the default (with a warning) when the configuration is broken."""
    from pipeline.defaults import DEFAULTS

    if config_path(ctx) is None:
        return int(DEFAULTS["crawl_timeout_seconds"][0])
    from pipeline.config import ConfigError

    try:
        return config_of(ctx).defaults.crawl_timeout_seconds
    except ConfigError as exc:
        for line in str(exc).splitlines():
            stderr().print(f"warning: {line}", markup=False)
        stderr().print("warning: configuration invalid; assuming the default crawl timeout", markup=False)
        return int(DEFAULTS["crawl_timeout_seconds"][0])


@app.command("status-of")
def status_of_cmd(
    ctx: typer.Context,
    doc_key: str = typer.Argument(..., help="Canonical document key."),
    on: str = typer.Option(None, "--on", help="Day to evaluate (YYYY-MM-DD; default today UTC)."),
    as_json: bool = JSON,
) -> None:
    """Legal status of a document on a day: in force, suspended (until …), expired, repealed, …

    Example: regwatch status-of mofcom+gacc:2025:56 --on 2026-11-11
    """
    from pipeline.lookup import status_json, status_of
    from store.errors import NotFound

    day = _parse_day(on, "--on") or today()
    with open_store(ctx) as store:
        result = status_of(store, doc_key, day)
        try:
            document = store.document(doc_key)
        except NotFound:  # known only from the relations acting on it
            document = None
        availability = _availability(document.status, _appearance_rows(store, document, None)) if document else ""
    withdrawn = document is not None and document.status == "withdrawn"
    if as_json:
        emit_json({"doc_key": doc_key, **status_json(result), "withdrawn": withdrawn,
                   "availability": availability or None})
        return
    until = f" until {result.until.isoformat()}" if result.until else ""
    by = f" (by {', '.join(result.by)})" if result.by else ""
    clauses = f" [{', '.join(result.clauses)}]" if result.clauses else ""
    # Suspension notes only restate the line; other notes (inferences, reasons) add to it.
    note = f"\n  {result.note}" if result.note and result.status not in ("suspended", "partly_suspended") else ""
    if withdrawn:  # a page taken down is no repeal: the status stands on what the document said
        note += (f"\n  {availability}\n  the status above is read from the document's last version; a page "
                 "removed from the regulator's site is not a repeal — confirm with the issuer")
    stdout().print(f"{doc_key} on {day.isoformat()}: {result.status}{clauses}{until}{by}{note}", markup=False)


@app.command()
def deadlines(
    ctx: typer.Context,
    on: str = typer.Option(None, "--on", help="Reference day (YYYY-MM-DD; default today UTC)."),
    days: int = typer.Option(90, "--days", help="Look this many days ahead."),
    past: int = typer.Option(30, "--past", help="Also list deadlines passed this many days ago."),
    as_json: bool = JSON,
) -> None:
    """Legal deadlines around a day: suspensions ending, expiries, dates of entry into force, repeals,
    transitional periods ending (a suspension end moved by an extension shows the date it moved from).

    Example: regwatch deadlines --on 2026-11-01 --days 30
    """
    from datetime import timedelta

    from pipeline.lookup import deadline_json, deadlines_around

    day = _parse_day(on, "--on") or today()
    with open_store(ctx) as store:
        found = deadlines_around(store, day, days=days, past=past)
    if as_json:
        emit_json([deadline_json(d, day) for d in found])
        return
    if not found:
        stdout().print(f"no deadlines between {(day - timedelta(days=past)).isoformat()} and "
                       f"{(day + timedelta(days=days)).isoformat()}")
        return
    for d in found:
        left = (d.day - day).days
        when = "passed" if d.starts <= day else ("today" if left == 0 else f"in {left} day(s)")
        by = f"  (by {', '.join(d.by)})" if d.by else ""
        moved = f"  ({d.moved.describe()})" if d.moved else ""
        stdout().print(f"{d.day.isoformat()}  {when:<14} {d.describe()}{by}{moved}", markup=False)
