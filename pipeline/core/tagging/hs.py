"""HS-code tagger: customs tariff numbers (海关商品编号) from annex tables and text.

Canonical form: the digits grouped as ``NNNN.NN`` (6-digit subheading), ``NNNN.NN.NN``
(8-digit national line) or ``NNNN.NN.NN.NN`` (10-digit line), whatever way they were printed:
``28053000`` → ``2805.30.00``, ``2805.3010`` → ``2805.30.10``, ``8505.11`` → ``8505.11``.
Trailing zeros are kept (``2805.30.00`` is a different granularity from ``2805.30``).

Because bare numbers are everywhere (amounts, dates, phone numbers), the tagger only works
inside an HS context:

* a document with no HS keyword (``HS_KEYWORDS``: 海关商品编号, 商品编码, 税则号, HS, HTS ...)
  yields nothing;
* dotted codes (``2805.30``, ``8505.11.00``) are accepted anywhere in such a document;
* undotted 8- or 10-digit numbers only when they stand alone as a table cell, or follow an HS
  keyword on the same line; 6-digit numbers only right after an HS keyword;
* a chapter must be 01–97 (not 77), numbers followed by a unit or currency (元, 吨, %, kg ...) are
  amounts, numbers that read as a date (``20251009``, ``2025.10.09``) need a keyword on their
  line, and numbers shortly after 电话/传真/Tel/Fax are phone numbers.
"""

from __future__ import annotations

import re
from datetime import date

from pipeline.core.normalize import match_text

HS_KEYWORDS: tuple[str, ...] = (
    "海关商品编号", "商品编号", "商品编码", "海关编码", "海关编号", "税则号", "税则号列", "税号", "税目",
    "HS编码", "HS编号", "HS code", "HS", "H.S.", "HTS", "HTSUS", "tariff line", "tariff code",
    "統計品目番号", "関税番号", "HSコード",
)
# amounts and measurements: a number followed by one of these is not a tariff number
UNITS: tuple[str, ...] = (
    "元", "万", "亿", "千", "百", "吨", "千克", "公斤", "克", "美元", "日元", "欧元", "円", "ドル", "%", "‰",
    "kg", "t", "g", "usd", "rmb", "yuan", "mm", "cm", "m", "个", "件", "台", "套", "人", "年", "月", "日", "天",
)
PHONE_WORDS: tuple[str, ...] = ("电话", "传真", "联系", "手机", "tel", "fax", "電話")
_PHONE_WINDOW = 40  # how far back a phone word is looked for
_PHONE_GAP = re.compile(r"[\s:：\d\-()（）+、,/转号码人]*")

_KEYWORD = re.compile(
    "|".join(
        (rf"(?<![A-Za-z]){re.escape(k)}(?![A-Za-z])" if k[0].isascii() else re.escape(k))
        for k in sorted(HS_KEYWORDS, key=len, reverse=True)
    ),
    re.IGNORECASE,
)
_DOTTED = re.compile(
    r"(?<![0-9.\-/_\\])"
    r"(\d{4})\.(\d{2})(?:\.?(\d{2})(?:\.?(\d{2}))?)?"
    r"(?![0-9])(?!\.[0-9A-Za-z])(?![A-Za-z_\-])"
)
_PLAIN = re.compile(r"(?<![0-9.\-/_\\])(\d{10}|\d{8}|\d{6})(?![0-9A-Za-z_\-])(?!\.[0-9A-Za-z])")
_HS_PREFIX = re.compile(r"(?:HS|HTS)$", re.IGNORECASE)
_CELL_EDGES_BEFORE = frozenset(" \t|,、;:：(（[")
_CELL_EDGES_AFTER = frozenset(" \t|,、;)）]")
_KEYWORD_BEFORE_GAP = 24  # characters allowed between an HS keyword and an undotted number
# A date-shaped dotted number followed by an event word is a date ("按2025.10.09发布的规定").
_DATE_CONTEXT = re.compile(r"\s*(?:发布|印发|公布|起|以来|以前|以后|之前|之后|前|后|施行|实施|生效|召开|举行|発表|公表|から|まで)")


def _valid_chapter(digits: str) -> bool:
    chapter = int(digits[:2])
    return 1 <= chapter <= 97 and chapter != 77 and digits[2:4] != "00"


def _looks_like_date(digits: str) -> bool:
    if len(digits) < 8:
        return False
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:8])
    if not 1900 <= year <= 2099:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _followed_by_unit(rest: str) -> bool:
    rest = rest.lstrip(" ").lower()
    for unit in UNITS:
        if rest.startswith(unit):
            after = rest[len(unit) : len(unit) + 1]
            if not unit.isascii() or not after or not after.isalpha():
                return True
    return False


def _canonical(digits: str) -> str:
    groups = [digits[:4]] + [digits[i : i + 2] for i in range(4, len(digits), 2)]
    return ".".join(groups)


def _keyword_just_before(line: str, start: int) -> bool:
    window = line[max(0, start - _KEYWORD_BEFORE_GAP - 16) : start]
    matches = list(_KEYWORD.finditer(window))
    return bool(matches) and len(window) - matches[-1].end() <= _KEYWORD_BEFORE_GAP


def _bad_prefix(line: str, start: int) -> bool:
    """A letter right before the number is only allowed as the ``HS``/``HTS`` prefix."""
    before = line[start - 1] if start > 0 else ""
    return before.isascii() and before.isalpha() and not _HS_PREFIX.search(line[max(0, start - 3) : start])


def _after_phone_word(line: str, start: int) -> bool:
    """True when only phone-number characters separate the number from a preceding phone word."""
    window = line[max(0, start - _PHONE_WINDOW) : start].lower()
    ends = [window.rfind(w) + len(w) for w in PHONE_WORDS if w in window]
    return bool(ends) and _PHONE_GAP.fullmatch(window[max(ends) :]) is not None


def _rejected(line: str, m: re.Match[str], digits: str) -> bool:
    return (
        _bad_prefix(line, m.start())
        or not _valid_chapter(digits)
        or _followed_by_unit(line[m.end() : m.end() + 12])
        or _after_phone_word(line, m.start())
    )


def _line_candidates(line: str) -> list[tuple[int, str]]:
    has_keyword = _KEYWORD.search(line) is not None
    found: list[tuple[int, str]] = []
    for m in _DOTTED.finditer(line):
        digits = "".join(g for g in m.groups() if g)
        if _rejected(line, m, digits):
            continue
        if _looks_like_date(digits) and (not has_keyword or _DATE_CONTEXT.match(line, m.end())):
            continue
        found.append((m.start(), _canonical(digits)))
    for m in _PLAIN.finditer(line):
        digits = m.group(1)
        if _rejected(line, m, digits):
            continue
        near_keyword = _keyword_just_before(line, m.start())
        if len(digits) == 6 and not near_keyword:
            continue
        is_cell = (m.start() == 0 or line[m.start() - 1] in _CELL_EDGES_BEFORE) and (
            m.end() == len(line) or line[m.end()] in _CELL_EDGES_AFTER
        )
        if not (near_keyword or is_cell):
            continue
        if _looks_like_date(digits) and not near_keyword:
            continue
        found.append((m.start(), _canonical(digits)))
    return sorted(found)


def extract_hs_codes(text: str) -> list[str]:
    """HS codes in ``text`` in canonical dotted form, unique, in order of first appearance.

    Example:
        >>> extract_hs_codes("海关商品编号：2805.30、8505.11\\n| 氧化镝 | 2846901920 |")
        ['2805.30', '8505.11', '2846.90.19.20']
        >>> extract_hs_codes("合同金额2805.30元，电话 65197390")
        []
    """
    text = match_text(text)
    if _KEYWORD.search(text) is None:
        return []
    seen: dict[str, None] = {}
    for line in text.split("\n"):
        for _, code in _line_candidates(line):
            seen.setdefault(code, None)
    return list(seen)


__all__ = ["HS_KEYWORDS", "extract_hs_codes"]
