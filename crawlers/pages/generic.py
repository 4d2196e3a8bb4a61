"""Page classes for sources described in ``schedules.yaml`` (``kind: html_list`` / ``kind: feed``).

A :class:`GenericSpec` holds the selectors of one configured source; :func:`bind` makes page
classes that read with them and implement the same interface as the built-in ones
(``entries()`` for lists and feeds, ``parse()`` for detail pages), so the spider, ``process``
and ``regwatch inspect`` use them unchanged.

Selectors are CSS (parsel: ``a::attr(href)``, ``h1::text``) or XPath with an ``xpath:``
prefix (``xpath://meta[@name='PubDate']/@content``). Item selectors (link, date, title) are
relative to the item node. A configured selector that matches nothing raises ``LayoutChanged``
naming the selector and URL, except ``document_number`` and ``attachments``: a page without a
number or an annex is normal. :meth:`GenericDetailPage.readings` reports every selector's
reading (matched or not) for ``regwatch sources test``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from crawlers.errors import LayoutChanged, MalformedFeed
from crawlers.pages.base import Link, ListingEntry, Page, ParsedPage
from crawlers.pages.feeds import ATOM_NS, atom_child, atom_link, one_line, parse_xml
from crawlers.pages.text import attachment_links, block_text, clean_title

XPATH_PREFIX = "xpath:"
RSS1_NS, RDF_NS = "http://purl.org/rss/1.0/", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC_NS = "http://purl.org/dc/elements/1.1/"
KINDS = ("html_list", "feed")
LIST_FIELDS = ("items", "link", "date", "title", "next")
DETAIL_FIELDS = ("title", "body", "date", "document_number", "attachments")
OPTIONAL_DETAIL = ("document_number", "attachments")  # matching nothing is normal, never a layout change


@dataclass(frozen=True, slots=True)
class GenericSpec:
    """The configured reading of one generic source (built by ``pipeline.config``; plain data)."""

    kind: str  # html_list | feed
    list_urls: tuple[str, ...]
    list: dict[str, str] = field(default_factory=dict)  # items, link, date, title, next
    detail: dict[str, str] = field(default_factory=dict)  # title, body, date, document_number, attachments
    page_url: str | None = None  # "…/list_{page}.html": page 2.. of each list URL
    pages: int | None = None  # how many pages page_url has (bounded by max_pages)
    number_pattern: str | None = None  # regex with named groups number (required), year, issuer
    issuer: str | None = None  # issuer slug of the source's own documents
    issuers: dict[str, str] = field(default_factory=dict)  # printed issuer (the regex's ``issuer``) -> slug
    language: str = "zh"

    def number_regex(self) -> re.Pattern[str] | None:
        return re.compile(self.number_pattern) if self.number_pattern else None


def selector_error(query: str) -> str | None:
    """Why ``query`` (CSS, or XPath after ``xpath:``) does not parse, or None when it does.

    Example:
        >>> selector_error("ul.news > li"), selector_error("xpath://a/@href")
        (None, None)
        >>> selector_error("div[")
        "CSS selector 'div[' does not parse: Expected ident or '*', got <EOF at 4>"
        >>> selector_error("xpath://a[")
        "XPath 'xpath://a[' does not parse: Invalid expression"
    """
    if not query or not query.strip():
        return "empty selector"
    try:
        if query.startswith(XPATH_PREFIX):
            etree.XPath(query[len(XPATH_PREFIX):])
        else:
            HTMLTranslator().css_to_xpath(query)
    except etree.XPathError as exc:
        return f"XPath {query!r} does not parse: {exc}"
    except Exception as exc:  # cssselect.SelectorError and its subclasses  # noqa: BLE001
        return f"CSS selector {query!r} does not parse: {exc}"
    return None


def run_selector(node: Selector, query: str) -> list[Selector]:
    """The nodes (or attribute/text strings) ``query`` matches under ``node``."""
    if query.startswith(XPATH_PREFIX):
        return list(node.xpath(query[len(XPATH_PREFIX):]))
    return list(node.css(query))


def text_of(found: Selector) -> str:
    """One line of text: a matched string as it is, an element's text whitespace-collapsed."""
    if isinstance(found.root, str):
        return clean_title(found.root)
    return clean_title(" ".join(found.css("::text").getall()))


def href_of(found: Selector) -> str | None:
    """A matched string (``::attr(href)``), or the element's own ``href`` or its first link's."""
    if isinstance(found.root, str):
        return found.root.strip() or None
    return (found.attrib.get("href") or found.xpath(".//a/@href").get() or "").strip() or None


class _Generic(Page):
    spec: GenericSpec

    def found(self, node: Selector, name: str, query: str, *, required: bool = True) -> list[Selector]:
        """Nodes of the configured selector ``name``; LayoutChanged when it matches nothing and is required."""
        nodes = run_selector(node, query)
        if not nodes and required:
            raise LayoutChanged(self.url, query, 0, f"1..n ({name})", source=self.source)
        return nodes


class GenericListPage(_Generic):
    """A configured HTML list page: ``items`` nodes, each with a ``link`` (and ``date``, ``title``)."""

    def entries(self) -> list[ListingEntry]:
        """The list's entries in page order; LayoutChanged when ``items`` or an item's ``link`` matches nothing.

        Example:
            >>> page = bind("demo", GenericSpec("html_list", ("https://x.gov/n/",),
            ...     {"items": "ul.news li", "link": "a::attr(href)", "date": "span"}))["list"]
            >>> page("https://x.gov/n/", "<ul class='news'><li><a href='1.html'>公告</a><span>2026-01-02</span></li></ul>"
            ...      .encode()).entries()
            [ListingEntry(url='https://x.gov/n/1.html', title='公告', date_text='2026-01-02', summary=None)]
        """
        return [entry for entry, _ in self.readings()]

    def readings(self, *, strict: bool = True) -> list[tuple[ListingEntry, dict[str, str | None]]]:
        """Each entry with what every item selector read (None: matched nothing). ``strict``: a miss of
        ``items`` or of an item's ``link`` raises LayoutChanged, else it is only reported."""
        sel = self.spec.list
        out = []
        for item in self.found(self.selector, "items", sel["items"], required=strict):
            link_query = sel.get("link", "a")
            links = self.found(item, "link", link_query, required=strict)
            href = next((h for h in map(href_of, links) if h), None)
            if href is None and strict:
                raise LayoutChanged(self.url, link_query, 0, "1..n (link with an href)", source=self.source)
            read: dict[str, str | None] = {"link": self.absolute(href) if href else None}
            for name in ("date", "title"):
                if name in sel:
                    got = [t for t in map(text_of, run_selector(item, sel[name])) if t]
                    read[name] = got[0] if got else None
            title = read.get("title") or (_link_text(item, links[0]) if links else "")
            out.append((ListingEntry(url=read["link"] or "", title=title, date_text=read.get("date")), read))
        for name in ("date", "title"):  # one item without a date is the site's business; none with one is ours
            if strict and name in sel and out and not any(read.get(name) for _, read in out):
                raise LayoutChanged(self.url, sel[name], 0, f"1..n ({name}, in any of {len(out)} items)",
                                    source=self.source)
        return out

    def next_url(self) -> str | None:
        """The ``next`` selector's link, absolute (None when not configured or on the last page)."""
        query = self.spec.list.get("next")
        if not query:
            return None
        href = next((h for h in map(href_of, run_selector(self.selector, query)) if h), None)
        return self.absolute(href) if href else None


class GenericFeedPage(_Generic):
    """A configured RSS 2.0 or Atom feed: one entry per ``<item>`` / ``<entry>`` (no DTD, no entities)."""

    def entries(self) -> list[ListingEntry]:
        """Entries in feed order: link, title, date (``pubDate`` / ``updated`` / ``published``) as printed.

        Example:
            >>> feed = bind("demo", GenericSpec("feed", ("https://x.gov/rss.xml",)))["feed"]
            >>> xml = b"<rss><channel><item><title>T</title><link>/a.html</link><pubDate>Fri, 02 Jan 2026</pubDate></item></channel></rss>"
            >>> feed("https://x.gov/rss.xml", xml).entries()[0]
            ListingEntry(url='https://x.gov/a.html', title='T', date_text='Fri, 02 Jan 2026', summary=None)
        """
        root = parse_xml(self.body, self.url, source=self.source, roots=(f"{{{ATOM_NS}}}feed", "rss", "rdf:RDF"))
        atom = root.tag == f"{{{ATOM_NS}}}feed"
        items = root.iterfind(f"{{{ATOM_NS}}}entry") if atom else root.iter("item", f"{{{RSS1_NS}}}item")
        out: list[ListingEntry] = []
        for item in items:
            if atom:
                href, title = atom_link(item) or "", atom_child(item, "title")
                date = atom_child(item, "updated") or atom_child(item, "published")
            else:
                href = _rss_text(item, "link") or item.get(f"{{{RDF_NS}}}about") or ""
                title, date = _rss_text(item, "title"), _rss_text(item, "pubDate") or _rss_text(item, f"{{{DC_NS}}}date")
            if not href.strip():
                raise MalformedFeed(self.url, f"feed entry {len(out)} has no link", source=self.source)
            out.append(ListingEntry(url=urljoin(self.url, href.strip()), title=one_line(title), date_text=date or None))
        if not out:
            raise LayoutChanged(self.url, "feed <item>/<entry>", 0, "1..n", source=self.source)
        return out

    def next_url(self) -> str | None:
        return None


class GenericDetailPage(_Generic):
    """A configured detail page: ``title``, ``body`` (required), ``date``, ``document_number``, ``attachments``."""

    def parse(self) -> ParsedPage:
        """The page as printed; LayoutChanged naming the selector when title, body or date match nothing.

        Example:
            >>> page = bind("demo", GenericSpec("html_list", ("https://x.gov/n/",), {"items": "li"},
            ...     {"title": "h1", "body": "div.text", "document_number": "p.no"}))["detail"]
            >>> parsed = page("https://x.gov/n/1.html", "<h1>关于X的公告</h1><div class='text'><p>正文。</p>"
            ...               "<a href='a.pdf'>附件</a></div>".encode()).parse()
            >>> parsed.title, parsed.body_text, parsed.doc_number_text, parsed.attachments[0].url
            ('关于X的公告', '正文。\\n附件', None, 'https://x.gov/n/a.pdf')
        """
        read = self._read(strict=True)
        return ParsedPage(
            source=self.source, url=self.url, title=read["title"] or None, body_text=read["body_text"],
            language=self.spec.language, doc_number_text=read["document_number"], published_text=read["date"],
            attachments=read["links"], warnings=tuple(self.layout_notes))

    def readings(self) -> dict[str, str | None]:
        """What every detail selector read (None: matched nothing), without raising for a miss."""
        read = self._read(strict=False)
        out = {name: read[name] for name in DETAIL_FIELDS if name in self.spec.detail or name == "body"}
        out["attachments"] = ", ".join(link.url for link in read["links"]) or None
        return out

    def _read(self, *, strict: bool) -> dict:
        spec = self.spec.detail
        body_query = spec.get("body", "body")
        body_nodes = self.found(self.selector, "body", body_query, required=strict)
        if "attachments" in spec:
            links = _links(run_selector(self.selector, spec["attachments"]), self.url)
        else:
            links = attachment_links(body_nodes[:1], base_url=self.url)
        body_text = block_text(body_nodes[0]) if body_nodes else ""
        if strict:
            body_text = self.require_text(body_text, body_query, links)
        read: dict = {"body": body_text[:200] or None, "body_text": body_text, "links": links}
        for name in ("title", "date", "document_number"):
            query = spec.get(name) or ("xpath://title" if name == "title" else None)
            if query is None:
                read[name] = None
                continue
            required = strict and name not in OPTIONAL_DETAIL and name in spec
            got = [t for t in map(text_of, self.found(self.selector, name, query, required=required)) if t]
            read[name] = got[0] if got else None
        return read


def _link_text(item: Selector, link: Selector) -> str:
    """The visible text of an item's link (the link element, else the item's first ``<a>``, else the item)."""
    if not isinstance(link.root, str):
        return text_of(link)
    anchors = item.css("a")
    return text_of(anchors[0] if anchors else item)


def _links(nodes: list[Selector], base_url: str) -> tuple[Link, ...]:
    """Attachment links from configured nodes: a link element (its href and text) or an href string."""
    out: dict[str, Link] = {}
    for node in nodes:
        href = href_of(node)
        if href and not href.lower().startswith(("javascript:", "mailto:", "#")):
            url = urljoin(base_url, href)
            title = "" if isinstance(node.root, str) else text_of(node)
            out.setdefault(url, Link(url, title or urlsplit(url).path.rsplit("/", 1)[-1]))
    return tuple(out.values())


def _rss_text(item: etree._Element, name: str) -> str:
    found = item.find(name)
    if found is None and not name.startswith("{"):
        found = item.find(f"{{{RSS1_NS}}}{name}")
    return "".join(found.itertext()).strip() if found is not None else ""


_ROLES = {"list": GenericListPage, "feed": GenericFeedPage, "detail": GenericDetailPage}


def bind(slug: str, spec: GenericSpec, *, encoding: str = "utf-8") -> dict[str, type[Page]]:
    """Page classes (roles ``list``, ``feed``, ``detail``) reading with ``spec`` for source ``slug``;
    ``encoding``: the site's expected encoding when neither header nor page declares one."""
    attrs = {"source": slug, "spec": spec, "expected_encoding": encoding}
    return {role: type(f"{cls.__name__}[{slug}]", (cls,), attrs) for role, cls in _ROLES.items()}


__all__ = ["DETAIL_FIELDS", "KINDS", "LIST_FIELDS", "XPATH_PREFIX", "GenericDetailPage", "GenericFeedPage",
           "GenericListPage", "GenericSpec", "bind", "href_of", "run_selector", "selector_error", "text_of"]
