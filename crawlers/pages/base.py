"""Page base class: decoding raw bytes safely, selectors that fail loudly, and the page-output types.

A page class turns ``(url, body, headers)`` into plain values; it never fetches, never
touches the database and never reads the clock.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from parsel import Selector

from crawlers.errors import ChallengePage, EmptyPage, LayoutChanged, NotHtml, UndecodableBody


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


_CHARSET_HEADER = re.compile(rb"charset\s*=\s*[\"']?([A-Za-z0-9_\-.:]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-.:]+)", re.I)
# Superset mapping, as w3lib does: declared gb2312/gbk pages often use gb18030-only characters.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
}
_FALLBACKS = ("utf-8", "gb18030", "cp932", "euc_jis_2004")

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


def _normalize_encoding(name: str) -> str | None:
    label = name.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _candidates(body: bytes, headers: Mapping[str, str], expected: str | None) -> list[str]:
    out: list[str] = []
    if body.startswith(codecs.BOM_UTF8):
        out.append("utf-8-sig")
    ctype = _header(headers, "content-type")
    m = _CHARSET_HEADER.search(ctype.encode("latin-1", "ignore"))
    if m:
        out.append(m.group(1).decode("ascii", "ignore"))
    m = _META_CHARSET.search(body[:4096])
    if m:
        out.append(m.group(1).decode("ascii", "ignore"))
    if expected:
        out.append(expected)
    out.extend(_FALLBACKS)
    seen: list[str] = []
    for name in out:
        norm = "utf-8-sig" if name == "utf-8-sig" else _normalize_encoding(name)
        if norm and norm not in seen:
            seen.append(norm)
    return seen


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value if isinstance(value, str) else str(value)
    return ""


def decode_body(body: bytes, headers: Mapping[str, str], *, url: str, expected: str | None = None,
                source: str | None = None) -> tuple[str, str]:
    """Decode ``body`` and return ``(text, encoding)``.

    A gzip body that was never decompressed is inflated first. A body that is valid UTF-8 (and
    not pure ASCII) is UTF-8 whatever its labels say. Otherwise the order is: BOM, Content-Type
    charset, ``<meta charset>``, the source's expected encoding, then utf-8, gb18030, cp932,
    euc_jis_2004. A candidate is accepted only if it decodes strictly (no U+FFFD), so a
    mislabeled GBK page declared as UTF-8 still decodes right.

    Example:
        >>> decode_body("出口管制".encode("gbk"), {"Content-Type": "text/html; charset=utf-8"}, url="u")[1]
        'gb18030'
    """
    if not body or not body.strip():
        raise EmptyPage(url, "empty body", source=source)
    body = _gunzip(body, url=url, source=source)
    if b"\x00" in body[:2048] or body[:5] == b"%PDF-" or body[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
        raise NotHtml(url, "body is binary, not HTML", source=source)
    decoded: list[tuple[str, str]] = []
    candidates = _candidates(body, headers, expected)
    # Valid UTF-8 with multi-byte sequences is UTF-8 whatever the label says (seen 2026: pages
    # served as charset=ISO-8859-1 or declared gb2312 after a CMS migration). Legacy CJK text
    # is practically never valid UTF-8, so this cannot misread a real GBK/Shift_JIS page.
    if candidates[0] != "utf-8-sig" and not body.isascii():
        try:
            return body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    for enc in candidates:
        try:
            text = body.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        if "\ufffd" not in text:
            decoded.append((enc, text))
    if not decoded:
        raise UndecodableBody(url, "no encoding decodes the body cleanly", source=source)
    enc, text = decoded[0]
    if enc not in _LEGACY_CJK:
        return text, enc
    # Legacy CJK encodings decode each other's bytes without error (Shift_JIS bytes are valid
    # gb18030), and pages get mislabeled: keep the first clean candidate unless another legacy
    # candidate is clearly more plausible.
    score = _plausibility(text, enc)
    for other_enc, other_text in decoded[1:]:
        if other_enc in _LEGACY_CJK and _plausibility(other_text, other_enc) > score + 0.25:
            return other_text, other_enc
    return text, enc


_GZIP_MAGIC = b"\x1f\x8b"
_MAX_GUNZIP = 32 * 1024 * 1024  # a detail page is well under this; more is a decompression bomb


def _gunzip(body: bytes, *, url: str, source: str | None) -> bytes:
    """Decompress a body that arrived gzip-compressed but undecoded (DOMAIN §3.3, seen on gov.cn).

    A ``Content-Encoding: gzip`` header on a body that is already plain HTML is ignored: only
    the gzip magic bytes decide.
    """
    if not body.startswith(_GZIP_MAGIC):
        return body
    import zlib

    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, _MAX_GUNZIP)
    except zlib.error as exc:
        raise UndecodableBody(url, f"body starts like gzip but does not decompress: {exc}", source=source) from exc
    if inflater.unconsumed_tail:
        raise UndecodableBody(url, f"gzip body inflates beyond {_MAX_GUNZIP} bytes; refused", source=source)
    return out


_LEGACY_CJK = {"gb18030", "cp932", "euc_jis_2004", "shift_jis", "euc_jp", "big5", "euc_kr", "cp949"}


def _plausibility(text: str, enc: str) -> float:
    """Share of non-ASCII characters that are common in the language the encoding serves."""
    chars = [c for c in text if ord(c) > 0x7F]
    if not chars:
        return 1.0
    common = 0
    for ch in chars:
        if enc == "gb18030":
            try:
                lead = ch.encode("gb2312")[0]
            except UnicodeEncodeError:
                continue
            common += 0xA1 <= lead <= 0xA3 or 0xB0 <= lead <= 0xD7  # punctuation, level-1 hanzi
        else:
            if "\u3040" <= ch <= "\u30ff":  # kana
                common += 1
                continue
            try:
                lead = ch.encode("cp932")[0]
            except UnicodeEncodeError:
                continue
            common += 0x81 <= lead <= 0x83 or 0x88 <= lead <= 0x98  # symbols, kana, JIS level-1 kanji
    return common / len(chars)


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
                 status: int | None = 200, encoding: str | None = None) -> None:
        self.url = url
        self.body = body
        self.headers = dict(headers or {})
        self.status = status
        self._forced_encoding = encoding
        self.layout_notes: list[str] = []  # fallbacks taken while reading the page, reported as warnings

    @cached_property
    def decoded(self) -> tuple[str, str]:
        # AWS WAF (METI) answers non-browser clients with 202/403 and an empty body, MOFCOM with
        # 412 (seen 2025-2026): a retryable challenge, not an emptied page.
        if self.status in _CHALLENGE_STATUSES and not self.body.strip():
            raise ChallengePage(self.url, f"anti-bot challenge (HTTP {self.status} with an empty body)",
                                source=self.source)
        if self._forced_encoding:
            try:
                body = _gunzip(self.body, url=self.url, source=self.source)
                return body.decode(self._forced_encoding), self._forced_encoding
            except (UnicodeDecodeError, LookupError) as exc:
                raise UndecodableBody(self.url, f"body is not valid {self._forced_encoding}: {exc}",
                                      source=self.source) from exc
        return decode_body(self.body, self.headers, url=self.url, expected=self.expected_encoding,
                           source=self.source)

    @property
    def text(self) -> str:
        return self.decoded[0]

    @property
    def encoding(self) -> str:
        return self.decoded[1]

    @cached_property
    def selector(self) -> Selector:
        text = self.text
        if looks_like_challenge(text, self.status):
            raise ChallengePage(self.url, f"anti-bot challenge page (HTTP {self.status})", source=self.source)
        if "<" not in text[:2000] and not text.lstrip().startswith("<"):
            raise NotHtml(self.url, "body has no HTML markup", source=self.source)
        return Selector(text=text, type="html", base_url=self.url)

    def select(self, css: str, *, min: int = 1, max: int | None = None) -> list[Selector]:  # noqa: A002
        """All nodes matching ``css``; raise LayoutChanged unless ``min <= count <= max``."""
        nodes = list(self.selector.css(css))
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
            nodes = self.selector.css(query)
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
            nodes = self.selector.css(css)
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

    def meta(self, name: str) -> str | None:
        value = self.selector.xpath("//meta[@name=$n]/@content", n=name).get()
        return value.strip() if value and value.strip() else None

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
