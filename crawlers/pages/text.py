"""Text helpers shared by every page class: visible block text, titles and attachment links.

Nothing here is specific to one CMS. ``block_text`` turns an HTML subtree into one line per
block, with data tables as tab-separated rows (merged ``rowspan`` cells repeated on every row
they cover, so columns stay aligned) and layout tables (one cell per row, or cells holding
nested tables) read as ordinary blocks. Nothing here fetches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from copy import deepcopy
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from lxml import etree
from parsel import Selector

from crawlers.pages.base import Link
from crawlers.pages.tree import css_elements

ATTACHMENT_EXT = re.compile(r"\.(pdf|docx?|xlsx?|wps|et|ofd|zip|rar|7z|txt|csv)$", re.I)
# seen 2026: pdf.js viewers embed the file as ?file=<encoded path> (MIIT /cms_files/demo/pdfjs/…).
_VIEWER = re.compile(r"viewer\.html?$", re.I)
# Elements that can point at a file: links, and embedded viewers (<iframe>/<embed>/<object>).
_FILE_ATTR = {"a": "href", "iframe": "src", "embed": "src", "object": "data"}

_BLOCK = {
    "p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
    "blockquote", "pre", "center", "dl", "dt", "dd", "form", "header", "footer", "table", "tr",
    "main", "aside", "nav", "figure", "figcaption", "caption", "address", "hr", "td", "th",
}
_SKIP = {"script", "style", "noscript", "template", "button", "select", "input", "textarea", "iframe", "object"}
_CELL_SEP = "\x1f"
_INLINE_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2002\u2003\u2009\u200b\u3000\ufeff]+")
_MAX_SPAN = 100  # a rowspan beyond this is a CMS glitch, not a merged cell


def clean_title(text: str | None) -> str:
    """Trim a title and blank it when it is only question marks (mis-encoded by the server).

    Example:
        >>> clean_title("  ??? ?? "), clean_title(" 商务部公告\\u3000 ")
        ('', '商务部公告')
    """
    title = _INLINE_SPACE.sub(" ", re.sub(r"\s+", " ", text or "")).strip()
    return "" if title and set(title.replace(" ", "")) <= {"?", "？"} else title


def node_text(node: Selector | None) -> str:
    """All text of ``node`` on one line (``""`` for None), whitespace collapsed.

    Example:
        >>> node_text(Selector(text="<h1> 关于 <span>通知</span></h1>").css("h1")[0])
        '关于 通知'
    """
    return clean_title(" ".join(node.css("::text").getall())) if node is not None else ""


def unwrap_viewer(url: str) -> str:
    """Turn a pdf.js viewer link (``…/viewer.html?file=<encoded path>``) into the file URL.

    Example:
        >>> unwrap_viewer("https://www.miit.gov.cn/cms_files/demo/pdfjs/web/viewer.html?file=%2Fcms_files%2Fa.pdf")
        'https://www.miit.gov.cn/cms_files/a.pdf'
    """
    parts = urlsplit(url)
    if _VIEWER.search(parts.path):
        target = parse_qs(parts.query).get("file")
        if target and target[0]:
            return urljoin(url, unquote(target[0].strip()))
    return url


def attachment_links(nodes: Iterable[Selector], *, base_url: str) -> tuple[Link, ...]:
    """Attachment links (pdf/doc/xls/wps/…) under ``nodes``, absolute, deduplicated, in page order.

    Links, and ``<iframe>``/``<embed>``/``<object>`` viewers, count; pdf.js viewer URLs are unwrapped.

    Example:
        >>> sel = Selector(text='<div><a href="/cms_files/oldfile//fms/202510/1.pdf">附件1</a></div>')
        >>> attachment_links([sel], base_url="https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/x.html")
        (Link(url='https://www.mofcom.gov.cn/cms_files/oldfile//fms/202510/1.pdf', title='附件1'),)
    """
    out: list[Link] = []
    seen: set[str] = set()
    for node in nodes:
        refs = node.xpath(".//a[@href] | .//iframe[@src] | .//embed[@src] | .//object[@data]")
        for ref in refs:
            attr = _FILE_ATTR[_tag(ref.root)]
            raw = (ref.attrib.get(attr) or "").strip()
            if not raw or raw.lower().startswith(("javascript:", "mailto:", "#")):
                continue
            url = unwrap_viewer(urljoin(base_url, raw))
            if not ATTACHMENT_EXT.search(urlsplit(url).path) or url in seen:
                continue
            seen.add(url)
            title = clean_title(" ".join(ref.css("::text").getall()) or ref.attrib.get("title"))
            out.append(Link(url=url, title=title or unquote(urlsplit(url).path.rsplit("/", 1)[-1])))
    return tuple(out)


def block_text(node: Selector, *, drop_css: Iterable[str] = (), drop_lines: re.Pattern[str] | None = None) -> str:
    """Visible text of ``node`` with one line per block; data-table rows become tab-separated cells.

    Leading indentation (U+3000, ``&nbsp;``) is trimmed, blank lines are dropped, ``drop_css``
    subtrees (share bars, print buttons) are removed and lines matching ``drop_lines`` are skipped.

    Example:
        >>> block_text(Selector(text="<div><p>\\u3000\\u3000一、总则</p><table><tr><td>1C902</td><td>钐</td></tr>"
        ...                          "</table><div class='fx'>分享</div></div>").css("div")[0], drop_css=[".fx"])
        '一、总则\\n1C902\\t钐'
    """
    root = deepcopy(node.root)
    if not isinstance(root.tag, str):  # a Selector over a text node or comment
        return _INLINE_SPACE.sub(" ", str(node.get() or "")).strip()
    root.tail = None
    for css in drop_css:
        for element in css_elements(root, css) if "::" not in css else [sel.root for sel in Selector(root=root).css(css)]:
            _remove(element)
    parts: list[str] = []
    _walk(root, parts, top=True)
    lines = []
    for raw in "".join(parts).split("\n"):
        if not raw or raw.isspace():  # blank either way (strip() removes what isspace() counts)
            continue
        # str.strip() also strips the cell separator (U+001F): empty edge cells are dropped.
        line = _INLINE_SPACE.sub(" ", raw).strip().replace(_CELL_SEP, "\t")
        if line and not (drop_lines and drop_lines.search(line)):
            lines.append(line)
    return "\n".join(lines)


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


def _tag(el: etree._Element) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def _walk(root: etree._Element, parts: list[str], *, top: bool = False) -> None:
    """Append the visible text of ``root`` to ``parts``; iterative, so deeply nested markup
    (thousands of levels, seen in broken CMS exports) cannot exhaust the recursion limit."""
    stack: list[tuple[etree._Element, bool, bool]] = [(root, top, False)]
    while stack:
        el, is_top, closing = stack.pop()
        tag = el.tag.lower() if isinstance(el.tag, str) else ""  # _tag(el), inlined: once per node
        if closing:
            if tag in _BLOCK:
                parts.append("\n")
        elif not tag or tag in _SKIP:  # comments, processing instructions, scripts
            pass
        elif tag == "br":
            parts.append("\n")
        elif tag == "table" and not _is_layout_table(el):
            parts.append("\n")
            parts.extend(row + "\n" for row in _table_rows(el))
        else:
            if tag in _BLOCK:
                parts.append("\n")
            if el.text:
                parts.append(el.text)
            stack.append((el, is_top, True))
            stack.extend([(child, False, False) for child in reversed(el)])
            continue  # the tail is written when the element closes
        if not is_top and el.tail:
            parts.append(el.tail)


def _own_rows(table: etree._Element) -> list[etree._Element]:
    """The ``<tr>`` of this table only (directly or under thead/tbody/tfoot), not of nested tables."""
    rows: list[etree._Element] = []
    for child in table:
        tag = _tag(child)
        if tag == "tr":
            rows.append(child)
        elif tag in ("thead", "tbody", "tfoot"):
            rows.extend(c for c in child if _tag(c) == "tr")
    return rows


def _cells(tr: etree._Element) -> list[etree._Element]:
    return [td for td in tr if _tag(td) in ("td", "th")]


def _is_layout_table(table: etree._Element) -> bool:
    """A table used for page layout (seen on legacy #zoom pages, 2026): every row has at most one
    cell, or a cell wraps a nested table. Its cells are read as blocks, not as one line per row."""
    rows = _own_rows(table)
    if not rows:
        return True
    if all(len(_cells(tr)) <= 1 for tr in rows):
        return True
    return any(td.find(".//table") is not None for tr in rows for td in _cells(tr))


def _span(td: etree._Element, name: str) -> int:
    try:
        return max(1, min(_MAX_SPAN, int(str(td.get(name, "1")).strip() or 1)))
    except ValueError:
        return 1


def _table_rows(table: etree._Element) -> list[str]:
    """Rows of a data table as cell texts joined by the cell separator.

    A ``rowspan`` cell is repeated on each row it covers (so every row reads as a whole item and
    columns stay aligned); a ``colspan`` cell is written once.
    """
    pending: dict[int, tuple[int, str | None]] = {}  # column -> (rows left, text or None if covered)
    out: list[str] = []
    for tr in _own_rows(table):
        row: list[str] = []
        col = 0
        cells = _cells(tr)
        i = 0
        while i < len(cells) or any(c >= col for c in pending):
            if col in pending:
                left, text = pending.pop(col)
                if text is not None:
                    row.append(text)
                if left > 1:
                    pending[col] = (left - 1, text)
                col += 1
                continue
            if i >= len(cells):
                col += 1
                continue
            cell = cells[i]
            i += 1
            text = _cell_text(cell)
            row.append(text)
            rowspan, colspan = _span(cell, "rowspan"), _span(cell, "colspan")
            if rowspan > 1:
                for k in range(colspan):
                    pending[col + k] = (rowspan - 1, text if k == 0 else None)
            col += colspan
        if any(row):
            out.append(_CELL_SEP.join(row))
    return out


def _cell_text(td: etree._Element) -> str:
    parts: list[str] = []
    _walk(td, parts, top=True)
    return _INLINE_SPACE.sub(" ", "".join(parts).replace("\n", " ")).strip()


__all__ = ["ATTACHMENT_EXT", "attachment_links", "block_text", "clean_title", "node_text", "unwrap_viewer"]
