"""Machine-readable feeds: gov.cn's static JSON lists and METI's Atom feed, parsed into ListingEntry rows.

XML is parsed with entity expansion, DTD loading and network access all off, and any
document type declaration is refused: a feed has no business carrying one, and refusing it
closes the door on entity-expansion ("billion laughs") and external-entity payloads.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from functools import cached_property
from urllib.parse import urljoin

from lxml import etree

from crawlers.errors import ChallengePage, EmptyPage, MalformedFeed
from crawlers.pages.base import ListingEntry, Page, looks_like_challenge

JST = timezone(timedelta(hours=9), "JST")
ATOM_NS = "http://www.w3.org/2005/Atom"
# seen 2026: ZUIXINZHENGCE.json rows are {TITLE, SUB_TITLE, URL, DOCRELPUBTIME}.
GOVCN_KEYS = ("TITLE", "URL")
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)


def parse_govcn_json(body: bytes | str, base_url: str) -> list[ListingEntry]:
    """Rows of a gov.cn JSON list (``ZUIXINZHENGCE.json``, ``ZCJD_QZ.json``…) as entries, in file order.

    Example:
        >>> rows = '[{"TITLE":"稀土管理条例","SUB_TITLE":"","URL":"../content/202406/content_1.htm","DOCRELPUBTIME":"2024-06-29"}]'
        >>> parse_govcn_json(rows, "https://www.gov.cn/zhengce/zuixin/ZUIXINZHENGCE.json")[0].url
        'https://www.gov.cn/zhengce/content/202406/content_1.htm'
    """
    text = body.decode("utf-8-sig", errors="strict") if isinstance(body, bytes) else body
    if not text.strip():
        raise EmptyPage(base_url, "empty JSON feed", source="govcn")
    try:
        rows = json.loads(text)
    except ValueError as exc:
        if looks_like_challenge(text):
            raise ChallengePage(base_url, "anti-bot challenge instead of the JSON feed", source="govcn") from exc
        raise MalformedFeed(base_url, f"feed is not valid JSON ({exc.msg}: line {exc.lineno}, column {exc.colno})",
                            source="govcn") from exc
    if not isinstance(rows, list):
        raise MalformedFeed(base_url, f"feed top level is {type(rows).__name__}, expected a list of rows",
                            source="govcn")
    out: list[ListingEntry] = []
    for i, row in enumerate(rows):
        missing = [key for key in GOVCN_KEYS if not isinstance(row, dict) or not str(row.get(key) or "").strip()]
        if missing:
            raise MalformedFeed(base_url, f"feed row {i} lacks {', '.join(missing)}", source="govcn")
        date = str(row.get("DOCRELPUBTIME") or "").strip() or None
        out.append(ListingEntry(url=urljoin(base_url, row["URL"].strip()), title=one_line(row["TITLE"]),
                                date_text=date))
    return out


def one_line(title: str) -> str:
    """Join a title that the CMS wrapped over lines (no space for CJK wraps), collapse spaces."""
    return re.sub(r"[ \t\u3000]+", " ", re.sub(r"\s*[\r\n]+\s*", "", title)).strip()


def parse_meti_atom(body: bytes, base_url: str = "https://www.meti.go.jp/ml_index_release_atom.xml") -> list[ListingEntry]:
    """Entries of METI's Atom feed (``link`` href, ``title``, ``updated`` as printed), in feed order.

    Example:
        >>> xml = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><title>\\xe7\\x99\\xba\\xe8\\xa1\\xa8</title>'
        ...        b'<link href="https://www.meti.go.jp/press/2025/01/x/x.html"/><updated>2026-01-09T17:00:00+09:00</updated></entry></feed>')
        >>> parse_meti_atom(xml)[0].date_text
        '2026-01-09T17:00:00+09:00'
    """
    root = parse_xml(body, base_url)
    out: list[ListingEntry] = []
    for entry in root.iterfind(f"{{{ATOM_NS}}}entry"):
        href = atom_link(entry)
        if not href:
            raise MalformedFeed(base_url, f"Atom entry {len(out)} has no <link href>", source="meti")
        out.append(ListingEntry(url=urljoin(base_url, href), title=one_line(atom_child(entry, "title")),
                                date_text=atom_child(entry, "updated") or atom_child(entry, "published") or None))
    return out


def feed_last_updated(body: bytes, base_url: str = "https://www.meti.go.jp/ml_index_release_atom.xml") -> datetime | None:
    """The newest ``updated`` stamp of an Atom feed (feed-level or any entry), tz-aware; None if none.

    A stamp without an offset is read as Japan time (METI's). Callers compare it with their
    own clock to decide whether the feed is stale (DOMAIN §4.2: fall back to HTML after 7 days).

    Example:
        >>> feed_last_updated(b'<feed xmlns="http://www.w3.org/2005/Atom"><updated>2026-06-19T10:00:00+09:00</updated></feed>')
        datetime.datetime(2026, 6, 19, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=32400)))
    """
    root = parse_xml(body, base_url)
    stamps = [atom_child(root, "updated")] + [atom_child(e, "updated") for e in root.iterfind(f"{{{ATOM_NS}}}entry")]
    parsed = [_as_datetime(s, base_url) for s in stamps if s]
    return max(parsed) if parsed else None


class GovcnJsonFeed(Page):
    """Page-class wrapper around :func:`parse_govcn_json`, so feeds share the fixture layout."""

    source = "govcn"

    def entries(self) -> list[ListingEntry]:
        """See :func:`parse_govcn_json`."""
        if self.status in (202, 403, 412) or looks_like_challenge(self.body[:20000].decode("utf-8", "ignore")):
            raise ChallengePage(self.url, f"anti-bot challenge instead of the JSON feed (HTTP {self.status})",
                                source=self.source)
        return parse_govcn_json(self.body, self.url)


class MetiAtomFeed(Page):
    """Page-class wrapper around :func:`parse_meti_atom` and :func:`feed_last_updated`."""

    source = "meti"

    @cached_property
    def _checked_body(self) -> bytes:
        if self.status in (202, 403, 405) or looks_like_challenge(self.body[:20000].decode("utf-8", "ignore")):
            raise ChallengePage(self.url, f"anti-bot challenge instead of the Atom feed (HTTP {self.status})",
                                source=self.source)
        return self.body

    def entries(self) -> list[ListingEntry]:
        """See :func:`parse_meti_atom`."""
        return parse_meti_atom(self._checked_body, self.url)

    def last_updated(self) -> datetime | None:
        """See :func:`feed_last_updated`."""
        return feed_last_updated(self._checked_body, self.url)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def parse_xml(body: bytes, url: str, *, source: str = "meti", roots: tuple[str, ...] = (f"{{{ATOM_NS}}}feed",)
              ) -> etree._Element:
    """The root of a feed whose root element is one of ``roots``; any DTD/entity declaration is refused."""
    if not body or not body.strip():
        raise EmptyPage(url, "empty feed body", source=source)
    if _DTD.search(body) or (body[:2] in (b"\xff\xfe", b"\xfe\xff") and _DTD.search(body.decode("utf-16", "ignore").encode())):
        raise MalformedFeed(url, "feed carries a DTD / <!DOCTYPE> / <!ENTITY>; refused (entity-expansion risk)",
                            source=source)
    try:
        root = etree.fromstring(body, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedFeed(url, f"feed is not well-formed XML ({exc})", source=source) from exc
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise MalformedFeed(url, "feed carries a DTD / <!DOCTYPE>; refused (entity-expansion risk)", source=source)
    if root.tag not in roots and _local(root.tag) not in roots:
        expected = "Atom <feed>" if len(roots) == 1 else "RSS <rss>, RDF <rdf:RDF> or Atom <feed>"
        raise MalformedFeed(url, f"root element is {root.tag!r}, expected {expected}", source=source)
    return root


def _local(tag: str) -> str:
    """``{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF`` → ``rdf:RDF``; other tags unchanged."""
    return "rdf:RDF" if tag == "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF" else tag


def atom_child(node: etree._Element, name: str) -> str:
    found = node.find(f"{{{ATOM_NS}}}{name}")
    return "".join(found.itertext()).strip() if found is not None else ""


def atom_link(entry: etree._Element) -> str | None:
    links = entry.findall(f"{{{ATOM_NS}}}link")
    preferred = [el for el in links if el.get("rel", "alternate") == "alternate"] or links
    for el in preferred:
        if el.get("href", "").strip():
            return el.get("href").strip()
    return None


def _as_datetime(stamp: str, url: str) -> datetime:
    try:
        value = datetime.fromisoformat(stamp)
    except ValueError as exc:
        raise MalformedFeed(url, f"<updated> {stamp!r} is not an ISO 8601 timestamp", source="meti") from exc
    return value if value.tzinfo else value.replace(tzinfo=JST)


__all__ = [
    "GovcnJsonFeed", "MalformedFeed", "MetiAtomFeed", "atom_child", "atom_link", "feed_last_updated", "one_line", "parse_govcn_json",
    "parse_meti_atom", "parse_xml",
]
