"""Frozen value types shared by the extraction core, the store and the CLI.

These are the contracts between stages: page classes produce a ``ParsedPage``
(``crawlers.pages.base``), ``pipeline.extract`` turns it into a ``DocumentRecord``,
the store persists it and ``pipeline.core.diff`` compares two of them.
All dates are legal dates in the issuer's calendar (``datetime.date``); all
timestamps are timezone-aware ``datetime`` values in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, get_args

DateType = Literal[
    "published",  # 发布日期 / 公布之日 / press date
    "signed",  # 成文日期
    "effective",  # 施行 / 实施 (optionally per clause)
    "suspended_from",
    "suspended_until",
    "expires",  # 有效期至
    "repealed",  # 废止
    "transition_until",  # 过渡期至 / 従前の例…まで / transition period ending: the old rules still apply until then
]
DATE_TYPES: tuple[str, ...] = get_args(DateType)

RelationType = Literal["suspends", "amends", "repeals", "supersedes", "implements", "extends", "resumes"]
RELATION_TYPES: tuple[str, ...] = get_args(RelationType)

CodeScheme = Literal["cn-dual-use", "us-eccn"]


@dataclass(frozen=True, slots=True)
class DocNumber:
    """A parsed document number (文号) and its canonical key (DOMAIN.md B.2).

    Example: ``商务部 海关总署公告2025年第56号`` ->
    ``DocNumber(issuers=("mofcom", "gacc"), kind="year", year=2025, number="56", text=...)``,
    ``key == "mofcom+gacc:2025:56"``. A number with an agency code (机关代字) and a bracketed
    year is its own yearly series, so the code (NFKC, as printed) is part of the key:
    ``工信部原〔2012〕285号`` -> ``DocNumber(("miit",), "year", "285", 2012, ..., code="工信部原")``,
    ``key == "miit:工信部原:2012:285"``.
    """

    issuers: tuple[str, ...]
    kind: Literal["year", "order", "press"]
    number: str
    year: int | None = None
    text: str = ""
    code: str | None = None  # agency code of a bracket-year number (工信部原, 国发, 工信厅原函)

    @property
    def key(self) -> str:
        prefix = "+".join(self.issuers)
        if self.kind == "order":
            return f"{prefix}:order:{self.number}"
        if self.kind == "press":
            return f"{prefix}:press:{self.number}"
        if self.code:
            return f"{prefix}:{self.code}:{self.year}:{self.number}"
        return f"{prefix}:{self.year}:{self.number}"


@dataclass(frozen=True, slots=True)
class DatedEvent:
    """A typed legal date with the sentence it came from."""

    type: str  # one of DATE_TYPES
    date: date
    clause: str | None = None  # e.g. "一(一)", "第二款", "Art.2"; None = whole document
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class CodeTag:
    """A control-list code (Chinese dual-use list code or US ECCN)."""

    scheme: str  # one of CodeScheme
    code: str  # canonical form: upper-case category letter, lower-case sub-items, no trailing dot
    evidence: str = ""
    where: str | None = None  # the attachment (URL) the code was read from; None = the body


@dataclass(frozen=True, slots=True)
class Relation:
    """This document acts on another one (suspends, amends, repeals, ...)."""

    type: str  # one of RELATION_TYPES
    target_key: str | None  # canonical key of the target, None if it could not be resolved
    target_text: str  # the citation as printed, e.g. "2025年第56号"
    until: date | None = None
    clause: str | None = None  # the target's clause acted on, e.g. "第二款"
    evidence: str = ""
    since: date | None = None  # start of a suspension when it is not the publication date


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment link and, once read (``pipeline.core.attachments``), how: its status
    (``read``, ``partial``, ``no_text_layer``, ``encrypted``, ``not_extracted``, …), a note for
    people, the PDF pages read and the SHA-256 of the body read. ``status`` None = not read."""

    url: str
    title: str
    status: str | None = None
    note: str = ""
    pages: int | None = None
    sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{url, title}``, plus ``status, note, pages, sha256`` once read."""
        data: dict[str, Any] = {"url": self.url, "title": self.title}
        if self.status is not None:
            data |= {"status": self.status, "note": self.note, "pages": self.pages, "sha256": self.sha256}
        return data


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """Everything regwatch knows about one version of one announcement.

    ``text`` is the cleaned body as published (original characters);
    ``canonical_text`` is the NFKC/whitespace-normalized text the content hash is computed on.
    """

    source: str
    url: str
    title: str | None
    language: str  # "zh" | "ja" | "en"
    text: str
    canonical_text: str
    content_hash: str
    doc_number: DocNumber | None = None
    published: date | None = None
    signed: date | None = None
    effective: date | None = None
    dates: tuple[DatedEvent, ...] = ()
    codes: tuple[CodeTag, ...] = ()
    elements: tuple[str, ...] = ()
    hs_codes: tuple[str, ...] = ()
    relations: tuple[Relation, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def doc_key(self) -> str | None:
        return self.doc_number.key if self.doc_number else None

    @property
    def issuers(self) -> tuple[str, ...]:
        return self.doc_number.issuers if self.doc_number else ()

    def to_json(self) -> dict[str, Any]:
        """The stable ``regwatch inspect --json`` shape (dates as YYYY-MM-DD, unknowns as null)."""
        return {
            "source": self.source,
            "url": self.url,
            "doc_key": self.doc_key,
            "doc_number": self.doc_number.text if self.doc_number else None,
            "issuers": list(self.issuers),
            "title": self.title,
            "language": self.language,
            "published": _iso(self.published),
            "signed": _iso(self.signed),
            "effective": _iso(self.effective),
            "dates": [
                {"type": d.type, "date": _iso(d.date), "clause": d.clause, "evidence": d.evidence}
                for d in self.dates
            ],
            "eccns": sorted({c.code for c in self.codes}),
            "codes": [{"scheme": c.scheme, "code": c.code, "evidence": c.evidence, "where": c.where}
                      for c in self.codes],
            "elements": sorted(set(self.elements)),
            "hs_codes": sorted(set(self.hs_codes)),
            "relations": [
                {
                    "type": r.type,
                    "target_key": r.target_key,
                    "target_text": r.target_text,
                    "until": _iso(r.until),
                    "clause": r.clause,
                    "since": _iso(r.since),
                    "evidence": r.evidence,
                }
                for r in self.relations
            ],
            "attachments": [a.to_json() for a in self.attachments],
            "text": self.text,
        }


def record_from_json(data: dict[str, Any], *, canonical_text: str = "", content_hash: str = "") -> DocumentRecord:
    """Rebuild a DocumentRecord from its ``to_json()`` form (as stored in ``Version.fields``)."""
    number = None
    if data.get("doc_key"):
        number = _number_from_key(data["doc_key"], data.get("doc_number") or "")
    return DocumentRecord(
        source=data.get("source") or "",
        url=data.get("url") or "",
        title=data.get("title"),
        language=data.get("language") or "zh",
        text=data.get("text") or "",
        canonical_text=canonical_text,
        content_hash=content_hash,
        doc_number=number,
        published=_date(data.get("published")),
        signed=_date(data.get("signed")),
        effective=_date(data.get("effective")),
        dates=tuple(
            DatedEvent(d["type"], _date(d["date"]), d.get("clause"), d.get("evidence") or "")  # type: ignore[arg-type]
            for d in data.get("dates") or ()
        ),
        codes=tuple(CodeTag(c["scheme"], c["code"], c.get("evidence") or "", c.get("where"))
                    for c in data.get("codes") or ()),
        elements=tuple(data.get("elements") or ()),
        hs_codes=tuple(data.get("hs_codes") or ()),
        relations=tuple(
            Relation(
                r["type"], r.get("target_key"), r.get("target_text") or "", _date(r.get("until")), r.get("clause"),
                r.get("evidence") or "", _date(r.get("since")),
            )
            for r in data.get("relations") or ()
        ),
        attachments=tuple(Attachment(a["url"], a.get("title") or "", a.get("status"), a.get("note") or "", a.get("pages"),
                                     a.get("sha256")) for a in data.get("attachments") or ()),
    )


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _number_from_key(key: str, text: str) -> DocNumber:
    """The DocNumber of a canonical key (the inverse of ``DocNumber.key``).

    Example:
        >>> _number_from_key("miit-general-office:工信厅原函:2026:58", "").code
        '工信厅原函'
        >>> _number_from_key("mofcom+gacc:2025:56", "").key, _number_from_key("meti:press:20251009-001", "").kind
        ('mofcom+gacc:2025:56', 'press')
    """
    issuers, _, rest = key.partition(":")
    parts = rest.split(":")
    if parts[0] in ("order", "press"):
        return DocNumber(tuple(issuers.split("+")), parts[0], ":".join(parts[1:]), None, text)  # type: ignore[arg-type]
    if len(parts) == 3:  # issuer:code:year:number
        return DocNumber(tuple(issuers.split("+")), "year", parts[2], int(parts[1]), text, parts[0])
    return DocNumber(tuple(issuers.split("+")), "year", parts[1], int(parts[0]), text)


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field-level difference between two versions, e.g. effective date moved."""

    field: str  # "effective", "code", "relation", "title", ...
    kind: Literal["added", "removed", "changed"]
    old: str | None
    new: str | None
    summary: str  # human readable: "effective date 2025-11-08 → 2025-12-01"


@dataclass(frozen=True, slots=True)
class TextDiff:
    """Character-level diff of canonical texts: diff-match-patch ops as (op, text) with op in -1/0/1."""

    ops: tuple[tuple[int, str], ...]
    inserted_chars: int = 0
    deleted_chars: int = 0
    timed_out: bool = False

    @property
    def changed(self) -> bool:
        return self.inserted_chars > 0 or self.deleted_chars > 0


@dataclass(frozen=True, slots=True)
class LegalStatus:
    """A document's legal status on a day, computed from its dates and incoming relations."""

    on: date
    status: Literal["not_yet_effective", "in_force", "suspended", "partly_suspended", "expired", "repealed", "unknown"]
    until: date | None = None  # suspension end, when suspended
    by: tuple[str, ...] = ()  # keys of the documents causing the status
    clauses: tuple[str, ...] = ()  # suspended clauses, when partly suspended
    note: str = ""


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat()[:10] if value is not None else None


__all__ = [
    "DATE_TYPES",
    "RELATION_TYPES",
    "Attachment",
    "CodeTag",
    "DatedEvent",
    "DocNumber",
    "DocumentRecord",
    "FieldChange",
    "LegalStatus",
    "Relation",
    "TextDiff",
    "record_from_json",
]
