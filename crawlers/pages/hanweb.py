"""Pure helpers for the Hanweb "jpaas" CMS shared by MOFCOM and MIIT.

Both ministries publish static detail pages ``/<column>/art/<YYYY>/art_<32hex>.html`` and
static list shells whose items are filled by the jpaas ``page/build/unit`` API; the shell
carries the API parameters in a ``<script … queryData="{…}">`` tag. Nothing here fetches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from parsel import Selector

from crawlers.errors import ChallengePage, LayoutChanged, PageError, PageRedirect
from crawlers.pages.base import ListingEntry, Page, looks_like_challenge
# Re-exported: these text helpers lived here before moving to crawlers.pages.text (not Hanweb-specific).
from crawlers.pages.text import ATTACHMENT_EXT, attachment_links, block_text, clean_title, unwrap_viewer

UNIT_API_PATH = "/api-gateway/jpaas-publish-server/front/page/build/unit"
ART_ID = re.compile(r"art_([0-9a-f]{32})\.html", re.I)
_QUERY_PAIR = re.compile(r"""["']?(\w+)["']?\s*:\s*["']([^"']*)["']""")
_COUNT = re.compile(r"""\bcount\s*=\s*["']?(\d+)""", re.I)
_DATE = re.compile(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})")
_JS_REDIRECT = (
    re.compile(r"""window\.location(?:\.href)?\s*=\s*['"]([^'"]+)['"]"""),
    re.compile(r"""_cofing1\s*=\s*\{\s*href\s*:\s*["']([^"']+)["']\s*,\s*type"""),
)


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
        ...                     '<span>[2031-01-15]</span></li></ul>')
        >>> listing_entries(sel, base_url="https://h/")[0]
        ListingEntry(url='https://h/a/art/2025/art_1.html', title='公告', date_text='2031-01-15', summary=None)
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


def art_id(url: str) -> str | None:
    """The 32-hex article id of a jpaas detail URL.

    Example:
        >>> art_id("https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_e623090907fc4e1092f0a4db72f57b95.html")
        'e623090907fc4e1092f0a4db72f57b95'
    """
    m = ART_ID.search(url)
    return m.group(1).lower() if m else None


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


class HanwebColumnShell(Page):
    """A jpaas column's static list shell (``…/index.html``): the unit-API query and any inline items.

    The shell carries the API parameters in one ``<script … queryData="{…}">`` tag; ``parseType``
    is read from that tag too (MOFCOM spells it ``bulidstatic``, MIIT ``buildstatic``, seen 2026).
    Subclasses set ``source``.

    Example:
        >>> query = "{'webId':'w','pageId':'p','tplSetId':'t','tagId':'x'}"
        >>> html = f'<script parseType="buildstatic" queryData="{query}"></script>'.encode()
        >>> HanwebColumnShell("https://h/zwgk/index.html", html).query().parse_type
        'buildstatic'
    """

    # seen 2026: some MOFCOM shells render the first items server-side in ul.policy-list.
    inline_link_css = "ul.policy-list li a[href]"

    def query(self) -> UnitQuery:
        """The unit-API parameters of this column (exactly one ``script[queryData]`` expected)."""
        script = self.select_one("script[queryData], script[querydata]")
        return parse_query_data(dict(script.attrib), url=self.url, source=self.source or None)

    def unit_url(self, page_no: int, page_size: int = 15) -> str:
        """The list-API URL for ``page_no`` of this column, on this shell's host."""
        return unit_api_url(self.url, self.query(), page_no=page_no, page_size=page_size)

    def entries(self) -> list[ListingEntry]:
        """Server-rendered items (``inline_link_css``), present on some shells; may be empty."""
        return listing_entries(self.selector, base_url=self.url, link_css=self.inline_link_css)


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
        return self.tree(self.fragment[0] or "<ul></ul>")

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


__all__ = [
    "ART_ID", "ATTACHMENT_EXT", "HanwebColumnShell", "PageRedirect", "UNIT_API_PATH", "UnitApiFragment", "UnitQuery", "art_id",
    "attachment_links", "block_text", "clean_title", "js_redirect_target", "listing_entries", "parse_query_data",
    "parse_unit_json", "parse_unit_params", "unit_api_url", "unit_page_no", "unwrap_viewer",
]
