"""Shared tagger building blocks: the ``Rule`` table type, evidence sentences and clause labels.

Taggers are tables of ``Rule`` values (openstates style): a regex, the kind of tag it yields and
the group holding the value. ``sentence_at`` gives the evidence sentence for a span and
``clause_at`` the numbered clause (``一``, ``一(一)``, ``二``, ``第二款``, ``Art.2``) a position sits in.

Clause labels use one canonical spelling (``canonical_clause``; the corpus README convention):
an article or paragraph keeps its printed label after NFKC (``第二条``, ``第二款``); an item inside
an article is ``<article numeral>(<item numeral>)`` (``第一条第（一）项`` and the heading
"一、…（一）…" both → ``一(一)``); a top heading alone is its numeral (``二、`` → ``二``);
Arabic items become ``1.`` / ``(1)``; English articles ``Art.2``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_SENTENCE_END = "。；;\n"
_CN_NUM = "一二三四五六七八九十百零〇"


@dataclass(frozen=True, slots=True)
class Rule:
    """One table row: ``pattern`` finds the tag, ``value_group`` names the group holding its value.

    Example:
        >>> rule = Rule(r"管制编码[:：]?(?P<code>\\d[A-E]\\d{3})", "code", "code")
        >>> [value for _, value in rule.finditer("管制编码：1C902")]
        ['1C902']
    """

    pattern: str
    kind: str
    value_group: str | int = 0
    flags: int = 0
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.pattern, self.flags))

    def finditer(self, text: str) -> Iterator[tuple[re.Match[str], str]]:
        """Each match with its value (the ``value_group`` text)."""
        for m in self.compiled.finditer(text):
            yield m, m.group(self.value_group)


# Spokesperson Q&A lines (问：/答：): they retell other documents; nothing there is this page's own act.
QA_LINES = re.compile(r"(?m)^[ ]*(?:问|答)[ ]*[:：]")
# Reported speech: another authority's or document's measure retold ("公告明确，…", "…と発表しました").
REPORTED_SPEECH = re.compile(
    r"(?:公告|通知|决定|办法|条例|》|号)(?:明确|指出|提出|称|规定)[，,:：]|宣布|と(?:発表|公表)|を発表|発表し|公表し"
    r"|(?i:announced|according[ ]to|said[ ]that|stated[ ]that)"
)


# Longest stretch treated as one sentence; real legal sentences are far shorter.
MAX_SENTENCE = 2000


# An English full stop ends a sentence when a capitalised word follows ("… 2026. The suspension …"),
# unless it closes an abbreviation ("No. 61", "Art. 5", "e.g. MOFCOM", "U.S. Department", "Jan. 9").
# The dot comes first so the regex engine jumps from dot to dot (a leading lookbehind is tried at
# every character); the lookbehind then checks the character before it.
_EN_STOP = re.compile(r"\.(?<=[A-Za-z0-9)\]\"”']\.)(?=[ ]+[\"“(]?[A-Z])")
_EN_ABBREVIATION = re.compile(
    r"(?:\b(?:No|Nos|Art|Arts|Para|Paras|Sec|Secs|Ch|Chap|Vol|Item|Annex|Fig|Ref|Rev|App|Reg|Regs|Dept|Govt|"
    r"Mr|Mrs|Ms|Dr|Prof|St|Co|Corp|Inc|Ltd|Bros|vs|cf|approx|etc|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|"
    r"e\.g|i\.e|a\.m|p\.m|[A-Za-z])|(?:\b[A-Za-z]\.)+[A-Za-z])$",
    re.I,
)


def _english_stops(text: str, floor: int, ceiling: int) -> list[int]:
    """Offsets of full stops that end English sentences in ``text[floor:ceiling]``."""
    return [m.start() for m in _EN_STOP.finditer(text, floor, ceiling)
            if not _EN_ABBREVIATION.search(text[max(floor, m.start() - 12) : m.start()])]


def sentence_bounds(text: str, start: int, end: int | None = None) -> tuple[int, int]:
    """Offsets of the sentence holding ``text[start:end]`` (split on 。；;\\n and on an English full
    stop before a capitalised word that closes no abbreviation; terminator kept).

    Example:
        >>> sentence_bounds("甲。乙丙。丁", 3)
        (2, 5)
        >>> text = "See No. 61 of 2025. The suspension ends."
        >>> text[slice(*sentence_bounds(text, 0))], text[slice(*sentence_bounds(text, 25))]
        ('See No. 61 of 2025.', ' The suspension ends.')
    """
    end = start if end is None else end
    # Look at most MAX_SENTENCE characters each way: a terminator that never occurs must not
    # turn every lookup into a scan of the whole document (quadratic on multi-MB pages).
    floor = max(0, start - MAX_SENTENCE)
    ceiling = min(len(text), max(end, start) + MAX_SENTENCE)
    left = max(max(text.rfind(ch, floor, start) for ch in _SENTENCE_END) + 1, floor)
    rights = [i for i in (text.find(ch, max(end, start), ceiling) for ch in _SENTENCE_END) if i >= 0]
    if text.find(".", floor, ceiling) >= 0:
        stops = _english_stops(text, floor, ceiling)
        left = max([left, *(i + 1 for i in stops if i < start)])
        rights += [i for i in stops if i >= max(end, start)]
    right = min(rights) + 1 if rights else ceiling
    if right > 0 and text[right - 1] == "\n":
        right -= 1
    return left, right


def sentence_at(text: str, start: int, end: int | None = None) -> str:
    """The sentence containing the span, stripped; used as evidence for every tag.

    Example:
        >>> sentence_at("一、对下列物项实施出口管制。二、本公告自公布之日起实施。", 18)
        '二、本公告自公布之日起实施。'
    """
    left, right = sentence_bounds(text, start, end)
    return text[left:right].strip()


# Clause labels at a line start or right after a sentence/colon boundary.
_BOUNDARY = r"(?:^|(?<=[\n。；;:：]))[ \t\u3000]*"
_LABELS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (0, re.compile(rf"{_BOUNDARY}第(?P<v>[{_CN_NUM}\d]+)条", re.M)),
    (1, re.compile(rf"{_BOUNDARY}(?P<v>[{_CN_NUM}]+)[、.．]", re.M)),
    (2, re.compile(rf"{_BOUNDARY}[(（](?P<v>[{_CN_NUM}]+)[)）]", re.M)),
    (3, re.compile(rf"{_BOUNDARY}(?P<v>\d{{1,2}})[.、．](?!\d)", re.M)),
    (4, re.compile(rf"{_BOUNDARY}[(（](?P<v>\d{{1,2}})[)）]", re.M)),
    (0, re.compile(rf"{_BOUNDARY}Art(?:icle)?\.?[ ]?(?P<v>\d+)", re.M)),
)


def _render(level: int, value: str, label: str) -> str:
    if label.startswith("Art"):
        return f"Art.{value}"
    if level in (0, 1):
        return value
    if level == 2:
        return f"({value})"
    if level == 3:
        return f"{value}."
    return f"({value})"


def clause_at(text: str, pos: int) -> str | None:
    """Canonical label of the numbered clause that ``pos`` lies in, ``None`` outside any clause.

    A label starting at ``pos`` counts (``pos`` may be the start of a sentence that opens with it).

    Nested labels are composed (a ``（一）`` under ``一、`` gives ``一(一)``); a new higher-level
    label resets the lower ones.

    Example:
        >>> clause_at("一、管制物项如下：\\n（一）稀土设备；\\n（二）稀土原料。\\n二、其他", 22)
        '一(二)'
    """
    found: list[tuple[int, int, str]] = []
    for level, pattern in _LABELS:
        for m in pattern.finditer(text):
            if m.start() > pos:
                break
            found.append((m.start(), level, _render(level, m["v"], m.group(0).strip())))
    if not found:
        return None
    stack: dict[int, str] = {}
    for _, level, label in sorted(found):
        stack = {k: v for k, v in stack.items() if k < level}
        stack[level] = label
    parts = [stack[k] for k in sorted(stack)]
    if len(parts) == 1 and 0 in stack and not parts[0].startswith("Art."):
        return f"第{parts[0]}条"  # an article alone keeps its printed label
    return "".join(parts)


_REF = re.compile(
    rf"第(?P<art>[{_CN_NUM}\d]+)条|第?[(（](?P<item>[{_CN_NUM}\d]+)[)）]项?|第(?P<item2>[{_CN_NUM}\d]+)项"
    rf"|第(?P<para>[{_CN_NUM}\d]+)款"
)


def clause_refs(text: str, article: str | None = None) -> list[str]:
    """Canonical labels of the clauses a phrase names, with the article carried over list items.

    ``article`` is the article already in force from earlier in the sentence ("第一条第（一）项
    自…施行，第（三）项自…施行": the second phrase is read with ``article="一"``).

    Example:
        >>> clause_refs("本公告第一条第（一）项、第（二）项"), clause_refs("第（三）项", article="一")
        (['一(一)', '一(二)'], ['一(三)'])
    """
    out: list[str] = []
    pending_article = False
    for m in _REF.finditer(text):
        if m["art"]:
            if pending_article and article is not None:
                out.append(f"第{article}条")
            article, pending_article = m["art"], True
            continue
        if m["para"]:
            out.append(f"{article or ''}第{m['para']}款")
            pending_article = False
            continue
        item = m["item"] or m["item2"]
        out.append(f"{article or ''}({item})")
        pending_article = False
    if pending_article and article is not None:
        out.append(f"第{article}条")
    return out


def canonical_clause(label: str) -> str | None:
    """One clause label or reference in canonical form, ``None`` if it names no clause.

    Example:
        >>> canonical_clause("第一条第（三）项"), canonical_clause("（二）"), canonical_clause("二、"), canonical_clause("第二条")
        ('一(三)', '(二)', '二', '第二条')
    """
    refs = clause_refs(label)
    if refs:
        return refs[0]
    for level, pattern in _LABELS:
        m = pattern.match(label.strip())
        if m:
            rendered = _render(level, m["v"], m.group(0).strip())
            return f"第{rendered}条" if level == 0 and not rendered.startswith("Art.") else rendered
    return None


# A numbered annex or an item of an annex ("附件2", "附件第5项", "附件1第3项"); a bare "附件" is the
# whole list and gives no label.
ANNEX_REF = re.compile(
    rf"附件[ ]*(?:(?P<n>\d{{1,2}}|[{_CN_NUM}]{{1,3}})(?:[ ]*第[ ]*(?P<i1>[{_CN_NUM}\d]+)[ ]*项)?"
    rf"|第[ ]*(?P<i2>[{_CN_NUM}\d]+)[ ]*项)"
)


def annex_label(text: str) -> str | None:
    """The printed label of the first numbered annex reference in ``text``, spaces removed.

    Example:
        >>> annex_label("但是，附件 第3项自…施行"), annex_label("本公告附件所列物项")
        ('附件第3项', None)
    """
    m = ANNEX_REF.search(text)
    return m.group(0).replace(" ", "") if m else None


__all__ = ["ANNEX_REF", "QA_LINES", "REPORTED_SPEECH", "Rule", "annex_label", "canonical_clause", "clause_at",
           "clause_refs", "sentence_at", "sentence_bounds"]
