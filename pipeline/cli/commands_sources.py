"""``regwatch sources test NAME``: what a configured source's selectors read, the fastest way to write them."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.app import app, config_of, reads_config
from pipeline.cli.output import emit_json, safe_line, say
from pipeline.errors import UserError

sources_app = typer.Typer(help="Configured sources (kind: html_list / feed in schedules.yaml).\n\n"
                               "Example: regwatch sources test customs", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


@sources_app.command("test")
@reads_config
def sources_test(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The source's name under sources: in schedules.yaml."),
    url: str = typer.Option(None, "--url", help="Read this page instead of the first list URL (allowed hosts only)."),
    file: Path = typer.Option(None, "--file", help="Read the page from a saved file; nothing is fetched."),
    detail: bool = typer.Option(False, "--detail", help="The page (--url / --file) is a detail page."),
    as_json: bool = typer.Option(False, "--json", help="Print the readings as JSON."),
) -> None:
    """Fetch one list page and the detail page of its first entry (or read a saved file) and print
    what every configured selector read; selectors that matched nothing are listed at the end.

    Only the source's allowed hosts (or a loopback replica) are fetched. Exit 1 when a page could
    not be read or a required selector (list items and links; detail title, body, date) matched
    nothing: the crawl would report that as a layout change.

    Example: regwatch sources test customs --file saved-list.html
    """
    from crawlers.sources import SOURCES
    from pipeline.sourcetest import failed, run_source_test

    config = config_of(ctx)
    source = SOURCES.get(name)
    if source is None:
        configured = sorted(k for k, v in config.sources.items() if v.kind)
        raise UserError(f"unknown source {name!r}",
                        f"configured sources: {', '.join(configured)}" if configured else
                        "describe one under sources: with kind: html_list or kind: feed (README 'Generic sources')")
    src_cfg = config.sources.get(name)
    tests = run_source_test(source, url=url, file=file, detail=detail, base_url=src_cfg.base_url if src_cfg else None)
    if as_json:
        emit_json([{"role": t.role, "url": t.url, "origin": t.origin, "error": t.error, "doc_key": t.doc_key,
                    "readings": [{"where": r.where, "selector": r.selector, "value": r.value, "required": r.required}
                                 for r in t.readings]} for t in tests])
    else:
        for test in tests:
            say(f"{name}: {test.role} page {safe_line(test.url)} ({safe_line(test.origin)})")
            for r in test.readings:
                value = "MATCHED NOTHING" if r.value is None else safe_line(r.value, 160)
                say(f"  {r.where:<24} {safe_line(r.selector, 60)!r:<34} {value}")
            if test.role == "detail" and not test.error:
                say(f"  {'document key':<24} {'':<34} "
                    f"{test.doc_key or 'none: the URL is the identity (no document number found)'}")
            if test.error:
                say(f"  ERROR: {safe_line(test.error)}")
        missed = [(t.role, r) for t in tests for r in t.missed]
        if missed:
            say("matched nothing: " + "; ".join(f"{r.where} {r.selector!r}" + (" (required)" if r.required else "")
                                                for _, r in missed))
        else:
            say("every selector matched")
    if failed(tests):
        raise typer.Exit(1)


__all__ = ["sources_test"]
