"""Typed legal dates of a document: effective, suspended, expires, repealed, transition_until, signed, published.

Table driven: each ``Phrase`` is a regex over one sentence in which every date found by
``pipeline.core.dates.find_dates`` has been replaced by a placeholder, written ``<<d>>`` / ``<<f>>`` /
``<<u>>`` in the table (the date, the start of a window, its end). Each phrase lists the events it
yields as ``(type, source)`` where source is a placeholder name, ``"published"`` (公布之日, 发布之日,
即日, 本日: the instrument's own date = its printed 成文日期 when the text has one, else the
``published`` argument), ``"this_signed"`` (印发之日, same resolution) or ``"this_effective"``.
Events whose source date is unknown are dropped: nothing is guessed. Adding a phrase is a new
table row, no code. Conventions follow tests/fixtures/corpus/README.md.

Only dates of THIS document are typed: history ("2025年10月9日，商务部发布了…"), meeting dates, a
《title》 or cited number as subject, a bare 公告/办法 without 本 (Q&A pages), licence validity
("通用许可有效期至…": expiry and sunset phrases need an empty or 本X subject) are skipped.
Repealing another document (``…同时废止``) is a relation, not a date; a sunset of this document
(``…施行，2028年12月31日废止``) is ``repealed``. Clauses: a phrase whose subject names clauses
("本公告第一条第（一）项、第（二）项自…起实施") yields one event per clause, "其他条款" adds a
whole-document event, "本项/本条" takes the enclosing clause; a suspension carries the clause of
its target ("暂停实施…第二款" → ``第二款``); otherwise ``clause=None`` (whole document).

Also never typed: a parenthetical note on a cited act ("《条例》（2024年12月1日起施行）"), reported
speech ("公告明确，…", "X规定，…", "…と発表", "announced"), windows in narrated history, anything on a
Q&A page (lines opening with 问：/答：), and relative dates ("自公布之日起30日后施行": no date is computed).

A transitional period (``过渡期至<<u>>``, ``<<u>>までの間、従前の例による``, "a transition period ending on
<<u>>") is ``transition_until``: the old rules still apply to what it covers until that day. Inside
a quotation (the new wording of another document's clause) it is that document's date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from pipeline.core.dates import find_dates
from pipeline.core.docnumber import issuer_slugs
from pipeline.core.normalize import match_text
from pipeline.core.prefilter import Prefilter
from pipeline.core.records import DatedEvent
from pipeline.core.tagging.rules import QA_LINES, REPORTED_SPEECH, annex_label, clause_at, clause_refs, sentence_bounds

_VERB = r"(?:正式)?(?:施行|实施|执行|生效|实行)"
_STOP = r"(?:暂停|中止)(?:实施|执行|适用)"
# A clock time inside the phrase: "自2027年1月1日0时起施行", "零时起".
_CLOCK = r"(?:[ ]?(?:\d{1,2}|零|[〇一二三四五六七八九十]{1,3})(?:时|時|点)(?:\d{1,2}分)?)?"
_THIS = r"(?:本|この)(?:公告|办法|决定|规定|条例|通知|令|细则|措施|目录|清单|政令|省令|告示|通達)"


@dataclass(frozen=True, slots=True)
class Phrase:
    """A table row: regex over a masked sentence and the events it yields.

    ``scope`` is ``"own"`` when the phrase states a date of the document named by its subject
    (checked: the subject must not be another document), ``"window"`` when it describes a
    suspension window this document sets (its clause is the target's clause), ``"label"`` for
    labelled header fields.
    """

    name: str
    pattern: str
    events: tuple[tuple[str, str], ...]
    scope: str = "own"
    bare: bool = False  # the subject must be empty or this document ("通用许可有效期至…" is not)


PHRASES: tuple[Phrase, ...] = (
    # --- effective ---
    Phrase("effective-on-publication", rf"(?:自|于|从)(?:{_THIS})?(?:公布|发布|公告)之日起{_VERB}", (("effective", "published"),)),
    # 印发之日 is the date of the issuing document itself (its 成文日期), not the web release.
    Phrase("effective-on-issue", rf"自(?:{_THIS})?印发之日起{_VERB}", (("effective", "this_signed"),)),
    Phrase("effective-label", r"(?:实施|施行|生效)日期[ 】\]]*[:：]?[ ]*<<d>>", (("effective", "d"),), "label"),
    Phrase("effective-from-today", rf"自即日起{_VERB}", (("effective", "published"),)),
    # An operative clause running "自即日起…" (from today: "自即日起至<<u>>暂停实施…", "自即日起，对…停止执行")
    # takes effect on the instrument's own date; the subject must be empty or this document.
    Phrase("effective-from-today-act", r"自即日起", (("effective", "published"),), bare=True),
    Phrase("effective-on-date", rf"(?:自|从|于)?<<d>>{_CLOCK}(?:起|开始){_VERB}(?!的)", (("effective", "d"),)),
    # "将于<<d>>正式实施", "自<<d>>施行" (no 起); "已于<<d>>施行" narrates history.
    Phrase("effective-on-date-bare", rf"(?<![已曾])(?:自|于)<<d>>{_CLOCK}{_VERB}(?!的)", (("effective", "d"),)),
    Phrase("ja-effective-on-publication", r"(?:公布|公表)の日から(?:施行|適用)|本日(?:付け?で|から|より)(?:施行|適用|実施)", (("effective", "published"),)),
    Phrase("ja-effective-from", r"<<d>>(?:から|より)(?:施行|適用)", (("effective", "d"),)),
    Phrase("ja-effective-label", r"施行(?:期日|日)?[ ]*(?:[:：は]|期日)[ ]*<<d>>", (("effective", "d"),)),
    # English (METI English releases).
    Phrase(
        "en-effective",
        r"(?i:(?:take|takes|took|taking)[ ]+effect|(?:come|comes|came|coming|enter|enters|entered|entering)[ ]+into[ ]+"
        r"(?:force|effect)|(?:become|becomes|became)[ ]+effective|effective)[ ]+(?i:(?:on|from|as[ ]+of)[ ]+)?<<d>>",
        (("effective", "d"),),
    ),
    Phrase(
        "en-effective-on-publication",
        r"(?i:(?:take|takes|took)[ ]+effect|(?:come|comes|came|enter|enters|entered)[ ]+into[ ]+(?:force|effect)"
        r"|(?:become|becomes|became)[ ]+effective|effective)[ ]+(?i:on|from|as[ ]+of)[ ]+the[ ]+(?i:day|date)[ ]+of[ ]+"
        r"(?i:(?:its[ ]+)?(?:promulgation|publication|issuance|announcement))",
        (("effective", "published"),),
    ),
    Phrase("ja-effective-suffix", r"(?<![已曾]于)(?<![已曾])<<d>>施行(?=$|[)）」。、]|する|され)", (("effective", "d"),)),
    # --- suspension windows ---
    Phrase(
        "suspended-from-today-until",
        rf"自(?:即日|(?:公布|发布)之日)起至<<u>>(?:止)?[^。]{{0,200}}?{_STOP}",
        (("suspended_from", "published"), ("suspended_until", "u")),
        "window",
    ),
    Phrase(
        "suspended-from-until",
        rf"自<<f>>(?:起)?至<<u>>(?:止)?[^。]{{0,200}}?{_STOP}",
        (("suspended_from", "f"), ("suspended_until", "u")),
        "window",
    ),
    Phrase(
        "suspended-period",
        rf"(?<!自)<<f>>(?:起)?(?:至|到)<<u>>(?:止)?(?:期间|内)[^。]{{0,200}}?{_STOP}",
        (("suspended_from", "f"), ("suspended_until", "u")),
        "window",
    ),
    Phrase(
        "suspended-then-window",
        rf"{_STOP}[^。]{{0,200}}?(?:期限|期间)?(?:为)?自<<f>>(?:起)?(?:至|到)<<u>>",
        (("suspended_from", "f"), ("suspended_until", "u")),
        "window",
    ),
    # "…规定的暂停期限延长至<<u>>", "延长暂停执行期限至<<u>>": the extended window's new end.
    Phrase(
        "suspension-extended",
        r"(?:暂停(?:实施|执行|适用)?(?:的)?期限[^。]{0,10}?(?:延长|顺延|延期)|延长[^。]{0,40}?暂停[^。]{0,20}?期限)(?:至|到)<<u>>",
        (("suspended_until", "u"),),
        "window",
    ),
    Phrase("suspended-until", rf"{_STOP}[^。]{{0,80}}?(?:至|直至|到)<<u>>", (("suspended_until", "u"),), "window"),
    Phrase("suspended-from", rf"自<<f>>起[^。至]{{0,60}}?{_STOP}", (("suspended_from", "f"),), "window"),
    Phrase("suspended-from-today", rf"自即日起[^。至]{{0,60}}?{_STOP}", (("suspended_from", "published"),), "window"),
    # English copies (english.mofcom): "shall be suspended from <<f>> until <<u>>", "remain suspended until <<u>>",
    # "the suspension period … is extended to <<u>>"
    Phrase(
        "en-suspended-from-until",
        r"(?i:suspended|suspension)[^.;]{0,80}?(?i:from)[ ]+<<f>>[ ]*(?:,[ ]*)?(?i:until|till|to|through)[ ]+<<u>>",
        (("suspended_from", "f"), ("suspended_until", "u")),
        "window",
    ),
    Phrase("en-suspended-until", r"(?i:suspended|suspension)[^.;]{0,80}?(?i:until|till|through)[ ]+<<u>>",
           (("suspended_until", "u"),), "window"),
    Phrase("en-suspension-extended",
           r"(?i:suspension[ ]+period)[^.;]{0,120}?(?i:extended|prolonged)[ ]+(?i:to|until|till)[ ]+<<u>>",
           (("suspended_until", "u"),), "window"),
    Phrase(
        "ja-suspended-from-until",
        r"<<f>>から<<u>>まで(?:の間)?[^。]{0,200}?(?:停止|猶予)",
        (("suspended_from", "f"), ("suspended_until", "u")),
        "window",
    ),
    Phrase("ja-suspended-until", r"(?<!から)<<u>>まで(?:の間)?[^。]{0,200}?(?:停止|猶予)", (("suspended_until", "u"),), "window"),
    # --- expiry ---
    Phrase("expires-until", r"有效期(?:至|到|截至)<<u>>", (("expires", "u"),), bare=True),
    # "截止日期" alone is usually a comment or application deadline: only validity labels count.
    Phrase("expires-label", r"(?:失效日期|有效期截止日期|有效截止日期)[ 】\]]*[:：]?[ ]*<<u>>", (("expires", "u"),), "label"),
    Phrase("expires-window", r"有效期(?:为|自|从)?<<f>>(?:起)?(?:至|到|—|-|~)<<u>>", (("expires", "u"),), bare=True),
    Phrase("ja-expires", r"有効期(?:限|間)[ ]*[:：は]?[ ]*(?:<<f>>から)?<<u>>", (("expires", "u"),), bare=True),
    # --- transitional period: the old rules still apply until <<u>> (contracts signed before, …) ---
    Phrase("transition-until", r"过渡期[^。，,；;]{0,20}?(?:至|到|截至|截止(?:到|至|于)?)<<u>>", (("transition_until", "u"),)),
    Phrase("transition-before", r"<<u>>(?:前|之前|以前)(?:为|是)过渡期", (("transition_until", "u"),)),
    Phrase("ja-transition", r"<<u>>まで(?:の間)?[、,]?(?:は、?)?(?:なお、?)?従前の例", (("transition_until", "u"),)),
    Phrase(
        "en-transition",
        r"(?i:transition(?:al)?[ ]+period)[^.;]{0,40}?(?i:ending|until|till|to|expiring|which[ ]+ends)[ ]+(?i:on[ ]+)?<<u>>",
        (("transition_until", "u"),),
    ),
    # --- sunset of this document (repealing ANOTHER document is a relation, not a date) ---
    Phrase("sunset", r"(?:自|于)?<<d>>(?:起)?(?:废止|失效|停止执行)", (("repealed", "d"),), bare=True),
    Phrase("ja-sunset", r"<<d>>(?:をもって|限りで|限り)[、,]?(?:その効力を失う|廃止する)", (("repealed", "d"),), bare=True),
    # --- labels ---
    Phrase("signed-label", r"成文日期[ 】\]]*[:：]?[ ]*<<d>>", (("signed", "d"),), "label"),
    # 【发文日期】 on gov.cn/MOFCOM pages is the date printed on the document itself (GB/T 9704 成文日期).
    Phrase("signed-issue-label", r"发文日期[ 】\]]*[:：]?[ ]*<<d>>", (("signed", "d"),), "label"),
    Phrase(
        "published-label",
        # Japanese 公布日 is the promulgation of the order a release is about, not the release's date
        r"(?:(?:发布|公布|公开|公表|発表|公開)(?:日期|时间|日時)|(?:发布|公表|発表|公開)日)[ 】\]]*[:：]?[ ]*<<d>>",
        (("published", "d"),),
        "label",
    ),
)

# A subject that is another document: a 《title》, a cited number, or "... <date> 发布 ...".
_OTHER_SUBJECT = re.compile(r"《|\d{4}年?第\d+号|令第\d+号|〔\d{4}〕")
# Earlier in the sentence: "<date>…发布/公布…" narrates history about another act.
_HISTORY = re.compile(r"\uE000\d+\uE001[^。]{0,30}?(?:发布|公布|印发|出台|召开|举行)")
_THIS_SUBJECT = re.compile(_THIS)
# English: a parenthesis right after a named act ("…Law of the People's Republic of China (…)",
# "…Regulations on Export Control of Dual-use Items (effective …)") annotates that act.
_EN_CITED_ACT = re.compile(
    r"\b(?:Law|Laws|Regulations|Measures|Rules|Provisions|Decree|Announcement[ ]+No\.?[ ]*\d+[^()]{0,12})\b"
    r"(?:[ ]+(?:of|on|for|to|the|and|[A-Z][\w’'-]*))*$"
)
# A proviso giving part of the document its own date: the part's printed label becomes the clause.
_PROVISO = re.compile(
    r"ただし[、,]?[ ]*(?P<label>[^、。,]{1,40}?)(?:の改正)?(?:規定|部分)(?:について)?は[、,]?[ ]*$"
    r"|(?i:however)[ ]*,?[ ]*the[ ]+(?:amended[ ]+)?provisions?[ ]+(?:on|of|concerning|regarding)[ ]+"
    r"(?P<en>[^,.;]{1,60}?)[ ]+(?:will|shall)?[ ]*$"
)
_EN_THIS = re.compile(r"\b(?:this|the present)\b", re.I)
_ISSUED = re.compile(r"发布|公布|印发")
# A bare document noun without 本 ("答：公告第一条…自…施行" on a Q&A page) is another document.
_OTHER_DOC = re.compile(r"(?<![本该])(?:公告|办法|条例|通知|决定|细则)(?!如下)")
# Legal-basis segments ("根据《出口管制法》有关规定，") are context, not the subject.
_BASIS = re.compile(r"(?:根据|依据|按照|依照|为(?:了)?)[^，,。；;]*[，,]")
_TITLE = re.compile(r"《[^》]*》")
# An order's preamble: "《…办法》已经…会议通过，现予公布，自…起施行" is about this document.
_PROMULGATION = re.compile(r"现予(?:公布|发布|印发)|现将《[^》]*》(?:予以)?(?:公布|发布|印发)|現(?:予|在)公布")
_REPORTED = REPORTED_SPEECH
_QA = QA_LINES
_OWN_PART = re.compile(r"本(?:项|款|条(?!例)|目|部分)")
# "成文日期:" on one line and the date on the next (gov.cn info tables): joined before matching.
_LABEL_LINE = re.compile(r"(?m)^([^\n。]{1,12}[:：])\n(?=[ ]*(?:\d{4}|[〇○零一二三四五六七八九]{4}|令和|平成|[RH]\d))")
_OTHER_CLAUSES = re.compile(r"其他条款|其余条款|其他规定|其余规定|其他内容")
# The sentence's own heading label ("（二）", "五、", "3.", "第三条 ") is not a clause reference.
_HEADING = re.compile(r"^[ ]*(?:[(（][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+[、.]|\d{1,2}[.、](?!\d)|第[一二三四五六七八九十百\d]+条[ ])")
_ARTICLE = re.compile(r"第([一二三四五六七八九十百\d]+)条")
_PLACEHOLDER = re.compile(r"<<([a-z]+)>>")
_DATE_ONLY_LINE = re.compile(r"\uE0000\uE001")
# a short CJK signature line, or an English issuer line ("Ministry of Commerce · General Administration of Customs")
_SIGNATURE_LINE = re.compile(r"[^。；;:：,，!?]{1,30}|[A-Z][A-Za-z .·&'’()-]{1,79}")


def _compile(phrase: Phrase) -> re.Pattern[str]:
    return re.compile(_PLACEHOLDER.sub(lambda m: rf"\uE000(?P<{m[1]}>\d+)\uE001", phrase.pattern))


_COMPILED = tuple((p, _compile(p)) for p in PHRASES)
# The phrases that may match a sentence (most sentences hold no date placeholder, so only a handful
# of the phrases can match them).
_PHRASE_TABLE = Prefilter(_COMPILED, lambda row: row[1])
_LABEL_TYPES = ("published", "signed")


def extract_dates(text: str, *, published: date | None) -> list[DatedEvent]:
    """Typed legal dates of this document, in text order, de-duplicated.

    ``published`` is the document's publication date when known (it resolves 公布之日/即日);
    without it such events are omitted. The text is ``match_text``-normalized first, so
    evidence sentences are in matching form.

    Example:
        >>> [(e.type, e.date.isoformat()) for e in extract_dates(
        ...     "自即日起至2026年11月10日暂停实施。", published=date(2025, 11, 7))]
        [('suspended_from', '2025-11-07'), ('suspended_until', '2026-11-10'), ('effective', '2025-11-07')]
    """
    text = _LABEL_LINE.sub(r"\1 ", match_text(text))
    raw: list[tuple[int, str, date | str, str | None, str]] = []
    qa = _QA.search(text) is not None
    for start, end in _sentences(text):
        raw.extend(e for e in _sentence_events(text, start, end) if not qa or e[1] in _LABEL_TYPES)
    raw.extend(_signature_date(text))
    raw.sort(key=lambda r: r[0])

    doc_effective = next((d for _, t, d, c, _ in raw if t == "effective" and c is None and isinstance(d, date)), None)
    signed = next((d for _, t, d, c, _ in raw if t == "signed" and isinstance(d, date)), None)
    own = signed or published  # 公布之日/即日: the instrument's own date, signed when printed
    resolved = {"published": own, "this_effective": doc_effective or own, "this_signed": own}
    out: list[DatedEvent] = []
    seen: set[tuple[str, date, str | None]] = set()
    for _, kind, value, clause, evidence in raw:
        when = resolved.get(value) if isinstance(value, str) else value
        if when is None or (kind, when, clause) in seen:
            continue
        seen.add((kind, when, clause))
        out.append(DatedEvent(kind, when, clause, evidence))
    return out


def _sentences(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    pos = 0
    while pos < len(text):
        start, end = sentence_bounds(text, pos)
        if end <= pos:
            end = pos + 1
        if text[start:end].strip():
            out.append((start, end))
        pos = end
    return out


def _mask(sentence: str) -> tuple[str, list[date]]:
    dates = find_dates(sentence)
    parts: list[str] = []
    last = 0
    for i, m in enumerate(dates):
        parts.append(sentence[last : m.start])
        parts.append(f"\uE000{i}\uE001")
        last = m.end
    parts.append(sentence[last:])
    return "".join(parts), [m.date for m in dates]


def _quoted(masked: str, pos: int) -> bool:
    """Whether ``pos`` lies inside a quotation (“…”, 「…」): the new wording of another document's
    clause ("将X第二条修改为：“…过渡期至…”") states that document's dates, not this one's."""
    before = masked[:pos]
    return before.count("“") > before.count("”") or before.count("「") > before.count("」")


def _sentence_events(text: str, start: int, end: int) -> list[tuple[int, str, date | str, str | None, str]]:
    sentence = text[start:end]
    masked, dates = _mask(sentence)
    evidence = sentence.strip()
    matches = sorted(
        ((m, phrase, pattern) for phrase, pattern in _PHRASE_TABLE.select(masked) for m in pattern.finditer(masked)),
        key=lambda item: (item[0].start(), -item[0].end()),
    )
    out: list[tuple[int, str, date | str, str | None, str]] = []
    ends: list[int] = []
    article: str | None = None  # article named earlier in the sentence, carried to later phrases
    for m, phrase, pattern in matches:
        begin = max((e for e in ends if e <= m.start()), default=0)
        if phrase.scope != "label" and (
            _cited_note(masked, m.start()) or _REPORTED.search(_BASIS.sub("", masked))
            or (phrase.events[0][0] == "transition_until" and _quoted(masked, m.start()))
            or (phrase.scope == "window" and _HISTORY.search(masked[: m.start()]))
        ):
            continue  # "（…公告发布，自2024年12月1日起施行）": a cited act's date in a note
        subject = masked[_subject_start(masked, begin, m.start()) : m.start()]
        wide = masked[begin : m.start()]
        this = _THIS_SUBJECT.search(subject) or _OWN_PART.search(subject) or _PROMULGATION.search(wide)
        if phrase.scope == "own" and not this:
            context = _BASIS.sub("", wide)
            if _OTHER_SUBJECT.search(context) or _HISTORY.search(wide) or _OTHER_DOC.search(subject):
                continue
            if phrase.bare and _HEADING.sub("", subject, count=1).strip(" 、"):
                continue
        if phrase.scope == "own":
            clauses = _clauses(text, start, subject, article)
            proviso = _PROVISO.search(wide)
            if clauses == [None] and proviso:  # "ただし、別表第1の16の項の改正規定は、…から施行"
                clauses = [(proviso.group("label") or proviso.group("en")).strip()]
            elif clauses == [None] and not _THIS_SUBJECT.search(subject):
                lead = _TITLE.sub("", _BASIS.sub("", wide))
                annex = annex_label(lead)
                if annex and not _ARTICLE.search(lead):  # "附件2所列物项的管理措施，自…起执行"
                    clauses = [annex]
        elif phrase.scope == "window":
            clauses = list(dict.fromkeys(clause_refs(_TITLE.sub("", masked)))) or [None]
        else:
            clauses = [None]
        article = (_ARTICLE.findall(_HEADING.sub("", subject, count=1)) or [article])[-1]
        for kind, source in phrase.events:
            value: date | str = dates[int(m[source])] if source in pattern.groupindex else source
            for clause in clauses:
                out.append((start + m.start(), kind, value, clause, evidence))
        ends.append(m.end())
    return out


def _cited_note(masked: str, pos: int) -> bool:
    """True when ``pos`` lies in a parenthetical note about a cited act: the parenthesis follows a
    《title》 or holds a cited number or 发布/公布 ("《条例》（2024年12月1日起施行）",
    "（…公告2024年第51号发布，自…起施行）"). A note such as "(令和8年1月19日施行)" after this
    document's own sentence is kept."""
    depth, opened = 0, -1
    for i in range(pos - 1, -1, -1):
        ch = masked[i]
        if ch in "）)":
            depth += 1
        elif ch in "（(":
            if depth == 0:
                opened = i
                break
            depth -= 1
    if opened < 0:
        return False
    inner = masked[opened + 1 : pos]
    before = masked[:opened].rstrip()
    if _EN_CITED_ACT.search(before) and not _EN_THIS.search(before[-40:]):
        return True  # "the Export Control Law of the People's Republic of China (adopted on …)"
    return before.endswith("》") or bool(_OTHER_SUBJECT.search(inner) or _ISSUED.search(inner))


def _subject_start(masked: str, begin: int, pos: int) -> int:
    """Where the subject of a phrase at ``pos`` begins: after the previous phrase or clause break."""
    breaks = [masked.rfind(ch, begin, pos) for ch in "，,:："]
    cut = max(breaks)
    # A comma after an explicit clause reference ("第（一）项，自…起实施") keeps the reference.
    if cut >= 0 and not clause_refs(masked[begin:cut]) and not _THIS_SUBJECT.search(masked[begin:cut]):
        return cut + 1
    return begin


def _clauses(text: str, sentence_start: int, subject: str, article: str | None) -> list[str | None]:
    if _OWN_PART.search(subject):
        return [clause_at(text, sentence_start)]
    annex = annex_label(_TITLE.sub("", subject))
    if annex and not _ARTICLE.search(subject):  # "附件第3项自…施行", "附件2所列物项…自…起执行"
        return [annex]
    refs: list[str | None] = list(clause_refs(_HEADING.sub("", subject, count=1), article))
    if refs:
        if _OTHER_CLAUSES.search(subject):
            refs.append(None)
        return refs
    return [None]


def _signature_date(text: str) -> list[tuple[int, str, date | str, str | None, str]]:
    """The 落款 date (GB/T 9704 成文日期): a date-only line under 1-4 short signature lines
    (issuer names, "部长 X") that follow a paragraph ending in 。, or right under a known issuer
    name (an attachment list may sit between body and signature). The first such block wins."""
    lines = [(m.start(), m.group(0).strip()) for m in re.finditer(r"[^\n]+", text)]
    for index, (offset, line) in enumerate(lines):
        masked, dates = _mask(line)
        if len(dates) != 1 or not _DATE_ONLY_LINE.fullmatch(masked):
            continue
        above = index - 1
        while above >= 0 and index - above <= 4 and _SIGNATURE_LINE.fullmatch(lines[above][1]):
            above -= 1
        if above == index - 1 or above < 0:
            continue
        after_paragraph = lines[above][1].endswith(("。", "!", "."))
        under_issuer = bool(issuer_slugs(lines[index - 1][1]))
        if after_paragraph or under_issuer:
            return [(offset, "signed", dates[0], None, line)]
    return []


__all__ = ["PHRASES", "Phrase", "extract_dates"]
