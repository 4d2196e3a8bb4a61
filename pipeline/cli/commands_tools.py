"""Tool commands: inspect (parse one page, no database), db upgrade, demo."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from pipeline.cli.app import app, clock, config_of, db_app, globals_of, open_store, reads_config
from pipeline.cli.output import emit_json, stderr, stdout
from pipeline.errors import UserError


@app.command()
@reads_config
def inspect(
    ctx: typer.Context,
    file_or_url: str = typer.Argument(..., help="A saved page (any encoding) or an http(s) URL on the source's hosts."),
    source: str = typer.Option("auto", "--source", help="mofcom | miit | govcn | meti | a source configured in "
                               "schedules.yaml | auto (from the URL host)."),
    url: str = typer.Option(None, "--url", help="Original URL of a saved page (resolves links, METI release ids); "
                            "default: the URL the page declares (link rel=canonical, og:url)."),
    encoding: str = typer.Option(None, "--encoding", help="Force the page encoding, e.g. gb18030 or cp932."),
    as_json: bool = typer.Option(False, "--json", help="Print the stable inspect JSON object."),
    attachments_dir: Path = typer.Option(None, "--attachments", help="A folder of the page's saved attachments, "
                                         "matched by the file name at the end of each attachment URL."),
) -> None:
    """Parse one page (or one attachment: PDF, DOCX, XLSX) the way `process` would and print what
    regwatch understands — touches no database.

    Example: regwatch inspect saved.html --source mofcom --url https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_x.html --json
    Example: regwatch inspect annex.pdf --source govcn
    Example: regwatch inspect page.html --source govcn --attachments saved-attachments/
    Example: regwatch --config schedules.yaml inspect saved.html --source customs
    """
    from crawlers.sources import BUILTIN
    from pipeline.core.attachments import attachment_name, is_attachment_file, read_attachment
    from pipeline.extract import detect_source, extract_file, extract_page, source_def
    from pipeline.fetch import fetch_page

    if source not in BUILTIN:  # a source configured by selectors (or auto): registered by the configuration
        config_of(ctx)

    if file_or_url.startswith(("http://", "https://")):
        body, headers, status, final_url = fetch_page(file_or_url, source=source)
        page_url = url or final_url
    else:
        path = Path(file_or_url)
        if not path.is_file():
            raise UserError(f"no such file: {file_or_url}", "pass a saved .html page or an http(s) URL")
        body, headers, status = path.read_bytes(), {}, 200
        page_url = url or path.resolve().as_uri()
    if attachments_dir is not None and not attachments_dir.is_dir():
        raise UserError(f"--attachments {attachments_dir}: no such folder", "pass the folder the attachments were saved in")
    ctype = next((str(v) for k, v in headers.items() if k.lower() == "content-type"), "")
    if is_attachment_file(body, attachment_name(page_url)) or "pdf" in ctype.lower():
        source = detect_source(page_url) if source == "auto" else source_def(source).slug
        read = read_attachment(body, filename=attachment_name(page_url), content_type=ctype)
        if read.status in ("unreadable", "too_large"):
            raise UserError(f"{source}: {page_url}: {read.status}: {read.note}",
                            "check that the file is complete (fetch it again) and is a PDF, DOCX or XLSX")
        record = extract_file(read, source=source, url=page_url)
    else:
        def saved(urls: list[str]) -> dict:
            found = {}
            for link in urls:
                file = attachments_dir / attachment_name(link) if attachments_dir is not None else None
                if file is not None and attachment_name(link) and file.is_file():
                    found[link] = read_attachment(file.read_bytes(), filename=file.name)
                elif file is not None:
                    stderr().print(f"warning: attachment {link}: no file {file}", markup=False)
            return found

        record = extract_page(body, source=source, url=page_url, headers=headers, status=status, encoding=encoding,
                              read_attachments=saved if attachments_dir is not None else None)
    data = record.to_json()
    for warning in record.warnings:
        stderr().print(f"warning: {warning}", markup=False)
    if as_json:
        emit_json(data)
        return
    _print_summary(data)


def _print_summary(data: dict) -> None:
    out = stdout()
    out.print(f"[bold]{escape(data['title'] or '(no title)')}[/bold]")
    out.print(f"{data['source']} · {data['language']} · {data['url']}", markup=False)
    out.print(f"document: {data['doc_number'] or '-'}  key: {data['doc_key'] or '-'}", markup=False)
    for label in ("published", "signed", "effective"):
        out.print(f"{label}: {data[label] or '-'}")
    for d in data["dates"]:
        if d["type"] not in ("published", "signed", "effective") or d["clause"]:
            out.print(f"{d['type']}{' [' + d['clause'] + ']' if d['clause'] else ''}: {d['date']}", markup=False)
    if data["eccns"]:
        out.print("codes: " + ", ".join(data["eccns"]))
    if data["elements"]:
        out.print("elements: " + ", ".join(data["elements"]))
    if data["hs_codes"]:
        out.print("HS codes: " + ", ".join(data["hs_codes"]))
    for rel in data["relations"]:
        extra = (f" {rel['clause']}" if rel["clause"] else "") + (f" until {rel['until']}" if rel["until"] else "")
        out.print(f"{rel['type']} → {rel['target_key'] or rel['target_text']}{extra}", markup=False)
    for att in data["attachments"]:
        read = f" [{att['status']}{': ' + att['note'] if att.get('note') else ''}]" if att.get("status") else ""
        out.print(f"attachment: {att['title']} {att['url']}{read}", markup=False)
    out.print(f"text: {len(data['text'])} characters")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply pending schema migrations in place (nothing is lost; a newer schema is refused) and
    say what each one did to the data (e.g. documents re-keyed, merged documents split).

    Example: regwatch --db /var/lib/regwatch/regwatch.db db upgrade
    """
    from pipeline.migrations import MIGRATIONS
    from store import Store

    from pipeline.cli.progress import progress

    out = stdout()
    with progress("upgrading the database schema"):
        store = Store.open(globals_of(ctx).db, upgrade=True, migrations=MIGRATIONS)
    with store:
        for name, report in store.migration_reports.items():
            out.print(f"{name}: {report}", markup=False)
        out.print(f"database {store.url} is at schema version {store.schema_version}", markup=False)


@db_app.command("prune")
@reads_config
def db_prune(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be pruned; change nothing."),
    days: float = typer.Option(None, "--days", min=1, help="Age in days (default: defaults.capture_retention_days)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Drop the raw bodies of captures older than defaults.capture_retention_days (all versions,
    texts and diffs are kept; never the capture behind a version's latest appearance, the latest
    capture of a URL, or one pending or held as a suspected misread). The daemon does this daily
    when the key is set.

    Example: regwatch db prune --dry-run
    """
    from pipeline.retention import prune_old_captures

    config = config_of(ctx)
    report = prune_old_captures(open_store(ctx), config, now=clock().now(), dry_run=dry_run, days=days)
    if report is None:
        raise UserError("retention is not configured: every raw capture is kept",
                        "set defaults.capture_retention_days in schedules.yaml, or pass --days N")
    if as_json:
        emit_json(report)
        return
    verb = "would drop" if dry_run else "dropped"
    stdout().print(f"{verb} the raw bodies of {report['captures']} captures fetched before {report['before']} "
                   f"({report['bytes'] / 1024 / 1024:.1f} MB uncompressed); versions and texts are kept", markup=False)


@app.command()
@reads_config
def demo(
    ctx: typer.Context,
    keep_db: bool = typer.Option(False, "--keep", help="Keep the temporary database as ./regwatch-demo.db."),
) -> None:
    """Offline demo of the 2026-11-10 story on local replicas of MOFCOM, MIIT, gov.cn and METI, with a
    simulated clock: new announcements, a suspension, an edit, copies on other sites, a broken and
    recovered layout, deadline reminders and an extension. Same output on every run.

    With --config, the alerts go to that file's sinks (e.g. a test Slack channel); with --db, the
    database is kept (running again on it adds nothing twice).

    Example: regwatch demo            (or: regwatch --db demo.db demo; regwatch --config test.yaml demo)
    """
    from pipeline.demo import run_demo

    path = globals_of(ctx).config
    config = config_of(ctx) if path is not None else None
    # plain lines: no rich markup, highlighting or :emoji: codes in scraped titles
    run_demo(db=globals_of(ctx).db, keep=keep_db, out=typer.echo, config=config,
             config_name=str(path) if path is not None else None)
