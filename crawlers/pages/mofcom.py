"""MOFCOM (商务部) page classes: the column shell, the jpaas list fragment and the notice page.

Layouts follow the 2024 Hanweb jpaas redesign (seen 2025-2026): the shell carries the unit-API
parameters in ``<script … queryData=…>``, the list API returns JSON wrapping an HTML fragment,
and a notice page has a header block (来源/类型/date, 【发布单位】【发布文号】【发文日期】) above
the body container ``div.art-con.art-con-bottonmLine`` (sic).
"""

from __future__ import annotations

import re
from functools import lru_cache

from parsel import Selector

from crawlers.errors import LayoutChanged
from crawlers.pages import hanweb
from crawlers.pages.base import Page, ParsedPage
from crawlers.pages.hanweb import PageRedirect
from crawlers.pages.text import attachment_links, block_text, clean_title

SOURCE = "mofcom"

# Body containers, most specific first (DOMAIN §1.3). Nested matches yield the outermost; disjoint
# matches raise LayoutChanged.
BODY_SELECTORS = (
    "div.art-con.art-con-bottonmLine",  # seen 2026: current template (sic "botton")
    'div[ergodic="article"]',  # seen 2026: current template, article marker attribute (also xkzj, wap)
    "div.art-con-gonggao",  # seen 2026: announcement variant
    "div.art-con",  # seen 2026: aqygzj / english subdomains
    "#zoom",  # seen 2026: legacy .shtml CMS, often a <td id="zoom"> inside layout tables
    ".artCon",  # seen 2026: legacy
    "div.TRS_Editor",  # seen 2026: legacy pages whose editor output lost the #zoom wrapper
)
# seen 2026: div.art-title h1 (current), #artitle (legacy), h1.art-title / h1 (subdomains).
TITLE_SELECTORS = ("div.art-title h1", "#artitle", "h1.art-title", "div.art-title", "h1")
# Share bars, print/close buttons, QR codes and "related" boxes sometimes sit inside the body.
BOILERPLATE_CSS = (".art-fx", ".share", ".bdsharebuttonbox", ".art-print", ".fx-con", ".ewm", ".related")
BOILERPLATE_LINES = re.compile(r"^(【?(打印本页|关闭窗口|打印|关闭)】?\s*)+$|^分享到[:：]?|^扫一扫")
# seen 2026: the 【发布…】 block is div.art-fbxx (www), a <table> (aqygzj) or <p><span>label：</span>
# (subdomains); labels are aliases of one another across columns.
LABELS = {
    "doc_number": ("发布文号", "发文字号", "文号"),
    "issuer": ("发布单位", "发文单位", "发文机关"),
    "signed": ("发文日期", "成文日期"),
}
# seen 2026: 来源/类型/分类/date line containers above the body (www, xkzj, legacy #arsource).
_HEADER_CSS = ("div.art-info", "div.art-title", "div.art-head", "div.art-top", "#arsource", "div.art-fbxx")

_SOURCE_LINE = re.compile(r"来源[:：]\s*([^\s类]+)?.*?(\d{4}-\d{1,2}-\d{1,2}(?:\s+\d{1,2}:\d{2})?)")
_PUBLISHED_LINE = re.compile(
    r"(?:发布时间|发布日期|发表时间|时间|日期|Date|Released)\s*[:：]\s*"
    r"(\d{4}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?)", re.I)
_TYPE = re.compile(r"类型[:：]\s*(\S+)")
_CATEGORY = re.compile(r"分类[:：]\s*(\S+)")
# The next label on the same line ends a value ("安全与管制局　发布文号：…").
_VALUE_END = re.compile(r"\t|\s+[\u4e00-\u9fff]{2,6}\s*[:：]")
_DIGITS = "0-9０-９"
# A title that ends with its own number in brackets: "关于…的公告（商务部公告2026年第47号）".
_TITLE_NUMBER = re.compile(rf"[（(]\s*([^（）()]{{0,40}}?(?:公告|令)\s*(?:[{_DIGITS}]{{4}}\s*年?\s*)?第\s*[{_DIGITS}]+\s*号)\s*[）)]\s*$")
# seen 2026 (english.mofcom.gov.cn): "MOFCOM Announcement No. 61 of 2025 on …", joint ones
# "MOFCOM and GAC Announcement No. 58 of 2025 …".
_EN_TITLE_NUMBER = re.compile(
    r"^((?:MOFCOM|Ministry of Commerce)(?:\s*(?:and|&)\s*(?:the\s+)?(?:GACC?|General Administration of Customs))?"
    r"\s+(?:Announcement|Order|Decree)\s+No\.?\s*\d+\s+(?:of|\[)\s*\d{4}\]?)", re.I)
_ENGLISH_HOST = re.compile(r"^https?://english\.", re.I)


class MofcomColumnShell(hanweb.HanwebColumnShell):
    """A MOFCOM column shell (``/zwgk/zcfb/index.html``), read as every jpaas shell is."""

    source = SOURCE


class MofcomListFragment(hanweb.UnitApiFragment):
    """One page of MOFCOM's unit API: JSON whose ``data.html`` is a ``<ul count="N">`` fragment;
    zero entries is legal only past the last page."""

    source = SOURCE


class MofcomNoticePage(Page):
    """A notice/announcement detail page (``/…/art/<YYYY>/art_<32hex>.html``), www or a subdomain."""

    source = SOURCE

    def parse(self) -> ParsedPage:
        """Extract the printed fields; raises PageRedirect for JS-redirect stubs, LayoutChanged if no body.

        Example:
            >>> html = ('<div class="art-title"><h1>公布决定</h1></div><p><span>发布文号：</span>商务部公告2026年第3号</p>'
            ...         '<div class="art-con"><p>正文</p></div>')
            >>> MofcomNoticePage("https://aqygzj.mofcom.gov.cn/a/art/2026/art_1.html", html.encode()).parse().doc_number_text
            '商务部公告2026年第3号'
        """
        body, body_css = self._body_node()
        warnings: list[str] = []
        outside = self._header_text(body_css)
        attachments = attachment_links([body, *self.css("div.art-fj, div.fujian, .art-attach")],
                                       base_url=self.url)
        body_text = self.require_text(block_text(body, drop_css=BOILERPLATE_CSS, drop_lines=BOILERPLATE_LINES),
                                      body_css, attachments)
        everywhere = outside + "\n" + body_text
        title = self._title(warnings)
        source_line = _SOURCE_LINE.search(outside)
        meta = {name: value for name in ("SiteName", "ColumnName", "ContentSource", "Keywords", "Description")
                if (value := self.meta(name))}
        if art := hanweb.art_id(self.url):
            meta["art_id"] = art
        for key, pattern in (("type", _TYPE), ("category", _CATEGORY)):
            if m := pattern.search(outside):
                meta[key] = m.group(1)
        issuer = _label(outside, everywhere, LABELS["issuer"]) or self.meta("ContentSource") or (
            source_line.group(1) if source_line and source_line.group(1) else None)
        published = self.meta("PubDate") or (source_line.group(2) if source_line else None) or _match(
            _PUBLISHED_LINE, outside)
        if published is None:
            warnings.append("no PubDate meta, no 来源 date line and no 发布时间 label")
        number = _label(outside, everywhere, LABELS["doc_number"]) or _title_number(title)
        return ParsedPage(
            source=self.source,
            url=self.url,
            title=title,
            body_text=body_text,
            language=self._language(),
            doc_number_text=number,
            issuer_text=issuer,
            published_text=published,
            signed_text=_label(outside, everywhere, LABELS["signed"]),
            attachments=attachments,
            meta=meta,
            warnings=tuple(warnings + self.layout_notes),
        )

    def _body_node(self) -> tuple[Selector, str]:
        found = self.container(BODY_SELECTORS)
        if found is not None:
            return found
        target = hanweb.js_redirect_target(self.text, base_url=self.url)
        if target:
            raise PageRedirect(self.url, target, source=self.source)
        raise LayoutChanged(self.url, " | ".join(BODY_SELECTORS), 0, "1 (any of them)", source=self.source)

    def _header_text(self, body_css: str) -> str:
        """Header containers (来源/类型/date line), then the page text outside the body (【发布…】 block)."""
        head = "\n".join(block_text(n) for css in _HEADER_CSS for n in self.css(css))
        page = "\n".join(block_text(n, drop_css=(body_css, "script", "style")) for n in self.css("body"))
        return head + "\n" + page

    def _title(self, warnings: list[str]) -> str | None:
        title = clean_title(self.meta("ArticleTitle"))
        if title:
            return title
        warnings.append("ArticleTitle meta missing or only '?'; title taken from the page heading")
        node = self.first(*TITLE_SELECTORS)
        title = clean_title(" ".join(node.css("::text").getall())) if node is not None else ""
        return title or None

    def _language(self) -> str:
        """``en`` on english.mofcom.gov.cn or an ``<html lang="en">`` page, else ``zh``."""
        lang = (self.selector.xpath("/html/@lang").get() or "").lower()
        return "en" if _ENGLISH_HOST.match(self.url) or lang.startswith("en") else "zh"


def _label(outside: str, everywhere: str, labels: tuple[str, ...]) -> str | None:
    """The value printed after a header label, as printed, or None when absent/blank.

    ``【label】`` is looked for outside the body first, then anywhere; a bare ``label：`` only
    outside the body (the body may quote such words). Aliases are tried in order.

    Example:
        >>> _label("【发布文号】商务部公告2031年第61号\\n【发文日期】20310109", "", ("发文日期",))
        '20310109'
        >>> _label("发布单位：安全与管制局　发布文号：商务部公告2026年第3号", "", ("发布单位",))
        '安全与管制局'
    """
    for label in labels:
        bracket, colon = _label_patterns(label)
        for pattern, text in ((bracket, outside), (bracket, everywhere), (colon, outside)):
            m = pattern.search(text)
            if m:
                value = _VALUE_END.split(m.group(1), maxsplit=1)[0].strip()
                if value:
                    return value
    return None


@lru_cache(maxsize=64)
def _label_patterns(label: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """``【label】value`` and ``label：value`` of one header label (spaces allowed between its characters)."""
    spaced = r"\s*".join(label)
    return (re.compile(rf"【\s*{spaced}\s*】[ \t\u3000:：]*([^\n【]*)"),
            re.compile(rf"(?<![\u4e00-\u9fff]){spaced}\s*[:：][ \t\u3000]*([^\n【]*)"))


def _title_number(title: str | None) -> str | None:
    """The document's own number when the title ends with it in brackets, or an English title starts
    with it (a Chinese number at the start of the title is read by the pipeline from the title).

    Example:
        >>> _title_number("关于对部分物项实施出口管制的公告（商务部公告2026年第47号）")
        '商务部公告2026年第47号'
        >>> _title_number("商务部新闻发言人就商务部公告2026年第47号答记者问") is None
        True
        >>> _title_number("MOFCOM Announcement No. 61 of 2025 on Export Controls")
        'MOFCOM Announcement No. 61 of 2025'

    """
    m = _TITLE_NUMBER.search(title or "") or _EN_TITLE_NUMBER.match(title or "")
    return m.group(1).strip() if m else None


def _match(pattern: re.Pattern[str], text: str) -> str | None:
    m = pattern.search(text)
    return m.group(1).strip() if m else None


__all__ = ["MofcomColumnShell", "MofcomListFragment", "MofcomNoticePage", "PageRedirect", "BODY_SELECTORS"]
