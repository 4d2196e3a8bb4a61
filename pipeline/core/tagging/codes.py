"""Control-list code tagger: Chinese dual-use list codes and US ECCNs (``1C902.a``, ``3A090``, ``EAR99``).

Shape: a category digit, a product-group letter A–E, three digits, then optional sub-items that
alternate letter and number (``.a``, ``.a.1``, ``.b.2.c``). Canonical form: upper-case group
letter, lower-case sub-item letters, no trailing dot (``1c117.D.`` → ``1C117.d``).

What is recognised besides single codes:

* sibling lists that repeat only the last sub-item: ``1C902.a、b、c`` → ``.a``, ``.b``, ``.c``;
  or a dotted path under the same entry: ``1C903.a.1、.a.2``, ``1C902.a、.b``;
  ``3C901.a.1、2`` → ``3C901.a.1``, ``3C901.a.2``;
* ranges: ``2B902.a至2B902.c``, ``2B902.a-c`` (letters or numbers of the last sub-item level) and
  ``1C909至1C913`` (entry numbers within one category and group, at most ``MAX_RANGE`` entries).

What is not a code: anything inside a URL or file name (``art_3a001b….html``, ``1c902a.pdf``),
alphanumeric runs (hashes, model numbers such as ``5A002X``), identifiers with a hyphenated
digit tail (``3A001-77821``), digits only (dates, phones, HS codes).

Scheme: ``us-eccn`` for ``EAR99`` and when the sentence around the code cites US rules
(``US_CUES``: EAR, ECCN, Commerce Control List, BIS, 美国出口管理条例, 米国輸出管理規則 ...);
otherwise ``cn-dual-use`` for Chinese and English pages, and for Japanese pages only when the
sentence mentions China (``CN_CUES``), ``us-eccn`` otherwise (on METI pages an ECCN-shaped code
is a Wassenaar/EAR number; Japan's own list uses 別表第1の…項 numbering, which is never tagged).
"""

from __future__ import annotations

import re

from pipeline.core.normalize import match_text
from pipeline.core.records import CodeTag
from pipeline.core.tagging.rules import sentence_at, sentence_bounds

MAX_RANGE = 20  # longest entry-number range expanded (1C909至1C913 → 5 codes)

US_CUES = re.compile(
    r"(?<![A-Za-z])(?:EAR|ECCN|ECCNs|CCL|BIS)(?![A-Za-z])|Commerce Control List|Export Administration Regulations"
    r"|Bureau of Industry and Security|美国.{0,6}(?:出口管理条例|商务部|商业管制清单)|商业管制清单|美国工业与安全局"
    r"|米国.{0,6}(?:輸出管理規則|商務省)|輸出管理規則",
    re.IGNORECASE,
)
CN_CUES = re.compile(r"中国|中華人民共和国|中华人民共和国|商務部|商务部|China|Chinese|MOFCOM")

_CODE = r"[0-9][A-Ea-e][0-9]{3}"
_SUB = r"(?:\.(?:[A-Za-z]|[0-9]{1,2}))*"
_END = r"(?![A-Za-z0-9_])(?!\.[A-Za-z0-9])"
# "3A001-77821" (a registration or part number): a hyphen and a digit run of 3+ continue an identifier
_ID_TAIL = r"(?![-－‐][0-9]{3})"
_CODE_RE = re.compile(rf"(?<![A-Za-z0-9_\-\\.=#@&%+~])({_CODE})({_SUB}){_END}{_ID_TAIL}")
_CODE_BEFORE_SLASH = re.compile(rf"{_CODE}{_SUB}/$")
_EAR99 = re.compile(r"(?<![A-Za-z0-9_\-/\\.=#@&%+])EAR99(?![A-Za-z0-9_])")
_URL = re.compile(
    r"(?:https?://|www\.)[^\s\u3000-\u303f\uff00-\uffef<>\"'，。、；（）]+"
    r"|(?<![A-Za-z0-9])/[A-Za-z0-9_\-.]+(?:/[A-Za-z0-9_\-.]+)+"  # site-relative paths
    r"|[A-Za-z0-9_\-]+\.(?:html?|shtml|pdf|docx?|xlsx?|wps|zip|jpg|png)(?![A-Za-z])",
    re.IGNORECASE,
)
# separators of sibling lists; the English/Japanese words only before a letter that ends a phrase
_SIB_SEP = re.compile(r"\s*(?:、|,|/|和|及|与|或|以及|及び|並びに|又は)\s*")
_SIB_WORD = re.compile(r"\s+(?:and|or)\s+")
_RANGE_SEP = re.compile(r"\s*(?:至|到|~|〜|-|–|—|－)\s*")
_SIB_LETTER = re.compile(rf"([A-Za-z](?:\.[0-9]{{1,2}}(?:\.[A-Za-z])?)?){_END}")
_SIB_RELATIVE = re.compile(rf"(\.[A-Za-z](?:\.[0-9]{{1,2}}(?:\.[A-Za-z])?)?){_END}")
_SIB_NUMBER = re.compile(rf"([0-9]{{1,2}}(?:\.[A-Za-z])?){_END}")
_FULL = re.compile(rf"({_CODE})({_SUB}){_END}")


def _levels(sub: str) -> list[str] | None:
    """Split ``.a.1`` into ``['a', '1']``; None when levels do not alternate letter/number from a letter."""
    parts = [p for p in sub.split(".") if p]
    for i, part in enumerate(parts):
        if part.isalpha() != (i % 2 == 0):
            return None
    return [p.lower() if p.isalpha() else str(int(p)) for p in parts]


def _canonical(base: str, levels: list[str]) -> str:
    return ".".join([base[0] + base[1].upper() + base[2:], *levels])


def _mask_urls(text: str) -> str:
    return _URL.sub(lambda m: " " * len(m.group(0)), text)


def _sibling(text: str, pos: int, levels: list[str]) -> tuple[list[str], int] | None:
    """A sibling sub-item right after ``pos`` (``、b``); returns the new levels and the end position."""
    sep = _SIB_SEP.match(text, pos) or _SIB_WORD.match(text, pos)
    if sep is None or not levels:
        return None
    word_sep = not _SIB_SEP.match(text, pos)
    rel = _SIB_RELATIVE.match(text, sep.end())
    if rel is not None:  # "1C903.a.1、.a.2": a dotted path under the same entry
        path = _levels(rel.group(1))
        return (path, rel.end()) if path else None
    for pattern, want_alpha in ((_SIB_LETTER, True), (_SIB_NUMBER, False)):
        m = pattern.match(text, sep.end())
        if m is None:
            continue
        if _FULL.match(text, sep.end()):
            return None  # a full code follows, handled by the main scan
        if word_sep and m.group(1) in ("a", "A", "I") and re.match(r"\s+[A-Za-z]", text[m.end() :]):
            return None  # "3A001.b and a license": an English article, not an item
        new = _replace_tail(levels, m.group(1), want_alpha)
        return (new, m.end()) if new else None
    return None


def _replace_tail(levels: list[str], token: str, alpha_first: bool) -> list[str] | None:
    tail = _levels("." + token) if alpha_first else None
    if not alpha_first:
        parts = token.split(".")
        tail = [str(int(parts[0]))] + [p.lower() for p in parts[1:]]
    # replace from the deepest level of the token's first kind
    idx = max((i for i, lv in enumerate(levels) if lv.isalpha() == alpha_first), default=None)
    if idx is None or tail is None:
        return None
    return levels[:idx] + tail


def _range(text: str, pos: int, base: str, levels: list[str]) -> tuple[list[tuple[str, list[str]]], int] | None:
    """A range right after ``pos`` (``至2B902.c``, ``-c``, ``至1C913``): the expanded items and the end."""
    sep = _RANGE_SEP.match(text, pos)
    if sep is None:
        return None
    full = _FULL.match(text, sep.end())
    if full:
        end_base, end_levels = full.group(1), _levels(full.group(2))
        if end_levels is None or end_base[:2].upper() != base[:2].upper():
            return None
        if end_base == base and len(end_levels) == len(levels) and levels and end_levels[:-1] == levels[:-1]:
            return _expand_last(base, levels, end_levels[-1]), full.end()
        if not levels and not end_levels and 0 < int(end_base[2:]) - int(base[2:]) <= MAX_RANGE:
            first = int(base[2:])
            items = [(f"{base[:2]}{n:03d}", []) for n in range(first + 1, int(end_base[2:]) + 1)]
            return items, full.end()
        return [(end_base, end_levels)], full.end()
    if not levels:
        return None
    token = (_SIB_LETTER if levels[-1].isalpha() else _SIB_NUMBER).match(text, sep.end())
    if token is None or "." in token.group(1):
        return None
    return _expand_last(base, levels, token.group(1)), token.end()


def _expand_last(base: str, levels: list[str], last: str) -> list[tuple[str, list[str]]]:
    first = levels[-1]
    if first.isalpha() and last.isalpha():
        lo, hi = ord(first.lower()), ord(last.lower())
        values = [chr(c) for c in range(lo + 1, hi + 1)]
    elif first.isdigit() and last.isdigit():
        values = [str(n) for n in range(int(first) + 1, int(last) + 1)]
    else:
        values = []
    return [(base, levels[:-1] + [v]) for v in values[:MAX_RANGE]]


_PAREN = re.compile(r"[(（][^()（）]*[)）]")


def _cue_scope(sentence: str, start: int, end: int) -> str:
    """The sentence as seen by the code at ``sentence[start:end]``: a parenthesis that neither holds
    the code nor opens right after it is another item's note ("（一）3A001.a.1 电池（参照美国EAR
    3A001.a.2）": the EAR cue belongs to 3A001.a.2), so it is blanked."""
    def blank(m: re.Match[str]) -> str:
        holds = m.start() <= start and end <= m.end()
        annotates = 0 <= m.start() - end <= 2
        return m.group(0) if holds or annotates else " " * len(m.group(0))
    return _PAREN.sub(blank, sentence)


def _scheme(sentence: str, language: str) -> str:
    if US_CUES.search(sentence):
        return "us-eccn"
    if language == "ja" and not CN_CUES.search(sentence):
        return "us-eccn"
    return "cn-dual-use"


def _path_segment(text: str, start: int) -> bool:
    """``art/3A001`` is a path segment; ``1C902.a/1C902.b`` is a list."""
    if start == 0 or text[start - 1] != "/":
        return False
    return _CODE_BEFORE_SLASH.search(text, max(0, start - 24), start) is None


def _occurrences(text: str) -> list[tuple[int, int, str]]:
    """(start, end, canonical code) of every code, siblings and range members included."""
    out: list[tuple[int, int, str]] = []
    for m in _CODE_RE.finditer(text):
        levels = _levels(m.group(2))
        if levels is None:
            continue
        if _path_segment(text, m.start()):
            continue
        base, pos = m.group(1), m.end()
        out.append((m.start(), m.end(), _canonical(base, levels)))
        while True:
            rng = _range(text, pos, base, levels)
            if rng:
                items, pos = rng
                out.extend((m.start(), pos, _canonical(b, lv)) for b, lv in items)
                if items:
                    base, levels = items[-1][0], items[-1][1]
                continue
            sib = _sibling(text, pos, levels)
            if sib is None:
                break
            levels, pos = sib
            out.append((m.start(), pos, _canonical(base, levels)))
    for m in _EAR99.finditer(text):
        out.append((m.start(), m.end(), "EAR99"))
    return sorted(out, key=lambda o: o[0])


def extract_codes(text: str, *, language: str = "zh") -> list[CodeTag]:
    """Control-list codes in ``text``: one tag per (scheme, code), first evidence kept, in order of appearance.

    Example:
        >>> [t.code for t in extract_codes("（二）3B901.a.用于制造…；管制编码：1C902.a、b、c")]
        ['3B901.a', '1C902.a', '1C902.b', '1C902.c']
        >>> extract_codes("ECCN 3A090 items under the EAR")[0].scheme
        'us-eccn'
    """
    text = match_text(text)
    masked = _mask_urls(text)
    tags: dict[tuple[str, str], CodeTag] = {}
    for start, end, code in _occurrences(masked):
        sentence = sentence_at(text, start, end)
        left, _ = sentence_bounds(text, start, end)
        offset = left + (len(text[left:]) - len(text[left:].lstrip()))
        scope = _cue_scope(sentence, start - offset, end - offset)
        scheme = "us-eccn" if code == "EAR99" else _scheme(scope, language)
        tags.setdefault((scheme, code), CodeTag(scheme=scheme, code=code, evidence=sentence))
    return list(tags.values())


__all__ = ["CN_CUES", "MAX_RANGE", "US_CUES", "extract_codes"]
