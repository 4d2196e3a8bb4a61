"""Pure helpers for the Hanweb "jpaas" CMS shared by MOFCOM and MIIT.

Both ministries publish static detail pages ``/<column>/art/<YYYY>/art_<32hex>.html`` and
static list shells whose items are filled by the jpaas ``page/build/unit`` API; the shell
carries the API parameters in a ``<script … queryData="{…}">`` tag. Nothing here fetches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import parse_qs, unquote, urlencode, urljoin, urlsplit

from lxml import etree
from parsel import Selector

from crawlers.errors import ChallengePage, LayoutChanged, PageError
from crawlers.pages.base import Link, ListingEntry, Page, looks_like_challenge

UNIT_API_PATH = "/api-gateway/jpaas-publish-server/front/page/build/unit"
ART_ID = re.compile(r"art_([0-9a-f]{32})\.html", re.I)
ATTACHMENT_EXT = re.compile(r"\.(pdf|docx?|xlsx?|wps|et|ofd|zip|rar|7z|txt|csv)$", re.I)
_QUERY_PAIR = re.compile(r"""["']?(\w+)["']?\s*:\s*["']([^"']*)["']""")
_COUNT = re.compile(r"""\bcount\s*=\s*["']?(\d+)""", re.I)
_DATE = re.compile(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})")
_JS_REDIRECT = (
    re.compile(r"""window\.location(?:\.href)?\s*=\s*['"]([^'"]+)['"]"""),
    re.compile(r"""_cofing1\s*=\s*\{\s*href\s*:\s*["']([^"']+)["']\s*,\s*type"""),
)


class PageRedirect(PageError):
    """The page is only a JavaScript redirect; ``target`` is the absolute URL to fetch instead."""

    hint = "fetch the redirect target instead of this page"

    def __init__(self, url: str, target: str, *, source: str | None = None) -> None:
        self.target = target
        super().__init__(url, f"page is a JavaScript redirect to {target}", source=source)


@dataclass(frozen=True, slots=True)
class UnitQuery:
    """The jpaas parameters of one list column, as read from the shell's ``queryData``."""

    web_id: str
    page_id: str
    tpl_set_id: str
    tag_id: str
    parse_type: str = "bulidstatic"
    page_type: str = "column"
    edit_type: str = "null"


def parse_query_data(script_attrs: Mapping[str, str], *, url: str, source: str | None = None) -> UnitQuery:
    """Read a ``<script parseType=… queryData="{'webId':…}">`` tag's attributes into a UnitQuery.

    Example:
        >>> q = parse_query_data({"parsetype": "bulidstatic",
        ...     "querydata": "{'webId':'w1','pageId':'p1','tplSetId':'t1','tagId':'分页列表'}"}, url="u")
        >>> (q.web_id, q.page_id, q.tag_id, q.parse_type)
        ('w1', 'p1', '分页列表', 'bulidstatic')
    """
    attrs = {k.lower(): v for k, v in script_attrs.items()}
    raw = attrs.get("querydata", "")
    pairs = dict(_QUERY_PAIR.findall(raw))
    missing = [k for k in ("webId", "pageId", "tplSetId") if not pairs.get(k)]
    if missing:
        raise LayoutChanged(url, f"script[queryData] keys {missing}", 0, "1", source=source)
    return UnitQuery(
        web_id=pairs["webId"],
        page_id=pairs["pageId"],
        tpl_set_id=pairs["tplSetId"],
        tag_id=pairs.get("tagId") or "分页列表",
        parse_type=attrs.get("parsetype") or pairs.get("parseType") or "bulidstatic",
        page_type=pairs.get("pageType") or "column",
        edit_type=pairs.get("editType") or "null",
    )


def unit_api_url(base_url: str, query: UnitQuery, *, page_no: int, page_size: int = 15) -> str:
    """The ``page/build/unit`` GET URL for one page of a column (1-based ``page_no``).

    Example:
        >>> u = unit_api_url("https://www.mofcom.gov.cn/zwgk/zcfb/index.html",
        ...                  UnitQuery("w", "p", "t", "分页列表"), page_no=2)
        >>> u.split("?")[0]
        'https://www.mofcom.gov.cn/api-gateway/jpaas-publish-server/front/page/build/unit'
        >>> parse_unit_params(u)["paramJson"]
        '{"pageNo":2,"pageSize":15}'
    """
    params = {
        "parseType": query.parse_type,
        "webId": query.web_id,
        "tplSetId": query.tpl_set_id,
        "pageType": query.page_type,
        "tagId": query.tag_id,
        "editType": query.edit_type,
        "pageId": query.page_id,
        "paramJson": json.dumps({"pageNo": page_no, "pageSize": page_size}, separators=(",", ":")),
    }
    return urljoin(base_url, UNIT_API_PATH) + "?" + urlencode(params)


def parse_unit_params(url: str) -> dict[str, str]:
    """The query parameters of a unit-API URL as a flat dict (last value wins).

    Example:
        >>> parse_unit_params("https://x/api?webId=w&paramJson=%7B%22pageNo%22%3A1%7D")["paramJson"]
        '{"pageNo":1}'
    """
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def unit_page_no(url: str) -> int:
    """The ``pageNo`` asked for by a unit-API URL (1 when absent).

    Example:
        >>> unit_page_no('https://x/u?paramJson={"pageNo":3,"pageSize":15}')
        3
    """
    try:
        return int(json.loads(parse_unit_params(url).get("paramJson") or "{}").get("pageNo", 1))
    except (ValueError, AttributeError):
        return 1


def parse_unit_json(text: str, *, url: str, source: str | None = None) -> tuple[str, int | None]:
    """Return ``(fragment_html, count)`` from a unit-API answer.

    Accepts ``{"success":true,"data":{"html":…}}`` (MOFCOM) and the same object under
    ``result`` (MIIT). ``count`` is the ``count="N"`` attribute of the fragment, if any.

    Example:
        >>> parse_unit_json('{"success":true,"data":{"html":"<ul count=\\\\"2\\\\"></ul>"}}', url="u")
        ('<ul count="2"></ul>', 2)
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LayoutChanged(url, "unit API JSON", 0, "1 JSON document", source=source) from exc
    if isinstance(data, dict) and isinstance(data.get("result"), dict):
        data = data["result"]
    if not isinstance(data, dict) or data.get("success") is False:
        message = data.get("message") if isinstance(data, dict) else None
        raise PageError(url, f"unit API answered success=false ({message or 'no message'}); "
                             "check webId/pageId/tplSetId against the column shell", source=source)
    html = (data.get("data") or {}).get("html") if isinstance(data.get("data"), dict) else None
    if not isinstance(html, str):
        raise LayoutChanged(url, "unit API data.html", 0, "1", source=source)
    m = _COUNT.search(html)
    return html, int(m.group(1)) if m else None


def listing_entries(fragment: Selector, *, base_url: str, link_css: str = "li a[href]") -> list[ListingEntry]:
    """Every ``<li><a href title>…</a><span>[date]</span></li>`` of a list fragment.

    The title comes from the ``title`` attribute, else the link text; titles made only of
    ``?`` (a known listing-endpoint fault) are kept as ``""`` so callers take the detail page's.

    Example:
        >>> sel = Selector(text='<ul><li><a href="/a/art/2025/art_1.html" title="公告">公告</a>'
        ...                     '<span>[2025-11-07]</span></li></ul>')
        >>> listing_entries(sel, base_url="https://h/")[0]
        ListingEntry(url='https://h/a/art/2025/art_1.html', title='公告', date_text='2025-11-07')
    """
    out: list[ListingEntry] = []
    seen: set[str] = set()
    for link in fragment.css(link_css):
        href = (link.attrib.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        url = urljoin(base_url, href)
        if url in seen:
            continue
        seen.add(url)
        title = clean_title(link.attrib.get("title") or " ".join(link.css("::text").getall()))
        item = link.xpath("ancestor::li[1]")
        date_text = None
        if item:
            m = _DATE.search(" ".join(item[0].css("span::text, .fr::text, em::text").getall()))
            if m:
                date_text = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
        out.append(ListingEntry(url=url, title=title, date_text=date_text))
    return out


def clean_title(text: str | None) -> str:
    """Trim a title and blank it when it is only question marks (mis-encoded by the server).

    Example:
        >>> clean_title("  ??? ?? "), clean_title(" 商务部公告 ")
        ('', '商务部公告')
    """
    title = re.sub(r"\s+", " ", text or "").strip()
    return "" if title and set(title.replace(" ", "")) <= {"?", "？"} else title


def art_id(url: str) -> str | None:
    """The 32-hex article id of a jpaas detail URL.

    Example:
        >>> art_id("https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_e623090907fc4e1092f0a4db72f57b95.html")
        'e623090907fc4e1092f0a4db72f57b95'
    """
    m = ART_ID.search(url)
    return m.group(1).lower() if m else None


def unwrap_viewer(url: str) -> str:
    """Turn a pdf.js viewer link (``…/viewer.html?file=<encoded path>``) into the file URL.

    Example:
        >>> unwrap_viewer("https://www.miit.gov.cn/cms_files/demo/pdfjs/web/viewer.html?file=%2Fcms_files%2Fa.pdf")
        'https://www.miit.gov.cn/cms_files/a.pdf'
    """
    parts = urlsplit(url)
    if parts.path.lower().endswith("viewer.html"):
        target = parse_qs(parts.query).get("file")
        if target and target[0]:
            return urljoin(url, unquote(target[0]))
    return url


def attachment_links(nodes: Iterable[Selector], *, base_url: str) -> tuple[Link, ...]:
    """Attachment links (pdf/doc/xls/wps/…) under ``nodes``, absolute, deduplicated, in page order.

    Example:
        >>> sel = Selector(text='<div><a href="/cms_files/oldfile//fms/202510/1.pdf">附件1</a></div>')
        >>> attachment_links([sel], base_url="https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/x.html")
        (Link(url='https://www.mofcom.gov.cn/cms_files/oldfile//fms/202510/1.pdf', title='附件1'),)
    """
    out: list[Link] = []
    seen: set[str] = set()
    for node in nodes:
        for a in node.css("a[href]"):
            url = unwrap_viewer(urljoin(base_url, (a.attrib.get("href") or "").strip()))
            if not ATTACHMENT_EXT.search(urlsplit(url).path) or url in seen:
                continue
            seen.add(url)
            title = clean_title(" ".join(a.css("::text").getall()) or a.attrib.get("title"))
            out.append(Link(url=url, title=title or urlsplit(url).path.rsplit("/", 1)[-1]))
    return tuple(out)


def js_redirect_target(text: str, *, base_url: str) -> str | None:
    """The target of a page that only redirects by JavaScript (``window.location.href='…'``).

    Example:
        >>> js_redirect_target("<script>window.location.href='/zwgk/zcfb/art/2025/a.html';</script>",
        ...                    base_url="https://www.mofcom.gov.cn/x/")
        'https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/a.html'
    """
    for pattern in _JS_REDIRECT:
        m = pattern.search(text)
        if m:
            return urljoin(base_url, m.group(1).strip())
    return None


_BLOCK = {
    "p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
    "blockquote", "pre", "center", "dl", "dt", "dd", "form", "header", "footer", "table", "tr",
}
_SKIP = {"script", "style", "noscript", "template", "button", "select", "input", "textarea"}
_CELL_SEP = "\x1f"
_INLINE_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")


def block_text(node: Selector, *, drop_css: Iterable[str] = (), drop_lines: re.Pattern[str] | None = None) -> str:
    """Visible text of ``node`` with one line per block; table rows become tab-separated cells.

    Leading indentation (U+3000) is trimmed, blank lines are dropped, ``drop_css`` subtrees
    (share bars, print buttons) are removed and lines matching ``drop_lines`` are skipped.

    Example:
        >>> block_text(Selector(text="<div><p>\\u3000\\u3000一、总则</p><table><tr><td>1C902</td><td>钐</td></tr>"
        ...                          "</table><div class='fx'>分享</div></div>").css("div")[0], drop_css=[".fx"])
        '一、总则\\n1C902\\t钐'
    """
    root = _copy(node.root)
    for css in drop_css:
        for sel in Selector(root=root).css(css):
            _remove(sel.root)
    parts: list[str] = []
    _walk(root, parts, top=True)
    lines = []
    for raw in "".join(parts).split("\n"):
        line = _INLINE_SPACE.sub(" ", raw).strip().replace(_CELL_SEP, "\t")
        if line and not (drop_lines and drop_lines.search(line)):
            lines.append(line)
    return "\n".join(lines)


def _copy(element: etree._Element) -> etree._Element:
    from copy import deepcopy

    clone = deepcopy(element)
    clone.tail = None
    return clone


def _remove(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        prev = element.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _walk(root: etree._Element, parts: list[str], *, top: bool = False) -> None:
    """Append the visible text of ``root`` to ``parts``; iterative, so deeply nested markup
    (thousands of levels, seen in broken CMS exports) cannot exhaust the recursion limit."""
    stack: list[tuple[etree._Element, bool, bool]] = [(root, top, False)]
    while stack:
        el, is_top, closing = stack.pop()
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if closing:
            if tag in _BLOCK:
                parts.append("\n")
        elif not tag or tag in _SKIP:  # comments, processing instructions, scripts
            pass
        elif tag == "br":
            parts.append("\n")
        elif tag == "table":
            parts.append("\n")
            for tr in el.iter("tr"):
                cells = [_INLINE_SPACE.sub(" ", "".join(_cell_text(td))).strip() for td in tr if _is_cell(td)]
                if any(cells):
                    parts.append(_CELL_SEP.join(cells) + "\n")
        else:
            if tag in _BLOCK:
                parts.append("\n")
            if el.text:
                parts.append(el.text)
            stack.append((el, is_top, True))
            stack.extend((child, False, False) for child in reversed(el))
            continue  # the tail is written when the element closes
        if not is_top and el.tail:
            parts.append(el.tail)


def _is_cell(el: etree._Element) -> bool:
    return isinstance(el.tag, str) and el.tag.lower() in ("td", "th")


def _cell_text(td: etree._Element) -> list[str]:
    parts: list[str] = []
    _walk(td, parts, top=True)
    return [p.replace("\n", " ") for p in parts]


class UnitApiFragment(Page):
    """One page of a jpaas ``page/build/unit`` answer: JSON whose ``data.html`` (or ``result.data.html``)
    is the list fragment; a bare HTML fragment is accepted too (saved fixtures, older columns).

    Subclasses set ``source`` and, where the site needs it, ``link_css`` fallbacks.
    """

    link_css: tuple[str, ...] = ()

    @cached_property
    def fragment(self) -> tuple[str, int | None]:
        """``(fragment_html, count)`` unwrapped from the API JSON."""
        text = self.text
        if looks_like_challenge(text, self.status):
            raise ChallengePage(self.url, f"anti-bot challenge instead of the list API answer (HTTP {self.status})",
                                source=self.source)
        if text.lstrip().startswith("{"):
            return parse_unit_json(text, url=self.url, source=self.source)
        return text, None

    @cached_property
    def selector(self) -> Selector:
        return Selector(text=self.fragment[0] or "<ul></ul>", type="html", base_url=self.url)

    @property
    def count(self) -> int | None:
        """Total items of the column (the fragment's ``count`` attribute), if printed."""
        return self.fragment[1]

    @property
    def page_no(self) -> int:
        return unit_page_no(self.url)

    def entries(self) -> list[ListingEntry]:
        """Detail links of this page, in list order (the first ``link_css`` that matches)."""
        for css in self.link_css:
            if self.selector.css(css):
                return listing_entries(self.selector, base_url=self.url, link_css=css)
        if self.link_css:
            raise LayoutChanged(self.url, " | ".join(self.link_css), 0, "1..n", source=self.source)
        return listing_entries(self.selector, base_url=self.url)

