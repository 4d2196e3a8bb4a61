"""Character-level diffs of canonical texts, tuned for Chinese and Japanese legal text.

``diff_texts`` wraps the pure-Python ``diff-match-patch`` the way ECOSYSTEM.md §5 recommends:

1. split both texts into *pseudo-lines* ending in ``\\n``, ``。``, ``；`` or ``;`` (CJK legal text
   has few newlines, so sentences are the useful line unit);
2. diff the pseudo-lines, each encoded as one character (our own encoder: it skips the surrogate
   range and, past ``max_lines`` distinct lines, folds the rest of a text into one line, the
   graceful version of ``diff_linesToChars``' 666,666-line cap);
3. diff each changed block (deleted lines against inserted lines) character by character;
4. semantic cleanup. CJK ideographs and kana are ``isalnum()``, so cleanup can only snap to
   punctuation and whitespace; for readability we then widen edits that cut through an ASCII
   token (``1C91[-4-]{+5+}`` becomes ``[-1C914-]{+1C915+}``, ``1[-2-]月`` becomes ``[-12-]{+1+}月``).

The whole call shares one deadline (``timeout`` seconds). When any sub-diff hits it,
diff-match-patch silently returns a coarse delete-all/insert-all for that part; we record
that as ``TextDiff.timed_out`` so callers know the diff is correct but not minimal.

Storage (``diff_to_json``/``diff_from_json``): changed hunks are kept whole, long unchanged runs
keep ``context`` characters at each end and store only the length of the middle
(``[0, head, skipped, tail]``). ``diff_from_json`` restores the exact ``TextDiff`` given the old
text (the store keeps every version's canonical text); without it, a compact diff raises.
"""

from __future__ import annotations

import re
import sys
import time
from typing import Any

from diff_match_patch import diff_match_patch

from pipeline.core.records import TextDiff

DELETE, EQUAL, INSERT = -1, 0, 1
PSEUDO_LINE_ENDS = "\n。；;"
# Distinct pseudo-lines representable as one character each (all code points minus
# U+0000 and the surrogate block). Like diff_linesToChars, the old text gets two thirds.
MAX_LINES = 0x110000 - 0x800 - 1
JSON_FORMAT = "regwatch.textdiff/1"
JSON_CONTEXT = 40

_PSEUDO_LINE = re.compile(rf"[^{PSEUDO_LINE_ENDS}]*[{PSEUDO_LINE_ENDS}]|[^{PSEUDO_LINE_ENDS}]+")
_TOKEN_TAIL = re.compile(r"[A-Za-z0-9.\-]*\Z")
_TOKEN_HEAD = re.compile(r"\A[A-Za-z0-9.\-]*")
_ALNUM = re.compile(r"[A-Za-z0-9]")
_MAX_WIDEN = 32  # never widen an edit over an ASCII run longer than this (URLs, hashes)

Ops = list[tuple[int, str]]


class _Dmp(diff_match_patch):
    """diff_match_patch that remembers whether a bisection gave up at the deadline."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.Diff_Timeout = timeout
        self.timed_out = False

    def diff_bisect(self, text1: str, text2: str, deadline: float) -> Ops:
        diffs = super().diff_bisect(text1, text2, deadline)
        # dmp returns this coarse pair both on timeout and when the texts share nothing;
        # if the deadline has passed we cannot tell them apart, so we report a timeout.
        if len(diffs) == 2 and diffs[0][1] == text1 and diffs[1][1] == text2 and time.time() > deadline:
            self.timed_out = True
        return diffs


def split_pseudo_lines(text: str) -> list[str]:
    """Split text into pseudo-lines that keep their delimiter; ``"".join`` gives the text back.

    Example:
        >>> split_pseudo_lines("第一条 本办法。第二条；\\nend")
        ['第一条 本办法。', '第二条；', '\\n', 'end']
    """
    return _PSEUDO_LINE.findall(text)


def diff_texts(old: str, new: str, *, timeout: float = 0.5, max_lines: int = MAX_LINES) -> TextDiff:
    """Diff two canonical texts: pseudo-line diff, then character diff of changed blocks.

    ``timeout`` is the budget in seconds for the whole call (``<= 0``: unlimited). The deadline is
    the only clock read (diff-match-patch checks it inside its bisection); a diff cut short says so
    in ``timed_out``, and with ``timeout=0`` the result depends on the inputs alone.
    ``max_lines`` caps distinct pseudo-lines (see module docstring); lower it only in tests.

    Example:
        >>> d = diff_texts("自2025年11月8日起施行。", "自2025年12月1日起施行。")
        >>> d.ops
        ((0, '自2025年'), (-1, '11月8'), (1, '12月1'), (0, '日起施行。'))
        >>> (d.inserted_chars, d.deleted_chars, d.timed_out)
        (4, 4, False)
    """
    if old == new:
        return TextDiff(ops=((EQUAL, old),) if old else ())
    deadline = time.time() + timeout if timeout > 0 else float(sys.maxsize)
    dmp = _Dmp(timeout if timeout > 0 else 0)
    encoded_old, encoded_new, lines = _lines_to_chars(old, new, max_lines)
    line_ops = dmp.diff_main(encoded_old, encoded_new, False, deadline)
    line_ops = [(op, "".join(lines[_code_index(c)] for c in text)) for op, text in line_ops]
    dmp.diff_cleanupSemantic(line_ops)
    ops = _refine_changed_blocks(dmp, line_ops, deadline)
    dmp.diff_cleanupSemantic(ops)
    ops = _merge(_widen_ascii_tokens(_merge(ops)))
    return _make(ops, timed_out=dmp.timed_out)


def apply(old: str, diff: TextDiff) -> str:
    """Patch ``old`` with ``diff`` and return the new text; raises if the diff is not for ``old``.

    Example:
        >>> apply("甲乙丙", diff_texts("甲乙丙", "甲丁丙"))
        '甲丁丙'
    """
    source = "".join(text for op, text in diff.ops if op != INSERT)
    if source != old:
        at = next((i for i, (a, b) in enumerate(zip(source, old, strict=False)) if a != b), min(len(source), len(old)))
        raise ValueError(
            f"diff does not apply: its old side differs from the given text at character {at} "
            f"(diff expects {len(source)} chars, got {len(old)}); diff against the right version"
        )
    return "".join(text for op, text in diff.ops if op != DELETE)


def diff_to_json(diff: TextDiff, *, context: int = JSON_CONTEXT) -> dict[str, Any]:
    """Compact JSON-ready form: edits whole, unchanged runs longer than ``2*context+1`` elided.

    Example:
        >>> diff_to_json(diff_texts("甲乙", "甲丙"))["ops"]
        [[0, '甲'], [-1, '乙'], [1, '丙']]
    """
    ops: list[list[Any]] = []
    for op, text in diff.ops:
        if op == EQUAL and len(text) > 2 * context + 1:
            head, tail = text[:context], text[len(text) - context :] if context else ""
            ops.append([EQUAL, head, len(text) - 2 * context, tail])
        else:
            ops.append([op, text])
    return {
        "format": JSON_FORMAT,
        "inserted_chars": diff.inserted_chars,
        "deleted_chars": diff.deleted_chars,
        "timed_out": diff.timed_out,
        "ops": ops,
    }


def diff_from_json(data: dict[str, Any], *, old: str | None = None) -> TextDiff:
    """Rebuild the exact ``TextDiff`` from ``diff_to_json`` output (``old`` fills elided runs).

    Example:
        >>> d = diff_texts("甲" * 200 + "乙", "甲" * 200 + "丙")
        >>> diff_from_json(diff_to_json(d), old="甲" * 200 + "乙") == d
        True
    """
    if data.get("format") != JSON_FORMAT:
        raise ValueError(f"text diff JSON: unknown format {data.get('format')!r}, expected {JSON_FORMAT!r}")
    misfit = "text diff JSON does not fit the given old text at character {}: pass the canonical text of the"
    misfit += " version the diff was made from"
    ops: Ops = []
    pos = 0  # position in old
    for entry in data["ops"]:
        op = entry[0]
        if op not in (DELETE, EQUAL, INSERT) or len(entry) not in (2, 4):
            raise ValueError(f"text diff JSON: bad op entry {entry!r}")
        if len(entry) == 4:  # elided equality [0, head, skipped, tail]
            if old is None:
                raise ValueError("text diff JSON is compact (unchanged text elided): pass old=<previous canonical text>")
            head, skipped, tail = entry[1], entry[2], entry[3]
            text = old[pos : pos + len(head) + skipped + len(tail)]
            if len(text) != len(head) + skipped + len(tail) or not (text.startswith(head) and text.endswith(tail)):
                raise ValueError(misfit.format(pos))
        else:
            text = entry[1]
        if op != INSERT:
            if old is not None and old[pos : pos + len(text)] != text:
                raise ValueError(misfit.format(pos))
            pos += len(text)
        ops.append((op, text))
    if old is not None and pos != len(old):
        raise ValueError(misfit.format(pos) + f" (the diff covers {pos} characters, the text has {len(old)})")
    diff = _make(ops, timed_out=bool(data.get("timed_out", False)))
    if (diff.inserted_chars, diff.deleted_chars) != (data["inserted_chars"], data["deleted_chars"]):
        raise ValueError("text diff JSON: inserted_chars/deleted_chars do not match its ops; the stored diff is corrupt")
    return diff


def _lines_to_chars(old: str, new: str, max_lines: int) -> tuple[str, str, list[str]]:
    lines: list[str] = [""]
    index: dict[str, int] = {}

    def encode(text: str, cap: int) -> str:
        out: list[str] = []
        pieces = split_pseudo_lines(text)
        for i, line in enumerate(pieces):
            if line not in index:
                if len(lines) > cap:  # cap reached: the rest of the text becomes one line
                    line = "".join(pieces[i:])
                    if line not in index:
                        index[line] = len(lines)
                        lines.append(line)
                    out.append(_code_char(index[line]))
                    break
                index[line] = len(lines)
                lines.append(line)
            out.append(_code_char(index[line]))
        return "".join(out)

    encoded_old = encode(old, max(1, max_lines * 2 // 3))
    encoded_new = encode(new, max_lines)
    return encoded_old, encoded_new, lines


def _code_char(n: int) -> str:
    return chr(n if n < 0xD800 else n + 0x800)


def _code_index(c: str) -> int:
    n = ord(c)
    return n if n < 0xD800 else n - 0x800


def _refine_changed_blocks(dmp: _Dmp, line_ops: Ops, deadline: float) -> Ops:
    """Replace each run of deleted+inserted lines by their character-level diff."""
    out: Ops = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        old_block, new_block = "".join(deleted), "".join(inserted)
        if old_block and new_block:
            out.extend(dmp.diff_main(old_block, new_block, False, deadline))
        elif old_block:
            out.append((DELETE, old_block))
        elif new_block:
            out.append((INSERT, new_block))
        deleted.clear()
        inserted.clear()

    for op, text in line_ops:
        if op == DELETE:
            deleted.append(text)
        elif op == INSERT:
            inserted.append(text)
        else:
            flush()
            out.append((op, text))
    flush()
    return out


def _merge(ops: Ops) -> Ops:
    """Drop empty ops, join neighbours, and order each change group as delete then insert."""
    out: Ops = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        if deleted:
            out.append((DELETE, "".join(deleted)))
        if inserted:
            out.append((INSERT, "".join(inserted)))
        deleted.clear()
        inserted.clear()

    for op, text in ops:
        if not text:
            continue
        if op == DELETE:
            deleted.append(text)
        elif op == INSERT:
            inserted.append(text)
        else:
            flush()
            if out and out[-1][0] == EQUAL:
                out[-1] = (EQUAL, out[-1][1] + text)
            else:
                out.append((EQUAL, text))
    flush()
    return out


def _widen_ascii_tokens(ops: Ops) -> Ops:
    """Grow edits that start or end inside an ASCII token (number, code) to the whole token.

    Expects merged ops (each change group is at most one delete followed by one insert).
    """
    out = list(ops)
    i = 0
    while i < len(out):
        if out[i][0] == EQUAL:
            i += 1
            continue
        j = i + 1 if i + 1 >= len(out) or out[i + 1][0] == EQUAL else i + 2
        deleted = "".join(t for o, t in out[i:j] if o == DELETE)
        inserted = "".join(t for o, t in out[i:j] if o == INSERT)
        edited = (deleted, inserted)
        left = _left_part(out[i - 1][1], edited) if i > 0 else ""
        right = _right_part(out[j][1], edited) if j < len(out) else ""
        if left or right:
            if left:
                out[i - 1] = (EQUAL, out[i - 1][1][: -len(left)])
            if right:
                out[j] = (EQUAL, out[j][1][len(right) :])
            out[i:j] = [(DELETE, left + deleted + right), (INSERT, left + inserted + right)]
            j = i + 2
        i = j
    return out


def _left_part(equal: str, edited: tuple[str, str]) -> str:
    """Trailing ASCII-token chars of ``equal`` when the edit continues that token."""
    if not equal or not _ALNUM.match(equal[-1]) or not any(t and _ALNUM.match(t[0]) for t in edited):
        return ""
    window = equal[-(_MAX_WIDEN + 1) :]
    part = _TOKEN_TAIL.search(window).group()  # type: ignore[union-attr]
    if len(part) > _MAX_WIDEN:
        return ""
    return part.lstrip(".-")


def _right_part(equal: str, edited: tuple[str, str]) -> str:
    """Leading ASCII-token chars of ``equal`` when the edit ends inside that token."""
    if not equal or not _ALNUM.match(equal[0]) or not any(t and _ALNUM.match(t[-1]) for t in edited):
        return ""
    window = equal[: _MAX_WIDEN + 1]
    part = _TOKEN_HEAD.match(window).group()  # type: ignore[union-attr]
    if len(part) > _MAX_WIDEN:
        return ""
    return part.rstrip(".-")


def _make(ops: Ops, *, timed_out: bool) -> TextDiff:
    return TextDiff(
        ops=tuple((op, text) for op, text in ops),
        inserted_chars=sum(len(t) for o, t in ops if o == INSERT),
        deleted_chars=sum(len(t) for o, t in ops if o == DELETE),
        timed_out=timed_out,
    )


__all__ = [
    "JSON_FORMAT",
    "MAX_LINES",
    "PSEUDO_LINE_ENDS",
    "apply",
    "diff_from_json",
    "diff_texts",
    "diff_to_json",
    "split_pseudo_lines",
]
