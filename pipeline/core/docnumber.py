"""Document numbers (文号) as printed, and their canonical keys (DOMAIN B.2).

Printed forms read (on ``match_text`` output; full-width digits and U+3000 also work raw):

- year-numbered: ``商务部 海关总署公告2025年第56号`` (joint; issuers separated by spaces, U+3000,
  ``、`` or nothing), ``商务部公告2025第61号`` (no 年), ``商务部公告2025年第58`` (no 号),
  ``2024年第46号公告`` (issuer-less citation) → ``mofcom+gacc:2025:56``;
- orders: ``工业和信息化部 国家发展改革委 自然资源部令第71号`` → ``miit+ndrc+mnr:order:71``,
  ``中华人民共和国国务院令第785号`` → ``state-council:order:785``. An order that carries a year
  (``商务部令2020年第1号``) keeps it in the number (``mofcom:order:2020-1``) so that it cannot
  collide with the same issuer's announcement of that year and number;
- agency-code numbers: ``工信部原〔2012〕285号``, ``国发〔2024〕5号``, ``商办贸函[2025]12号``,
  ``(2024)`` brackets → issuer slug + agency code as printed (NFKC) + year + number
  (``miit:工信部原:2012:285``, ``state-council:国发:2024:5``). Each agency code (机关代字) is its
  own series restarting every year, so ``工信部原〔2026〕9号``, ``工信部科〔2026〕9号`` and
  ``工业和信息化部公告2026年第9号`` are three documents. The code is the run of Han characters
  before the bracket that starts with a known code prefix (``AGENCY_CODES``, which only decides
  the issuer slug): ``…经商务部商办贸函〔2025〕12号`` has the code ``商办贸函``. An issuer name
  with ``公告``/``通告`` before the bracket is the announcement series, not a code:
  ``海关总署公告〔2027〕第3号`` is ``gacc:2027:3``, like ``海关总署公告2027年第3号``;
- METI press releases: ``/press/2025/10/20251009001/...`` → ``meti:press:20251009-001``.

Issuer names and agency-code prefixes are data (``ISSUERS``, ``AGENCY_CODES``). General Offices (办公厅)
are separate issuing organs with their own number series, so they get their own slugs
(``mofcom-general-office``, ``state-council-general-office`` …) instead of folding into the ministry.

Compressed citation lists (``…公告2025年第55号、56号、57号及商务部公告2025年第61号、62号``,
``第55号至第58号``, ``第55-58号``) are expanded item by item. An item with no printed issuer
inherits the issuers of the list it continues (``…第55号、56号``, ``…第55号及2025年第61号``);
a citation that starts without an issuer takes ``default_issuers`` (normally the citing document's
own issuers); with no default it is reported with ``issuers == ()`` and has no key.
``本公告`` and clause references (``第二款``) are not citations.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from pipeline.core.dates import fold_width
from pipeline.core.prefilter import may_match, required_chars
from pipeline.core.records import DocNumber

# --- data -------------------------------------------------------------------------------------

# Printed issuer name -> slug. "中华人民共和国" / "中国" before a name is accepted generally.
ISSUERS: dict[str, str] = {
    "商务部": "mofcom",
    "商务部办公厅": "mofcom-general-office",
    "海关总署": "gacc",
    "海关总署办公厅": "gacc-general-office",
    "工业和信息化部": "miit",
    "工信部": "miit",
    "工业和信息化部办公厅": "miit-general-office",
    "国家发展和改革委员会": "ndrc",
    "国家发展改革委": "ndrc",
    "国家发改委": "ndrc",
    "发展改革委": "ndrc",
    "发改委": "ndrc",
    "自然资源部": "mnr",
    "国务院": "state-council",
    "国务院办公厅": "state-council-general-office",
    "国务院关税税则委员会": "tariff-commission",
    "财政部": "mof",
    "科学技术部": "most",
    "科技部": "most",
    "国家国防科技工业局": "sastind",
    "国防科工局": "sastind",
    "国家国防科工局": "sastind",
    "国家原子能机构": "caea",
    "中央军委装备发展部": "cmc-edd",
    "外交部": "mfa",
    "公安部": "mps",
    "生态环境部": "mee",
    "国家市场监督管理总局": "samr",
    "市场监管总局": "samr",
    "国家税务总局": "sat",
    "税务总局": "sat",
    "国家密码管理局": "osca",
    "経済産業省": "meti",
    "经济产业省": "meti",
    "METI": "meti",
}

# Prefix of an agency code printed before a bracketed year -> issuer slug (the code itself is
# taken as printed); the longest matching prefix wins.
AGENCY_CODES: dict[str, str] = {
    "国发": "state-council",
    "国函": "state-council",
    "国令": "state-council",
    "国办发": "state-council-general-office",
    "国办函": "state-council-general-office",
    "工信部": "miit",
    "工信厅": "miit-general-office",
    "工信": "miit",
    "商办": "mofcom-general-office",
    "商": "mofcom",
    "署": "gacc",
    "海关总署": "gacc",
    "发改": "ndrc",
    "自然资": "mnr",
    "财": "mof",
    "国科发": "most",
    "国科办": "most",
    "科工": "sastind",
    "税委会": "tariff-commission",
    "外发": "mfa",
}

# Agency code printed directly before 第N号 for an order (gov.cn 发文字号 "国令第785号").
ORDER_CODES: dict[str, str] = {
    "国令": "state-council",
}

_SP = r"[ \t\u3000]*"
_PRC = r"(?:中华人民共和国|中国)?"
_ISSUER_ALT = "|".join(re.escape(n) for n in sorted(ISSUERS, key=len, reverse=True))
_ISSUER_ONE = re.compile(rf"{_PRC}(?P<name>{_ISSUER_ALT})")
# Separators are unambiguous (spaces alone, or one mark with optional spaces) and a joint list is
# capped at 8 issuers, so a long run of names cannot make the regex backtrack badly.
_ISSUER_SEP = r"(?:[ \t\u3000]*[、,，/][ \t\u3000]*|[ \t\u3000]+)?"
_ISSUER_LIST = rf"(?:{_PRC}(?:{_ISSUER_ALT}))(?:{_ISSUER_SEP}{_PRC}(?:{_ISSUER_ALT})){{0,7}}"
_YEAR = r"(?:19|20)\d{2}"
_NUM = r"\d{1,5}"

# An order: issuers, 令, optional year, 第N号.
_ORDER = re.compile(
    rf"(?P<issuers>{_ISSUER_LIST}){_SP}令{_SP}(?:(?P<year>{_YEAR}){_SP}(?:年{_SP})?)?第{_SP}(?P<num>{_NUM}){_SP}号?"
)
_CODE_ORDER = re.compile(
    rf"(?<![\u4e00-\u9fff])(?P<code>{'|'.join(map(re.escape, ORDER_CODES))}){_SP}第{_SP}(?P<num>{_NUM}){_SP}号"
)
# A year-numbered citation head: [issuers [公告|通告]] YEAR (年第 | 第 | 年) N.
_HEAD = re.compile(
    rf"(?:(?P<issuers>{_ISSUER_LIST}){_SP}(?:(?P<kind>公告|通告){_SP})?)?"
    rf"(?<!\d)(?P<year>{_YEAR}){_SP}(?:年{_SP}第|第|年(?={_SP}{_NUM}{_SP}号)){_SP}(?P<num>{_NUM})(?!\d)"
)
_HAO = re.compile(rf"{_SP}号(?:{_SP}(?:公告|通告|令))?")
_RANGE = re.compile(rf"{_SP}(?:号{_SP})?(?:至|到|-|—|–|~|～|〜){_SP}第?{_SP}(?P<end>{_NUM}){_SP}(?P<hao>号)?")
_CONT = re.compile(
    rf"{_SP}(?:、|,|，|和|及|与|以及|、及){_SP}(?:(?P<year>{_YEAR}){_SP}年{_SP})?(?P<di>第)?{_SP}(?P<num>{_NUM})"
    rf"(?={_SP}(?:号|至|到|-|—|–|~|～|〜))"
)
# After a bare "第N" (no 号) these words mean it was an ordinal, not a document number.
_NOT_NUMBER_AFTER = re.compile(rf"{_SP}[条款项批次期届季周章节个页天月日年位名轮]")
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# The Han run before a bracketed year holds the agency code at its end (see ``agency_code``).
_BRACKET = re.compile(
    rf"(?P<run>[{_HAN}]{{1,16}}){_SP}[〔\[［(（【]{_SP}(?P<year>{_YEAR}){_SP}[〕\]］)）】]"
    rf"{_SP}(?:第{_SP})?(?P<num>{_NUM}){_SP}号"
)
# The characters each citation pattern cannot match without (most sentences cite nothing).
_BRACKET_NEEDS, _ORDER_NEEDS, _CODE_ORDER_NEEDS, _HEAD_NEEDS = map(required_chars, (_BRACKET, _ORDER, _CODE_ORDER, _HEAD))
_MAX_CODE_TAIL = 6  # Han characters an agency code may have after its known prefix (工信部 + 联原)
# "海关总署公告〔2027〕第3号": the issuer's announcement series printed with brackets, not a code
_SERIES_RUN = re.compile(rf"(?P<issuers>{_ISSUER_LIST}){_SP}(?:公告|通告)$")
_MAX_RANGE = 60  # a longer "第1号至第999号" is a typo or not a list of documents


@dataclass(frozen=True, slots=True)
class NumberMatch:
    """One cited document number with its span ``text[start:end]`` (printed item, e.g. ``56号``)."""

    doc_number: DocNumber
    start: int
    end: int
    text: str

    @property
    def key(self) -> str | None:
        """Canonical key, or ``None`` when the issuer is unknown."""
        return self.doc_number.key if self.doc_number.issuers else None

    @property
    def number(self) -> DocNumber:
        """Alias of ``doc_number`` (kept for callers written against that name)."""
        return self.doc_number


def issuer_slugs(text: str) -> tuple[str, ...]:
    """Issuer slugs of a printed issuer list, in printed order, duplicates dropped.

    Example:
        >>> issuer_slugs("工业和信息化部\\u3000国家发展改革委、自然资源部")
        ('miit', 'ndrc', 'mnr')
    """
    out: list[str] = []
    for m in _ISSUER_ONE.finditer(text):
        slug = ISSUERS[m["name"]]
        if slug not in out:
            out.append(slug)
    return tuple(out)


def agency_slug(code: str) -> str | None:
    """Slug for an agency code such as ``工信部原`` or ``国办发`` (longest known prefix).

    Example:
        >>> agency_slug("工信部原"), agency_slug("国办发"), agency_slug("某某")
        ('miit', 'state-council-general-office', None)
    """
    for prefix in sorted(AGENCY_CODES, key=len, reverse=True):
        if code.startswith(prefix):
            return AGENCY_CODES[prefix]
    return None


def agency_code(run: str) -> tuple[int, str, str] | None:
    """``(offset, code, slug)`` of the agency code that ends a run of Han characters, else ``None``.

    The code starts at a known prefix (``AGENCY_CODES``) at most ``_MAX_CODE_TAIL`` characters
    before the end; with several candidates the longest prefix wins, then the rightmost start
    (``…商务部商办贸函`` → ``商办贸函``, ``国家发改委发改外资`` → ``发改外资``). The code is NFKC.

    Example:
        >>> agency_code("工信部原"), agency_code("经商务部商办贸函"), agency_code("某某发")
        ((0, '工信部原', 'miit'), (4, '商办贸函', 'mofcom-general-office'), None)
    """
    run = unicodedata.normalize("NFKC", run) if len(unicodedata.normalize("NFKC", run)) == len(run) else run
    best: tuple[int, int, str] | None = None  # (prefix length, offset, prefix)
    for i in range(len(run)):
        for prefix in AGENCY_CODES:
            if run.startswith(prefix, i) and len(run) - i - len(prefix) <= _MAX_CODE_TAIL:
                if best is None or (len(prefix), i) > best[:2]:
                    best = (len(prefix), i, prefix)
    if best is None:
        return None
    _, offset, prefix = best
    return offset, run[offset:], AGENCY_CODES[prefix]


def _bracket_number(m: re.Match[str], original: str) -> tuple[DocNumber, int] | None:
    """The DocNumber of a ``_BRACKET`` match and the offset where it starts, or None (unknown code)."""
    run, year, num = m["run"], int(m["year"]), str(int(m["num"]))
    series = _SERIES_RUN.search(run)
    if series is not None:  # 海关总署公告〔2027〕第3号 = 海关总署公告2027年第3号
        start = m.start("run") + series.start()
        return DocNumber(issuer_slugs(series["issuers"]), "year", num, year, original[start : m.end()]), start
    found = agency_code(run)
    if found is None:
        return None
    offset, code, slug = found
    start = m.start("run") + offset
    return DocNumber((slug,), "year", num, year, original[start : m.end()], code), start


def find_doc_numbers(text: str, *, default_issuers: tuple[str, ...] | None = None) -> list[NumberMatch]:
    """Every document-number citation in ``text``, expanded item by item, in text order.

    Example:
        >>> [m.key for m in find_doc_numbers("商务部 海关总署公告2025年第55号、56号及商务部公告2025年第61号")]
        ['mofcom+gacc:2025:55', 'mofcom+gacc:2025:56', 'mofcom:2025:61']
    """
    original = text
    text = fold_width(text)
    found: list[NumberMatch] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    for m in _BRACKET.finditer(text) if may_match(_BRACKET_NEEDS, text) else ():
        bracket = _bracket_number(m, original)
        if bracket is None:
            continue
        doc, start = bracket
        found.append(NumberMatch(doc, start, m.end(), original[start : m.end()]))
        taken.append((start, m.end()))

    for m in _ORDER.finditer(text) if may_match(_ORDER_NEEDS, text) else ():
        if not free(m.start(), m.end()):
            continue
        issuers = issuer_slugs(m["issuers"])
        number = str(int(m["num"]))
        if m["year"]:
            number = f"{int(m['year'])}-{number}"
        doc = DocNumber(issuers, "order", number, int(m["year"]) if m["year"] else None, original[m.start() : m.end()])
        found.append(NumberMatch(doc, m.start(), m.end(), original[m.start() : m.end()]))
        taken.append((m.start(), m.end()))

    for m in _CODE_ORDER.finditer(text) if may_match(_CODE_ORDER_NEEDS, text) else ():
        if not free(m.start(), m.end()):
            continue
        doc = DocNumber((ORDER_CODES[m["code"]],), "order", str(int(m["num"])), None, original[m.start() : m.end()])
        found.append(NumberMatch(doc, m.start(), m.end(), original[m.start() : m.end()]))
        taken.append((m.start(), m.end()))

    last_issuers: tuple[str, ...] = ()
    last_end = -1
    pos = 0
    while may_match(_HEAD_NEEDS, text):
        m = _HEAD.search(text, pos)
        if m is None:
            break
        if not free(m.start(), m.end()):
            pos = m.start() + 1
            continue
        items, end = _expand(text, m)
        if items is None:
            pos = m.end()
            continue
        if m["issuers"]:
            issuers = issuer_slugs(m["issuers"])
        elif last_end >= 0 and re.fullmatch(rf"{_SP}(?:、|,|，|和|及|与|以及){_SP}", text[last_end : m.start()]):
            issuers = last_issuers
        else:
            issuers = tuple(default_issuers or ())
        for year, number, start, stop in items:
            printed = original[start:stop]
            found.append(NumberMatch(DocNumber(issuers, "year", number, year, printed), start, stop, printed))
        taken.append((m.start(), end))
        last_issuers, last_end = issuers, end
        pos = end
    found.sort(key=lambda n: (n.start, n.end))
    return found


def _expand(text: str, head: re.Match[str]) -> tuple[list[tuple[int, str, int, int]] | None, int]:
    """Items (year, number, start, end) of a citation head and its continuations; ``None`` if not a number."""
    year = int(head["year"])
    items: list[tuple[int, str, int, int]] = []
    pos = head.end()
    start = head.start()
    current = [int(head["num"])]
    saw_hao = False
    while True:
        r = _RANGE.match(text, pos)
        if r and current and int(r["end"]) > current[-1] and int(r["end"]) - current[-1] <= _MAX_RANGE:
            current.extend(range(current[-1] + 1, int(r["end"]) + 1))
            pos = r.end()
            saw_hao = saw_hao or bool(r["hao"])
        h = _HAO.match(text, pos)
        if h:
            pos = h.end()
            saw_hao = True
        items.extend((year, str(n), start, pos) for n in current)
        c = _CONT.match(text, pos)
        if c is None:
            break
        if c["year"]:
            year = int(c["year"])
        start = c.start("num") if not c["di"] else c.start("di")
        current = [int(c["num"])]
        pos = c.end()
    if not saw_hao:
        if not head["kind"] or _NOT_NUMBER_AFTER.match(text, pos):
            return None, pos
    return items, pos


def parse_doc_number(text: str, *, default_issuers: tuple[str, ...] | None = None) -> DocNumber | None:
    """The first document number with a known issuer in a header or title, else ``None``.

    Example:
        >>> parse_doc_number("中华人民共和国国务院令 第785号").key
        'state-council:order:785'
    """
    for m in find_doc_numbers(text, default_issuers=default_issuers):
        if m.doc_number.issuers:
            return m.doc_number
    return _english_number(text)


def pattern_number(text: str, pattern: re.Pattern[str] | str, *, issuer: str | None = None,
                   issuers: dict[str, str] | None = None) -> DocNumber | None:
    """The first number a configured source's regex finds in ``text`` (named groups ``number``, and
    ``year`` and ``issuer`` when printed), else None. The printed ``issuer`` is looked up in
    ``issuers`` (whitespace ignored), else the source's own ``issuer`` slug is used; no slug, no number.
    A number without a year is an ``order``-style series.

    Example:
        >>> rx = r"(?P<issuer>海关总署)公告\\s*(?P<year>\\d{4})\\s*年第\\s*(?P<number>\\d+)\\s*号"
        >>> pattern_number("海关总署公告2026年第012号", rx, issuers={"海关总署": "gacc"}).key
        'gacc:2026:12'
        >>> pattern_number("第7号令", r"第(?P<number>\\d+)号", issuer="kcs").key
        'kcs:order:7'
        >>> pattern_number("无号", rx, issuer="gacc") is None
        True
    """
    m = (re.compile(pattern) if isinstance(pattern, str) else pattern).search(text)
    if m is None:
        return None
    groups = m.groupdict()
    printed = re.sub(r"\s+", "", groups.get("issuer") or "")
    slug = {re.sub(r"\s+", "", k): v for k, v in (issuers or {}).items()}.get(printed) or issuer
    raw = (groups.get("number") or "").strip()
    if not slug or not raw:
        return None
    number = str(int(raw)) if raw.isdigit() else raw
    year = groups.get("year")
    if year and year.strip().isdigit():
        return DocNumber((slug,), "year", number, int(year), m.group(0))
    return DocNumber((slug,), "order", number, None, m.group(0))


def agency_number(text: str) -> DocNumber | None:
    """The first agency-code number (``工信部原〔2012〕285号``) with a known code in ``text``, else None.

    Example:
        >>> agency_number("工信部原〔2012〕285号").key, agency_number("商务部公告2025年第61号")
        ('miit:工信部原:2012:285', None)
    """
    return next((m.doc_number for m in find_doc_numbers(text) if m.doc_number.code), None)


def rekey(stored_key: str | None, printed: str | None) -> str | None:
    """The B.2 key of a number stored as ``stored_key`` (by an older rule) and printed as ``printed``.

    Only agency-code numbers changed form (the code joined the key), so only they are keyed again,
    from the printed text, when its year and number are those of the stored key; every other key
    is kept: it may come from context the printed text lacks (a citing document's issuers for
    ``2024年第46号公告``, a METI release URL). Empty ``printed`` keeps the key too.

    Example:
        >>> rekey("miit:2012:285", "工信部原〔2012〕285号"), rekey("mofcom:2024:46", "2024年第46号公告")
        ('miit:工信部原:2012:285', 'mofcom:2024:46')
        >>> rekey("miit:工信部原:2012:285", "工信部原〔2012〕285号"), rekey("miit:2013:1", "工信部原〔2012〕285号")
        ('miit:工信部原:2012:285', 'miit:2013:1')
    """
    number = agency_number(printed) if printed else None
    if number is None:
        return stored_key
    if stored_key is not None and stored_key.split(":")[-2:] != [str(number.year), number.number]:
        return stored_key  # the stored key did not come from this number
    return number.key


# English titles of the same announcements (english.mofcom.gov.cn, seen 2025-2026):
# "MOFCOM Announcement No. 61 of 2025", "MOFCOM and GACC Announcement No.56 of 2025",
# "Announcement No. 61 [2025] of the Ministry of Commerce". One document, one key: the
# English copy gets the key of the Chinese original.
_ENGLISH_ISSUERS: dict[str, str] = {
    "mofcom": "mofcom",
    "ministry of commerce": "mofcom",
    "gacc": "gacc",
    "gac": "gacc",
    "general administration of customs": "gacc",
    "miit": "miit",
    "ministry of industry and information technology": "miit",
    "state council": "state-council",
}
_EN_ISSUER = "|".join(sorted((re.escape(k) for k in _ENGLISH_ISSUERS), key=len, reverse=True))
_ENGLISH = re.compile(
    rf"(?P<issuers>(?:(?:the\s+)?(?:{_EN_ISSUER})(?:\s*(?:,|and|&)\s*)?)+)\s*(?P<kind>Announcement|Order|Decree)\s*"
    rf"No\.?\s*(?P<number>\d+)\s*(?:of\s*(?P<year>(?:19|20)\d\d)|\[(?P<year2>(?:19|20)\d\d)\])?",
    re.I,
)
_ENGLISH_NO = re.compile(r"No", re.I)
_ENGLISH_TRAILING = re.compile(
    rf"(?P<kind>Announcement|Order|Decree)\s*No\.?\s*(?P<number>\d+)\s*(?:of\s*(?P<year>(?:19|20)\d\d)|"
    rf"\[(?P<year2>(?:19|20)\d\d)\])\s*of\s+(?P<issuers>(?:(?:the\s+)?(?:{_EN_ISSUER})(?:\s*(?:,|and|&)\s*)?)+)",
    re.I,
)


def _english_number(text: str) -> DocNumber | None:
    """``MOFCOM Announcement No. 61 of 2025`` -> ``mofcom:2025:61`` (None when it is not that shape).

    Example:
        >>> _english_number("MOFCOM and GACC Announcement No.56 of 2031 on ...").key
        'mofcom+gacc:2031:56'
    """
    m = _ENGLISH.search(text) or _ENGLISH_TRAILING.search(text)
    if m is None:
        return None
    names = re.findall(_EN_ISSUER, m["issuers"], flags=re.I)
    issuers = tuple(dict.fromkeys(_ENGLISH_ISSUERS[n.lower()] for n in names))
    year = m["year"] or m["year2"]
    if not issuers:
        return None
    if m["kind"].lower() == "announcement":
        if not year:
            return None
        return DocNumber(issuers, "year", m["number"], int(year), m.group(0).strip())
    return DocNumber(issuers, "order", m["number"] if not year else f"{year}-{m['number']}", None, m.group(0).strip())


def find_english_doc_numbers(text: str) -> list[NumberMatch]:
    """English citations (``MOFCOM and GACC Announcement No. 39 of 2026``) with their spans, in text order.

    Example:
        >>> [m.key for m in find_english_doc_numbers("MOFCOM Announcement No. 7 of 2031 shall be repealed.")]
        ['mofcom:2031:7']
    """
    out: list[NumberMatch] = []
    if not _ENGLISH_NO.search(text):  # both patterns need "No": skip their issuer alternations on Chinese text
        return out
    for pattern in (_ENGLISH, _ENGLISH_TRAILING):
        for m in pattern.finditer(text):
            if any(m.start() < o.end and o.start < m.end() for o in out):
                continue
            found = _english_number(m.group(0))
            if found is not None:
                out.append(NumberMatch(found, m.start(), m.end(), m.group(0)))
    return sorted(out, key=lambda n: n.start)


def parse_citation_list(text: str, default_issuers: tuple[str, ...] | None = None) -> list[DocNumber]:
    """Expanded, de-duplicated citations with a known issuer (issuer-less ones take ``default_issuers``).

    Example:
        >>> [d.key for d in parse_citation_list("2025年第55号至第57号公告", ("mofcom",))]
        ['mofcom:2025:55', 'mofcom:2025:56', 'mofcom:2025:57']
    """
    out: list[DocNumber] = []
    seen: set[str] = set()
    for m in find_doc_numbers(text, default_issuers=default_issuers):
        key = m.key
        if key is not None and key not in seen:
            seen.add(key)
            out.append(m.doc_number)
    return out


# --- METI -------------------------------------------------------------------------------------

_METI_ID = re.compile(r"(?<!\d)(?P<day>(?:19|20)\d{6})(?P<seq>\d{3})?(?!\d)")
# English releases: /english/press/2026/0331_004.html is the same release as 20260331004.
_METI_EN = re.compile(r"/english/press/(?P<year>(?:19|20)\d{2})/(?P<md>\d{4})_(?P<seq>\d{3})(?!\d)")


def meti_press_key(url: str) -> str | None:
    """``meti:press:YYYYMMDD[-NNN]`` from a METI press-release URL or a bare release id.

    Example:
        >>> meti_press_key("https://www.meti.go.jp/press/2025/10/20251009001/20251009001.html")
        'meti:press:20251009-001'
    """
    number = meti_press_number(url)
    return number.key if number else None


def meti_press_number(url: str | None = None, *, published: date | None = None) -> DocNumber | None:
    """METI release ``DocNumber`` from its URL/id; without an id, from the release date if given.

    Example:
        >>> meti_press_number("https://www.meti.go.jp/press/2025/10/x.html", published=date(2025, 10, 9)).key
        'meti:press:20251009'
    """
    if url:
        path = urlsplit(url).path if "/" in url else url
        english = _METI_EN.search(path)
        if english and _valid_day(english["year"] + english["md"]):
            day = english["year"] + english["md"]
            return DocNumber(("meti",), "press", f"{day}-{english['seq']}", int(english["year"]), url)
        if "/" not in url or "/press/" in path:
            for m in _METI_ID.finditer(path):
                if _valid_day(m["day"]):
                    number = m["day"] + (f"-{m['seq']}" if m["seq"] else "")
                    return DocNumber(("meti",), "press", number, int(m["day"][:4]), url)
    if published is not None:
        return DocNumber(("meti",), "press", published.strftime("%Y%m%d"), published.year, url or "")
    return None


def _valid_day(digits: str) -> bool:
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return True


__all__ = [
    "AGENCY_CODES",
    "ISSUERS",
    "ORDER_CODES",
    "NumberMatch",
    "agency_code",
    "agency_number",
    "agency_slug",
    "find_doc_numbers",
    "pattern_number",
    "find_english_doc_numbers",
    "issuer_slugs",
    "meti_press_key",
    "meti_press_number",
    "parse_citation_list",
    "parse_doc_number",
    "rekey",
]
