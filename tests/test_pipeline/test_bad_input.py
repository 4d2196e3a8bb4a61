"""Bad input to the extractor: a clear PageError or an empty result with a warning, never a crash."""

from __future__ import annotations

import os

import pytest

from crawlers.errors import EmptyPage, NotHtml, PageError
from pipeline.extract import extract_page

URL = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_0123456789abcdef0123456789abcdef.html"
BODY = '<html><body><div class="art-con art-con-bottonmLine">{}</div></body></html>'


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        (b"", EmptyPage, "empty body"),
        (b"  \n\t ", EmptyPage, "empty body"),
        (os.urandom(4096).replace(b"<", b"x"), NotHtml, "binary"),
        (b"%PDF-1.7\n...", NotHtml, "binary"),
        (b"PK\x03\x04 zipped office file", NotHtml, "binary"),
    ],
    ids=["empty", "whitespace", "random-bytes", "pdf", "zip"],
)
def test_unreadable_bodies_raise_a_named_error(body: bytes, error: type[PageError], words: str) -> None:
    with pytest.raises(error) as err:
        extract_page(body, source="mofcom", url=URL)
    assert words in str(err.value)
    assert URL in str(err.value)  # the message names where


def test_deeply_nested_markup_is_read_without_losing_text() -> None:
    # libxml2 stops at 2048 levels (huge_tree) and silently drops the rest: this page used to read as empty.
    body = BODY.format("<div>" * 5000 + "商务部公告2031年第9号<p>一、对1C902.a实施管制。</p>本公告自2031年3月1日起施行。"
                       + "</div>" * 5000).encode()
    record = extract_page(body, source="mofcom", url=URL)
    assert record.text == "商务部公告2031年第9号\n一、对1C902.a实施管制。\n本公告自2031年3月1日起施行。"
    assert record.doc_key == "mofcom:2031:9" and [c.code for c in record.codes] == ["1C902.a"]
    assert record.effective is not None and record.effective.isoformat() == "2031-03-01"
    assert any("levels deep" in w and "text kept" in w for w in record.warnings)


def test_unclosed_inline_tags_nesting_thousands_deep_keep_every_paragraph() -> None:
    body = BODY.format("<font><p>一、段落。" * 4000 + "<p>本公告自2031年3月1日起施行。").encode()
    record = extract_page(body, source="mofcom", url=URL)
    lines = record.text.split("\n")
    assert lines.count("一、段落。") == 4000 and lines[-1] == "本公告自2031年3月1日起施行。"


def test_empty_article_container_is_refused() -> None:
    from crawlers.errors import EmptyArticle

    with pytest.raises(EmptyArticle) as err:
        extract_page(BODY.format("<p>\u3000</p>").encode(), source="mofcom", url=URL)
    assert URL in str(err.value)
    record = extract_page(BODY.format("<p>\u3000</p>").encode(), source="mofcom", url=URL, allow_empty=True)
    assert record.text == "" and any("body holds no text" in w for w in record.warnings)


@pytest.mark.parametrize("stray", [b"\xff", b"\x80\xfe", b"\xc3\xff\xfe"], ids=["1", "2", "3"])
def test_a_few_invalid_bytes_still_make_the_right_record(stray: bytes) -> None:
    good = BODY.format("<p>商务部公告2031年第8号</p><p>一、对1C902.a实施管制。</p><p>本公告自2031年4月1日起施行。</p>")
    body = good.encode().replace("实施管制".encode(), stray + "实施管制".encode())
    record = extract_page(body, source="mofcom", url=URL)
    assert record.doc_key == "mofcom:2031:8" and [c.code for c in record.codes] == ["1C902.a"]
    assert record.effective is not None and record.effective.isoformat() == "2031-04-01"
    assert record.text.count("\ufffd") == len(stray)
    assert any(f"{len(stray)} invalid byte(s)" in w for w in record.warnings)


def test_a_fully_garbage_body_fails_clearly() -> None:
    from crawlers.errors import UndecodableBody

    garbage = bytes((i * 97 + 131) % 128 + 128 for i in range(3000))
    with pytest.raises(UndecodableBody) as err:
        extract_page(BODY.format("").encode().replace(b"</div>", garbage + b"</div>"), source="mofcom", url=URL)
    assert URL in str(err.value) and "invalid bytes" in str(err.value)


def test_malformed_html_still_reads_what_is_there() -> None:
    body = ('<html><head><title>x</title><body></span><div class="art-con art-con-bottonmLine"><p>商务部公告2031年第7号'
            "<p>一、对1C902.a实施管制<p>二、本公告自2031年3月1日起施行").encode()
    record = extract_page(body, source="mofcom", url=URL)
    assert record.doc_key == "mofcom:2031:7"
    assert [c.code for c in record.codes] == ["1C902.a"]
    assert record.effective is not None and record.effective.isoformat() == "2031-03-01"


def test_large_page_is_read_completely() -> None:
    para = "<p>一、对1C902.a实施管制。</p>" * 20000  # ~0.6 MB
    record = extract_page(BODY.format(para + "<p>本公告自2031年3月1日起施行。</p>").encode(), source="mofcom", url=URL)
    assert [c.code for c in record.codes] == ["1C902.a"]
    assert record.effective is not None and record.effective.isoformat() == "2031-03-01"


def test_a_body_over_the_tagging_bound_is_tagged_on_its_head_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading time is bounded: past MAX_TAGGED_CHARS nothing more is tagged (a 20 MB page would
    otherwise take minutes); the record says so and keeps the whole text."""
    import pipeline.extract

    monkeypatch.setattr(pipeline.extract, "MAX_TAGGED_CHARS", 2000)
    head = "<p>一、对1C902.a实施管制。</p>" * 200  # 3,000 characters
    tail = "<p>二、对3A001.b实施管制。</p>" * 200 + "<p>本公告自2031年3月1日起施行。</p>"
    record = extract_page(BODY.format(head + tail).encode(), source="mofcom", url=URL)
    assert [c.code for c in record.codes] == ["1C902.a"] and record.effective is None
    assert record.warnings[-1] == (f"mofcom: {URL}: the body is longer than 2,000 characters; codes, dates and "
                                   "relations were read from its first 2,000 only (the whole text is kept)")
    assert record.text.endswith("本公告自2031年3月1日起施行。")


def test_gbk_bytes_without_any_charset_declaration() -> None:
    body = BODY.format("<p>商务部公告2031年第8号</p><p>本公告自2031年4月1日起施行。</p>").encode("gbk")
    record = extract_page(body, source="mofcom", url=URL, headers={"Content-Type": "text/html"})
    assert record.doc_key == "mofcom:2031:8"
    assert record.effective is not None and record.effective.isoformat() == "2031-04-01"


def test_a_page_about_an_announcement_does_not_take_its_number() -> None:
    from pipeline.extract import extract_text

    about = extract_text("正文。", source="mofcom", url=URL, published=None, title="商务部公告2031年第61号政策解读")
    own = extract_text("正文。", source="mofcom", url=URL, published=None,
                       title="商务部公告2031年第61号 关于对部分物项实施出口管制的公告")
    assert (about.doc_key, own.doc_key) == (None, "mofcom:2031:61")


def test_english_copy_gets_the_key_of_the_chinese_original() -> None:
    from pipeline.extract import extract_text

    record = extract_text("Announcement text.", source="mofcom", url="https://english.mofcom.gov.cn/x.html",
                          published=None, language="en", title="MOFCOM and GACC Announcement No. 56 of 2031 on ...")
    assert record.doc_key == "mofcom+gacc:2031:56"


def test_order_number_printed_over_two_lines() -> None:
    from pipeline.extract import extract_text

    record = extract_text("工业和信息化部 国家发展改革委 自然资源部令\n第79号\n本办法自公布之日起施行。\n部长 某某\n2031年7月28日",
                          source="miit", url=URL, published=None)
    assert record.doc_key == "miit+ndrc+mnr:order:79"
    assert record.effective is not None and record.effective.isoformat() == "2031-07-28"


def test_interpretation_page_has_no_dates_or_relations_of_its_own() -> None:
    from pipeline.extract import extract_text

    record = extract_text("《办法》自2031年3月1日起施行，暂停实施商务部公告2030年第5号至2031年12月31日。",
                          source="mofcom", url=URL, published=None, title="《两用物项出口管理办法》政策解读")
    assert (record.doc_key, record.effective, record.relations) == (None, None, ())
