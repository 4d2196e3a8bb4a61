"""The HTML tree a page class reads, built without losing text to the parser's depth limit.

libxml2 (under lxml and parsel) stops building the tree at 256 levels of nesting, 2048 with
``huge_tree``. In recover mode it does not raise: everything from the deep point on is missing,
so a page nested 5000 deep (unclosed ``<font>``/``<div>`` tags in broken CMS exports) read as an
empty article. ``html_tree`` sees the depth error in the parser's error log and parses again
with the nesting beyond ``FLATTEN_DEPTH`` levels flattened: those tags are dropped (block tags
become ``<br>`` so paragraph breaks survive) and every character of text is kept. If even that
tree is too deep, ``TooDeep`` names the URL and the depth; text is never dropped silently.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree, html
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from crawlers.errors import TooDeep

FLATTEN_DEPTH = 512  # well under libxml2's 2048 (huge_tree); no real page nests a tenth of this
_DEPTH_ERROR = "excessive depth"
# Comments and raw-text elements are copied whole; then start and end tags.
_TOKEN = re.compile(
    r"<!--.*?-->|<(script|style|textarea|title)\b[^>]*>.*?</\1\s*>"
    r"|</?([A-Za-z][A-Za-z0-9:_-]*)(?:\"[^\"]*\"|'[^']*'|[^'\">])*>",
    re.S | re.I,
)
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
         "wbr", "basefont", "frame", "isindex", "keygen"}
# Kept at any depth: links and embedded viewers (attachments), images and table structure (data
# tables are read row by row). They rarely nest; if they do past the limit, TooDeep is raised.
_KEEP = {"a", "iframe", "embed", "object", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption"}
_BLOCK = {
    "p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "pre",
    "center", "dl", "dt", "dd", "form", "header", "footer", "table", "tr", "td", "th", "main", "aside", "nav",
    "figure", "figcaption", "caption", "address", "tbody", "thead", "tfoot",
}


def html_tree(text: str, *, url: str, source: str | None = None) -> tuple[Selector, tuple[str, ...]]:
    """A parsel Selector over ``text`` and the notes taken (a flattened page says so).

    Example:
        >>> deep = "<div id='a'>" + "<div>" * 3000 + "正文" + "</div>" * 3000 + "</div><p>尾</p>"
        >>> sel, notes = html_tree(deep, url="u")
        >>> "".join(sel.css("#a ::text").getall()), sel.css("p::text").get(), notes[0][:30]
        ('正文', '尾', 'markup nested 3001 levels deep')
    """
    root, too_deep = _parse(text, url)
    if not too_deep:
        return Selector(root=root, type="html", base_url=url), ()
    limit = _limit(too_deep)
    flat, depth = flatten(text, FLATTEN_DEPTH)
    root, still_too_deep = _parse(flat, url)
    if still_too_deep:
        raise TooDeep(url, depth, limit, source=source)
    note = (f"markup nested {depth} levels deep (the HTML parser stops at {limit}): "
            f"tags below level {FLATTEN_DEPTH} were flattened, their text kept")
    return Selector(root=root, type="html", base_url=url), (note,)


def css_elements(root: etree._Element, css: str) -> list[etree._Element]:
    """The elements ``css`` selects under (and including) ``root``, in document order: what
    ``Selector(root=root).css(css)`` selects, without building a Selector per node. For element
    selectors only (no ``::text`` / ``::attr()``).

    Example:
        >>> root = html.fromstring("<div><p class='a b'>1</p><p class='b'>2</p></div>")
        >>> [p.text for p in css_elements(root, "p.b")], css_elements(root, "div")[0] is root
        (['1', '2'], True)
    """
    return _css_xpath(css)(root)


@lru_cache(maxsize=512)
def _css_xpath(css: str) -> etree.XPath:
    """The compiled XPath of a CSS selector, as parsel translates it for HTML."""
    return etree.XPath(_TRANSLATOR.css_to_xpath(css), smart_strings=False)


_TRANSLATOR = HTMLTranslator()


def flatten(text: str, max_depth: int) -> tuple[str, int]:
    """``text`` with start/end tags nested deeper than ``max_depth`` removed (block tags become
    ``<br>``), and the deepest nesting seen. Text, comments, scripts, links and table structure
    are kept as they are.

    Nesting is counted as written: an end tag closes the nearest open element of its name and
    every element opened after it; a stray end tag is left to the parser.

    Example:
        >>> flatten("<div><div><span><p>a</p></span></div>b</div>", 2)
        ('<div><div><br>a<br></div>b</div>', 4)
    """
    out: list[str] = []
    stack: list[tuple[str, bool]] = []  # (tag name, kept)
    where: dict[str, list[int]] = {}  # tag name -> its indices in stack
    deepest, depth, pos = 0, 0, 0  # depth: kept elements open
    for m in _TOKEN.finditer(text):
        out.append(text[pos:m.start()])
        pos = m.end()
        token, name = m.group(0), m.group(2)
        if name is None:  # comment, script, style
            out.append(token)
            continue
        name = name.lower()
        if token.startswith("</"):
            open_at = where.get(name)
            if not open_at:
                out.append(token)
                continue
            i = open_at[-1]
            kept = stack[i][1]
            for closed, was_kept in stack[i:]:
                where[closed].pop()
                depth -= was_kept
            del stack[i:]
            out.append(token if kept else ("<br>" if name in _BLOCK else ""))
            continue
        if name in _VOID or token.endswith("/>"):
            out.append(token)
            continue
        kept = depth < max_depth or name in _KEEP
        where.setdefault(name, []).append(len(stack))
        stack.append((name, kept))
        depth += kept
        deepest = max(deepest, len(stack))
        out.append(token if kept else ("<br>" if name in _BLOCK else ""))
    out.append(text[pos:])
    return "".join(out), deepest


def _parse(text: str, url: str) -> tuple[etree._Element, str | None]:
    """The lxml root as parsel builds it (recover, huge_tree) and the depth error, if the parser gave up."""
    body = text.strip().replace("\x00", "").encode("utf-8") or b"<html/>"
    parser = html.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    root = etree.fromstring(body, parser=parser, base_url=url)
    if root is None:
        root = etree.fromstring(b"<html/>", parser=parser, base_url=url)
    error = next((e.message for e in parser.error_log if _DEPTH_ERROR in e.message.lower()), None)
    return root, error


def _limit(message: str | None) -> int:
    """The parser's depth limit from its message ("Excessive depth in document: 2048, use …")."""
    m = re.search(r"(\d+)", message or "")
    return int(m.group(1)) if m else 0


__all__ = ["FLATTEN_DEPTH", "css_elements", "flatten", "html_tree"]
