"""MOFCOM (商务部) page classes: the column shell, the jpaas list fragment and the notice page.

Layouts follow the 2024 Hanweb jpaas redesign (seen 2025-2026): the shell carries the unit-API
parameters in ``<script … queryData=…>``, the list API returns JSON wrapping an HTML fragment,
and a notice page has a header block (来源/类型/date, 【发布单位】【发布文号】【发文日期】) above
the body container ``div.art-con.art-con-bottonmLine`` (sic).
"""

from __future__ import annotations

import re

from parsel import Selector

from crawlers.errors import LayoutChanged
from crawlers.pages import hanweb
from crawlers.pages.base import ListingEntry, Page, ParsedPage
from crawlers.pages.hanweb import PageRedirect, UnitQuery
from crawlers.pages.text import attachment_links, block_text, clean_title

SOURCE = "mofcom"

# Body containers, most specific first (DOMAIN §1.3). Each must match exactly once when it matches.
BODY_SELECTORS = (
    "div.art-con.art-con-bottonmLine",  # current template (sic "botton")
    'div[ergodic="article"]',  # current template, article marker attribute
    "div.art-con-gonggao",  # announcement variant
    "div.art-con",
    "#zoom",  # legacy .shtml CMS
    ".artCon",  # legacy
)
TITLE_SELECTORS = ("div.art-title h1", "#artitle", "h1")
# Share bars, print/close buttons, QR codes and "related" boxes sometimes sit inside the body.
BOILERPLATE_CSS = (".art-fx", ".share", ".bdsharebuttonbox", ".art-print", ".fx-con", ".ewm", ".related")
BOILERPLATE_LINES = re.compile(r"^(【?(打印本页|关闭窗口|打印|关闭)】?\s*)+$|^分享到[:：]?|^扫一扫")

_LABEL = r"【{}】[ \t\u3000]*([^\n【]*)"
_SOURCE_LINE = re.compile(r"来源[:：]\s*([^\s类]+)?.*?(\d{4}-\d{1,2}-\d{1,2}(?:\s+\d{1,2}:\d{2})?)")
_TYPE = re.compile(r"类型[:：]\s*(\S+)")
_CATEGORY = re.compile(r"分类[:：]\s*(\S+)")
_HEADER_CSS = ("div.art-info", "div.art-title", "div.art-head", "div.art-top")


class MofcomColumnShell(Page):
    """A column's static list shell (``/zwgk/zcfb/index.html``): the jpaas query and any inline items."""

    source = SOURCE

    def query(self) -> UnitQuery:
        """The unit-API parameters of this column (exactly one ``script[queryData]`` expected)."""
        script = self.select_one("script[queryData], script[querydata]")
        return hanweb.parse_query_data(dict(script.attrib), url=self.url, source=self.source)

    def unit_url(self, page_no: int, page_size: int = 15) -> str:
        """The list-API URL for ``page_no`` of this column, on this shell's host."""
        return hanweb.unit_api_url(self.url, self.query(), page_no=page_no, page_size=page_size)

    def entries(self) -> list[ListingEntry]:
        """Server-rendered items (``ul.policy-list li``), present on some shells; may be empty."""
        return hanweb.listing_entries(self.selector, base_url=self.url, link_css="ul.policy-list li a[href]")


class MofcomListFragment(hanweb.UnitApiFragment):
    """One page of MOFCOM's unit API: JSON whose ``data.html`` is a ``<ul count="N">`` fragment;
    zero entries is legal only past the last page."""

    source = SOURCE


class MofcomNoticePage(Page):
    """A notice/announcement detail page (``/…/art/<YYYY>/art_<32hex>.html``)."""

    source = SOURCE

    def parse(self) -> ParsedPage:
        """Extract the printed fields; raises PageRedirect for JS-redirect stubs, LayoutChanged if no body."""
        body = self._body_node()
        warnings: list[str] = []
        header = self._header_text()
        title = self._title(warnings)
        source_line = _SOURCE_LINE.search(header)
        meta = {name: value for name in ("SiteName", "ColumnName", "ContentSource", "Keywords", "Description")
                if (value := self.meta(name))}
        if art := hanweb.art_id(self.url):
            meta["art_id"] = art
        for key, pattern in (("type", _TYPE), ("category", _CATEGORY)):
            if m := pattern.search(header):
                meta[key] = m.group(1)
        issuer = _label(header, "发布单位") or self.meta("ContentSource") or (
            source_line.group(1) if source_line and source_line.group(1) else None)
        published = self.meta("PubDate") or (source_line.group(2) if source_line else None)
        if published is None:
            warnings.append("no PubDate meta and no 来源 date line")
        return ParsedPage(
            source=self.source,
            url=self.url,
            title=title,
            body_text=block_text(body, drop_css=BOILERPLATE_CSS, drop_lines=BOILERPLATE_LINES),
            language="zh",
            doc_number_text=_label(header, "发布文号"),
            issuer_text=issuer,
            published_text=published,
            signed_text=_label(header, "发文日期"),
            attachments=attachment_links([body, *self.selector.css("div.art-fj, div.fujian")],
                                                base_url=self.url),
            meta=meta,
            warnings=tuple(warnings),
        )

    def _body_node(self) -> Selector:
        for css in BODY_SELECTORS:
            nodes = self.selector.css(css)
            if len(nodes) == 1:
                return nodes[0]
            if len(nodes) > 1:
                raise LayoutChanged(self.url, css, len(nodes), "1", source=self.source)
        target = hanweb.js_redirect_target(self.text, base_url=self.url)
        if target:
            raise PageRedirect(self.url, target, source=self.source)
        raise LayoutChanged(self.url, " | ".join(BODY_SELECTORS), 0, "1 (any of them)", source=self.source)

    def _header_text(self) -> str:
        """Header containers (来源/类型/date line) followed by the whole page text (【发布…】 labels)."""
        head = "\n".join(block_text(n) for css in _HEADER_CSS for n in self.selector.css(css))
        page = "\n".join(block_text(n) for n in self.selector.css("body"))
        return head + "\n" + page

    def _title(self, warnings: list[str]) -> str | None:
        title = clean_title(self.meta("ArticleTitle"))
        if title:
            return title
        warnings.append("ArticleTitle meta missing or only '?'; title taken from the page heading")
        node = self.first(*TITLE_SELECTORS)
        title = clean_title(" ".join(node.css("::text").getall())) if node is not None else ""
        return title or None


def _label(header: str, label: str) -> str | None:
    """The value printed after ``【label】`` on the same line, or None when absent/blank.

    Example:
        >>> _label("【发布文号】商务部公告2025年第61号\\n【发文日期】20251009", "发文日期")
        '20251009'
    """
    m = re.search(_LABEL.format(label), header)
    value = m.group(1).strip() if m else ""
    return value or None


__all__ = ["MofcomColumnShell", "MofcomListFragment", "MofcomNoticePage", "PageRedirect", "BODY_SELECTORS"]
