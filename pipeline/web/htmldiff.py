"""A ``TextDiff`` as rows for HTML: inline segments and side-by-side cells (pure functions).

Templates render each segment as plain text, ``<del>`` or ``<ins>`` (Jinja2 escapes the text), so
no HTML is built here. The diff is character-level (diff-match-patch on canonical text), which
is what CJK needs: a changed character is marked, not the whole line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.core.records import TextDiff

DELETE, EQUAL, INSERT = -1, 0, 1
KIND = {DELETE: "del", EQUAL: "eq", INSERT: "ins"}


@dataclass
class SideRow:
    """One row of the side-by-side view: the old and the new cell, each a list of (kind, text).

    ``changed`` is False for a row whose both cells are the same unchanged text.
    """

    old: list[tuple[str, str]] = field(default_factory=list)
    new: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(kind != "eq" for kind, _ in self.old + self.new)


def inline_segments(diff: TextDiff) -> list[tuple[str, str]]:
    """The whole new text with the deletions in place: ``[(kind, text)]``, kind eq/del/ins.

    Example:
        >>> from pipeline.core.diff import diff_texts
        >>> inline_segments(diff_texts("甲乙丙", "甲丁丙"))
        [('eq', '甲'), ('del', '乙'), ('ins', '丁'), ('eq', '丙')]
    """
    return [(KIND[op], text) for op, text in diff.ops if text]


def side_by_side(diff: TextDiff) -> list[SideRow]:
    """Rows aligned at the line breaks both texts share; an edit spanning lines stays in one row,
    except that whole lines inserted or deleted at a line start get a row of their own (the other
    side's cell empty).

    Example:
        >>> from pipeline.core.diff import diff_texts
        >>> rows = side_by_side(diff_texts("一\\n二三\\n四", "一\\n二叁\\n四"))
        >>> [(r.old, r.new) for r in rows if r.changed]
        [([('eq', '二'), ('del', '三')], [('eq', '二'), ('ins', '叁')])]
        >>> len(rows)
        3
        >>> [(r.old, r.new) for r in side_by_side(diff_texts("一\\n三\\n", "一\\n二\\n三\\n")) if r.changed]
        [([], [('ins', '二\\n')])]
    """
    rows: list[SideRow] = []
    row = SideRow()
    for op, text in diff.ops:
        if op != EQUAL:
            if not row.old and not row.new and text.endswith("\n"):  # whole lines, at a line start
                rows.append(SideRow(*(([], [(KIND[op], text)]) if op == INSERT else ([(KIND[op], text)], []))))
                continue
            (row.old if op == DELETE else row.new).append((KIND[op], text))
            continue
        pieces = text.split("\n")
        for k, piece in enumerate(pieces):
            if piece:
                row.old.append(("eq", piece))
                row.new.append(("eq", piece))
            if k < len(pieces) - 1:  # a line break both sides share: the row ends here
                rows.append(row)
                row = SideRow()
    if row.old or row.new or not rows:
        rows.append(row)
    return rows


__all__ = ["SideRow", "inline_segments", "side_by_side"]
