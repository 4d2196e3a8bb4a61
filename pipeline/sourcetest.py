"""``regwatch sources test NAME``: what each configured selector reads on one list page and one detail page.

:func:`read_list` and :func:`read_detail` are pure (bytes in, :class:`Reading` lines out);
:func:`test_source` fetches at the edge (``pipeline.fetch.fetch_page``: the source's allowed
hosts only, or a loopback replica) unless the page comes from a saved file. A selector that
matched nothing is listed under "matched nothing"; a required one (list items and links, detail
title, body, date) makes the run fail, like the crawl's ``LayoutChanged``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crawlers.errors import PageError
from crawlers.pages.generic import OPTIONAL_DETAIL
from crawlers.sources import SourceDef, rebased
from pipeline.errors import UserError

SHOWN_ITEMS = 3  # list items printed (all are counted)
Fetch = Callable[..., tuple[bytes, dict[str, str], int, str]]


@dataclass
class Reading:
    """One selector's reading: ``value`` None when it matched nothing (``required``: a layout change)."""

    where: str  # "list.items", "list[1].link", "detail.title" …
    selector: str
    value: str | None
    required: bool = False


@dataclass
class PageTest:
    role: str  # list | feed | detail
    url: str
    origin: str  # "live, HTTP 200" / "file page.html"
    readings: list[Reading] = field(default_factory=list)
    error: str | None = None
    first_entry: str | None = None
    doc_key: str | None = None

    @property
    def missed(self) -> list[Reading]:
        return [r for r in self.readings if r.value is None]


def read_list(source: SourceDef, url: str, body: bytes, headers: dict[str, str] | None = None, *,
              status: int = 200, origin: str = "") -> PageTest:
    """What the list (or feed) selectors read on one page.

    Example:
        >>> from crawlers.pages.generic import GenericSpec
        >>> src = SourceDef("demo", "Demo", "https://x.gov", ("x.gov",), "UTC", pages={"list": "", "feed": "", "detail": ""},
        ...     generic=GenericSpec("html_list", ("https://x.gov/n/",), {"items": "li", "link": "a", "date": "i"}))
        >>> test = read_list(src, "https://x.gov/n/", b"<ul><li><a href='1.html'>A</a></li></ul>")
        >>> [(r.where, r.value) for r in test.readings]
        [('list.items', '1 matched'), ('list[1].link', 'https://x.gov/n/1.html'), ('list[1].date', None)]
    """
    spec = source.generic
    role = "feed" if spec.kind == "feed" else "list"
    page = source.page_class(role)(url, body, headers or {}, status=status)
    test = PageTest(role, url, origin)
    try:
        if role == "feed":
            entries = page.entries()
            test.readings.append(Reading("feed.entries", "<item>/<entry>", f"{len(entries)} entries", True))
            for i, entry in enumerate(entries[:SHOWN_ITEMS], 1):
                test.readings += [Reading(f"feed[{i}].link", "link", entry.url, True),
                                  Reading(f"feed[{i}].title", "title", entry.title or None),
                                  Reading(f"feed[{i}].date", "date", entry.date_text)]
            test.first_entry = entries[0].url if entries else None
            return test
        rows = page.readings(strict=False)
        test.readings.append(Reading("list.items", spec.list["items"], f"{len(rows)} matched" if rows else None, True))
        for i, (entry, read) in enumerate(rows[:SHOWN_ITEMS], 1):
            test.readings.append(Reading(f"list[{i}].link", spec.list.get("link", "a"), read["link"], True))
            for name in ("date", "title"):
                if name in spec.list:
                    test.readings.append(Reading(f"list[{i}].{name}", spec.list[name], read.get(name)))
            if "title" not in spec.list:
                test.readings.append(Reading(f"list[{i}].title", "(link text)", entry.title or None))
        if "next" in spec.list:
            test.readings.append(Reading("list.next", spec.list["next"], page.next_url()))
        test.first_entry = next((read["link"] for _, read in rows if read["link"]), None)
    except PageError as exc:
        test.error = str(exc)
    return test


def read_detail(source: SourceDef, url: str, body: bytes, headers: dict[str, str] | None = None, *,
                status: int = 200, origin: str = "") -> PageTest:
    """What the detail selectors read on one page, and the document key the pipeline would give it."""
    from pipeline.extract import extract_parsed

    spec = source.generic
    page = source.page_class("detail")(url, body, headers or {}, status=status)
    test = PageTest("detail", url, origin)
    try:
        read = page.readings()
        for name, value in read.items():
            query = spec.detail.get(name) or {"title": "xpath://title", "body": "body",
                                              "attachments": "(attachment links in the body)"}.get(name, "")
            required = name not in OPTIONAL_DETAIL and (name in spec.detail or name == "body")
            test.readings.append(Reading(f"detail.{name}", query, value, required))
        if read.get("body"):
            test.doc_key = extract_parsed(page.parse()).doc_key
    except PageError as exc:
        test.error = str(exc)
    return test


def run_source_test(source: SourceDef, *, url: str | None = None, file: Path | None = None, detail: bool = False,
                    base_url: str | None = None, fetch: Fetch | None = None) -> list[PageTest]:
    """Read one list page (``url``, default the first list URL, on ``base_url``'s host when given: a
    replica) and the detail page of its first entry; with ``detail`` the page is read as a detail
    page. ``file``: read the page from a saved file and fetch nothing."""
    if source.generic is None:
        raise UserError(f"source {source.slug!r} is built in (its page classes are code), not configured by selectors",
                        "`regwatch inspect FILE --source " + source.slug + "` reads one of its pages")
    if fetch is None:
        from pipeline.fetch import fetch_page as fetch
    page_url = url or source.generic.list_urls[0]
    if base_url and not url:
        page_url = rebased(page_url, base_url)
    if file is not None:
        try:
            body, headers, status, origin = file.read_bytes(), {}, 200, f"file {file}"
        except OSError as exc:
            raise UserError(f"cannot read {file}: {exc.strerror or exc}") from exc
    else:
        body, headers, status, page_url = fetch(page_url, source=source.slug, user_agent=source.user_agent)
        origin = f"live, HTTP {status}"
    reader = read_detail if detail else read_list
    tests = [reader(source, page_url, body, headers, status=status, origin=origin)]
    first = tests[0].first_entry
    if not detail and first and file is None:
        body, headers, status, final = fetch(first, source=source.slug, user_agent=source.user_agent)
        tests.append(read_detail(source, final, body, headers, status=status, origin=f"live, HTTP {status}"))
    return tests


def failed(tests: list[PageTest]) -> bool:
    """True when a page could not be read or a required selector matched nothing."""
    return any(t.error or any(r.required for r in t.missed) for t in tests)


__all__ = ["PageTest", "Reading", "failed", "read_detail", "read_list", "run_source_test"]
