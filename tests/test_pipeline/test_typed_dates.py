"""pipeline.core.tagging.dates (typed legal dates) and pipeline.core.tagging.rules helpers."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from pipeline.core.normalize import match_text
from pipeline.core.tagging.dates import PHRASES, extract_dates
from pipeline.core.tagging.rules import Rule, canonical_clause, clause_at, clause_refs, sentence_at

CASES = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "tagging" / "dates.yaml").read_text(encoding="utf-8"))
TYPED = CASES["typed"]


@pytest.mark.parametrize("case", TYPED.values(), ids=list(TYPED))
def test_extract_dates(case: dict) -> None:
    published = date.fromisoformat(case["published"]) if case["published"] else None
    events = extract_dates(case["text"], published=published)
    assert [[e.type, e.date.isoformat(), e.clause] for e in events] == case["expected"]
    squeeze = "".join(match_text(case["text"]).split())
    for event in events:
        # Evidence is the sentence in matching form (a label line is joined to its date line).
        assert event.evidence and "".join(event.evidence.split()) in squeeze


def test_evidence_is_the_sentence() -> None:
    text = "一、对下列物项实施出口管制。\n二、本公告自2025年12月1日起实施。\n三、其他。"
    (event,) = extract_dates(text, published=None)
    assert event.evidence == "二、本公告自2025年12月1日起实施。"


def test_phrase_table_names_are_unique_and_placeholders_known() -> None:
    names = [p.name for p in PHRASES]
    assert len(names) == len(set(names))
    for phrase in PHRASES:
        groups = set(re.findall(r"<<([a-z]+)>>", phrase.pattern))
        for _, source in phrase.events:
            assert source in groups | {"published", "this_effective", "this_signed"}, phrase.name


def test_rule_yields_values() -> None:
    rule = Rule(r"管制编码[:：]?(?P<code>\d[A-E]\d{3})", "code", "code")
    assert [value for _, value in rule.finditer("管制编码：1C902，管制编码2B902")] == ["1C902", "2B902"]
    assert rule.kind == "code"


@pytest.mark.parametrize(
    ("text", "pos", "expected"),
    [
        ("一、对下列物项实施出口管制。二、本公告自公布之日起实施。", 18, "二、本公告自公布之日起实施。"),
        ("甲；乙\n丙", 2, "乙"),
        ("没有标点", 1, "没有标点"),
        ("本措置は施行する。次に進む。", 3, "本措置は施行する。"),
    ],
)
def test_sentence_at(text: str, pos: int, expected: str) -> None:
    assert sentence_at(text, pos) == expected


CLAUSED = "一、管制物项如下：\n（一）稀土设备；\n（二）稀土原料。\n二、其他事项：1. 甲；2. 乙。\n第三条 本办法自公布之日起施行。\nArt. 4 Final"


@pytest.mark.parametrize(
    ("needle", "expected"),
    [("管制物项", "一"), ("稀土设备", "一(一)"), ("稀土原料", "一(二)"), ("其他事项", "二"), ("乙", "二2."), ("本办法", "第三条"), ("Final", "Art.4")],
)
def test_clause_at(needle: str, expected: str) -> None:
    assert clause_at(CLAUSED, CLAUSED.index(needle)) == expected


def test_clause_at_outside_any_clause() -> None:
    assert clause_at("商务部公告。", 3) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("本公告第一条第（一）项、第（二）项", ["一(一)", "一(二)"]),
        ("第一条第(三)项及其他条款", ["一(三)"]),
        ("第二款", ["第二款"]),
        ("第一条、第二条", ["第一条", "第二条"]),
        ("本公告", []),
    ],
)
def test_clause_refs(text: str, expected: list[str]) -> None:
    assert clause_refs(text) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [("第一条第（三）项", "一(三)"), ("（二）", "(二)"), ("二、", "二"), ("第二条", "第二条"), ("Art. 2", "Art.2"), ("商务部", None)],
)
def test_canonical_clause(label: str, expected: str | None) -> None:
    assert canonical_clause(label) == expected


def test_long_sentences_stay_fast() -> None:
    import time

    started = time.perf_counter()
    extract_dates(("自2025年10月9日起" + "乙" * 50) * 2000, published=date(2025, 1, 1))
    extract_dates("暂停实施" + "甲" * 20000 + "。", published=None)
    assert time.perf_counter() - started < 2.0
