"""pipeline.core.dates: every written date form, table-driven from YAML plus round-trip properties."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.dates import ERAS, cn_to_int, era_to_date, find_dates, fold_width, parse_date, parse_timestamp, to_utc
from pipeline.core.normalize import match_text

CASES = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "tagging" / "dates.yaml").read_text(encoding="utf-8"))


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


@pytest.mark.parametrize("case", CASES["parse"].values(), ids=list(CASES["parse"]))
def test_parse_date(case: dict) -> None:
    assert _iso(parse_date(case["text"])) == case["expected"]
    # The matching form of the text reads the same.
    assert _iso(parse_date(match_text(case["text"]))) == case["expected"]


@pytest.mark.parametrize("case", CASES["find"].values(), ids=list(CASES["find"]))
def test_find_dates(case: dict) -> None:
    found = find_dates(case["text"])
    assert [[m.date.isoformat(), m.text] for m in found] == case["expected"]
    for m in found:
        assert case["text"][m.start : m.end] == m.text


@pytest.mark.parametrize("case", CASES["timestamps"].values(), ids=list(CASES["timestamps"]))
def test_parse_timestamp(case: dict) -> None:
    value = parse_timestamp(case["text"], case["tz"])
    if case["expected"] is None:
        assert value is None
        return
    assert value is not None
    assert value.isoformat() == case["expected"]
    assert to_utc(value).isoformat() == case["utc"]


def test_parse_timestamp_unknown_zone_names_it() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        parse_timestamp("2025-10-09 18:00", "Mars/Olympus")


def test_to_utc_refuses_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_utc(datetime(2025, 10, 9, 18, 0))


def test_time_is_kept_on_match() -> None:
    (m,) = find_dates("2025-10-09 18:05")
    assert (m.date, m.time.isoformat()) == (date(2025, 10, 9), "18:05:00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("二〇二五", 2025), ("十", 10), ("十一", 11), ("二十", 20), ("三十一", 31), ("元", 1), ("１２", 12), ("十十", None), ("百", None)],
)
def test_cn_to_int(text: str, expected: int | None) -> None:
    assert cn_to_int(text) == expected


def test_era_boundaries() -> None:
    assert era_to_date("平成", 1, 1, 8) == date(1989, 1, 8)
    assert era_to_date("平成", 1, 1, 7) is None  # still 昭和64年
    assert era_to_date("令和", 0, 5, 1) is None
    assert era_to_date("X", 1, 1, 1) is None


def test_fold_width_keeps_length() -> None:
    text = "２０２５年（一）Ｒ７\u3000"
    assert len(fold_width(text)) == len(text)


# --- properties: format a date every way it is written, parse it back ---------------------------

_FULLWIDTH = str.maketrans("0123456789./-", "０１２３４５６７８９．／－")
_CN = "〇一二三四五六七八九"
_WEEK_JA = "月火水木金土日"
_WEEK_ZH = "一二三四五六日"


def _cn_small(n: int) -> str:
    tens, units = divmod(n, 10)
    return ("" if tens == 0 else ("十" if tens == 1 else _CN[tens] + "十")) + (_CN[units] if units else "") or "〇"


def _cn_year(y: int, zero: str) -> str:
    return "".join(_CN[int(ch)] for ch in str(y)).replace("〇", zero)


def _era(d: date) -> tuple[str, str, int] | None:
    for index, (name, abbr, first) in enumerate(ERAS):
        nxt = ERAS[index + 1][2] if index + 1 < len(ERAS) else date.max
        if first <= d < nxt:
            return name, abbr, d.year - first.year + 1
    return None


def _forms(d: date, zero: str) -> list[str]:
    y, m, day = d.year, d.month, d.day
    forms = [
        f"{y}年{m}月{day}日",
        f"{y}年{m:02d}月{day:02d}日",
        f"{y} 年 {m} 月 {day} 日",
        f"{y}\u3000年{m}月{day}日",
        f"{y}-{m:02d}-{day:02d}",
        f"{y}-{m:02d}-{day:02d} 09:30",
        f"{y}/{m}/{day}",
        f"{y}.{m}.{day}",
        f"{y}{m:02d}{day:02d}",
        f"{_cn_year(y, zero)}年{_cn_small(m)}月{_cn_small(day)}日",
        f"{y}年{m}月{day}日({_WEEK_JA[d.weekday()]}曜日)",
        f"{y}年{m}月{day}日（星期{_WEEK_ZH[d.weekday()]}）",
    ]
    forms += [f.translate(_FULLWIDTH) for f in forms[:9]]
    era = _era(d)
    if era:
        name, abbr, n = era
        forms += [
            f"{name}{'元' if n == 1 else n}年{m}月{day}日",
            f"{name}{n}年{m}月{day}日",
            f"{name}{_cn_small(n)}年{_cn_small(m)}月{_cn_small(day)}日",
            f"{abbr}{n}.{m}.{day}",
            f"{abbr}{n}/{m}/{day}",
            f"{abbr}{n}.{m}.{day}".translate(_FULLWIDTH).replace(abbr, chr(ord(abbr) + 0xFEE0)),
        ]
    return forms


@settings(max_examples=150, deadline=None)
@given(d=st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)), zero=st.sampled_from("〇○零"))
def test_every_written_form_round_trips(d: date, zero: str) -> None:
    for form in _forms(d, zero):
        assert parse_date(form) == d, form
        assert parse_date(match_text(form)) == d, form
        # Embedded in a sentence, the date is found with its exact span.
        sentence = f"自{form}起施行" if not form[0].isdigit() or "年" in form else f"日期：{form} 起"
        found = find_dates(sentence)
        assert [m.date for m in found] == [d], (form, found)
        assert sentence[found[0].start : found[0].end].startswith(form[:2])


@settings(max_examples=100, deadline=None)
@given(y=st.integers(1990, 2040), m=st.integers(1, 12), day=st.integers(29, 35))
def test_impossible_days_are_none_not_guessed(y: int, m: int, day: int) -> None:
    try:
        expected: date | None = date(y, m, day)
    except ValueError:
        expected = None
    assert parse_date(f"{y}年{m}月{day}日") == expected
    assert parse_date(f"{y}-{m:02d}-{day:02d}") == expected


@pytest.mark.parametrize("module", ["pipeline.core.dates", "pipeline.core.docnumber", "pipeline.core.tagging.rules", "pipeline.core.tagging.dates"])
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=list("0123456789０年月日元令和平成RH()（）曜金星期一二十〇○.-/: \u3000"), max_size=80))
def test_arbitrary_text_spans_are_exact_and_dates_valid(text: str) -> None:
    for m in find_dates(text):
        assert text[m.start : m.end] == m.text
        assert parse_date(m.text) == m.date  # each found span is a whole date on its own
