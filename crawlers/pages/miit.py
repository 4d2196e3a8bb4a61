"""MIIT (工业和信息化部) page classes: the jpaas column shell, list fragment and notice detail page.

MIIT runs the same Hanweb jpaas CMS as MOFCOM (DOMAIN §2), so list parsing, attachment
links and the pdf.js viewer unwrapping come from :mod:`crawlers.pages.hanweb`. What is
MIIT-specific: the detail template (``#con_title``, ``#con_time``, ``.cinfo``, ``#con_con``)
and orders/notices whose number is printed as a header line of the body, not in a field.
"""

from __future__ import annotations

import re

from parsel import Selector

from crawlers.errors import LayoutChanged
from crawlers.pages import hanweb
from crawlers.pages.base import Page, ParsedPage
from crawlers.pages.text import attachment_links, block_text, clean_title

SOURCE = "miit"

# seen 2026: body is div#con_con (class ccontent, sometimes wrapping a nested div.ccontent: the
# outermost is taken); some columns only carry .ccontent; the wap.miit.gov.cn mirror and older
# jpaas templates mark the article with ergodic="article" / .con_con / #zoom.
BODY_SELECTORS = ("#con_con", ".ccontent", 'div[ergodic="article"]', ".con_con", "#zoom", "div.TRS_Editor")
# seen 2026: h1#con_title; .con_title / h1 on the wap mirror; meta ArticleTitle is the CMS's copy.
TITLE_SELECTORS = ("#con_title", ".con_title", "h1")
# seen 2026: "发布时间：2025-08-22 17:30" in #con_time, "来源：工业和信息化部" in .cinfo; the wap mirror
# prints both in one .con_time / .cinfo line; as a last resort the labels are read anywhere outside the body.
TIME_SELECTORS = ("#con_time", ".con_time", ".cinfo")
SOURCE_SELECTORS = (".cinfo", "#con_time", ".con_time")
# seen 2026: attachment lists sit below #con_con in div.fujian / ul.fj (not always present).
ATTACHMENT_BLOCKS = (".fujian", ".fj", "[id*=fujian]", "[class*=attach]")
# seen 2026: the unit API fragment wraps items in div.page-content > ul > li.
LIST_ITEMS = ".page-content ul li a[href]"
LIST_ITEMS_FALLBACK = "ul li a[href]"

BOILERPLATE_CSS = (".share", ".bdsharebuttonbox", ".fx", ".print", ".ewm")
BOILERPLATE_LINES = re.compile(r"^(【?(打印本页|关闭窗口|打印|关闭)】?\s*)+$|^分享到[:：]?|^扫一扫")

_PUBLISHED = re.compile(r"发布时间\s*[:：]\s*([0-9０-９][0-9０-９\-/年月日:：\s]*[0-9０-９日])")
# An empty 来源 is followed directly by the next label; don't take that label as the issuer.
_ISSUER = re.compile(r"来源\s*[:：]\s*(?!发布|时间|字号|浏览)([^\s|｜]+)")
_DIGITS = "0-9０-９"
# A header line that is entirely a document number (how orders and notices print their 文号).
_NUMBER_LINES = (
    re.compile(rf"^.{{0,40}}令\s*第\s*[{_DIGITS}]+\s*号$"),  # …部令 第71号
    re.compile(rf"^.{{0,30}}[〔\[［(（]\s*[{_DIGITS}]{{4}}\s*[〕\]］)）]\s*[{_DIGITS}]+\s*号$"),  # 工信部原〔2025〕12号
    re.compile(rf"^.{{0,40}}公告\s*[{_DIGITS}]{{4}}\s*年?\s*第\s*[{_DIGITS}]+\s*号?$"),  # …公告2025年第3号
)
# "第71号" under "…令", "2025年第20号" under "…公告", each on its own line.
_NUMBER_TAIL = re.compile(rf"^(?:[{_DIGITS}]{{4}}\s*年\s*)?第\s*[{_DIGITS}]+\s*号$")
_HEADER_LINES = 8  # the number sits in the first lines; deeper matches are citations of other documents


class MiitColumnShell(hanweb.HanwebColumnShell):
    """A MIIT column shell (``/zwgk/zcwj/wjfb/tz/index.html``); its script tag says ``parseType="buildstatic"``."""

    source = SOURCE


class MiitListFragment(hanweb.UnitApiFragment):
    """One page of MIIT's unit API (GET only; POST answers 500 "不支持的HTTP方法", probed 2026).

    Example:
        >>> body = '<div class="page-content"><ul><li><a href="/a/art/2025/art_1.html" title="通知">通知</a>'
        >>> body += '<span>2025-08-22</span></li></ul></div>'
        >>> MiitListFragment("https://www.miit.gov.cn/api", body.encode()).entries()[0].date_text
        '2025-08-22'
    """

    source = SOURCE
    link_css = (LIST_ITEMS, LIST_ITEMS_FALLBACK)


class MiitNoticePage(Page):
    """A notice / order detail page (``/<column>/art/<YYYY>/art_<32hex>.html``)."""

    source = SOURCE

    def parse(self) -> ParsedPage:
        """Extract the printed fields; LayoutChanged (naming every body selector) when no body is found.

        Example:
            >>> html = ('<h1 id="con_title">关于开展试点的通知</h1><div id="con_time">发布时间：2025-10-09 16:00</div>'
            ...         '<div id="con_con"><p>工信部原函〔2025〕7号</p><p>各有关单位：</p></div>')
            >>> page = MiitNoticePage("https://www.miit.gov.cn/a/art/2025/art_1.html", html.encode()).parse()
            >>> page.title, page.published_text, page.doc_number_text
            ('关于开展试点的通知', '2025-10-09 16:00', '工信部原函〔2025〕7号')
        """
        body, body_css = self._body_node()
        warnings: list[str] = []
        blocks = [body, *(node for css in ATTACHMENT_BLOCKS for node in self.selector.css(css))]
        attachments = attachment_links(blocks, base_url=self.url)
        body_text = self.require_text(block_text(body, drop_css=BOILERPLATE_CSS, drop_lines=BOILERPLATE_LINES),
                                      body_css, attachments)
        title = self._text_of(TITLE_SELECTORS) or clean_title(self.meta("ArticleTitle")) or None
        if title is None:
            warnings.append("no #con_title and no ArticleTitle meta")
        outside = ""
        if not any(self.selector.css(css) for css in TIME_SELECTORS):
            outside = "\n".join(block_text(n, drop_css=(body_css, "script", "style")) for n in self.selector.css("body"))
        published = (_first_match(_PUBLISHED, self._texts(TIME_SELECTORS)) or self.meta("PubDate")
                     or _match(_PUBLISHED, outside))
        if published is None:
            warnings.append("no 发布时间 in #con_time and no PubDate meta")
        issuer = (_first_match(_ISSUER, self._texts(SOURCE_SELECTORS)) or self.meta("ContentSource")
                  or _match(_ISSUER, outside))
        meta = {name: value for name in ("ColumnName", "i_articleid", "Keywords") if (value := self.meta(name))}
        if art := hanweb.art_id(self.url):
            meta["art_id"] = art
        return ParsedPage(
            source=self.source,
            url=self.url,
            title=title,
            body_text=body_text,
            language="zh",
            doc_number_text=find_doc_number(body_text),
            issuer_text=issuer,
            published_text=published,
            attachments=attachments,
            meta=meta,
            warnings=tuple(warnings + self.layout_notes),
        )

    def _body_node(self) -> tuple[Selector, str]:
        found = self.container(BODY_SELECTORS)
        if found is None:
            raise LayoutChanged(self.url, " | ".join(BODY_SELECTORS), 0, "1 (any of them)", source=self.source)
        return found

    def _texts(self, selectors: tuple[str, ...]) -> list[str]:
        return [clean_title(" ".join(node.css("::text").getall())) for css in selectors for node in self.selector.css(css)]

    def _text_of(self, selectors: tuple[str, ...]) -> str:
        node = self.first(*selectors)
        return clean_title(" ".join(node.css("::text").getall())) if node is not None else ""


def find_doc_number(body_text: str) -> str | None:
    """The document number printed as a header line of the body (order or notice), as printed.

    Looks only at the first lines: numbers further down cite other documents. A number
    split over two lines (``…令`` then ``第71号``) is joined with one space.

    Example:
        >>> find_doc_number("工业和信息化部 国家发展改革委 自然资源部令\\n第71号\\n《办法》已经审议通过")
        '工业和信息化部 国家发展改革委 自然资源部令 第71号'
        >>> find_doc_number("各有关单位：\\n依据《条例》（国务院令第785号）") is None
        True
    """
    lines = [line.strip() for line in body_text.split("\n") if line.strip()][:_HEADER_LINES]
    for i, line in enumerate(lines):
        if any(p.match(line) for p in _NUMBER_LINES) and len(line) <= 60:
            return line
        if i + 1 < len(lines) and _NUMBER_TAIL.match(lines[i + 1]) and line.endswith(("令", "公告")) and len(line) <= 40:
            return f"{line} {lines[i + 1]}"
    return None


def _first_match(pattern: re.Pattern[str], texts: list[str]) -> str | None:
    return next((found for text in texts if (found := _match(pattern, text))), None)


def _match(pattern: re.Pattern[str], text: str) -> str | None:
    m = pattern.search(text)
    return m.group(1).strip() if m else None


__all__ = ["BODY_SELECTORS", "MiitColumnShell", "MiitListFragment", "MiitNoticePage", "find_doc_number"]
