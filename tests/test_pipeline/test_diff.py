"""pipeline.core.diff and pipeline.core.render_diff: table-driven cases from tests/fixtures/diff plus properties."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
import yaml
from diff_match_patch import diff_match_patch
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.diff import apply, diff_from_json, diff_texts, diff_to_json, split_pseudo_lines
from pipeline.core.normalize import canonical_text
from pipeline.core.records import TextDiff
from pipeline.core.render_diff import render_inline, render_rich, render_unified

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "diff"
DIFFS = yaml.safe_load((FIXTURES / "diffs.yaml").read_text(encoding="utf-8"))
UNIFIED = yaml.safe_load((FIXTURES / "unified.yaml").read_text(encoding="utf-8"))

# CJK ideographs, kana, ASCII, digits, delimiters and other punctuation
ALPHABET = "甲乙丙丁戊己庚辛施行公告あいうアイウabcXY019 .-\n。；;，、（）"
texts = st.text(alphabet=ALPHABET, max_size=120)


@st.composite
def edited_pair(draw: st.DrawFn) -> tuple[str, str]:
    """A text and a version of it with a few random replacements, insertions and deletions."""
    old = draw(texts)
    new = old
    for _ in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, len(new)))
        end = draw(st.integers(start, min(len(new), start + 8)))
        new = new[:start] + draw(st.text(alphabet=ALPHABET, max_size=8)) + new[end:]
    return old, new


pairs = st.one_of(edited_pair(), st.tuples(texts, texts))


@pytest.mark.parametrize("case", DIFFS.values(), ids=DIFFS.keys())
def test_diff_cases(case: dict) -> None:
    old, new = case["old"], case["new"]
    if case.get("canonicalize"):
        old, new = canonical_text(old), canonical_text(new)
    diff = diff_texts(old, new)
    assert render_inline(diff, context=case.get("context", 40)) == case["inline"]
    assert (diff.inserted_chars, diff.deleted_chars) == (case["inserted"], case["deleted"])
    assert diff.changed == bool(case["inserted"] or case["deleted"])
    assert not diff.timed_out
    assert apply(old, diff) == new


@pytest.mark.parametrize("case", UNIFIED.values(), ids=UNIFIED.keys())
def test_unified_cases(case: dict) -> None:
    diff = diff_texts(case["old"], case["new"])
    assert render_unified(diff, context_lines=case.get("context_lines", 2)) == case["unified"]


def test_whitespace_only_difference_is_an_empty_diff() -> None:
    old = canonical_text("第一条\u3000本办法自２０２５年１２月１日起施行。\r\n\r\n 第二条 附则 ")
    new = canonical_text("第一条 本办法自2025年12月1日起施行。\n第二条 附则")
    diff = diff_texts(old, new)
    assert diff == TextDiff(ops=((0, new),))
    assert not diff.changed


def test_identical_and_empty_texts() -> None:
    assert diff_texts("", "") == TextDiff(ops=())
    assert diff_texts("甲", "甲").ops == ((0, "甲"),)


def test_pseudo_lines_keep_delimiters() -> None:
    assert split_pseudo_lines("一。二；三;四\n五") == ["一。", "二；", "三;", "四\n", "五"]
    assert split_pseudo_lines("") == []


def _cjk_document(n_chars: int, seed: int) -> str:
    rng = random.Random(seed)
    hanzi = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民"
    parts: list[str] = []
    while sum(map(len, parts)) < n_chars:
        sentence = "".join(rng.choice(hanzi) for _ in range(rng.randint(8, 40)))
        parts.append(sentence + rng.choice("，。；") + rng.choice(["", "", "\n"]))
    return "".join(parts)


def test_few_edits_in_100kb_document_are_found_exactly() -> None:
    """~34k CJK chars (~100 KB UTF-8); edits use kana, which never occur in the base text."""
    old = _cjk_document(34_000, seed=7)
    edits = [  # (position, deleted length, inserted text), far apart
        (1_000, 0, "あいう"),
        (9_000, 5, ""),
        (15_500, 3, "かきくけ"),
        (22_000, 0, "さしすせそ"),
        (30_000, 7, "たち"),
    ]
    new, cursor = [], 0
    for at, length, text in edits:
        new += [old[cursor:at], text]
        cursor = at + length
    new_text = "".join(new) + old[cursor:]
    diff = diff_texts(old, new_text, timeout=30)
    assert not diff.timed_out
    assert diff.inserted_chars == sum(len(t) for _, _, t in edits) == 14
    assert diff.deleted_chars == sum(n for _, n, _ in edits) == 15
    assert sum(1 for op, _ in diff.ops if op == 0) == len(edits) + 1
    assert apply(old, diff) == new_text


def test_timeout_is_recorded_and_the_diff_still_applies() -> None:
    old, new = _cjk_document(3_000, seed=1), _cjk_document(3_000, seed=2)
    diff = diff_texts(old, new, timeout=1e-9)
    assert diff.timed_out
    assert apply(old, diff) == new


def test_unlimited_timeout() -> None:
    diff = diff_texts("甲乙丙。丁戊", "甲丙。丁己戊", timeout=0)
    assert not diff.timed_out
    assert render_inline(diff) == "甲[-乙-]丙。丁{+己+}戊"


def test_line_cap_folds_the_rest_into_one_line() -> None:
    old = "".join(f"第{i}条。" for i in range(50))
    new = old.replace("第30条。", "第30条（修订）。")
    capped = diff_texts(old, new, max_lines=9)
    assert apply(old, capped) == new
    assert capped == diff_texts(old, new)


def test_apply_rejects_a_diff_for_another_text() -> None:
    diff = diff_texts("甲乙丙", "甲丁丙")
    with pytest.raises(ValueError, match="at character 1"):
        apply("甲戊丙", diff)


def test_json_round_trip_compact() -> None:
    old = "前文" * 100 + "旧条款。" + "后文" * 100
    new = "前文" * 100 + "新条款。" + "后文" * 100
    diff = diff_texts(old, new)
    data = json.loads(json.dumps(diff_to_json(diff, context=5), ensure_ascii=False))
    assert data["ops"] == [[0, "前文前文前", 190, "文前文前文"], [-1, "旧"], [1, "新"], [0, "条款。后文", 193, "文后文后文"]]
    assert diff_from_json(data, old=old) == diff
    with pytest.raises(ValueError, match="pass old="):
        diff_from_json(data)
    with pytest.raises(ValueError, match="does not fit the given old text at character 0"):
        diff_from_json(data, old=old.replace("前文", "前言", 50))


def test_json_round_trip_small_diff_needs_no_old_text() -> None:
    diff = diff_texts("甲乙丙", "甲丁丙", timeout=0)
    assert diff_from_json(diff_to_json(diff)) == diff
    with pytest.raises(ValueError, match="unknown format"):
        diff_from_json({"format": "other", "ops": []})


def test_render_rich_styles() -> None:
    text = render_rich(diff_texts("本办法自发布之日起施行。", "本办法自2026年1月1日起施行。"))
    assert text.plain == "本办法自发布之2026年1月1日起施行。"
    assert [(text.plain[s.start : s.end], str(s.style)) for s in text.spans] == [
        ("发布之", "red strike"),
        ("2026年1月1", "green"),
    ]
    assert render_rich(diff_texts("甲", "甲")).plain == ""
    assert render_rich(diff_texts("甲" * 50 + "乙", "甲" * 50 + "丙"), context=3).plain == "…甲甲甲乙丙"


@settings(max_examples=300, deadline=None)
@given(pairs)
def test_property_apply_reproduces_new(pair: tuple[str, str]) -> None:
    old, new = pair
    diff = diff_texts(old, new, timeout=0)
    assert apply(old, diff) == new
    assert diff.inserted_chars == sum(len(t) for op, t in diff.ops if op == 1)
    assert diff.deleted_chars == sum(len(t) for op, t in diff.ops if op == -1)
    assert diff.changed == (old != new)
    # normalized ops: no empty texts, no two neighbours with the same op, delete before insert
    assert all(t for _, t in diff.ops)
    assert all(a[0] != b[0] for a, b in zip(diff.ops, diff.ops[1:], strict=False))
    assert all(not (a[0] == 1 and b[0] == -1) for a, b in zip(diff.ops, diff.ops[1:], strict=False))


@settings(max_examples=150, deadline=None)
@given(pairs)
def test_property_ops_are_valid_diff_match_patch_diffs(pair: tuple[str, str]) -> None:
    old, new = pair
    dmp = diff_match_patch()
    patches = dmp.patch_make(old, list(diff_texts(old, new).ops))
    patched, results = dmp.patch_apply(patches, old)
    assert patched == new
    assert all(results)


@settings(max_examples=150, deadline=None)
@given(pairs, st.integers(0, 6))
def test_property_json_round_trip(pair: tuple[str, str], context: int) -> None:
    old, new = pair
    diff = diff_texts(old, new)
    data = json.loads(json.dumps(diff_to_json(diff, context=context)))
    assert diff_from_json(data, old=old) == diff


@settings(max_examples=150, deadline=None)
@given(pairs, st.integers(1, 5))
def test_property_line_cap_keeps_the_diff_correct(pair: tuple[str, str], cap: int) -> None:
    old, new = pair
    assert apply(old, diff_texts(old, new, max_lines=cap)) == new


@settings(max_examples=200, deadline=None)
@given(pairs)
def test_property_renders_reconstruct_both_sides(pair: tuple[str, str]) -> None:
    old, new = pair
    diff = diff_texts(old, new)
    full = render_inline(diff, context=10**6)
    if diff.changed:
        assert re.sub(r"\{\+.*?\+\}", "", full, flags=re.S).replace("[-", "").replace("-]", "") == old
        assert re.sub(r"\[-.*?-\]", "", full, flags=re.S).replace("{+", "").replace("+}", "") == new
    lines = [line for line in render_unified(diff, context_lines=10**6).split("\n") if not line.startswith("@@")]
    if diff.changed:
        assert "\n".join(line[1:] for line in lines if line[:1] in " -") == old
        assert "\n".join(line[1:] for line in lines if line[:1] in " +") == new
