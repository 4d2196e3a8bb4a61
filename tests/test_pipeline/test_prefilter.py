"""The extraction speed-ups find exactly what the plain algorithms find.

``pipeline.core.prefilter`` skips a regex on text that lacks every character the regex needs: on
random and hostile texts (drawn from the characters the tagger tables use, plus look-alikes and
case variants) the rows a ``Prefilter`` keeps give the same matches as running every row, and
``required_chars`` is never wrong about a match. ``find_dates`` (first-character lookahead) and
``sentence_bounds`` (dot-first full-stop regex) are compared with the patterns they replaced.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core import dates as core_dates
from pipeline.core import docnumber
from pipeline.core.normalize import match_text
from pipeline.core.prefilter import Prefilter, may_match, required_chars
from pipeline.core.tagging import dates as tagging_dates
from pipeline.core.tagging import relations, rules

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
TABLES = {
    "date phrases": [pattern for _, pattern in tagging_dates._COMPILED],
    "relation rules": [rule.compiled for rule in relations.RULES],
    "relation scopes": list(relations._SCOPE_TABLE.rows),
    "citations": [docnumber._BRACKET, docnumber._ORDER, docnumber._CODE_ORDER, docnumber._HEAD, relations._JA_CITATION],
}
ALL_PATTERNS = [p for table in TABLES.values() for p in table]


def _table_chars() -> str:
    """Every literal character of the tables' patterns, with their case variants and Kelvin/long s."""
    chars = set("".join(p.pattern for p in ALL_PATTERNS))
    chars |= {c.upper() for c in chars} | {c.lower() for c in chars} | set("\u212a\u017f\u0131\u0130 \n。；;.")
    return "".join(sorted(c for c in chars if c.isprintable() or c == "\n"))


PIECES = ["\ue0000\ue001", "\ue0001\ue001", "2025年1月1日", "本公告", "自公布之日起施行", "暂停实施", "废止", "商务部公告",
          "2025年第3号", "令第71号", "国发〔2026〕3号", "Announcement No. 7 of 2031", "shall be repealed", "be lifted",
          "根据《出口管制法》，", "与…相衔接", "不适用于", "過渡期", "过渡期至", "有效期至", "延长至", "恢复实施"]
TEXTS = st.lists(st.one_of(st.text(alphabet=_table_chars(), max_size=12), st.sampled_from(PIECES)), max_size=14).map("".join)


def _matches(patterns, text):
    return [(i, m.span(), m.groups()) for i, p in enumerate(patterns) for m in p.finditer(text)]


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_prefilter_keeps_every_row_that_matches(text: str) -> None:
    for patterns in TABLES.values():
        table = Prefilter(patterns)
        kept = table.select(text)
        assert [p for p in patterns if p in kept] == list(kept)  # table order
        everything = _matches(patterns, text)
        assert [(patterns.index(p), s, g) for p in kept for (_, s, g) in _matches([p], text)] == everything
        for p in patterns:
            if p.search(text):
                assert may_match(required_chars(p), text), p.pattern


@pytest.mark.parametrize("pattern, text", [
    (r"(?i:k)", "\u212a"), (r"(?i:s)", "\u017f"), (r"(?i:i)", "\u0130"), (r"(?i:[a-z]+)", "\u212a"),
    (r"a|b", "b"), (r"(?:x)?号", "号"), (r"x{0}y", "y"), (r"[^a]", "b"), (r"\d", "٣"),
])
def test_required_chars_never_excludes_a_match(pattern: str, text: str) -> None:
    assert re.search(pattern, text)
    assert may_match(required_chars(pattern), text)


def test_required_chars_reads_table_rows() -> None:
    assert required_chars(r"自<<d>>起施行") == frozenset("自")  # first of the equally small sets
    assert required_chars(r"(?:暂停|中止)?(?:实施|执行)") == frozenset("实执")
    assert required_chars(r"(?i:\bresume\b)") is None
    assert required_chars(r"a{2,}") == frozenset("a") and required_chars(r"a*") is None


def _corpus_texts() -> list[str]:
    return [match_text(p.read_text(encoding="utf-8", errors="ignore")) for p in sorted(CORPUS.glob("*/input.*"))]


_OLD_FIND = re.compile("|".join(f"(?:{p})" for p in core_dates._FIND_PATTERNS))
_OLD_EN_STOP = re.compile(r"(?<=[A-Za-z0-9)\]\"”'])\.(?=[ ]+[\"“(]?[A-Z])")
DATE_TEXTS = st.lists(st.one_of(st.text(alphabet="0123456789０１２年月日号第-/.．－／ :：()（）RHSTM令和平成元十一二〇○"
                                         "JanuaryFebMayDecember, 日期时间Date", max_size=10),
                                 st.sampled_from(["2025年10月9日", "令和7年10月9日", "R7.10.9", "2025-10-09 18:00",
                                                  "日期：20251009", "January 9, 2026", "9 Jan. 2026", "㋿7年1月1日"])),
                      max_size=10).map("".join)


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], dict[str, str | None]]]:
    return [(m.span(), m.groupdict()) for m in pattern.finditer(text)]


@settings(max_examples=400, deadline=None)
@given(DATE_TEXTS)
def test_find_dates_lookahead_matches_the_plain_alternation(text: str) -> None:
    assert _spans(core_dates._FIND, text) == _spans(_OLD_FIND, text)


def test_find_dates_lookahead_on_the_corpus() -> None:
    for text in _corpus_texts():
        assert _spans(core_dates._FIND, text) == _spans(_OLD_FIND, text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="aZ9)]\"”'. “(No\n。Art", max_size=60), st.integers(0, 60), st.integers(0, 60))
def test_english_stop_regex_matches_the_lookbehind_first_one(text: str, floor: int, ceiling: int) -> None:
    assert [m.span() for m in rules._EN_STOP.finditer(text, floor, ceiling)] == \
        [m.span() for m in _OLD_EN_STOP.finditer(text, floor, ceiling)]


def test_english_stop_regex_on_the_corpus() -> None:
    for text in _corpus_texts():
        assert [m.span() for m in rules._EN_STOP.finditer(text)] == [m.span() for m in _OLD_EN_STOP.finditer(text)]
