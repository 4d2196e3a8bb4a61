"""METI (経済産業省) page classes: press releases and minister's press conferences, and the HTML lists.

Press releases live at ``/press/<FY>/<MM>/<id>/<id>.html`` (FY = April–March fiscal year),
conferences at ``/speeches/kaiken/<FY>/<id>.html``; the 11-digit release id ``YYYYMMDDNNN`` is
the only number METI prints, so it is reported as ``doc_number_text``. Dates are printed as
``2026年1月9日(金曜日)`` or in the 令和 era; they are kept as printed (the pipeline converts them).
The Atom feed is in :mod:`crawlers.pages.feeds`.
"""

from __future__ import annotations

import re

from parsel import Selector

from crawlers.errors import LayoutChanged
from crawlers.pages.base import ListingEntry, Page, ParsedPage
from crawlers.pages.text import attachment_links, block_text, clean_title

SOURCE = "meti"
ISSUER_JA = "経済産業省"
ISSUER_EN = "Ministry of Economy, Trade and Industry"

# seen 2026: main column div.main.w1000 (current press template), div#main (older pages and
# kaiken); `main` is the HTML5 element a renewed template is likely to use (not yet seen).
GENERIC_MAIN = "main"
BODY_SELECTORS = ("div.main.w1000", "div#main", GENERIC_MAIN)
# seen 2026: the page title is the only <h1> in the main column (the logo is not an <h1>).
TITLE_SELECTORS = ("h1",)
# seen 2026: breadcrumbs (div.topicpath / ol.breadcrumb), SNS share buttons (div.sns_box,
# ul.sns), "このページの先頭へ" links (p.pagetop), footers; removed before taking the text.
BOILERPLATE_CSS = (
    "h1", ".topicpath", "#topicpath", ".breadcrumb", ".breadcrumbs", "nav", ".sns_box", ".sns",
    ".snsbtn", "[class*=social]", ".pagetop", ".page_top", "#pagetop", "footer", "#footer", ".footer",
)
BOILERPLATE_LINES = re.compile(r"^(このページの先頭へ|ページの先頭へ戻る|Page Top|ツイート|シェア|印刷)$", re.I)
# seen 2026: /press/index.html lists releases as dl#release_menulist (dt = date, dd a = link).
INDEX_LIST = "dl#release_menulist"
# seen 2026: /press/archive_YYYYMM.html lists ul.clearfix.float_li li div.txt_box (p = date, a.cut_txt = link).
ARCHIVE_ITEMS = "ul.clearfix.float_li li div.txt_box"

_ERA_OR_YEAR = r"(?:(?:令和|平成)\s*(?:元|[0-9０-９]{1,2})|[0-9０-９]{4})"
_JA_DATE = rf"{_ERA_OR_YEAR}\s*年\s*[0-9０-９]{{1,2}}\s*月\s*[0-9０-９]{{1,2}}\s*日"
# seen 2026: "2026年1月9日", "令和8年1月9日", "2026年1月9日（金）", "2026年1月9日(金曜日)", sometimes
# behind a label ("公表日：", "発表日") or followed by the publisher ("2026年1月9日 経済産業省").
_DATE_LINE = re.compile(
    rf"^(?:(?:公表日|発表日|公開日|掲載日|日付)\s*[:：]?\s*)?({_JA_DATE}(?:\s*[（(][^)）]{{1,6}}[)）])?)"
    rf"(?:\s+(?:{ISSUER_JA}|経済産業大臣.*))?$")
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|" \
         r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
# seen 2026: "January 9, 2026" (English releases); "Jan. 9, 2026" and "9 January 2026" also occur.
_EN_DATE_LINE = re.compile(
    rf"^(?:(?:Released|Date|Published)\s*[:：]?\s*)?({_MONTH}\s+\d{{1,2}},\s*\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}})$",
    re.I)
_DATE_LINE_WINDOW = 20  # the date line sits under the title; later dates are events, not the release day
_CONTACT_HEAD = re.compile(r"^(?:【?お問(?:い)?合(?:わ)?せ先】?|【?担当】?|担当部署|Division in Charge|Contact)$", re.I)
_UNIT = re.compile(r"^(.*(?:局|部|課|室|庁|センター|グループ|班))(?:長|参事官|企画官)?(?:\s|$)")
_RELEASE_ID = re.compile(r"/(\d{11})(?:/|\.html?$)")
_EN_RELEASE_ID = re.compile(r"/english/(?:press|speeches/press_conferences)/(\d{4})/(\d{4})_?(\d{3})\.html?$")


class MetiPressPage(Page):
    """A press release (``/press/…``), minister's press conference (``/speeches/kaiken/…``) or English release."""

    source = SOURCE

    def parse(self) -> ParsedPage:
        """Extract title, date line, contact unit, release id and attachments; LayoutChanged if no main column.

        Example:
            >>> html = '<div id="main"><h1>発表</h1><p>令和8年1月9日</p><p>本文。</p></div>'
            >>> page = MetiPressPage("https://www.meti.go.jp/press/2025/01/20260109001/20260109001.html",
            ...                      html.encode()).parse()
            >>> page.title, page.published_text, page.doc_number_text, page.issuer_text
            ('発表', '令和8年1月9日', '20260109001', '経済産業省')
        """
        main, matched = self._main_node()
        english = "/english/" in self.url
        warnings: list[str] = []
        if matched == GENERIC_MAIN:
            warnings.append(f"known containers missing; parsed the generic <{GENERIC_MAIN}> element")
        heading = main.css("h1") or self.selector.css("h1")
        title = clean_title(" ".join(heading[0].css("::text").getall())) if heading else ""
        if not title:
            warnings.append("no <h1> title")
        attachments = attachment_links([main], base_url=self.url)
        body_text = self.require_text(block_text(main, drop_css=BOILERPLATE_CSS, drop_lines=BOILERPLATE_LINES),
                                      matched, attachments)
        published = _date_line(body_text, english=english)
        if published is None:
            warnings.append("no date line (YYYY年M月D日 / 令和N年M月D日) in the main column")
        unit = contact_unit(body_text)
        issuer = ISSUER_EN if english else ISSUER_JA
        return ParsedPage(
            source=self.source,
            url=self.url,
            title=title or None,
            body_text=body_text,
            language="en" if english else "ja",
            doc_number_text=release_id(self.url),
            issuer_text=f"{issuer} {unit}" if unit else issuer,
            published_text=published,
            attachments=attachments,
            meta={"kind": _kind(self.url)},
            warnings=tuple(warnings + self.layout_notes),
        )

    def _main_node(self) -> tuple[Selector, str]:
        found = self.container(BODY_SELECTORS)
        if found is not None:
            return found
        raise LayoutChanged(self.url, " | ".join(BODY_SELECTORS), 0, "1 (any of them)", source=self.source)


class MetiPressIndexPage(Page):
    """``/press/index.html``: the newest releases as ``dl#release_menulist`` date/link pairs."""

    source = SOURCE

    def entries(self) -> list[ListingEntry]:
        """One entry per ``dd a``, dated by the nearest preceding ``dt``.

        Example:
            >>> html = '<dl id="release_menulist"><dt>2026年1月9日</dt><dd><a href="2025/01/x/x.html">発表</a></dd></dl>'
            >>> MetiPressIndexPage("https://www.meti.go.jp/press/index.html", html.encode()).entries()[0].url
            'https://www.meti.go.jp/press/2025/01/x/x.html'
        """
        out: list[ListingEntry] = []
        date: str | None = None
        for node in self.select_one(INDEX_LIST).xpath("./dt | ./dd | ./div/dt | ./div/dd"):
            text = clean_title(" ".join(node.css("::text").getall()))
            if node.root.tag == "dt":
                date = text or None
                continue
            for link in node.css("a[href]"):
                out.append(ListingEntry(url=self.absolute(link.attrib["href"]),
                                        title=clean_title(" ".join(link.css("::text").getall())),
                                        date_text=date))
        if not out:
            raise LayoutChanged(self.url, f"{INDEX_LIST} dd a[href]", 0, "1..n", source=self.source)
        return out


class MetiArchivePage(Page):
    """``/press/archive_YYYYMM.html``: one month of releases as ``div.txt_box`` cards."""

    source = SOURCE

    def entries(self) -> list[ListingEntry]:
        """One entry per card (``p`` = date, ``a.cut_txt`` = link), in page order.

        Example:
            >>> html = ('<ul class="clearfix float_li"><li><div class="txt_box"><p>2026年1月9日</p>'
            ...         '<a class="cut_txt" href="/press/2025/01/x/x.html">発表</a></div></li></ul>')
            >>> MetiArchivePage("https://www.meti.go.jp/press/archive_202601.html", html.encode()).entries()[0].date_text
            '2026年1月9日'
        """
        out: list[ListingEntry] = []
        for box in self.select(ARCHIVE_ITEMS):
            link = box.css("a.cut_txt[href]")
            if not link:
                continue
            date = clean_title(" ".join(box.css("p ::text").getall())) or None
            out.append(ListingEntry(url=self.absolute(link[0].attrib["href"]),
                                    title=clean_title(" ".join(link[0].css("::text").getall())),
                                    date_text=date))
        if not out:
            raise LayoutChanged(self.url, f"{ARCHIVE_ITEMS} a.cut_txt[href]", 0, "1..n", source=self.source)
        return out


def release_id(url: str) -> str | None:
    """The 11-digit release id ``YYYYMMDDNNN`` of a press / kaiken / English page URL.

    Example:
        >>> release_id("https://www.meti.go.jp/press/2025/01/20260109001/20260109001.html")
        '20260109001'
        >>> release_id("https://www.meti.go.jp/speeches/kaiken/2025/20260109001.html")
        '20260109001'
        >>> release_id("https://www.meti.go.jp/english/press/2026/0109_001.html")
        '20260109001'
    """
    m = _RELEASE_ID.search(url)
    if m:
        return m.group(1)
    m = _EN_RELEASE_ID.search(url)
    return "".join(m.groups()) if m else None


def contact_unit(body_text: str) -> str | None:
    """The responsible unit under a 担当 / お問合せ先 heading, without the official's title and name.

    Example:
        >>> contact_unit("本文\\n担当\\n貿易経済安全保障局 安全保障貿易管理課長 山田\\n電話：03-3501-1511")
        '貿易経済安全保障局 安全保障貿易管理課'
    """
    lines = body_text.split("\n")
    for i, line in enumerate(lines[:-1]):
        if _CONTACT_HEAD.match(line.strip()):
            nxt = lines[i + 1].strip()
            m = _UNIT.match(nxt)
            return (m.group(1) if m else nxt) or None
    return None


def _date_line(body_text: str, *, english: bool) -> str | None:
    pattern = _EN_DATE_LINE if english else _DATE_LINE
    for line in body_text.split("\n")[:_DATE_LINE_WINDOW]:
        m = pattern.match(line.strip())
        if m:
            return m.group(1)
    return None


def _kind(url: str) -> str:
    if "/speeches/" in url or "/press_conferences/" in url:
        return "press_conference"
    return "press_release"


__all__ = [
    "BODY_SELECTORS", "MetiArchivePage", "MetiPressIndexPage", "MetiPressPage", "contact_unit", "release_id",
]
