"""gov.cn (中国政府网) page classes: policy-library / State Council document pages and static list pages.

Two detail templates (DOMAIN §3.3): zhengceku and State Council "Template A" pages carry a
metadata table (``table.bd1``: 索引号, 发文机关, 成文日期, 标题, 发文字号, 发布日期); interpretation
and news "Template B" pages have only ``h1#ti`` and a ``div.pages-date`` line. Both keep the
body in ``#UCAP-CONTENT`` and the publish/modify stamps in ``<meta>``. The JSON feeds are
in :mod:`crawlers.pages.feeds`.
"""

from __future__ import annotations

import re
from functools import cached_property

from parsel import Selector

from crawlers.errors import ChallengePage, LayoutChanged, NotHtml
from crawlers.pages.base import ListingEntry, Page, ParsedPage, looks_like_challenge
from crawlers.pages.text import attachment_links, block_text, clean_title

SOURCE = "govcn"

# seen 2026: div#UCAP-CONTENT.pages_content (current); td#UCAP-CONTENT.b12c (pre-2019 pages);
# div.TRS_UEDITOR (TRS editor output, some pages carry it without the UCAP id); div.TRS_Editor (older).
BODY_SELECTORS = ("#UCAP-CONTENT", "div.TRS_UEDITOR", "div.pages_content", "div.TRS_Editor")
# seen 2026: zhengceku / Template A metadata table, cells "<td><b>发文字号：</b></td><td>…</td>" in
# table.bd1; State Council pages also print it as table.border-table.pcTab with td.textLabel cells
# ("索 引 号："), sometimes with label and value in one cell. Any other table whose own cells carry
# these labels is the last resort.
META_TABLES = ("table.bd1", "table.pcTab", "table.border-table", "table")
META_LABELS = ("索引号", "主题分类", "发文机关", "成文日期", "标题", "发文字号", "发布日期", "主题词", "体裁分类")
# seen 2026: title fallbacks when the table has no 标题 row (Template B: h1#ti).
TITLE_SELECTORS = ("div.share-title", "h1#ti", "div.article h1", "h1")
# seen 2026: Template B "2024-06-29 18:30 来源： 新华社 字号：…" in div.pages-date, 来源 in span.font.
DATE_LINE_SELECTORS = ("div.pages-date", ".pages-date", ".pages_date")
SOURCE_SPAN = "div.pages-date span.font, span.font"
# seen 2026: share bar, print/close and "责任编辑" lines under the body.
BOILERPLATE_CSS = (".share", ".bdsharebuttonbox", ".editor", ".pages_print", ".print", "script")
BOILERPLATE_LINES = re.compile(r"^(【?(打印本页|关闭窗口|打印|关闭|返回列表|返回顶部)】?\s*)+$|^分享到[:：]?|^【?责任编辑")
# seen 2026 (list pages): .news_box > .list > ul > li, li.line are separators.
LIST_ITEMS = ".news_box > .list > ul > li:not(.line)"

_FIELDS = {  # metadata-table label -> ParsedPage field
    "标题": "title",
    "发文机关": "issuer_text",
    "发文字号": "doc_number_text",
    "成文日期": "signed_text",
    "发布日期": "published_text",
}
_META_NAMES = ("firstpublishedtime", "lastmodifiedtime", "manuscriptId", "lanmu", "catalog")
_LABEL_JUNK = re.compile(r"[\s\u3000：:]+")
_HTML_ROOT = re.compile(r"<html[\s>]", re.I)
_DATE_TIME = re.compile(r"\d{4}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}(?:\s*日)?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")
_SOURCE = re.compile(r"来源\s*[:：]\s*(\S[^\n]*?)\s*$")
_BODY_MARKERS = ("UCAP-CONTENT", "TRS_UEDITOR", "pages_content", "bd1")


class GovcnPolicyPage(Page):
    """A zhengceku / State Council (Template A) or interpretation (Template B) detail page."""

    source = SOURCE

    @cached_property
    def selector(self) -> Selector:
        text = self.text
        if looks_like_challenge(text, self.status):
            raise ChallengePage(self.url, f"anti-bot challenge page (HTTP {self.status})", source=self.source)
        if "<" not in text[:2000]:
            raise NotHtml(self.url, "body has no HTML markup", source=self.source)
        return self.tree(_content_root(text))

    def parse(self) -> ParsedPage:
        """Extract the printed fields: metadata table first, Template B heading/date line as fallback.

        Example:
            >>> html = ('<table class="bd1"><tr><td><b>发文字号：</b></td><td>国令第1号</td></tr></table>'
            ...         '<div id="UCAP-CONTENT"><p>正文</p></div>')
            >>> GovcnPolicyPage("https://www.gov.cn/zhengce/content/x.htm", html.encode()).parse().doc_number_text
            '国令第1号'
        """
        body, body_css = self._body_node()
        attachments = attachment_links([body], base_url=self.url)
        body_text = self.require_text(block_text(body, drop_css=BOILERPLATE_CSS, drop_lines=BOILERPLATE_LINES),
                                      body_css, attachments)
        warnings: list[str] = []
        if len(_HTML_ROOT.findall(self.text)) > 1:
            warnings.append("page has several <html> roots; parsed the one holding the body")
        table = self.metadata_table()
        fields = {field: table[label] for label, field in _FIELDS.items() if table.get(label)}
        if "title" not in fields:
            fields["title"] = self._heading()
        if not table:
            fields.update(self._template_b_fields())
        meta = {name: value for name in _META_NAMES if (value := self.meta(name))}
        meta.update({label: value for label, value in table.items() if label not in _FIELDS and value})
        if fields.get("published_text") is None:
            if "firstpublishedtime" in meta:  # "2025-10-09-19:30:00": the CMS's own publication stamp
                fields["published_text"] = meta["firstpublishedtime"]
            else:
                warnings.append("no 发布日期 cell, date line or firstpublishedtime meta")
        return ParsedPage(
            source=self.source,
            url=self.url,
            body_text=body_text,
            language="zh",
            attachments=attachments,
            meta=meta,
            warnings=tuple(warnings + self.layout_notes),
            **fields,
        )

    def metadata_table(self) -> dict[str, str]:
        """The metadata table's label→value map (labels without ``：`` and spaces); empty on Template B.

        The first of ``META_TABLES`` whose own cells carry a known label wins.
        """
        for css in META_TABLES:
            for table in self.selector.css(css):
                cells = table.xpath("./tr/td | ./tr/th | ./tbody/tr/td | ./tbody/tr/th")
                out = _label_map(cells)
                if any(label in out for label in META_LABELS):
                    return out
        return {}

    def _body_node(self) -> tuple[Selector, str]:
        found = self.container(BODY_SELECTORS)
        if found is None:
            raise LayoutChanged(self.url, " | ".join(BODY_SELECTORS), 0, "1 (any of them)", source=self.source)
        return found

    def _heading(self) -> str | None:
        node = self.first(*TITLE_SELECTORS)
        title = clean_title(" ".join(node.css("::text").getall())) if node is not None else ""
        return title or clean_title(self.meta("ArticleTitle")) or None

    def _template_b_fields(self) -> dict[str, str]:
        out: dict[str, str] = {}
        node = self.first(*DATE_LINE_SELECTORS)
        if node is not None:
            m = _DATE_TIME.search(" ".join(node.xpath("./text()").getall()))
            if m:
                out["published_text"] = m.group(0).strip()
        for span in self.selector.css(SOURCE_SPAN):
            m = _SOURCE.search(re.sub(r"\s+", " ", " ".join(span.css("::text").getall())))
            if m:
                out["issuer_text"] = m.group(1)
                break
        return out


class GovcnListPage(Page):
    """A static policy-library list page (``/zhengce/zhengceku/bmwj/home.htm``, ``home_N.htm``)."""

    source = SOURCE

    def entries(self) -> list[ListingEntry]:
        """Items of the list, in page order; no item raises LayoutChanged.

        Example:
            >>> html = ('<div class="news_box"><div class="list"><ul><li><h4><a href="../202510/content_1.htm">'
            ...         '公告</a><span class="date">2025-10-09</span></h4></li><li class="line"></li></ul></div></div>')
            >>> GovcnListPage("https://www.gov.cn/zhengce/zhengceku/bmwj/home.htm", html.encode()).entries()[0].url
            'https://www.gov.cn/zhengce/zhengceku/202510/content_1.htm'
        """
        out: list[ListingEntry] = []
        for item in self.select(LIST_ITEMS):
            link = item.css("h4 > a[href]")
            if not link:
                continue
            title = clean_title(" ".join(link[0].css("::text").getall()) or link[0].attrib.get("title"))
            date = clean_title(" ".join(item.css("h4 > .date ::text").getall())) or None
            out.append(ListingEntry(url=self.absolute(link[0].attrib["href"]), title=title, date_text=date))
        if not out:
            raise LayoutChanged(self.url, f"{LIST_ITEMS} h4 > a[href]", 0, "1..n", source=self.source)
        return out


_SAME_CELL = re.compile(r"^([\u4e00-\u9fff][\u4e00-\u9fff\s\u3000]{1,8}?)\s*[:：]\s*(\S.*)$", re.S)


def _label_map(cells: list[Selector]) -> dict[str, str]:
    """Label→value pairs from a row-major list of cells: a label cell followed by a value cell,
    or one cell holding both (``<b>发文字号：</b>国发〔2024〕5号``).

    Example:
        >>> cells = Selector(text="<table><tr><td class='textLabel'>索 引 号：</td><td>000014349/2024-00058</td>"
        ...                       "<td><b>发文字号：</b>国令第785号</td></tr></table>").css("td")
        >>> _label_map(cells)
        {'索引号': '000014349/2024-00058', '发文字号': '国令第785号'}
    """
    out: dict[str, str] = {}
    skip = False
    for i, cell in enumerate(cells):
        if skip:
            skip = False
            continue
        text = re.sub(r"\s+", " ", "".join(cell.css("::text").getall())).strip()
        if _is_label(cell):
            label = _LABEL_JUNK.sub("", text)
            nxt = cells[i + 1] if i + 1 < len(cells) else None
            if nxt is not None and not _is_label(nxt) and label and label not in out:
                out[label] = re.sub(r"\s+", " ", "".join(nxt.css("::text").getall())).strip()
                skip = True
                continue
        m = _SAME_CELL.match(text)
        if m:
            label = _LABEL_JUNK.sub("", m.group(1))
            if label in META_LABELS and label not in out:
                out[label] = m.group(2).strip()
    return out


def _is_label(cell: Selector) -> bool:
    """A label cell: bold (seen 2026), class ``textLabel`` (State Council pcTab tables), or, on some
    older pages, plain short text ending in a colon. A bold label followed by its value in the same
    cell is not a label cell."""
    text = re.sub(r"\s+", "", "".join(cell.css("::text").getall()))
    if "label" in (cell.attrib.get("class") or "").lower() and 0 < len(text) <= 12:
        return True
    if not text.endswith(("：", ":")) and not cell.css("b, strong"):
        return False
    bold = "".join(cell.css("b ::text, strong ::text").getall())
    if cell.css("b, strong") and len(re.sub(r"\s+", "", bold)) < len(text):
        return False  # "<b>发文字号：</b>国令第785号": label and value in one cell
    return len(text) <= 12


def _content_root(text: str) -> str:
    """When a response holds several ``<html>`` documents, keep the one with the body markers.

    Example:
        >>> _content_root("<html><body>跳转</body></html><html><div id='UCAP-CONTENT'>x</div></html>")
        "<html><div id='UCAP-CONTENT'>x</div></html>"
    """
    starts = [m.start() for m in _HTML_ROOT.finditer(text)]
    if len(starts) < 2:
        return text
    docs = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)])]
    with_body = [doc for doc in docs if any(marker in doc for marker in _BODY_MARKERS)]
    return max(with_body or docs, key=len)


__all__ = ["BODY_SELECTORS", "GovcnListPage", "GovcnPolicyPage"]
