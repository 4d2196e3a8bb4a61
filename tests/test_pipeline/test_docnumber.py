"""pipeline.core.docnumber: printed document numbers -> canonical keys, table-driven plus properties."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.docnumber import (
    ISSUERS,
    agency_code,
    agency_slug,
    find_doc_numbers,
    issuer_slugs,
    meti_press_key,
    meti_press_number,
    parse_citation_list,
    parse_doc_number,
)

CASES = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "tagging" / "docnumbers.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES["parse"].values(), ids=list(CASES["parse"]))
def test_parse_doc_number(case: dict) -> None:
    number = parse_doc_number(case["text"])
    assert (number.key if number else None) == case["key"]
    if "printed" in case:
        assert number is not None and number.text == case["printed"]


@pytest.mark.parametrize("case", CASES["lists"].values(), ids=list(CASES["lists"]))
def test_parse_citation_list(case: dict) -> None:
    default = tuple(case["default_issuers"]) if case.get("default_issuers") else None
    assert [d.key for d in parse_citation_list(case["text"], default)] == case["keys"]


@pytest.mark.parametrize("case", CASES["meti"].values(), ids=list(CASES["meti"]))
def test_meti_press_key(case: dict) -> None:
    assert meti_press_key(case["url"]) == case["key"]


def test_meti_release_without_id_uses_date() -> None:
    number = meti_press_number("https://www.meti.go.jp/press/2025/10/x.html", published=date(2025, 10, 9))
    assert number is not None and number.key == "meti:press:20251009"
    assert meti_press_number(None) is None


def test_find_doc_numbers_spans_and_printed_items() -> None:
    text = "暂停实施商务部 海关总署公告2025年第55号、56号和商务部公告2025年第61号。"
    found = find_doc_numbers(text)
    assert [(m.key, m.text) for m in found] == [
        ("mofcom+gacc:2025:55", "商务部 海关总署公告2025年第55号"),
        ("mofcom+gacc:2025:56", "56号"),
        ("mofcom:2025:61", "商务部公告2025年第61号"),
    ]
    assert all(text[m.start : m.end] == m.text for m in found)


def test_issuerless_citation_is_reported_without_key() -> None:
    (match,) = find_doc_numbers("依据2024年第46号公告")
    assert match.key is None
    assert (match.doc_number.year, match.doc_number.number) == (2024, "46")


def test_default_issuers_do_not_override_printed_ones() -> None:
    keys = [d.key for d in parse_citation_list("海关总署公告2025年第9号及2024年第46号公告", ("mofcom",))]
    assert keys == ["gacc:2025:9", "gacc:2024:46"]
    keys = [d.key for d in parse_citation_list("海关总署公告2025年第9号。另见2024年第46号公告", ("mofcom",))]
    assert keys == ["gacc:2025:9", "mofcom:2024:46"]


def test_issuer_and_agency_tables() -> None:
    assert issuer_slugs("工业和信息化部\u3000国家发展改革委、自然资源部") == ("miit", "ndrc", "mnr")
    assert issuer_slugs("中华人民共和国国务院") == ("state-council",)
    assert agency_slug("工信部原") == "miit"
    assert agency_slug("国办发") == "state-council-general-office"
    assert agency_slug("某某") is None


# --- properties: (issuers, year, number) printed every way parse back to the same key ------------

_CN_NAMES: dict[str, list[str]] = {}
for _name, _slug in ISSUERS.items():
    if _name.isascii() or _name.endswith("省"):
        continue
    _CN_NAMES.setdefault(_slug, []).append(_name)
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@st.composite
def _issuers(draw: st.DrawFn) -> tuple[tuple[str, ...], list[str]]:
    slugs = draw(st.lists(st.sampled_from(sorted(_CN_NAMES)), min_size=1, max_size=3, unique=True))
    names = [draw(st.sampled_from(_CN_NAMES[s])) for s in slugs]
    return tuple(slugs), names


@settings(max_examples=200, deadline=None)
@given(
    issuers=_issuers(),
    sep=st.sampled_from([" ", "\u3000", "、", "", "  "]),
    year=st.integers(1990, 2040),
    number=st.integers(1, 999),
    form=st.sampled_from(["{y}年第{n}号", "{y}第{n}号", "{y}年第{n}", "{y}年 第 {n} 号", "{y}年第{n:03d}号"]),
    kind=st.sampled_from(["公告", "通告"]),
    wide=st.booleans(),
    prc=st.booleans(),
)
def test_year_numbers_round_trip(issuers, sep, year, number, form, kind, wide, prc) -> None:
    slugs, names = issuers
    text = ("中华人民共和国" if prc else "") + sep.join(names) + kind + form.format(y=year, n=number)
    if wide:
        text = text.translate(_FULLWIDTH)
    parsed = parse_doc_number(f"标题：{text}。")
    assert parsed is not None, text
    assert parsed.key == f"{'+'.join(slugs)}:{year}:{number}"
    assert parsed.text == text


@settings(max_examples=100, deadline=None)
@given(
    issuers=_issuers(),
    sep=st.sampled_from([" ", "\u3000", "、", ""]),
    number=st.integers(1, 9999),
    form=st.sampled_from(["令第{n}号", "令 第{n}号", "令第 {n} 号"]),
    wide=st.booleans(),
)
def test_order_numbers_round_trip(issuers, sep, number, form, wide) -> None:
    slugs, names = issuers
    text = sep.join(names) + form.format(n=number)
    if wide:
        text = text.translate(_FULLWIDTH)
    parsed = parse_doc_number(text)
    assert parsed is not None and parsed.key == f"{'+'.join(slugs)}:order:{number}", text


@settings(max_examples=100, deadline=None)
@given(
    code=st.sampled_from(["国发", "国办发", "工信部原", "工信厅联", "商贸发", "署税发", "发改外资", "财关税"]),
    brackets=st.sampled_from(["〔〕", "[]", "［］", "()", "（）"]),
    year=st.integers(1990, 2040),
    number=st.integers(1, 999),
    lead=st.sampled_from(["（", "根据", "经商务部", "印发"]),
)
def test_bracket_numbers_round_trip(code, brackets, year, number, lead) -> None:
    text = f"{code}{brackets[0]}{year}{brackets[1]}{number}号"
    parsed = parse_doc_number(f"{lead}{text}）")
    assert parsed is not None and parsed.key == f"{agency_slug(code)}:{code}:{year}:{number}", text
    assert (parsed.text, parsed.code) == (text, code)


@settings(max_examples=100, deadline=None)
@given(
    issuers=_issuers(),
    year=st.integers(1990, 2040),
    numbers=st.lists(st.integers(1, 300), min_size=1, max_size=5, unique=True),
    sep=st.sampled_from(["、", "，", "和", "及"]),
)
def test_compressed_lists_expand(issuers, year, numbers, sep) -> None:
    slugs, names = issuers
    head, *rest = numbers
    text = " ".join(names) + f"公告{year}年第{head}号" + "".join(f"{sep}{n}号" for n in rest)
    assert [d.key for d in parse_citation_list(text)] == [f"{'+'.join(slugs)}:{year}:{n}" for n in numbers]


_NOISE = st.text(alphabet=list("0123456789０５年月日第号、，。自起至商务部海关总署公告令国发〔〕[]()-./: \u3000\n一二十〇"), max_size=120)


@settings(max_examples=200, deadline=None)
@given(text=_NOISE)
def test_arbitrary_text_never_raises_and_spans_are_exact(text: str) -> None:
    for m in find_doc_numbers(text, default_issuers=("mofcom",)):
        assert text[m.start : m.end] == m.text
        assert m.doc_number.number.replace("-", "").isdigit()


def test_long_runs_of_issuer_names_stay_fast() -> None:
    import time

    started = time.perf_counter()
    find_doc_numbers("自" + "商务部 " * 5000 + "x")
    find_doc_numbers("商务部公告2025年第" + "55号、" * 3000)
    assert time.perf_counter() - started < 2.0


# --- agency-code keys (DOMAIN.md B.2, issue 8) -------------------------------------------------


def test_each_agency_code_is_its_own_series() -> None:
    """Same year and number, three series: three documents, never merged."""
    from pipeline.extract import extract_text

    url = "https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2026/art_{}.html"
    heads = {"工信部原〔2026〕9号": "miit:工信部原:2026:9", "工信部科〔2026〕9号": "miit:工信部科:2026:9",
             "工业和信息化部公告2026年第9号": "miit:2026:9"}
    keys = [extract_text(f"{head}\n关于开展试点工作的通知\n本通知自印发之日起施行。", source="miit",
                         url=url.format(i), published=date(2026, 3, 2)).doc_key
            for i, head in enumerate(heads)]
    assert keys == list(heads.values())


def test_agency_code_keys_round_trip_through_stored_records() -> None:
    from pipeline.extract import extract_text
    from pipeline.core.records import record_from_json

    record = extract_text("工信厅原函〔2026〕58号\n关于公布名单的通知\n现予公布。", source="miit",
                          url="https://www.miit.gov.cn/a.html", published=date(2026, 4, 1))
    again = record_from_json(record.to_json())
    assert again.doc_key == record.doc_key == "miit-general-office:工信厅原函:2026:58"
    assert (again.doc_number.code, again.doc_number.year, again.doc_number.number, again.issuers) == (
        "工信厅原函", 2026, "58", ("miit-general-office",))


def test_alert_routing_reads_the_issuer_of_agency_code_keys() -> None:
    from alerts.routing import issuers

    assert issuers("miit-general-office:工信厅原函:2026:58") == ("miit-general-office",)
    assert issuers("state-council:国发:2024:5") == ("state-council",)


def test_agency_code_is_nfkc_and_taken_as_printed() -> None:
    # a compatibility ideograph (U+F9F4 林 → U+6797) is folded; an unknown tail after a known prefix stays
    (match,) = find_doc_numbers("工信部\uf9f4〔2027〕3号")
    assert match.key == "miit:工信部林:2027:3"
    assert agency_code("某某发") is None
