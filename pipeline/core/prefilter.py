"""Which characters a regex cannot match without: a cheap test that skips a pattern on text where
it cannot match (tagger tables run dozens of patterns over every sentence; most find nothing).

``required_chars(pattern)`` reads the parsed pattern (``re._parser``) and returns a set of
characters of which every match contains at least one, or ``None`` when it cannot tell. It is
conservative: only characters a match must consume count (literals and small character classes
outside optional parts; a branch needs one of its alternatives' sets); assertions, backreferences,
categories (``\\d``, ``\\w``) and cased letters under IGNORECASE say nothing. So
``may_match(need, text)`` is False only when the pattern has no match in ``text``, and a
``Prefilter`` over a table of patterns gives, for a text, the rows (in table order) that may match
it, from one scan of the text for all the rows' characters.

Example:
    >>> table = Prefilter((r"暂停实施", r"废止", r"(?i:repeal)"))
    >>> table.select("同时废止。")
    ('废止', '(?i:repeal)')
    >>> sorted(required_chars(r"(?:暂停|中止)(?:实施|执行)"))
    ['中', '暂']
    >>> required_chars(r"(?i:repealed)") is None, required_chars(r"\\d+号?") is None, required_chars(r"(?i:be[ ]+lifted)")
    (True, True, frozenset({' '}))
    >>> may_match(required_chars(r"自<<d>>起施行"), "本公告自公布之日起施行"), may_match(None, "")
    (True, True)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Generic, TypeVar
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]

_MAX_CLASS = 64  # a larger character class is not worth testing character by character
_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT))


def required_chars(pattern: str | re.Pattern[str], flags: int = 0) -> frozenset[str] | None:
    """Characters of which every match of ``pattern`` holds at least one; ``None`` if unknown."""
    if isinstance(pattern, re.Pattern):
        pattern, flags = pattern.pattern, pattern.flags
    parsed = _parser.parse(pattern, flags)
    return _sequence(parsed.data, bool(parsed.state.flags & re.IGNORECASE))


T = TypeVar("T")


class Prefilter(Generic[T]):
    """The rows of a pattern table that may match a text, in table order (``pattern`` gives a
    row's regex; rows whose characters are unknown are always kept)."""

    def __init__(self, rows: Sequence[T], pattern: Callable[[T], str | re.Pattern[str]] = lambda row: row) -> None:
        self.rows = tuple(rows)
        self._needs = tuple(required_chars(pattern(row)) for row in self.rows)
        chars = sorted(set().union(*(n for n in self._needs if n is not None)))
        self._chars = re.compile("[" + "".join(map(re.escape, chars)) + "]") if chars else None
        self._select = lru_cache(maxsize=1024)(self._rows_for)  # keyed by the set of characters present

    def select(self, text: str) -> tuple[T, ...]:
        """The rows whose pattern may match ``text``."""
        return self._select(frozenset(self._chars.findall(text)) if self._chars else frozenset())

    def _rows_for(self, present: frozenset[str]) -> tuple[T, ...]:
        return tuple(row for row, need in zip(self.rows, self._needs) if need is None or not need.isdisjoint(present))


def may_match(need: frozenset[str] | None, text: str) -> bool:
    """False only when ``text`` holds none of ``need`` (so the pattern cannot match it)."""
    return need is None or any(ch in text for ch in need)


def _sequence(items: list, icase: bool) -> frozenset[str] | None:
    best: frozenset[str] | None = None
    for op, av in items:
        found = _item(op, av, icase)
        if found is not None and (best is None or len(found) < len(best)):
            best = found
    return best


def _uncased(ch: str) -> bool:
    """A character IGNORECASE cannot match in another form: no letter up to U+02FF (where the
    special folds live: K and the Kelvin sign, s and long s, µ and mu), nothing with case beyond."""
    if ord(ch) <= 0x2FF:
        return not ch.isalpha()
    return ch.lower() == ch == ch.upper() and ch.casefold() == ch


def _chars(chars: set[str], icase: bool) -> frozenset[str] | None:
    if not chars or len(chars) > _MAX_CLASS or (icase and not all(_uncased(ch) for ch in chars)):
        return None
    return frozenset(chars)


def _item(op, av, icase: bool) -> frozenset[str] | None:
    if op is C.LITERAL:
        return _chars({chr(av)}, icase)
    if op is C.IN:
        chars: set[str] = set()
        for kind, value in av:
            if kind is C.LITERAL:
                chars.add(chr(value))
            elif kind is C.RANGE and value[1] - value[0] < _MAX_CLASS:
                chars.update(chr(c) for c in range(value[0], value[1] + 1))
            else:  # NEGATE, CATEGORY, a wide range
                return None
        return _chars(chars, icase)
    if op is C.SUBPATTERN:
        _, add, remove, sub = av
        inner = (icase or bool(add & re.IGNORECASE)) and not (remove & re.IGNORECASE)
        return _sequence(sub.data, inner)
    if op is getattr(C, "ATOMIC_GROUP", None):
        return _sequence(av.data, icase)
    if op in _REPEATS:
        low, _, sub = av
        return _sequence(sub.data, icase) if low >= 1 else None
    if op is C.BRANCH:
        union: set[str] = set()
        for alternative in av[1]:
            found = _sequence(alternative.data, icase)
            if found is None:
                return None
            union |= found
        return frozenset(union) if len(union) <= _MAX_CLASS else None
    return None  # ANY, NOT_LITERAL, AT, assertions, backreferences, categories


__all__ = ["Prefilter", "may_match", "required_chars"]
