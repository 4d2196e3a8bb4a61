"""Page classes for MIIT, gov.cn and METI against authored fixture captures (one test per expected field).

Each case is ``tests/fixtures/pages/<source>/<PageClass>/<case>/`` holding ``body.*`` (the raw
bytes as served), ``meta.json`` (url, headers, status, fetched_at) and ``expected.json``: either
ParsedPage fields, a list of listing entries, or ``{"error": "<PageError subclass>",
"message_contains": [...]}``. Body text is checked through ``body_first_line``,
``body_last_line``, ``body_contains`` and ``body_excludes`` so the cases stay readable.
"""

from __future__ import annotations

import doctest
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from crawlers import errors
from crawlers.pages import feeds, govcn, meti, miit
from crawlers.pages.base import ListingEntry, ParsedPage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
SOURCES = ("miit", "govcn", "meti")
PAGE_CLASSES = {
    cls.__name__: cls
    for cls in (
        miit.MiitNoticePage, miit.MiitListFragment,
        govcn.GovcnPolicyPage, govcn.GovcnListPage, feeds.GovcnJsonFeed,
        meti.MetiPressPage, meti.MetiPressIndexPage, meti.MetiArchivePage, feeds.MetiAtomFeed,
    )
}
ERRORS = {name: getattr(errors, name, None) or getattr(feeds, name) for name in (
    "PageError", "ChallengePage", "EmptyPage", "LayoutChanged", "NotHtml", "UndecodableBody", "MalformedFeed")}


def case_dirs() -> list[Path]:
    return sorted(p.parent for source in SOURCES for p in (FIXTURES / source).glob("*/*/expected.json"))


def load_page(case: Path) -> Any:
    """The page object for one fixture directory (class = the parent directory's name)."""
    meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    body_file = next(case.glob("body.*"))
    return PAGE_CLASSES[case.parent.name](meta["url"], body_file.read_bytes(), meta.get("headers") or {},
                                          status=meta.get("status", 200))


def load_expected(case: Path) -> Any:
    return json.loads((case / "expected.json").read_text(encoding="utf-8"))


@cache
def run_case(case: Path) -> ParsedPage | list[ListingEntry] | errors.PageError:
    page = load_page(case)
    try:
        return page.parse() if hasattr(page, "parse") else page.entries()
    except errors.PageError as exc:
        return exc


def _params() -> list[Any]:
    out = []
    for case in case_dirs():
        expected = load_expected(case)
        keys = ["error"] if isinstance(expected, dict) and "error" in expected else (
            ["count", *(f"entry{i}" for i in range(len(expected)))] if isinstance(expected, list) else list(expected))
        out += [pytest.param(case, key, id=f"{case.relative_to(FIXTURES).as_posix().replace('/', '-')}-{key}")
                for key in keys]
    return out


DETAIL_CLASSES = {"MiitNoticePage": "miit", "GovcnPolicyPage": "govcn", "MetiPressPage": "meti"}


@pytest.mark.parametrize(("page_class", "source"), DETAIL_CLASSES.items())
def test_at_least_four_parsed_detail_cases(page_class: str, source: str) -> None:
    parsed = [c for c in (FIXTURES / source / page_class).iterdir() if "error" not in load_expected(c)]
    assert len(parsed) >= 4


@pytest.mark.parametrize(("case", "key"), _params())
def test_field(case: Path, key: str) -> None:
    expected = load_expected(case)
    result = run_case(case)
    if key == "error":
        assert type(result).__name__ == expected["error"], f"expected {expected['error']}, got {result!r}"
        assert isinstance(result, ERRORS[expected["error"]])
        for fragment in expected.get("message_contains", []):
            assert fragment in str(result)
        return
    assert not isinstance(result, errors.PageError), f"unexpected error: {result}"
    if isinstance(expected, list):
        if key == "count":
            assert len(result) == len(expected)
        else:
            i = int(key.removeprefix("entry"))
            assert {"url": result[i].url, "title": result[i].title, "date_text": result[i].date_text} == expected[i]
        return
    lines = result.body_text.split("\n")
    want = expected[key]
    if key == "encoding":  # the charset the body actually decoded with (mislabeled / legacy pages)
        assert load_page(case).encoding == want
    elif key == "body_first_line":
        assert lines[0] == want
    elif key == "body_last_line":
        assert lines[-1] == want
    elif key == "body_contains":
        assert [s for s in want if s not in result.body_text] == []
    elif key == "body_excludes":
        assert [s for s in want if s in result.body_text] == []
    elif key == "attachments":
        assert [{"url": a.url, "title": a.title} for a in result.attachments] == want
    elif key in ("meta", "warnings"):
        assert (dict(result.meta) if key == "meta" else list(result.warnings)) == want
    else:
        assert getattr(result, key) == want


@pytest.mark.parametrize("module", [miit, govcn, meti, feeds], ids=lambda m: m.__name__)
def test_docstring_examples(module: Any) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_miit_list_fragment_reports_column_count() -> None:
    case = FIXTURES / "miit" / "MiitListFragment" / "tz-api-json"
    assert load_page(case).count == 1186
    assert load_page(FIXTURES / "miit" / "MiitListFragment" / "wjgs-result-wrapper").count is None


@pytest.mark.parametrize(("cinfo", "issuer"), [
    ("发布时间：2025-03-18 16:00 来源：原材料工业司", "原材料工业司"),
    ("来源： 发布时间：2025-03-18 16:00", None),
])
def test_miit_issuer_never_takes_the_next_label(cinfo: str, issuer: str | None) -> None:
    html = f'<div class="cinfo">{cinfo}</div><div id="con_con"><p>正文</p></div>'
    page = miit.MiitNoticePage("https://www.miit.gov.cn/a/art/2025/art_1.html", html.encode()).parse()
    assert page.issuer_text == issuer


def test_govcn_table_labels_without_bold_are_read() -> None:
    html = ('<table class="bd1"><tr><td>发文字号：</td><td>国发〔2024〕5号</td><td>成文日期：</td><td>2024年03月01日</td>'
            '</tr></table><div id="UCAP-CONTENT"><p>正文</p></div>')
    page = govcn.GovcnPolicyPage("https://www.gov.cn/zhengce/content/202403/content_1.htm", html.encode()).parse()
    assert (page.doc_number_text, page.signed_text) == ("国发〔2024〕5号", "2024年03月01日")


# ---------------------------------------------------------------- shared text helpers and base checks

def _text_of(html: str) -> str:
    from parsel import Selector

    from crawlers.pages.text import block_text
    return block_text(Selector(text=f"<div id='r'>{html}</div>").css("#r")[0])


def test_rowspan_cells_repeat_on_every_row_they_cover() -> None:
    html = ("<table><tr><th>序号</th><th>管制编码</th><th>物项</th><th>海关商品编号</th></tr>"
            "<tr><td rowspan='2'>1</td><td rowspan='2'>1C902.a</td><td>氧化钐</td><td>2846.90.19</td></tr>"
            "<tr><td>金属钐</td><td>2805.30.21</td></tr>"
            "<tr><td colspan='2'>2</td><td>钆</td><td>2846.90.28</td></tr></table>")
    assert _text_of(html).split("\n") == [
        "序号\t管制编码\t物项\t海关商品编号", "1\t1C902.a\t氧化钐\t2846.90.19", "1\t1C902.a\t金属钐\t2805.30.21",
        "2\t钆\t2846.90.28"]


def test_layout_tables_read_as_blocks_and_nested_rows_are_not_repeated() -> None:
    html = ("<table><tr><td><p>商务部公告</p><p>第一段。</p>"
            "<table><tr><td>1C902</td><td>钐</td></tr></table><p>第二段。</p></td></tr></table>")
    assert _text_of(html).split("\n") == ["商务部公告", "第一段。", "1C902\t钐", "第二段。"]


def test_viewer_iframes_count_as_attachments() -> None:
    from parsel import Selector

    from crawlers.pages.text import attachment_links
    sel = Selector(text='<div><iframe src="/cms_files/demo/pdfjs/web/viewer.html?file=%2Fcms_files%2Fa%2Fb.pdf">'
                        '</iframe></div>')
    links = attachment_links([sel], base_url="https://www.miit.gov.cn/x/art/2025/art_1.html")
    assert [link.url for link in links] == ["https://www.miit.gov.cn/cms_files/a/b.pdf"]


@pytest.mark.parametrize(("html", "challenge"), [
    ("<html><head><title>访问验证</title></head><body><p>请稍候…</p></body></html>", True),
    ("<html><body><script>document.title='安全验证';</script></body></html>", True),
    ("<html><body><p>请开启JavaScript后刷新页面</p></body></html>", True),
    ("<html><head><title>访问验证 - 中华人民共和国商务部</title></head><body>" + "x" * 900 + "</body></html>", True),
    ("<html><head><title>工业和信息化部关于开展网络产品安全验证试点工作的通知</title></head><body><div>"
     + "各有关单位：为做好安全验证工作，现将有关事项通知如下。" * 40 + "</div></body></html>", False),
    ("<html><head><title>通知</title></head><body><noscript>Please enable JavaScript</noscript><div>"
     + "各单位应当做好产品安全验证和出口管制合规工作。" * 60 + "</div></body></html>", False),
])
def test_challenge_words_need_title_script_or_a_short_page(html: str, challenge: bool) -> None:
    from crawlers.pages.base import looks_like_challenge
    assert looks_like_challenge(html) is challenge


def test_moved_names_stay_importable_from_their_old_modules() -> None:
    from crawlers.pages import hanweb, text
    assert hanweb.PageRedirect is errors.PageRedirect
    assert feeds.MalformedFeed is errors.MalformedFeed
    assert (hanweb.block_text, hanweb.clean_title, hanweb.attachment_links) == (
        text.block_text, text.clean_title, text.attachment_links)
