"""Relation tagger: what this document does to other documents (suspends, amends, repeals, ...).

Table-driven: ``RULES`` are trigger phrases (``暂停实施``, ``同时废止``, ``延长…至``, ``为实施``,
``を廃止する`` ...). For every sentence with a trigger, the cited document numbers in that sentence
(``pipeline.core.docnumber.find_doc_numbers``; compressed lists such as ``第55号、56号`` give one
target each) are assigned to the nearest trigger, giving one ``Relation`` per target and clause.

What does *not* make a relation:

* a citation with no trigger in its sentence (``根据商务部公告2025年第61号的规定，申请许可…``);
* a citation governed by ``根据/依据/按照/依照/参照`` (up to the next comma): that is a legal basis;
* a citation the change coordinates with or defers to (``与X衔接``, ``以X为准``, ``今后按照X执行``);
* a citation in a negated scope (``不涉及/不适用于/不包括X…``, ``除X…外``, "does not apply to X"): the
  change leaves X alone;
* a trigger narrated as background (``已暂停实施``, ``曾废止``) or negated (``不再暂停实施``),
  a trigger inside a cited title (``《关于修改…的决定》``), and sentences that discuss rather than
  act (questions, ``答记者问``);
* ``implements`` unless the citation follows ``为实施/为贯彻实施/贯彻落实`` in the same comma
  clause and carries a number (``为实施《…条例》（国务院令第N号）``);
* the document itself (``self_key``) and ``本公告``. Keys carry the agency code (DOMAIN.md B.2), so
  ``工信部科〔2026〕9号`` cited by ``工信部原〔2026〕9号`` is another document, not itself.

A trigger sentence that announces a list (``以下文件同时废止：``) acts on the following item lines
that hold only a citation (``（一）…第33号；``). ``停止执行`` / ``不再执行`` repeal. Narrated history
(``2025年11月7日，…发布…``), retold content (``X规定，…``, ``《办法》施行后…``) and Q&A pages (``问：/答：``
lines) make no relations.

``恢复实施`` / ``恢复执行`` / ``重新实施`` (English "shall resume", "resumption", "the suspension …
shall be lifted") lift a suspension early: ``resumes``, dated like a suspension (``自…起``, else the
publication date). Its target is the suspended document, or the suspending notice when the
sentence names that ("第N号公告暂停实施的措施自…起恢复实施": the sentence's ``暂停实施`` is then no
suspension, as in an extension). ``已恢复实施`` is narrated background.

A trigger sentence with no citation that points to an annex as its list (``决定废止5件规范性文件（目录见
附件）``, ``附件2所列文件停止执行``, ``列入附件的文件同时废止``) acts on every citation of that annex, one
per line: an annex section printed in the body (from a heading line ``附件`` / ``附件2`` / ``附件2：…``
to the next one) or an attachment's text (``annexes``; its label is read from its title). A numbered
reference (``见附件2``) takes that annex only. Otherwise annexes are never read for relations: an
annex quoting other measures (a list of what a notice consolidates) does not act on them.

A trigger sentence with no citation but an anaphor (``上述公告…暂停实施``) acts on the citations
of the preceding sentence. When a comma clause both extends and suspends (``将…规定的暂停实施期限延长至``)
it is an extension; ``Y继续暂停实施至D`` / ``仍暂停实施`` ("remain suspended") in another clause is a
suspension of Y, and each trigger takes the end date that follows it. English copies use the same
table ("shall be suspended", "remain suspended until", "is amended as follows", "is extended to").

Dates come from the trigger sentence: ``until`` is a date after ``至/到/截至`` (or before
``まで``); ``since`` a date between ``自/从`` and ``起``, or the publication date for
``自即日起`` / ``自公布之日起``. Suspensions, repeals and supersessions without a start date start
when the document itself takes effect: its whole-document ``effective`` date when that is later
than its publication ("本办法自2026年3月1日起施行。…同时废止" repeals on 2026-03-01), else the publication
date (``published``) when it is known; so do resumptions.

Clauses of the target right after a citation (``…第46号第二条``, ``…公告第二款``) are given in
the canonical form of ``pipeline.core.tagging.rules.clause_refs`` (printed article and paragraph
labels such as ``第二条`` / ``第二款``; an item inside an article is compact: ``一(一)``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pipeline.core.dates import cn_to_int, find_dates
from pipeline.core.docnumber import find_doc_numbers, find_english_doc_numbers
from pipeline.core.normalize import match_text
from pipeline.core.prefilter import Prefilter, may_match, required_chars
from pipeline.core.records import Relation
from pipeline.core.tagging.rules import ANNEX_REF, QA_LINES, REPORTED_SPEECH, Rule, clause_refs, sentence_bounds

_STOP = r"[^。；;\n]"
RULES: tuple[Rule, ...] = (
    Rule(rf"延长{_STOP}{{0,80}}?(?:至|到)|延期至|顺延至|期限延长", "extends"),
    # "X继续暂停实施至D" / "X仍暂停实施" (remain suspended): a suspension of X until D, not an extension
    Rule(r"(?:(?:继续|仍然?)(?:予以)?)?(?:暂停|中止|暂缓)(?:实施|执行|适用)", "suspends"),
    # lifting a suspension: "自…起恢复实施X", "X暂停实施的措施恢复执行" (X the suspending notice)
    Rule(r"(?:恢复|重新)(?:实施|执行|适用)", "resumes"),
    # "…同时废止" ends the old instrument: a repeal. Supersession needs the replacement verb.
    Rule(r"(?:予以)?(?:代替|取代|替代)", "supersedes"),
    Rule(r"(?:同时)?(?:予以)?废止", "repeals"),
    # "X自…起停止执行" / "…不再执行" end another document: a repeal.
    Rule(r"(?:停止|不再)(?:执行|实施|适用)", "repeals"),
    Rule(r"修改|修订|修正|调整", "amends"),
    Rule(r"为(?:了)?(?:贯彻)?(?:实施|落实|执行)|贯彻(?:实施|落实)", "implements"),
    Rule(r"(?:を|は、?)?廃止する", "repeals"),
    Rule(r"(?:の一部)?を改正する|改正する", "amends"),
    Rule(r"(?:の適用|の効力)?を停止する", "suspends"),
    # English copies (english.mofcom.gov.cn): "X shall be repealed at the same time", "replaces X"
    Rule(r"\b(?:shall|is|are)[ ]+(?:hereby[ ]+)?(?:be[ ]+)?(?:repealed|abolished|annulled|rescinded)\b", "repeals", 0, re.I),
    Rule(r"\b(?:shall[ ]+)?(?:replaces?|supersedes?)\b", "supersedes", 0, re.I),
    # "the suspension period set out in X is extended to D", "extend the suspension of X until D"
    Rule(r"\b(?:is|are|shall[ ]+be|be|hereby)[ ]+(?:further[ ]+)?(?:extended|prolonged)\b|\bextend(?:s|ed)?\b(?=[^.;]{0,80}?\b(?:to|until|till)\b)",
         "extends", 0, re.I),
    # "the implementation of X shall be suspended", "X shall remain suspended until D", "suspend the implementation of X"
    Rule(r"\b(?:shall|is|are|will|be|remains?|continues?[ ]+to[ ]+be)[ ]+(?:hereby[ ]+)?(?:be[ ]+)?(?:remain[ ]+)?suspended\b"
         r"|\bsuspend(?:s|ed)?[ ]+(?:the[ ]+)?(?:implementation|application|enforcement)\b", "suspends", 0, re.I),
    # "X is amended as follows", "Article 2 of X shall be revised", "amends X"
    Rule(r"\b(?:is|are|shall[ ]+be|be|hereby)[ ]+(?:hereby[ ]+)?(?:amended|revised|modified)\b|\bamends?\b(?=[ ]+(?:Article|Item|the|MOFCOM|[A-Z]))",
         "amends", 0, re.I),
    Rule(r"\bresum(?:e|es|ed|ing|ption)\b|\b(?:be|is|are|was|were)[ ]+lifted\b|\blift(?:s|ed)?[ ]+the[ ]+suspension\b",
         "resumes", 0, re.I),
)
_RULE_TABLE = Prefilter(RULES, lambda rule: rule.compiled)  # the rules that may match a sentence
# trigger types that end the sentence's other readings: an extension mentions "暂停实施" too
# ("X规定的暂停实施期限延长至D"). Only within the trigger's comma clause: "将A规定的暂停实施期限延长至D，
# B、C继续暂停实施至D" extends A and suspends B and C.
_DOMINATES = {"extends": {"suspends"}, "supersedes": {"repeals"}}
_CLAUSE_BREAK = re.compile(r"[,，；;]")
# "暂停实施期限/期间/的时间": the suspension named as what an extension lengthens
_PERIOD_NOUN = re.compile(r"[的之]?(?:期限|期间|时间|期)")
# Lifting a suspension names what was suspended ("第N号公告暂停实施的措施…恢复实施"): there the
# attributive "暂停实施的" is no act of its own.
_ATTRIBUTIVE = re.compile(r"[的之]")
_BACKGROUND = re.compile(r"(?:已经?|曾经?|业已|此前|不再|停止|取消|终止|不予?|未|不作|未作|无需|无须|不得)$")
# "X已被Y代替": the act happened before, by Y, in the same comma clause: narrated, not this document's.
_PASSIVE_DONE = re.compile(r"(?:已经?|业已|早已)被[^,，；;。]*$")
_BASIS = re.compile(
    rf"(?:根据|依据|按照|依照|参照|遵照|(?i:in[ ]+accordance[ ]+with|pursuant[ ]+to|according[ ]+to)){_STOP}*?(?=[,，:：。；;]|$)",
    re.M,
)
# What the change coordinates with or what prevails from now on is no target either:
# "为做好与《条例》的衔接", "与X相衔接", "以X为准", "今后按照X执行" (the last is a basis above).
_REFERENCED = re.compile(rf"(?:与|同){_STOP}{{0,80}}?(?:的)?(?:相)?衔接|以{_STOP}{{0,80}}?为准")
# Negated scope: the change "does not concern / does not apply to" another notice's items
# ("不涉及X所列物项", "不适用于X", "不包括X", "除X所列物项外", "does not apply to X"): X is no target.
_NEGATED = re.compile(
    rf"(?:不(?:涉及|适用于|适用|包括|包含|含|影响|属于)|(?<![废解删免剔排])除(?:了)?(?={_STOP}*?外)|"
    rf"(?i:(?:does|do|shall)[ ]+not[ ]+(?:apply[ ]+to|cover|concern|affect|include)|excluding|except(?:[ ]+for)?|other[ ]+than))"
    rf"{_STOP}*?(?=[,，:：。；;]|$)",
    re.M,
)
# "…公告2024年第46号《关于…的公告》第二款", "…第46号（《关于…的公告》）第二条", "…第46号（关于…的公告）
# 中的第三条": the cited title, bare or in parentheses, may sit between number and clause.
_TITLE_GAP = r"(?:[(（]?《[^》\n]*》[)）]?|[(（](?![一二三四五六七八九十\d]+[)）])(?:[^()（）\n]|[(（][^()（）\n]*[)）])*[)）])?"
_CLAUSE_LEAD = re.compile(rf"{_TITLE_GAP}(?:公告|决定|令)?(?:中的|中|的)?(?=第|[(（][一二三四五六七八九十\d]+[)）])")
_ANNEX_LEAD = re.compile(rf"{_TITLE_GAP}(?:公告|决定|令)?(?:中的|中|的)?(?P<label>{ANNEX_REF.pattern})")
_CLAUSE_CUT = re.compile(r"[,，；;。《]")
_BRACKETED = re.compile(r"《[^》\n]*》|[(（][^)）\n]*[)）]|【[^】\n]*】")
# questions and press Q&A talk about measures rather than take them
_DISCUSSION = re.compile(r"[?？]|为何|为什么|是否|答记者问|记者会|記者会見|でしょうか|ですか")
_ANAPHOR = re.compile(
    r"(?:上述|前述|以上|该|这些)[\u4e00-\u9fff]{0,6}?(?:公告|决定|措施|规定|文件|期限|清单|目录)|前項|前記|同告示"
)
# A list announced by the trigger sentence ("以下文件同时废止：") follows on item lines.
_LIST_INTRO = re.compile(r"(?:以下|下列)[^。；;\n]*[:：][ ]*$")
_ITEM = re.compile(r"^[ ]*(?:\d{1,2}[.、．]|[(（][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}、)")
# Spokesperson Q&A (lines opening with 问：/答：) and interpretation sentences about an abbreviated
# title ("《办法》施行后，…同时废止") retell other documents: they create no relations.
_QA = QA_LINES
# Narrated history ("2025年11月7日，商务部…发布…公告，决定…") and a cited document's content
# retold ("商务部公告2025年第72号规定，…") are not this document's acts.
_NARRATED = re.compile(r"^[ ]*\d{4}年\d{1,2}月\d{1,2}日[，,][^。]{0,60}?(?:发布|公布|印发|宣布|出台)")
_REPORTED = REPORTED_SPEECH
_RETOLD = re.compile(r"^[ ]*(?:[一二三四五六七八九十]+、|\d{1,2}[.、]|[(（][^)）]{1,3}[)）])?[ ]*《[^》]{1,6}》(?![（(])")
_SINCE_TODAY = re.compile(r"自(?:即日|本公告(?:公布|发布|印发)之日|(?:公布|发布|印发)之日)起|公布の日から")
_UNTIL_BEFORE = re.compile(r"(?:至|到|截至|截止(?:到|至)?)\s*$")
_UNTIL_BEFORE_EN = re.compile(r"\b(?:until|till|to|through|ending[ ]+on|ends[ ]+on)[ ]+(?:and[ ]+including[ ]+)?$", re.I)
_SINCE_BEFORE = re.compile(r"(?:自|从|于)\s*$")
_SINCE_BEFORE_EN = re.compile(r"\b(?:from|as[ ]+of|starting(?:[ ]+on)?)[ ]+$", re.I)
_WINDOW_START = re.compile(r"(?:起)?(?:至|到)")
_SCOPE_TABLE = Prefilter((_BASIS, _NEGATED, _REFERENCED))  # spans whose citations are no targets
# Japanese notices are cited by era and gazette number; they have no canonical key (target_key None)
_JA_CITATION = re.compile(
    r"(?:(?:令和|平成|昭和)(?:元|\d{1,2})年)?[^\s、。「」()（）]{0,20}?(?:告示|省令|政令|訓令|通達)第\d+号"
)
_JA_CITATION_NEEDS = required_chars(_JA_CITATION)
# A trigger sentence pointing to its annex as the list of what it acts on.
_ANNEX_NUM = r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})"
_ANNEX_LIST_REF = re.compile(
    rf"(?:见|列入|列于|载于)[ ]*附件[ ]*(?P<n>{_ANNEX_NUM})?|附件[ ]*(?P<m>{_ANNEX_NUM})?[ ]*(?:中?所列|列明|列出|中列)"
)
# An annex printed in the body starts at a heading line: "附件", "附件2", "附件2：废止的规范性文件目录".
_ANNEX_HEADING = re.compile(rf"^[ ]*附件[ ]*(?P<n>{_ANNEX_NUM})?[ ]*(?:[:：][^\n]*)?$", re.M)
_ANNEX_TITLE_LABEL = re.compile(rf"附件[ ]*(?P<n>{_ANNEX_NUM})")
_DATED_TYPES = ("suspends", "repeals", "supersedes", "resumes")
# A Japanese trigger followed by an instrument noun is part of a title ("輸出貿易管理令の一部を改正する政令").
_JA_TITLE_NOUN = re.compile(r"(?:政令|省令|府令|告示|法律|規則|訓令|通達|命令|件)")


@dataclass(frozen=True, slots=True)
class _Trigger:
    type: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Citation:
    key: str | None
    text: str
    start: int
    end: int


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    while pos < len(text):
        left, right = sentence_bounds(text, pos)
        if right > left:
            spans.append((left, right))
        pos = max(right, pos + 1)
    return spans


def _triggers(sentence: str) -> list[_Trigger]:
    if _DISCUSSION.search(sentence) or _RETOLD.search(sentence) or _NARRATED.search(sentence):
        return []
    if _REPORTED.search(_BASIS.sub("", sentence)):
        return []
    bracketed = [(m.start(), m.end()) for m in _BRACKETED.finditer(sentence)]
    found: list[_Trigger] = []
    for rule in _RULE_TABLE.select(sentence):
        for m, _ in rule.finditer(sentence):
            if _BACKGROUND.search(sentence[max(0, m.start() - 3) : m.start()]):
                continue
            if _PASSIVE_DONE.search(sentence, max(0, m.start() - 80), m.start()):
                continue
            if any(s < m.start() and m.end() < e for s, e in bracketed):
                continue  # inside a cited title: 《关于修改…的决定》
            if _JA_TITLE_NOUN.match(sentence, m.end()):
                continue  # "…の一部を改正する政令": the name of an instrument, not an act on a citation
            if any(t.start <= m.start() < t.end or m.start() <= t.start < m.end() for t in found):
                continue  # an earlier (stronger) rule already took this span
            found.append(_Trigger(rule.kind, m.start(), m.end()))
    kinds = {t.type for t in found}
    if "resumes" in kinds:
        found = [t for t in found if not (t.type == "suspends" and _ATTRIBUTIVE.match(sentence, t.end))]
    return sorted((t for t in found if not _dominated(sentence, t, found)), key=lambda t: t.start)


def _dominated(sentence: str, t: _Trigger, found: list[_Trigger]) -> bool:
    """Whether a stronger trigger of the same comma clause (or an extension of "暂停实施期限") ends ``t``."""
    for other in found:
        if t.type not in _DOMINATES.get(other.type, ()):
            continue
        if t.type == "suspends" and _PERIOD_NOUN.match(sentence, t.end):
            return True
        left, right = sorted((t.start, other.start))
        if not _CLAUSE_BREAK.search(sentence, left, right):
            return True
    return False


def _citations(sentence: str, default_issuers: tuple[str, ...] | None) -> list[_Citation]:
    basis = [(m.start(), m.end()) for rx in _SCOPE_TABLE.select(sentence) for m in rx.finditer(sentence)]
    out: list[_Citation] = []
    for m in find_doc_numbers(sentence, default_issuers=default_issuers):
        out.append(_Citation(m.key, m.text, m.start, m.end))
    for m in find_english_doc_numbers(sentence):
        if all(m.end <= c.start or m.start >= c.end for c in out):
            out.append(_Citation(m.key, m.text, m.start, m.end))
    for m in _JA_CITATION.finditer(sentence) if may_match(_JA_CITATION_NEEDS, sentence) else ():
        if all(m.end() <= c.start or m.start() >= c.end for c in out):
            out.append(_Citation(None, m.group(0), m.start(), m.end()))
    return sorted((c for c in out if not any(s <= c.start < e for s, e in basis)), key=lambda c: c.start)


def _distance(c: _Citation, t: _Trigger) -> int:
    if c.end <= t.start:
        return t.start - c.end
    if t.end <= c.start:
        return c.start - t.end
    return 0


def _admits(sentence: str, t: _Trigger, c: _Citation) -> bool:
    if t.type != "implements":
        return True
    between = sentence[t.end : c.start]
    return c.start >= t.end and not re.search(r"[,，；;:：]", between)


def _window(sentence: str, published: date | None) -> tuple[date | None, date | None]:
    since = until = None
    titles = [(m.start(), m.end()) for m in _BRACKETED.finditer(sentence)]
    for d in find_dates(sentence):
        if any(s <= d.start < e for s, e in titles):
            continue  # a date inside a cited title or note: 《关于延长…至2026年12月31日的公告》, （…发布）
        before, after = sentence[max(0, d.start - 5) : d.start], sentence[d.end : d.end + 3]
        if until is None and (_UNTIL_BEFORE.search(before) or after.startswith("まで")
                              or _UNTIL_BEFORE_EN.search(sentence[max(0, d.start - 24) : d.start])):
            until = d.date
        elif since is None and _SINCE_BEFORE.search(before) and after.lstrip().startswith("起"):
            since = d.date
        elif since is None and _SINCE_BEFORE_EN.search(sentence[max(0, d.start - 20) : d.start]):
            since = d.date  # "shall resume implementation from July 1, 2031"
        elif since is None and _WINDOW_START.match(after):  # "在2027年1月1日至2027年6月30日期间"
            since = d.date
    if since is None and _SINCE_TODAY.search(sentence):
        since = published
    return since, until


def _trigger_window(
    sentence: str, trigger: _Trigger, triggers: list[_Trigger], published: date | None
) -> tuple[date | None, date | None]:
    """The window of one trigger: dates between its neighbours first, else the sentence's.

    "将A规定的暂停实施期限延长至D1，B继续暂停实施至D2": the extension ends at D1, the suspension at D2.
    """
    since, until = _window(sentence, published)
    if len(triggers) < 2:
        return since, until
    i = triggers.index(trigger)
    left = triggers[i - 1].end if i > 0 else 0
    right = triggers[i + 1].start if i + 1 < len(triggers) else len(sentence)
    own_since, own_until = _window(sentence[left:right], None)
    after_until = _window(sentence[trigger.start:right], None)[1]
    return own_since or since, after_until or own_until or until


def _clauses(sentence: str, c: _Citation, next_start: int) -> list[str | None]:
    gap = sentence[c.end : next_start]
    annex = _ANNEX_LEAD.match(gap)
    if annex:  # "…第40号附件第5项不再执行": the target's numbered annex or annex item
        return [annex.group("label").replace(" ", "")]
    lead = _CLAUSE_LEAD.match(gap)
    if lead is None:
        return [None]
    cut = _CLAUSE_CUT.search(gap, lead.end())
    refs = clause_refs(gap[: cut.start() if cut else len(gap)])
    return list(dict.fromkeys(refs)) or [None]


def extract_relations(
    text: str,
    *,
    self_key: str | None = None,
    default_issuers: tuple[str, ...] | None = None,
    published: date | None = None,
    annexes: Sequence[tuple[str, str]] = (),
    effective: date | None = None,
) -> list[Relation]:
    """Relations from this document to the documents it acts on, in text order, unique per (type, target, clause).

    ``annexes``: (title, text) of each attachment read; consulted only by a trigger sentence that
    points to its annex as the list of what it acts on.

    Example:
        >>> rels = extract_relations("商务部公告2024年第46号第二条自2025年11月9日起至2026年11月27日暂停实施。",
        ...                          self_key="mofcom:2025:72", default_issuers=("mofcom",), published=None)
        >>> [(r.type, r.target_key, r.clause, r.since.isoformat(), r.until.isoformat()) for r in rels]
        [('suspends', 'mofcom:2024:46', '第二条', '2025-11-09', '2026-11-27')]
    """
    text = match_text(text)
    out: dict[tuple[str, str, str | None], Relation] = {}
    starts = effective if effective is not None and (published is None or effective > published) else None
    if _QA.search(text):
        return []
    pending: list[_Citation] = []
    pending_sentence = ""
    listing: tuple[list[_Trigger], str] | None = None  # a "以下文件同时废止：" intro awaiting its items
    for left, right in _sentences(text):
        sentence = text[left:right]
        triggers = _triggers(sentence)
        citations = _citations(sentence, default_issuers)
        if not triggers and listing is not None and _is_item(sentence, citations):
            # an item of the announced list: acted on by the intro's trigger, dated by its sentence
            _relate(out, citations, sentence, listing[0], listing[1], self_key, published, items=True,
                    starts=starts)
            pending, pending_sentence = pending + citations, sentence
            continue
        listing = None
        if not triggers:
            if _ITEM.match(sentence) and pending and _ITEM.match(pending_sentence):
                pending, pending_sentence = pending + citations, sentence  # a list of cited documents
            else:
                pending, pending_sentence = citations, sentence
            continue
        if not citations and (refs := _annex_refs(sentence, triggers)):
            _relate_annex_lists(out, refs, sentence, _annex_sections(text, annexes),
                                default_issuers, self_key, published, starts)
            pending, pending_sentence = [], ""
            continue
        if not citations and _LIST_INTRO.search(sentence.strip()):
            listing = (triggers, sentence)
            pending, pending_sentence = [], ""
            continue
        if not citations and _ANAPHOR.search(sentence):
            citations, clause_source = pending, pending_sentence
        else:
            clause_source = sentence
        _relate(out, citations, clause_source, triggers, sentence, self_key, published,
                items=clause_source is not sentence, starts=starts)
        pending, pending_sentence = [], ""
    return _drop_subsumed(_fill_untils(list(out.values()), text, published))


def _label(n: str | None) -> str | None:
    if not n:
        return None
    return n if n.isdigit() else str(cn_to_int(n) or n)


def _annex_refs(sentence: str, triggers: list[_Trigger]) -> list[tuple[_Trigger, str | None]]:
    """(trigger, annex label or None) for each annex the sentence names as its list, each taken by its
    nearest trigger; ``implements`` never reads an annex."""
    usable = [t for t in triggers if t.type != "implements"]
    out = []
    for m in _ANNEX_LIST_REF.finditer(sentence) if usable else ():
        t = min(usable, key=lambda t: abs(t.start - m.start()))
        out.append((t, _label(m.group("n") or m.group("m"))))
    return out


def _annex_sections(text: str, annexes: Sequence[tuple[str, str]]) -> list[tuple[str | None, str, str]]:
    """(label, heading, text) of each annex: those printed in the body after a heading line, then the
    attachments read."""
    heads = list(_ANNEX_HEADING.finditer(text))
    out = [(_label(h.group("n")), h.group(0).strip(), text[h.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)])
           for i, h in enumerate(heads)]
    for title, body in annexes:
        m = _ANNEX_TITLE_LABEL.search(title)
        out.append((_label(m.group("n")) if m else None, f"【附件：{title}】", match_text(body)))
    return out


def _relate_annex_lists(
    out: dict[tuple[str, str, str | None], Relation],
    refs: list[tuple[_Trigger, str | None]],
    sentence: str,
    sections: list[tuple[str | None, str, str]],
    default_issuers: tuple[str, ...] | None,
    self_key: str | None,
    published: date | None,
    starts: date | None,
) -> None:
    """Relate the citations of the annexes ``refs`` name, one line at a time, to the trigger naming each."""
    for trigger, label in refs:
        chosen = [s for s in sections if label is None or s[0] == label] or (
            sections if label is not None and all(s[0] is None for s in sections) else [])
        for _, heading, body in chosen:
            for line in body.splitlines():
                if not line.strip() or any(next(iter(rule.finditer(line)), None) for rule in _RULE_TABLE.select(line)):
                    continue  # a line that tells an act of its own ("…已被…代替") is no list entry
                citations = _citations(line, default_issuers)
                if citations:
                    _relate(out, citations, line, [trigger], sentence, self_key, published, items=True,
                            starts=starts, evidence=f"{sentence.strip()} {heading} {line.strip()}")


_ITEM_RESIDUE = re.compile(r"《[^》\n]*》|[(（][^)）\n]*[)）]|[\s;；。,，、:：.等]")


# an unlabelled item line opening with the cited title ("《…办法》（工信部原〔2012〕285号）")
_TITLE_ITEM = re.compile(r"^[ ]*(?=《)")


def _is_item(sentence: str, citations: list[_Citation]) -> bool:
    """A list item naming documents: a label (or none before a title), then only citations and titles
    ("（一）《…》（…第N号）；", "《…》（…〔2012〕285号）")."""
    label = _ITEM.match(sentence) or _TITLE_ITEM.match(sentence)
    if not citations or label is None:
        return False
    rest = sentence[label.end():]
    for c in sorted(citations, key=lambda c: -c.start):
        start, end = c.start - label.end(), c.end - label.end()
        if start >= 0:
            rest = rest[:start] + rest[end:]
    return len(_ITEM_RESIDUE.sub("", rest)) <= 4


def _relate(
    out: dict[tuple[str, str, str | None], Relation],
    citations: list[_Citation],
    clause_source: str,
    triggers: list[_Trigger],
    sentence: str,
    self_key: str | None,
    published: date | None,
    *,
    items: bool,
    starts: date | None = None,
    evidence: str | None = None,
) -> None:
    """Relations from ``citations`` (found in ``clause_source``) to the triggers of ``sentence``.

    ``items`` is true when the citations stand in other sentences (list items, an anaphor's
    antecedent): then every trigger applies, whatever its position.
    """
    for i, c in enumerate(citations):
        if c.key is not None and c.key == self_key:
            continue
        candidates = triggers if items else [t for t in triggers if _admits(sentence, t, c)]
        if not candidates:
            continue
        trigger = min(candidates, key=lambda t: (_distance(c, t), t.start < c.start))
        since, until = _trigger_window(sentence, trigger, triggers, published)
        next_start = citations[i + 1].start if i + 1 < len(citations) else len(clause_source)
        for clause in _clauses(clause_source, c, next_start):
            start = since if since is not None or trigger.type not in _DATED_TYPES else (starts or published)
            rel = Relation(
                type=trigger.type,
                target_key=c.key,
                target_text=c.text,
                until=until if trigger.type in ("suspends", "extends") else None,
                clause=clause,
                evidence=evidence or sentence.strip(),
                since=start if trigger.type in _DATED_TYPES else None,
            )
            key = (rel.type, rel.target_key or rel.target_text, rel.clause)
            seen = out.get(key)
            if seen is None:
                out[key] = rel
            elif seen.until is None and rel.until is not None:  # the operative sentence carries the dates
                out[key] = rel


def _drop_subsumed(relations: list[Relation]) -> list[Relation]:
    """Drop a relation another one on the same target says more about (a title "关于暂停实施…第二款的公告"
    restated by the operative sentence with its dates)."""

    def covers(big: Relation, small: Relation) -> bool:
        return (
            big is not small
            and (big.type, big.target_key or big.target_text) == (small.type, small.target_key or small.target_text)
            and small.clause in (None, big.clause)
            and small.until in (None, big.until)
            and (small.clause, small.until) != (big.clause, big.until)
        )

    return [r for r in relations if not any(covers(other, r) for other in relations)]


def _fill_untils(relations: list[Relation], text: str, published: date | None) -> list[Relation]:
    """A later sentence ``上述措施自即日起至…暂停实施`` without citations dates earlier suspensions."""
    if all(r.until is not None for r in relations if r.type == "suspends"):
        return relations
    for left, right in _sentences(text):
        sentence = text[left:right]
        if any(t.type == "suspends" for t in _triggers(sentence)) and not _citations(sentence, None):
            since, until = _window(sentence, published)
            if until is not None:
                return [
                    Relation(r.type, r.target_key, r.target_text, until, r.clause, r.evidence, since or r.since)
                    if r.type == "suspends" and r.until is None else r
                    for r in relations
                ]
    return relations


__all__ = ["RULES", "extract_relations"]
