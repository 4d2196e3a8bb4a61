"""``regwatch fixtures``: cut page fixtures from stored captures, and re-run page classes over them.

The loop for keeping page classes true to the live sites (STYLE.md §2.3, web-poet's savefixture):
``fixtures save`` writes a stored capture as ``<dir>/<source>/<PageClass>/<case>/{body.html,
meta.json}``; a human checks the page, then ``fixtures rerun`` prints what the page class reads
today, to paste into ``expected.json`` once it is right.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer

from pipeline.cli.app import app, config_of, open_store, reads_config
from pipeline.cli.output import emit_json, stdout
from pipeline.errors import UserError

fixtures_app = typer.Typer(help="Page fixtures from real captures.\n\nExample: regwatch fixtures save mofcom+gacc:2031:7 --case 2031-7",
                           no_args_is_help=True)
app.add_typer(fixtures_app, name="fixtures")
DEFAULT_DIR = Path("tests/fixtures/pages")


@fixtures_app.command("save")
@reads_config
def fixtures_save(
    ctx: typer.Context,
    ref: str = typer.Argument(..., metavar="CAPTURE", help="A capture id (named in source-health alerts), a document key or a page URL "
                                            "(its latest version's capture)."),
    case: str = typer.Option(..., "--case", help="Case directory name, e.g. 2031-7-annex-table."),
    page_class: str = typer.Option(None, "--class", help="Page class name (default: the source's detail page class)."),
    into: Path = typer.Option(DEFAULT_DIR, "--dir", help="Fixture root directory."),
) -> None:
    """Write a stored capture as a page fixture (body.html + meta.json; no expected.json yet).

    Example: regwatch fixtures save mofcom+gacc:2031:7 --case 2031-7-annex-table
    """
    from crawlers.sources import SOURCES

    store = open_store(ctx)
    if ref.isdigit():
        capture_id = int(ref)
    else:  # a document key or a URL it was seen at: the capture its latest version was read from
        document = store.document(ref)
        capture_id = store.latest_version(document.id).capture_id
    capture = store.capture(capture_id)
    configured(ctx, capture.source)
    cls_name = page_class or SOURCES[capture.source].pages["detail"].rpartition(":")[2]
    folder = into / capture.source / cls_name / case
    if folder.exists():
        raise UserError(f"fixture {folder} already exists", "pick another --case name")
    folder.mkdir(parents=True)
    (folder / "body.html").write_bytes(store.capture_body(capture_id))
    meta = {"url": capture.final_url or capture.url, "status": capture.status, "headers": capture.headers,
            "fetched_at": capture.fetched_at.isoformat(), "capture_id": capture_id}
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    stdout().print(f"wrote {folder}; check the page, then: regwatch fixtures rerun {folder}", markup=False)


@fixtures_app.command("rerun")
@reads_config
def fixtures_rerun(
    ctx: typer.Context,
    folder: Path = typer.Argument(..., help="A fixture case directory (with body.html and meta.json)."),
) -> None:
    """Print what the page class reads from a fixture today (paste into expected.json when right).

    Example: regwatch fixtures rerun tests/fixtures/pages/mofcom/MofcomNoticePage/2031-7-annex-table
    """
    from crawlers.sources import SOURCES

    meta_path, body_path = folder / "meta.json", folder / "body.html"
    if not meta_path.is_file() or not body_path.is_file():
        raise UserError(f"{folder} is not a fixture case", "it needs body.html and meta.json")
    source, cls_name = folder.parent.parent.name, folder.parent.name
    configured(ctx, source)
    if source not in SOURCES:
        raise UserError(f"{folder}: {source!r} is not a source directory", "use <dir>/<source>/<PageClass>/<case>")
    roles = [role for role, p in SOURCES[source].pages.items() if p.endswith(":" + cls_name)]
    if not roles:
        raise UserError(f"{folder}: no page class {cls_name!r} registered for {source}",
                        f"known: {', '.join(sorted(p.rpartition(':')[2] for p in SOURCES[source].pages.values()))}")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    page = SOURCES[source].page_class(roles[0])(meta["url"], body_path.read_bytes(), meta.get("headers") or {},
                                                 status=meta.get("status"))
    parsed = page.parse() if hasattr(page, "parse") else {"entries": [asdict(e) for e in page.entries()]}
    emit_json(asdict(parsed) if not isinstance(parsed, dict) else parsed)


def configured(ctx: typer.Context, source: str) -> None:
    """Load the configuration when ``source`` is not built in: it registers the configured sources."""
    from crawlers.sources import BUILTIN

    if source not in BUILTIN:
        config_of(ctx)
