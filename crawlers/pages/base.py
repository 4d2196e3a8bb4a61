"""Page base class: decoding raw bytes safely, selectors that fail loudly, and the page-output types.

A page class turns ``(url, body, headers)`` into plain values; it never fetches, never
touches the database and never reads the clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from parsel import Selector

from crawlers.errors import ChallengePage, EmptyArticle, LayoutChanged, NotHtml, UndecodableBody
from crawlers.pages.encoding import Decoded, decode_body, decode_html, gunzip
from crawlers.pages.tree import css_elements, html_tree


@dataclass(frozen=True, slots=True)
class Link:
    """An attachment or list link: absolute URL plus its visible title."""

    url: str
    title: str


@dataclass(frozen=True, slots=True)
class ListingEntry:
    """One row of a list page / list API: where the detail page is and what the list says about it."""

    url: str
    title: str
    date_text: str | None = None
    summary: str | None = None  # gov.cn SUB_TITLE, Atom <summary>, when the list carries one


@dataclass(frozen=True, slots=True)
class ParsedPage:
    """What a detail page says, as printed (raw strings; the pipeline types and normalizes them).

    ``body_text`` keeps paragraph breaks as ``\\n``; navigation, share buttons and footers
    are already removed by the page class.
    """

    source: str
    url: str
    title: str | None
    body_text: str
    language: str = "zh"
    doc_number_text: str | None = None  # 【发布文号】 / 发文字号 cell, as printed
    issuer_text: str | None = None  # 发布单位 / 发文机关 / ContentSource
    published_text: str | None = None  # PubDate meta / 发布日期 / date line, as printed
    signed_text: str | None = None  # 成文日期 / 【发文日期】
    attachments: tuple[Link, ...] = ()
    meta: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


# Markers of anti-bot interstitials seen on these sites (2025-2026): Knownsec 521 cookie
# challenges (MIIT), AWS WAF token pages (METI), MOFCOM SSI failures. Technical tokens never
# occur in announcement prose, so they count anywhere in the head of the page.
_CHALLENGE_TOKENS = (
    "__jsl_clearance",
    "awswafcookiedomainlist",
    "aws-waf-token",
    "gokuprops",
    "challenge-container",
    "[an error occurred while processing this directive]",
)
# Words that real pages also print (a notice about 网络安全验证, a <noscript> hint on a normal
# page): they mark a challenge only in the <title>, inside a <script>, or on a page with almost
# no visible text.
_CHALLENGE_WORDS = ("请开启javascript", "please enable javascript", "访问验证", "安全验证", "人机验证", "滑动验证")
_SHORT_PAGE_CHARS = 800  # visible characters; interstitials carry a sentence or two
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.I | re.S)
_INVISIBLE = re.compile(r"<(script|style|noscript|template)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")


_CHALLENGE_STATUSES = (202, 403, 405, 412, 521)


def looks_like_challenge(text: str, status: int | None = None) -> bool:
    """True for WAF / JS-challenge interstitials (never real announcements).

    A challenge word in the prose of a long page is not enough: a real notice may well be
    about 安全验证.

    Example:
        >>> looks_like_challenge("<html><title>安全验证</title><body>请稍候</body></html>")
        True
        >>> looks_like_challenge("<div>" + "关于加强网络安全验证工作的通知。" * 80 + "</div>")
        False
    """
    head = text[:20000]
    low = head.lower()
    if any(token in low for token in _CHALLENGE_TOKENS):
        return True
    if status in (202, 403, 412, 521):
        return True
    words = [w for w in _CHALLENGE_WORDS if w in low]
    if words:
        titles = [re.sub(r"\s+", "", t) for t in _TITLE.findall(low)]
        scripts = " ".join(_SCRIPT.findall(low))
        # An interstitial's title is the marker itself (plus a site name), not a headline about it.
        if any(w in t and len(t) <= len(w) + 12 for w in words for t in titles) or any(w in scripts for w in words):
            return True
        if _visible_chars(head) < _SHORT_PAGE_CHARS:
            return True
    # A tiny page whose only job is to set a cookie and reload.
    return len(low) < 3000 and "document.cookie" in low and ("location" in low or "reload" in low)


def _visible_chars(html: str) -> int:
    """Rough count of visible, non-space characters (scripts, styles and comments removed)."""
    return len(re.sub(r"\s+|&nbsp;", "", _TAG.sub("", _INVISIBLE.sub("", html))))


class Page:
    """Base page: decoded text, a parsel Selector, and selectors that state their expected counts."""

    source: str = ""
    expected_encoding: str | None = "utf-8"

    def __init__(self, url: str, body: bytes, headers: Mapping[str, str] | None = None, *,
                 status: int | None = 200, encoding: str | None = None, allow_empty: bool = False) -> None:
        self.url = url
        self.body = body
        self.headers = dict(headers or {})
        self.status = status
        self._forced_encoding = encoding
        self.allow_empty = allow_empty  # a person accepted that the article really is empty now
        self.layout_notes: list[str] = []  # fallbacks taken while reading the page, reported as warnings

    @cached_property
    def decoding(self) -> Decoded:
        """The decoded body with its charset, its origin and any invalid bytes replaced (noted as warnings)."""
        # AWS WAF (METI) answers non-browser clients with 202/403 and an empty body, MOFCOM with
        # 412 (seen 2025-2026): a retryable challenge, not an emptied page.
        if self.status in _CHALLENGE_STATUSES and not self.body.strip():
            raise ChallengePage(self.url, f"anti-bot challenge (HTTP {self.status} with an empty body)",
                                source=self.source)
        if self._forced_encoding:
            try:
                body = gunzip(self.body, url=self.url, source=self.source)
                return Decoded(body.decode(self._forced_encoding), self._forced_encoding, "forced")
            except (UnicodeDecodeError, LookupError) as exc:
                raise UndecodableBody(self.url, f"body is not valid {self._forced_encoding}: {exc}",
                                      source=self.source) from exc
        decoded = decode_html(self.body, self.headers, url=self.url, expected=self.expected_encoding,
                              source=self.source)
        self.layout_notes.extend(decoded.warnings)
        return decoded

    @property
    def decoded(self) -> tuple[str, str]:
        return self.decoding.text, self.decoding.encoding

    @property
    def text(self) -> str:
        return self.decoding.text

    @property
    def encoding(self) -> str:
        return self.decoding.encoding

    @cached_property
    def selector(self) -> Selector:
        text = self.text
        if looks_like_challenge(text, self.status):
            raise ChallengePage(self.url, f"anti-bot challenge page (HTTP {self.status})", source=self.source)
        if "<" not in text[:2000] and not text.lstrip().startswith("<"):
            raise NotHtml(self.url, "body has no HTML markup", source=self.source)
        return self.tree(text)

    def tree(self, text: str) -> Selector:
        """The Selector over ``text``; markup nested past the parser's limit is flattened (noted) or refused."""
        selector, notes = html_tree(text, url=self.url, source=self.source)
        self.layout_notes.extend(notes)
        return selector

    def require_text(self, body_text: str, css: str, attachments: tuple[Link, ...] = ()) -> str:
        """``body_text`` of the article container ``css``; EmptyArticle when it holds neither text nor
        an attachment (unless ``allow_empty``): an empty container is a CMS glitch, not a version.

        Example:
            >>> Page("https://example.gov.cn/a.html", b"<div class='art'></div>").require_text("", "div.art")
            Traceback (most recent call last):
            crawlers.errors.EmptyArticle: article container 'div.art' is present but holds no text (https://example.gov.cn/a.html); ...
        """
        if body_text.strip() or attachments or self.allow_empty:
            return body_text
        raise EmptyArticle(self.url, css, source=self.source)

    def select(self, css: str, *, min: int = 1, max: int | None = None) -> list[Selector]:  # noqa: A002
        """All nodes matching ``css``; raise LayoutChanged unless ``min <= count <= max``."""
        nodes = self.css(css)
        if len(nodes) < min or (max is not None and len(nodes) > max):
            expected = f"{min}..{max if max is not None else 'n'}"
            raise LayoutChanged(self.url, css, len(nodes), expected, source=self.source)
        return nodes

    def select_one(self, css: str) -> Selector:
        """Exactly one node (the first of several is not accepted silently)."""
        return self.select(css, min=1, max=1)[0]

    def first(self, *css: str) -> Selector | None:
        """The first node matched by the first selector that matches anything (ordered fallbacks)."""
        for query in css:
            nodes = self.css(query)
            if nodes:
                return nodes[0]
        return None

    def container(self, selectors: tuple[str, ...]) -> tuple[Selector, str] | None:
        """The node of the first selector that matches, with that selector (ordered fallbacks).

        Nested matches (a ``div.ccontent`` inside the ``#con_con`` that also carries that class)
        yield the outermost. Disjoint matches yield the one with the most text, and a note is
        added to ``layout_notes`` (the page class reports it as a warning).
        """
        for css in selectors:
            nodes = self.css(css)
            if not nodes:
                continue
            roots = {n.root for n in nodes}
            tops = [n for n in nodes if not any(a in roots for a in n.root.iterancestors())]
            if len(tops) == 1:
                return tops[0], css
            best = max(tops, key=lambda n: len("".join(n.css("::text").getall()).strip()))
            self.layout_notes.append(f"{css!r} matched {len(tops)} separate nodes; kept the one with the most text")
            return best, css
        return None

    def css(self, css: str) -> list[Selector]:
        """The nodes ``css`` selects in the page (``self.selector.css(css)``; element selectors of an
        HTML page go through a compiled XPath, without parsel's per-query set-up)."""
        sel = self.selector
        if sel.type != "html" or "::" in css:
            return list(sel.css(css))
        return [Selector(root=element, type="html") for element in css_elements(sel.root, css)]

    def meta(self, name: str) -> str | None:
        """The ``content`` of the first ``<meta name=…>`` that has one (``//meta[@name=$n]/@content``)."""
        value = self._metas.get(name)
        return value.strip() if value and value.strip() else None

    @cached_property
    def _metas(self) -> dict[str, str]:
        """name -> content of the page's ``<meta>`` elements, the first with a content per name (one pass)."""
        metas: dict[str, str] = {}
        for element in self.selector.xpath("//meta[@name and @content]"):
            metas.setdefault(element.root.get("name"), element.root.get("content"))
        return metas

    def canonical_url(self) -> str | None:
        """The page's own URL as it declares it (``<link rel=canonical>``, else ``og:url``), if http(s).

        Example:
            >>> Page("file:///tmp/x.html", b'<html><head><link rel="Canonical" href="https://www.meti.go.jp/press/'
            ...      b'2026/12/20261201001/20261201001.html"></head><body>x</body></html>').canonical_url()
            'https://www.meti.go.jp/press/2026/12/20261201001/20261201001.html'
        """
        found = self.selector.xpath(
            "//link[contains(concat(' ', translate(@rel, 'CANONICAL', 'canonical'), ' '), ' canonical ')]/@href"
        ).get() or self.selector.xpath("//meta[@property='og:url' or @name='og:url']/@content").get()
        href = (found or "").strip()
        return href if href.lower().startswith(("http://", "https://")) else None

    def absolute(self, href: str) -> str:
        from urllib.parse import urljoin

        return urljoin(self.url, href.strip())


__all__ = [
    "ListingEntry",
    "Link",
    "Page",
    "ParsedPage",
    "decode_body",
    "looks_like_challenge",
]
