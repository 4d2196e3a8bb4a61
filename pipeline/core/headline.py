"""A short English headline for a document, generated from its extracted fields (pure).

The headline is what a reader who does not read Chinese or Japanese sees first (alerts, the web
document page, the demo): who issued it, what it is, and what it does, e.g.
``MOFCOM/GACC Announcement 2025 No. 70 suspends 6 announcements until 2026-11-10``.

Rules (general, nothing about particular announcements):

- the subject is the document number in English: issuer abbreviations joined by ``/``
  (``ISSUER_NAMES``; an unknown slug is shown upper-cased), then the series — ``Announcement
  YEAR No. N`` (``Notice`` when printed 通告), ``Order No. N``, ``CODE [YEAR] No. N`` for an
  agency-code number, ``press release of YYYY-MM-DD`` for METI; without a number, the source's
  name and ``document of`` the publication date (or ``document`` alone);
- relations make the predicate, grouped by type, clause and until date, largest group first
  (at most two groups, then ``and N more actions``): one target is named
  (``suspends MOFCOM Announcement 2024 No. 46 (第二款) until 2026-11-27``), several are counted
  with the noun their keys share (``announcements``, ``orders``, else ``documents``);
- without relations: the control codes (count and the first three), else the elements, then
  the effective date if it differs from the publication date: ``… lists 4 control codes
  (3A001, 3B901.a, 3C901.a.1, …), effective 2025-11-08``; with nothing known, ``… published D``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from pipeline.core.records import DocNumber, DocumentRecord, Relation

# Issuer slug (pipeline.core.docnumber.ISSUERS values) -> English abbreviation.
ISSUER_NAMES: dict[str, str] = {
    "mofcom": "MOFCOM",
    "mofcom-general-office": "MOFCOM General Office",
    "gacc": "GACC",
    "gacc-general-office": "GACC General Office",
    "miit": "MIIT",
    "miit-general-office": "MIIT General Office",
    "ndrc": "NDRC",
    "mnr": "MNR",
    "state-council": "State Council",
    "state-council-general-office": "State Council General Office",
    "tariff-commission": "Customs Tariff Commission",
    "mof": "MOF",
    "most": "MOST",
    "sastind": "SASTIND",
    "caea": "CAEA",
    "cmc-edd": "CMC Equipment Development Department",
    "mfa": "MFA",
    "mps": "MPS",
    "mee": "MEE",
    "samr": "SAMR",
    "sat": "STA",
    "osca": "OSCA",
    "meti": "METI",
}
# Source slug -> name, for documents without a number.
SOURCE_NAMES: dict[str, str] = {"mofcom": "MOFCOM", "miit": "MIIT", "govcn": "gov.cn", "meti": "METI"}

# Relation type -> (verb for named targets, verb phrase before a counted group).
_VERBS: dict[str, str] = {
    "suspends": "suspends",
    "extends": "extends the suspension of",
    "resumes": "lifts the suspension of",
    "amends": "amends",
    "repeals": "repeals",
    "supersedes": "supersedes",
    "implements": "implements",
}
_NOUNS = {"year": ("announcement", "announcements"), "order": ("order", "orders"),
          "press": ("press release", "press releases")}
MAX_GROUPS = 2
MAX_CODES = 3


def issuer_label(issuers: Sequence[str]) -> str:
    """``MOFCOM/GACC`` from issuer slugs.

    Example:
        >>> issuer_label(("mofcom", "gacc")), issuer_label(("xyz",))
        ('MOFCOM/GACC', 'XYZ')
    """
    return "/".join(ISSUER_NAMES.get(s, s.upper()) for s in issuers)


def number_label(number: DocNumber) -> str:
    """The document number in English.

    Example:
        >>> number_label(DocNumber(("mofcom", "gacc"), "year", "70", 2025, "商务部 海关总署公告2025年第70号"))
        'MOFCOM/GACC Announcement 2025 No. 70'
        >>> number_label(DocNumber(("miit", "ndrc", "mnr"), "order", "71"))
        'MIIT/NDRC/MNR Order No. 71'
        >>> number_label(DocNumber(("miit",), "year", "285", 2012, code="工信部原"))
        'MIIT 工信部原 [2012] No. 285'
        >>> number_label(DocNumber(("meti",), "press", "20261120-002"))
        'METI press release of 2026-11-20'
    """
    who = issuer_label(number.issuers)
    if number.kind == "order":
        return f"{who} Order No. {number.number}".strip()
    if number.kind == "press":
        day = number.number.split("-", 1)[0]
        when = f"{day[:4]}-{day[4:6]}-{day[6:8]}" if len(day) == 8 and day.isdigit() else number.number
        return f"{who} press release of {when}".strip()
    if number.code:
        return f"{who} {number.code} [{number.year}] No. {number.number}".strip()
    series = "Notice" if "通告" in (number.text or "") else "Announcement"
    year = f" {number.year}" if number.year else ""
    return f"{who} {series}{year} No. {number.number}".strip()


def key_number(key: str) -> DocNumber | None:
    """A DocNumber back from a canonical key (``mofcom+gacc:2025:55``), None if it is not one.

    Example:
        >>> key_number("mofcom:2024:46").year, key_number("miit:工信部原:2012:285").code, key_number("x")
        (2024, '工信部原', None)
    """
    parts = key.split(":")
    issuers = tuple(p for p in parts[0].split("+") if p)
    if not issuers:
        return None
    if len(parts) == 3 and parts[1] in ("order", "press"):
        return DocNumber(issuers, parts[1], parts[2])  # type: ignore[arg-type]
    if len(parts) == 3 and parts[1].isdigit():
        return DocNumber(issuers, "year", parts[2], int(parts[1]))
    if len(parts) == 4 and parts[2].isdigit():
        return DocNumber(issuers, "year", parts[3], int(parts[2]), code=parts[1])
    return None


def subject(record: DocumentRecord) -> str:
    """Who issued what: the number in English, else the source and the publication date."""
    if record.doc_number is not None and record.doc_number.issuers:
        return number_label(record.doc_number)
    name = SOURCE_NAMES.get(record.source, record.source.upper() or "Unknown source")
    return f"{name} document of {record.published.isoformat()}" if record.published else f"{name} document"


def headline(record: DocumentRecord) -> str:
    """The English headline of one document version (see the module docstring for the rules).

    Example:
        >>> n70 = DocNumber(("mofcom", "gacc"), "year", "70", 2025, "商务部 海关总署公告2025年第70号")
        >>> rels = tuple(Relation("suspends", f"mofcom+gacc:2025:{n}", "", until=date(2026, 11, 10)) for n in (55, 56))
        >>> headline(DocumentRecord("mofcom", "u", "t", "zh", "", "", "h", doc_number=n70, relations=rels))
        'MOFCOM/GACC Announcement 2025 No. 70 suspends 2 announcements until 2026-11-10'
    """
    who = subject(record)
    if record.relations:
        return f"{who} {_actions(record.relations)}"
    return f"{who} {_content(record)}".rstrip()


def _actions(relations: Iterable[Relation]) -> str:
    groups: dict[tuple[str, str | None, date | None], list[str]] = {}
    for rel in relations:
        target = rel.target_key or rel.target_text
        bucket = groups.setdefault((rel.type, rel.clause, rel.until), [])
        if target and target not in bucket:
            bucket.append(target)
    ordered = sorted(groups.items(), key=lambda item: -len(item[1]))  # stable: printed order on ties
    phrases = [_phrase(kind, clause, until, targets) for (kind, clause, until), targets in ordered[:MAX_GROUPS]]
    rest = len(ordered) - MAX_GROUPS
    text = " and ".join(phrases)
    return text + (f" and {rest} more action{'s' if rest > 1 else ''}" if rest > 0 else "")


def _phrase(kind: str, clause: str | None, until: date | None, targets: list[str]) -> str:
    verb = _VERBS.get(kind, kind)
    if not targets:  # the citation could not be read at all
        what = "a document"
    elif len(targets) == 1:
        number = key_number(targets[0])
        what = number_label(number) if number is not None else targets[0]
    else:
        what = f"{len(targets)} {_plural(targets)}"
    where = f" ({clause})" if clause else ""
    return f"{verb} {what}{where}" + (f" until {until.isoformat()}" if until else "")


def _plural(targets: list[str]) -> str:
    kinds = {n.kind if (n := key_number(t)) is not None else None for t in targets}
    return _NOUNS[kinds.pop()][1] if len(kinds) == 1 and None not in kinds else "documents"  # type: ignore[index]


def _content(record: DocumentRecord) -> str:
    codes = sorted({c.code for c in record.codes})
    if codes:
        shown = ", ".join(codes[:MAX_CODES]) + (", …" if len(codes) > MAX_CODES else "")
        what = f"lists {len(codes)} control code{'s' if len(codes) > 1 else ''} ({shown})"
    elif record.elements:
        elements = sorted(set(record.elements))
        what = f"concerns {', '.join(elements[:5])}" + (", …" if len(elements) > 5 else "")
    else:
        what = ""
    if record.effective and record.effective != record.published:
        return f"{what}, effective {record.effective.isoformat()}" if what else f"takes effect {record.effective.isoformat()}"
    if what:
        return what
    is_dated_subject = record.doc_number is None or record.doc_number.kind == "press"
    return "" if is_dated_subject or not record.published else f"published {record.published.isoformat()}"


__all__ = ["ISSUER_NAMES", "headline", "issuer_label", "key_number", "number_label", "subject"]
