"""Decoding and tree building that never turn a readable page into a misread one.

Observed 2026: a GBK page served as ``charset=ISO-8859-1`` read as Latin-1 mojibake; one stray
invalid byte made a whole page undecodable; a page nested 5000 deep read as an empty article.
"""

from __future__ import annotations

import doctest
import logging
import random
import re
from pathlib import Path

import pytest

from crawlers.errors import EmptyArticle, TooDeep, UndecodableBody
from crawlers.pages import encoding, tree
from crawlers.pages.encoding import decode_html, max_invalid, mojibake_share
from crawlers.pages.mofcom import MofcomNoticePage

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
GOOD = PAGES / "mofcom" / "MofcomNoticePage" / "2025-58-standard"
URL = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_1aeba4fb358b98298b62eda62106d2de.html"
LATIN1 = {"Content-Type": "text/html; charset=ISO-8859-1"}
CONTAINER = '<div class="art-con art-con-bottonmLine">'


def good_html() -> str:
    return (GOOD / "body.html").read_text(encoding="utf-8")


def gbk_page(*, meta: bool = True) -> bytes:
    html = good_html().replace('<meta charset="utf-8">', '<meta charset="gbk">' if meta else "")
    return html.encode("gbk")


def parse(body: bytes, headers: dict[str, str] | None = None, **kwargs: object):
    return MofcomNoticePage(URL, body, headers or {}, **kwargs).parse()  # type: ignore[arg-type]


# -- header charset contradicted by the page ------------------------------------------------------

@pytest.mark.parametrize("meta", [True, False], ids=["meta-gbk", "no-meta"])
def test_gbk_page_served_as_iso_8859_1_reads_as_chinese(meta: bool) -> None:
    page = MofcomNoticePage(URL, gbk_page(meta=meta), LATIN1)
    assert (page.encoding, page.decoding.origin) == ("gb18030", "meta" if meta else "sniffed")
    parsed = page.parse()
    assert parsed.doc_number_text == "商务部 海关总署公告2025年第58号"
    assert parsed.body_text == parse(good_html().encode()).body_text
    assert parsed.warnings == ()


def test_shift_jis_page_served_as_iso_8859_1_reads_as_japanese() -> None:
    body = (PAGES / "meti" / "MetiPressPage" / "old-archive-shift-jis" / "body.bin").read_bytes()
    decoded = decode_html(body, LATIN1, url=URL)
    assert decoded.encoding == "cp932"
    assert "レアアース総合対策" in decoded.text


def test_a_real_latin1_page_keeps_its_header_charset() -> None:
    text = "<html><body><p>" + "Société française, réglementation à l'exportation, décret n° 5 — «contrôle» " * 30
    decoded = decode_html((text + "</p></body></html>").encode("cp1252"), LATIN1, url=URL)
    assert (decoded.encoding, decoded.origin) == ("cp1252", "header")
    assert "réglementation à l'exportation" in decoded.text


def test_mojibake_share() -> None:
    chinese = "商务部 海关总署公告2025年第58号"
    assert mojibake_share(chinese) == 0.0
    assert mojibake_share(chinese.encode("gbk").decode("cp1252")) == 1.0
    assert mojibake_share(chinese.encode("utf-8").decode("cp1252", "replace")) == 1.0
    assert mojibake_share("Café déjà vu") == 0.0
    assert mojibake_share("正文\ufffd正文") == pytest.approx(1 / 5)
    assert mojibake_share("plain ascii") == 0.0


# -- a few invalid bytes ---------------------------------------------------------------------------

def _spoil(body: bytes, marker: bytes, junk: list[bytes]) -> tuple[bytes, list[int]]:
    """Insert each junk byte string right before successive occurrences of ``marker`` (the 2nd, 3rd, …)."""
    offsets, pos = [], body.index(marker)
    for piece in junk:
        pos = body.index(marker, pos + len(marker))
        body = body[:pos] + piece + body[pos:]
        offsets.append(pos)
        pos += len(piece)
    return body, offsets


@pytest.mark.parametrize("junk", [[b"\xff"], [b"\xff", b"\x80"], [b"\xc3", b"\xff", b"\xfe"]],
                         ids=["1-byte", "2-bytes", "3-bytes"])
def test_utf8_page_with_a_few_invalid_bytes_decodes_with_a_warning(junk: list[bytes], caplog) -> None:
    body, offsets = _spoil(good_html().encode(), "，".encode(), junk)
    caplog.set_level(logging.WARNING, logger="crawlers.pages.encoding")
    page = MofcomNoticePage(URL, body, {"Content-Type": "text/html"})
    parsed = page.parse()
    assert (page.encoding, list(page.decoding.invalid_offsets)) == ("utf-8", offsets)
    assert parsed.doc_number_text == "商务部 海关总署公告2025年第58号"
    assert parsed.body_text.count("\ufffd") == len(junk)
    assert parsed.body_text.replace("\ufffd", "") == parse(good_html().encode()).body_text
    [warning] = parsed.warnings
    assert f"{len(junk)} invalid byte(s) for utf-8" in warning and str(offsets[0]) in warning
    [logged] = [r.getMessage() for r in caplog.records]
    assert URL in logged and str(offsets[0]) in logged


def test_gbk_page_with_stray_bytes_decodes_with_a_warning() -> None:
    body, offsets = _spoil(gbk_page(), "，".encode("gbk"), [b"\x80", b"\xff"])
    page = MofcomNoticePage(URL, body, LATIN1)
    parsed = page.parse()
    assert (page.encoding, list(page.decoding.invalid_offsets)) == ("gb18030", offsets)
    assert "3A001 重量能量密度" in parsed.body_text.replace("\ufffd", "")
    assert any("2 invalid byte(s) for gb18030" in w for w in parsed.warnings)


def test_a_mostly_undecodable_body_still_fails_naming_the_url() -> None:
    rng = random.Random(7)
    garbage = bytes(rng.randrange(0x80, 0x100) for _ in range(4000))
    body = f"<html><body>{CONTAINER}".encode() + garbage + b"</div></body></html>"
    with pytest.raises(UndecodableBody) as err:
        parse(body)
    assert URL in str(err.value) and "invalid bytes" in str(err.value)


def test_invalid_byte_budget() -> None:
    assert max_invalid(b"<p>ascii</p>") == 3
    assert max_invalid("锂".encode() * 10_000) == 64
    body, _ = _spoil(good_html().encode(), "，".encode(), [b"\xff"] * 3)
    assert decode_html(body, {}, url=URL).encoding == "utf-8"
    many = ("<p>" + "出口管制，" * 500 + "</p>").encode().replace("，".encode(), b"\xff" + "，".encode())
    with pytest.raises(UndecodableBody):  # 500 broken commas: no longer "a few" invalid bytes
        decode_html(many, {}, url=URL)


# -- deep nesting ---------------------------------------------------------------------------------

def nested(depth: int) -> bytes:
    html = good_html()
    start = html.index(CONTAINER) + len(CONTAINER)
    end = html.index("</div>\n  <div class=\"art-print\">")
    return (html[:start] + "<div>" * depth + html[start:end] + "</div>" * depth + html[end:]).encode()


def test_page_nested_5000_deep_is_read_without_losing_text() -> None:
    parsed = parse(nested(5000))
    good = parse(good_html().encode())
    assert parsed.body_text == good.body_text
    assert (parsed.doc_number_text, parsed.published_text, parsed.attachments) == (
        good.doc_number_text, good.published_text, good.attachments)
    [note] = parsed.warnings
    depth = int(re.search(r"nested (\d+) levels deep", note).group(1))  # type: ignore[union-attr]
    assert 5000 < depth < 5020 and "text kept" in note


def test_flatten_keeps_text_and_line_breaks() -> None:
    flat, depth = tree.flatten("<div><p>一</p><div><div><span>二</span><p>三</p></div></div><!-- <div> --></div>", 2)
    assert depth == 4
    assert flat == "<div><p>一</p><div><br>二<br>三<br><br></div><!-- <div> --></div>"


def test_nesting_that_cannot_be_flattened_enough_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tree, "FLATTEN_DEPTH", 4000)  # above libxml2's 2048: flattening cannot help
    with pytest.raises(TooDeep) as err:
        parse(nested(5000))
    assert 5000 < err.value.depth < 5020 and err.value.limit == 2048
    assert URL in str(err.value) and f"{err.value.depth} levels deep" in str(err.value)


# -- empty article container -----------------------------------------------------------------------

def emptied() -> bytes:
    html = good_html()
    start = html.index(CONTAINER) + len(CONTAINER)
    end = html.index("</div>\n  <div class=\"art-print\">")
    return (html[:start] + "\n<p>　　</p>\n" + html[end:]).encode()


def test_empty_article_container_is_an_error_not_an_empty_page() -> None:
    with pytest.raises(EmptyArticle) as err:
        parse(emptied())
    assert err.value.selector == "div.art-con.art-con-bottonmLine"
    assert URL in str(err.value) and "--accept" in str(err.value)


def test_empty_article_container_is_read_when_a_person_accepted_it() -> None:
    parsed = parse(emptied(), allow_empty=True)
    assert parsed.body_text == "" and parsed.doc_number_text == "商务部 海关总署公告2025年第58号"


def test_article_with_only_an_attachment_is_not_empty() -> None:
    html = emptied().decode().replace("<p>　　</p>", '<p><a href="/cms_files/a.pdf"></a></p>')
    assert [a.url for a in parse(html.encode()).attachments] == ["https://www.mofcom.gov.cn/cms_files/a.pdf"]


@pytest.mark.parametrize("module", [encoding, tree], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.failed == 0 and result.attempted > 0
