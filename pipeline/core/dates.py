"""Calendar dates and timestamps in every written form regulators use (pure, no clock).

Forms recognised (after ``pipeline.core.normalize.match_text``; full-width digits also work raw):

- Chinese/Japanese: ``2025年10月9日``, ``2025 年 10 月 09 日``, ``２０２５年１０月９日``,
  ``二〇二五年十月九日`` (``〇``/``○``/``零``), with an optional weekday ``(金曜日)`` / ``（星期四）``;
- Japanese era: ``令和7年10月9日``, ``令和元年5月1日`` (元 = 1), ``平成31年4月30日``, ``R7.10.9``,
  ``R7/10/9``, ``H31.4.30`` (five eras, year = base + n - 1, the date must lie inside the era);
- numeric: ``2025-10-09``, ``2025/10/9``, ``2025.10.9``, optionally followed by a time
  (``2025-10-09 18:00``, gov.cn meta ``2025-10-09-18:00:00``);
- English: ``January 9, 2026``, ``Jan. 9, 2026``, ``9 January 2026`` (METI English releases);
- compact ``20251009``: as a whole string (``parse_date``) or right after a date label
  (``【发文日期】20251009``, ``日期：20251009``) in running text.

Never a date: ``2025年10月`` (no day), ``2025年第56号`` (a year in a document number), years alone,
phone numbers, HS codes (``2805.30``), version strings (``2025.10.9.1``), impossible days
(``2025年2月30日`` → ``None``; nothing is guessed or filled in from today).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# --- width folding ----------------------------------------------------------------------------

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space map one-to-one onto ASCII, so spans
# found in the folded text are valid in the original. (NFKC can change lengths; this cannot.)
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_FOLDABLE = re.compile("[\uff01-\uff5e\u3000]")


def fold_width(text: str) -> str:
    """Full-width ASCII and U+3000 to ASCII, keeping every offset (``len`` is unchanged).

    Example:
        >>> fold_width("２０２５年１０月９日\u3000Ｒ７．１０．９")
        '2025年10月9日 R7.10.9'
    """
    return text.translate(_FOLD) if _FOLDABLE.search(text) else text  # translate() copies char by char


# --- numerals ---------------------------------------------------------------------------------

_CN_DIGIT = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_DIGITS = "〇○零一二三四五六七八九"


def cn_to_int(text: str) -> int | None:
    """Small Chinese/Japanese numeral (or any Unicode digit string) to ``int``; ``None`` if unreadable.

    Digit-by-digit forms (``二〇二五``) and ``十``-forms up to 99 (``十``, ``十一``, ``二十``,
    ``三十一``) are read; ``元`` (first era year) is 1.

    Example:
        >>> cn_to_int("二〇二五"), cn_to_int("三十一"), cn_to_int("１０"), cn_to_int("元")
        (2025, 31, 10, 1)
    """
    text = text.strip()
    if not text:
        return None
    if text == "元":
        return 1
    if text.isdecimal():
        return int(text)
    if all(ch in _CN_DIGIT for ch in text):
        value = 0
        for ch in text:
            value = value * 10 + _CN_DIGIT[ch]
        return value
    if text.count("十") == 1 and all(ch in _CN_DIGIT or ch == "十" for ch in text):
        left, right = text.split("十")
        if len(left) > 1 or len(right) > 1:
            return None
        tens = _CN_DIGIT[left] if left else 1
        units = _CN_DIGIT[right] if right else 0
        if tens == 0:
            return None
        return tens * 10 + units
    return None


# --- Japanese eras ----------------------------------------------------------------------------

# name, abbreviation, first day. Year n of an era is (first_day.year + n - 1). A date must fall
# inside its era; 明治 is taken from 1868-01-01 (the 1868 edict made it retroactive to the year start).
ERAS: tuple[tuple[str, str, date], ...] = (
    ("明治", "M", date(1868, 1, 1)),
    ("大正", "T", date(1912, 7, 30)),
    ("昭和", "S", date(1926, 12, 25)),
    ("平成", "H", date(1989, 1, 8)),
    ("令和", "R", date(2019, 5, 1)),
)
_ERA_LIGATURES = {"㍾": "明治", "㍽": "大正", "㍼": "昭和", "㍻": "平成", "㋿": "令和"}


def era_to_date(era: str, year: int, month: int, day: int) -> date | None:
    """A Japanese era date (name, abbreviation or ligature) to a ``date``; ``None`` if invalid.

    Example:
        >>> era_to_date("令和", 7, 10, 9), era_to_date("H", 31, 5, 1)
        (datetime.date(2025, 10, 9), None)
    """
    era = _ERA_LIGATURES.get(era, era)
    for index, (name, abbr, first) in enumerate(ERAS):
        if era in (name, abbr, abbr.lower()):
            if year < 1:
                return None
            result = _safe_date(first.year + year - 1, month, day)
            if result is None or result < first:
                return None
            if index + 1 < len(ERAS) and result >= ERAS[index + 1][2]:
                return None
            return result
    return None


# Years outside this range are not dates of modern regulation ("一二三四年五月六日" is noise).
_YEARS = range(1800, 2200)


def _safe_date(year: int | None, month: int | None, day: int | None) -> date | None:
    if year is None or month is None or day is None or year not in _YEARS:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --- patterns ---------------------------------------------------------------------------------

_SP = r"[ \t\u3000]*"
_MD = rf"(?:\d{{1,2}}|[{_CN_DIGITS}十]{{1,3}})"
_WEEKDAY = (
    rf"(?:{_SP}[(（]{_SP}(?:[月火水木金土日](?:曜日?)?|(?:星期|周|礼拜)[一二三四五六日天]){_SP}[)）])?"
)
_ERA_NAMES = "明治|大正|昭和|平成|令和|" + "|".join(_ERA_LIGATURES)

_CJK = (
    rf"(?<![\d{_CN_DIGITS}])(?P<y>\d{{4}}|[{_CN_DIGITS}]{{4}}){_SP}年{_SP}(?P<m>{_MD}){_SP}月{_SP}"
    rf"(?P<d>{_MD}){_SP}日{_WEEKDAY}"
)
_ERA = (
    rf"(?P<era>{_ERA_NAMES}){_SP}(?P<ey>元|\d{{1,2}}|[{_CN_DIGITS}十]{{1,3}}){_SP}年{_SP}(?P<em>{_MD})"
    rf"{_SP}月{_SP}(?P<ed>{_MD}){_SP}日{_WEEKDAY}"
)
_ERA_ABBR = (
    r"(?<![A-Za-z0-9._/-])(?P<ea>[MTSHR])(?P<eay>\d{1,2})(?P<easep>[./])(?P<eam>\d{1,2})(?P=easep)"
    r"(?P<ead>\d{1,2})(?![\d])(?![./]\d)"
)
_TIME = r"(?P<time>(?:[ T]+|-)(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2}))?)?"
_ISO = (
    r"(?<![\d.／/－-])(?P<iy>(?:1[89]|2[01])\d{2})(?P<isep>[-/.－／．])(?P<im>\d{1,2})(?P=isep)"
    rf"(?P<id>\d{{1,2}}){_TIME}(?!\d)(?![-/.－／．]\d)"
)
_COMPACT = r"(?P<cy>(?:19|20)\d{2})(?P<cm>[01]\d)(?P<cd>[0-3]\d)(?![\dA-Za-z])"
# A compact date counts in running text only right after a date label.
_LABELLED_COMPACT = rf"(?:日期|时间|時間|日付|[Dd]ate){_SP}[】\]]?{_SP}[:：]?{_SP}(?<![\dA-Za-z]){_COMPACT}"

# English (METI English releases): "January 9, 2026", "Jan. 9, 2026", "9 January 2026".
MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")),
        start=1,
    )
    for name in names
}
# Capitalised or upper-case only: "may" in running English is a verb.
_MONTH_ALT = "|".join(sorted({f(n) for n in MONTHS for f in (str.title, str.upper)}, key=len, reverse=True))
_EN_MDY = (
    rf"(?<![A-Za-z])(?P<enm>{_MONTH_ALT})\.?[ ]+(?P<end>\d{{1,2}})(?:st|nd|rd|th)?,?[ ]+(?P<eny>\d{{4}})(?!\d)"
)
_EN_DMY = (
    rf"(?<![\d.])(?P<edd>\d{{1,2}})(?:st|nd|rd|th)?[ ]+(?P<edm>{_MONTH_ALT})\.?,?[ ]+(?P<edy>\d{{4}})(?!\d)"
)

_FIND_PATTERNS = (_CJK, _ERA, _ERA_ABBR, _ISO, _LABELLED_COMPACT, _EN_MDY, _EN_DMY)
# Every character a date can start with (the first character each pattern above consumes: a digit,
# a Chinese numeral, an era name or ligature, an era letter, a date label, an English month). The
# lookahead lets the regex engine skip to the next such character instead of trying all seven
# alternatives, each with its lookbehinds, at every position of the text.
_DATE_START = rf"[\d{_CN_DIGITS}{''.join(n[0] for n in _ERA_NAMES.split('|'))}MTSHR日时時Dd{''.join(sorted({n[0].upper() for n in MONTHS}))}]"
_FIND = re.compile(rf"(?={_DATE_START})(?:" + "|".join(f"(?:{p})" for p in _FIND_PATTERNS) + ")")
_WHOLE_COMPACT = re.compile(rf"(?<![\dA-Za-z]){_COMPACT}")


@dataclass(frozen=True, slots=True)
class DateMatch:
    """One date found in a text: the date, its span ``text[start:end]`` and the printed form.

    ``time`` is set when a clock time followed a numeric date (``2025-10-09 18:00``).
    """

    date: date
    start: int
    end: int
    text: str
    time: time | None = None


def _from_match(m: re.Match[str]) -> tuple[date | None, time | None, int]:
    """Date, optional time and start offset of one ``_FIND`` / compact match."""
    g = m.groupdict()
    if g.get("y"):
        return _safe_date(cn_to_int(g["y"]), cn_to_int(g["m"]), cn_to_int(g["d"])), None, m.start()
    if g.get("era"):
        y, mo, d = cn_to_int(g["ey"]), cn_to_int(g["em"]), cn_to_int(g["ed"])
        if y is None or mo is None or d is None:
            return None, None, m.start()
        return era_to_date(g["era"], y, mo, d), None, m.start()
    if g.get("ea"):
        return era_to_date(g["ea"], int(g["eay"]), int(g["eam"]), int(g["ead"])), None, m.start()
    if g.get("iy"):
        found = _safe_date(int(g["iy"]), int(g["im"]), int(g["id"]))
        clock = None
        if g.get("time"):
            try:
                clock = time(int(g["hh"]), int(g["mi"]), int(g["ss"] or 0))
            except ValueError:
                return None, None, m.start()
        return found, clock, m.start()
    if g.get("enm"):
        return _safe_date(int(g["eny"]), MONTHS[g["enm"].lower()], int(g["end"])), None, m.start()
    if g.get("edm"):
        return _safe_date(int(g["edy"]), MONTHS[g["edm"].lower()], int(g["edd"])), None, m.start()
    if g.get("cy"):
        return _safe_date(int(g["cy"]), int(g["cm"]), int(g["cd"])), None, m.start("cy")
    return None, None, m.start()


def find_dates(text: str) -> list[DateMatch]:
    """All dates in ``text``, left to right, with spans into ``text`` itself.

    Run it on ``match_text``-normalized text (NFKC, single spaces); full-width digits also work
    unnormalized. Invalid calendar dates are skipped, not repaired.

    Example:
        >>> [(m.date.isoformat(), m.text) for m in find_dates("自2025年12月1日起至令和8年1月9日止，2025年第56号")]
        [('2025-12-01', '2025年12月1日'), ('2026-01-09', '令和8年1月9日')]
    """
    out: list[DateMatch] = []
    for m in _FIND.finditer(fold_width(text)):
        found, clock, start = _from_match(m)
        if found is not None:
            out.append(DateMatch(found, start, m.end(), text[start : m.end()], clock))
    return out


def parse_date(text: str) -> date | None:
    """The date when the whole of ``text`` (surrounding whitespace ignored) is one date, else ``None``.

    Example:
        >>> parse_date(" 二〇二五年十一月十日 "), parse_date("20251009"), parse_date("2025年10月")
        (datetime.date(2025, 11, 10), datetime.date(2025, 10, 9), None)
    """
    stripped = fold_width(text).strip(" \t\r\n")
    if not stripped:
        return None
    compact = _WHOLE_COMPACT.fullmatch(stripped)
    if compact:
        return _safe_date(int(compact["cy"]), int(compact["cm"]), int(compact["cd"]))
    for m in find_dates(stripped):
        if m.start == 0 and m.end == len(stripped):
            return m.date
    return None


# --- timestamps -------------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?(?:[ T\u3000]+|-)"
    r"(?P<hh>\d{1,2})[:時时](?P<mi>\d{2})分?(?::(?P<ss>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?"
)


def parse_timestamp(text: str, tz: str) -> datetime | None:
    """A date with a clock time as an aware ``datetime``; naive input is read in IANA zone ``tz``.

    Accepts ``2025-10-09 18:00``, ``2025-10-09T18:00:00+08:00``, gov.cn meta ``2025-10-09-18:00:00``,
    ``2025/10/9 18:00``, ``2025年10月9日 18:00``. An explicit offset in the text wins over ``tz``.
    A bare date is not a timestamp (returns ``None``; use ``parse_date``).

    Example:
        >>> parse_timestamp("2025-10-09-18:00:00", "Asia/Shanghai").isoformat()
        '2025-10-09T18:00:00+08:00'
    """
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"parse_timestamp: unknown time zone {tz!r}; pass an IANA name such as 'Asia/Shanghai'") from exc
    m = _TIMESTAMP.fullmatch(fold_width(text).strip(" \t\r\n"))
    if not m:
        return None
    day = _safe_date(int(m["y"]), int(m["m"]), int(m["d"]))
    if day is None:
        return None
    try:
        clock = time(int(m["hh"]), int(m["mi"]), int(m["ss"] or 0))
    except ValueError:
        return None
    if m["tz"]:
        offset = _offset(m["tz"])
        return datetime.combine(day, clock, tzinfo=offset)
    return datetime.combine(day, clock, tzinfo=zone)


def _offset(text: str) -> timezone:
    if text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def to_utc(value: datetime) -> datetime:
    """Convert an aware datetime to UTC; naive datetimes are refused (their zone is unknown).

    Example:
        >>> to_utc(parse_timestamp("2025-10-09 18:00", "Asia/Tokyo")).isoformat()
        '2025-10-09T09:00:00+00:00'
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"to_utc: naive datetime {value.isoformat()} has no time zone; attach the issuer's zone first")
    return value.astimezone(timezone.utc)


__all__ = [
    "ERAS",
    "MONTHS",
    "DateMatch",
    "cn_to_int",
    "era_to_date",
    "find_dates",
    "fold_width",
    "parse_date",
    "parse_timestamp",
    "to_utc",
]
