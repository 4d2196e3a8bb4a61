"""Readable views of a ``TextDiff``: inline markers, unified-style lines, and rich terminal text.

All three are pure functions of the diff. An unchanged diff renders as an empty string
(or an empty ``rich.text.Text``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from diff_match_patch import diff_match_patch

from pipeline.core.records import TextDiff

if TYPE_CHECKING:
    from rich.text import Text

DELETE, EQUAL, INSERT = -1, 0, 1
ELLIPSIS = "…"


def render_inline(diff: TextDiff, *, context: int = 40) -> str:
    """Plain text with ``[-deleted-]`` and ``{+inserted+}``; unchanged runs keep ``context`` chars each side.

    Example:
        >>> from pipeline.core.diff import diff_texts
        >>> render_inline(diff_texts("本公告自发布之日起施行。", "本公告自2026年1月1日起施行。"), context=3)
        '…公告自[-发布之-]{+2026年1月1+}日起施…'
    """
    if not diff.changed:
        return ""
    parts: list[str] = []
    for op, text in _elided(diff, context):
        if op == DELETE:
            parts.append(f"[-{text}-]")
        elif op == INSERT:
            parts.append(f"{{+{text}+}}")
        else:
            parts.append(text)
    return "".join(parts)


def render_rich(diff: TextDiff, *, context: int | None = None) -> Text:
    """``rich.text.Text`` with deletions red and struck through, insertions green.

    ``context=None`` shows the whole text; an int elides long unchanged runs like ``render_inline``.

    Example:
        >>> from pipeline.core.diff import diff_texts
        >>> t = render_rich(diff_texts("甲乙丙", "甲丁丙"))
        >>> t.plain, [(s.start, s.end, str(s.style)) for s in t.spans]
        ('甲乙丁丙', [(1, 2, 'red strike'), (2, 3, 'green')])
    """
    from rich.text import Text

    out = Text()
    if not diff.changed:
        return out
    ops = _elided(diff, context) if context is not None else iter(diff.ops)
    for op, text in ops:
        if op == DELETE:
            out.append(text, style="red strike")
        elif op == INSERT:
            out.append(text, style="green")
        else:
            out.append(text)
    return out


def render_unified(diff: TextDiff, *, context_lines: int = 2) -> str:
    """Unified-diff-style view on ``\\n`` lines: ``@@ -a,b +c,d @@`` hunks with ``-``/``+``/`` `` lines.

    Example:
        >>> from pipeline.core.diff import diff_texts
        >>> print(render_unified(diff_texts("一\\n二\\n三\\n四", "一\\n二\\n叁\\n四"), context_lines=1))
        @@ -2,3 +2,3 @@
         二
        -三
        +叁
         四
    """
    if not diff.changed:
        return ""
    rows = list(_line_rows(diff))
    changed_at = [i for i, row in enumerate(rows) if row.tag != " "]
    out: list[str] = []
    for start, end in _hunk_ranges(changed_at, len(rows), context_lines):
        hunk = rows[start:end]
        old_count = sum(1 for r in hunk if r.tag != "+")
        new_count = sum(1 for r in hunk if r.tag != "-")
        out.append(f"@@ -{_range(hunk[0].old_no, old_count)} +{_range(hunk[0].new_no, new_count)} @@")
        out.extend(f"{r.tag}{r.line}" for r in hunk)
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class _Row:
    tag: str  # " ", "-", "+"
    line: str
    old_no: int  # 0-based index of the next old line at this row
    new_no: int


def _elided(diff: TextDiff, context: int) -> Iterator[tuple[int, str]]:
    last = len(diff.ops) - 1
    for i, (op, text) in enumerate(diff.ops):
        if op != EQUAL:
            yield op, text
            continue
        keep_head = context if i > 0 else 0
        keep_tail = context if i < last else 0
        if len(text) <= keep_head + keep_tail:
            yield op, text
            continue
        head = text[:keep_head]
        tail = text[len(text) - keep_tail :] if keep_tail else ""
        yield op, head + ELLIPSIS + tail


def _line_rows(diff: TextDiff) -> Iterator[_Row]:
    """Walk the ops and emit unchanged lines, and changed lines as deletions then insertions.

    Lines are separated by ``\\n``; a text ending in ``\\n`` has an empty last line.

    ``old_cur``/``new_cur`` are the partial current lines of each side; ``dirty`` says an edit
    touched them since both sides were last at a line start together.
    """
    old = "".join(t for op, t in diff.ops if op != INSERT)
    new = "".join(t for op, t in diff.ops if op != DELETE)
    if not old or not new:  # an empty side has no lines at all (not one empty line)
        tag, text = ("+", new) if new else ("-", old)
        for i, line in enumerate(text.split("\n")):
            yield _Row(tag, line, i if tag == "-" else 0, i if tag == "+" else 0)
        return
    # End both sides with a newline so the last lines are terminated like the others, then let
    # diff-match-patch slide single edits onto line boundaries ("丙" + "\n丁" -> "丙\n" + "丁\n").
    ops = [*diff.ops, (EQUAL, "\n")]
    diff_match_patch().diff_cleanupMerge(ops)
    diff_match_patch().diff_cleanupSemanticLossless(ops)
    old_cur = new_cur = ""
    pend_del: list[str] = []
    pend_ins: list[str] = []
    dirty = False
    numbers = [0, 0]  # next old / new line index

    def flush() -> Iterator[_Row]:
        for line in pend_del:
            yield _Row("-", line, numbers[0], numbers[1])
            numbers[0] += 1
        for line in pend_ins:
            yield _Row("+", line, numbers[0], numbers[1])
            numbers[1] += 1
        pend_del.clear()
        pend_ins.clear()

    for op, text in ops:
        pieces = text.split("\n")
        for k, piece in enumerate(pieces):
            if op != INSERT:
                old_cur += piece
            if op != DELETE:
                new_cur += piece
            if op != EQUAL and piece:
                dirty = True
            if k == len(pieces) - 1:
                continue  # no newline after the last piece
            if op == EQUAL:
                if dirty:
                    pend_del.append(old_cur)
                    pend_ins.append(new_cur)
                else:
                    yield from flush()
                    yield _Row(" ", old_cur, numbers[0], numbers[1])
                    numbers[0] += 1
                    numbers[1] += 1
                old_cur = new_cur = ""
                dirty = False
                continue
            if op == DELETE:
                pend_del.append(old_cur)
                old_cur = ""
            else:
                pend_ins.append(new_cur)
                new_cur = ""
            dirty = bool(old_cur or new_cur)  # both at a line start again: back in step
    yield from flush()  # both sides end with the added newline: no partial line is left


def _hunk_ranges(changed_at: list[int], n_rows: int, context: int) -> Iterator[tuple[int, int]]:
    start = end = -1
    for i in changed_at:
        lo, hi = max(0, i - context), min(n_rows, i + context + 1)
        if start >= 0 and lo <= end:
            end = max(end, hi)
            continue
        if start >= 0:
            yield start, end
        start, end = lo, hi
    if start >= 0:
        yield start, end


def _range(first_index: int, count: int) -> str:
    if count == 0:
        return f"{first_index},0"
    return f"{first_index + 1},{count}" if count != 1 else f"{first_index + 1}"


__all__ = ["ELLIPSIS", "render_inline", "render_rich", "render_unified"]
