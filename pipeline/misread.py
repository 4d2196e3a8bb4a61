"""Suspected misreads: a new record that lost its substance compared with the document's last version.

A page read wrongly (a GBK page decoded as Latin-1, an article container served empty, markup the
parser gave up on) must never become a version: its diff would tell a legal team "doc number
removed; effective date removed; 5 codes removed" and flip the document's legal status. So
before a version is written, the new record is compared with the last one stored from the same
URL (``pipeline.process``), and the capture is *held* for a person when any of these holds:

- **empty body**: the new record has no body text (and no attachment to explain it) while the
  last version had some; with no last version, an empty body with no attachment;
- **body mostly gone**: the body text (whitespace not counted) is below ``KEPT_SHARE`` (35 %) of
  the last version's, which had at least ``MIN_CHARS`` (200) characters. Amendments and
  corrections keep most of an announcement; a notice replaced by a stub is exactly what a person
  must confirm;
- **substance vanished**: the last version had at least two of {its own document number, dates
  other than the publication date, control codes} and the new record has none of any of them
  (the publication date usually survives a misread: it comes from the page's metadata);
- **mojibake**: at least ``MOJIBAKE_SHARE`` (30 %) of the non-ASCII characters (at least
  ``MIN_MOJIBAKE`` = 10 of them) are U+FFFD or runs of Latin-1 letters, while the last version was
  clean or the record is Chinese/Japanese; or, on a Chinese/Japanese page, at least
  ``FOREIGN_SHARE`` (20 %) of the non-ASCII text is letters of another script (Hangul, Cyrillic…:
  GBK read as cp949) where the last version had under 5 %.

Records in another language than the last version (an English copy with the same key) are only
checked for an empty body. Pure functions: records in, a reason string (or None) out.
"""

from __future__ import annotations

import unicodedata

from crawlers.pages.encoding import mojibake_share
from pipeline.core.records import DocumentRecord

KEPT_SHARE = 0.35
MIN_CHARS = 200
MOJIBAKE_SHARE = 0.3
MIN_MOJIBAKE = 10
FOREIGN_SHARE = 0.2
_CJK_LANGUAGES = ("zh", "ja")


def suspected_misread(previous: DocumentRecord | None, current: DocumentRecord) -> str | None:
    """Why ``current`` looks like a misread of the document whose last version is ``previous``, or None.

    ``previous`` is the last stored version (``record_from_json(version.fields,
    canonical_text=version.canonical_text)``), None for a document never seen.

    Example:
        >>> from pipeline.extract import extract_text
        >>> good = extract_text("商务部公告2031年第9号\\n一、对1C902.a实施管制。\\n本公告自2031年3月1日起施行。" * 9,
        ...                     source="mofcom", url="u", published=None)
        >>> suspected_misread(good, good) is None
        True
        >>> stub = extract_text("页面维护中。", source="mofcom", url="u", published=None)
        >>> print(suspected_misread(good, stub))
        body text mostly gone (6 characters, the last version had 405); doc number mofcom:2031:9, 1 date and 1 code all vanished
    """
    reasons: list[str] = []
    body, before = _body_chars(current), _body_chars(previous) if previous else 0
    if body == 0 and not current.attachments and (previous is None or before > 0):
        reasons.append("empty body" + (f" (the last version had {before} characters)" if previous else ""))
    if previous is not None and previous.language != current.language:
        return "; ".join(reasons) or None
    if previous is not None and body and before >= MIN_CHARS and body < KEPT_SHARE * before:
        reasons.append(f"body text mostly gone ({body} characters, the last version had {before})")
    if previous is not None:
        vanished = _vanished(previous, current)
        if vanished:
            reasons.append(vanished)
    garbled = _garbled(previous, current)
    if garbled:
        reasons.append(garbled)
    return "; ".join(reasons) or None


def _body_chars(record: DocumentRecord) -> int:
    """Characters of the body text, whitespace not counted (the title is not part of it)."""
    return sum(1 for ch in record.text if not ch.isspace())


def _own_dates(record: DocumentRecord) -> list[str]:
    return [d.type for d in record.dates if d.type != "published"]


def _vanished(previous: DocumentRecord, current: DocumentRecord) -> str | None:
    """"doc number X, 3 dates and 4 codes all vanished" when every kind the last version had is gone."""
    had = {
        "doc number": previous.doc_key,
        "date": len(_own_dates(previous)),
        "code": len({c.code for c in previous.codes}),
    }
    has = {"doc number": current.doc_key, "date": len(_own_dates(current)), "code": len(current.codes)}
    kinds = [k for k, v in had.items() if v]
    if len(kinds) < 2 or any(has[k] for k in kinds):
        return None
    parts = []
    for kind in kinds:
        value = had[kind]
        parts.append(f"doc number {value}" if kind == "doc number" else f"{value} {kind}{'s' if value != 1 else ''}")
    listed = ", ".join(parts[:-1]) + f" and {parts[-1]}"
    return f"{listed} all vanished"


def _foreign_share(text: str) -> float:
    """Share of non-ASCII characters that are letters of scripts a Chinese/Japanese page does not print:
    neither CJK ideographs, kana, Latin nor Greek (Hangul above all: GBK bytes read as cp949)."""
    chars = [ch for ch in text if ord(ch) > 0x7F and not ch.isspace()]
    if not chars:
        return 0.0
    foreign = sum(1 for ch in chars if unicodedata.category(ch).startswith("L") and not _cjk_or_latin(ch))
    return foreign / len(chars)


def _cjk_or_latin(ch: str) -> bool:
    return (ch <= "\u03ff" or "\u1e00" <= ch <= "\u1eff" or "\u3000" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff"
            or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef" or "\U00020000" <= ch <= "\U0003134f")


def _garbled(previous: DocumentRecord | None, current: DocumentRecord) -> str | None:
    text = f"{current.title or ''}\n{current.text}"
    non_ascii = sum(1 for ch in text if ord(ch) > 0x7F and not ch.isspace())
    if non_ascii < MIN_MOJIBAKE:
        return None
    share = mojibake_share(text)
    before = mojibake_share(f"{previous.title or ''}\n{previous.text}") if previous else None
    cjk_context = current.language in _CJK_LANGUAGES or (previous is not None and previous.language in _CJK_LANGUAGES)
    if share >= MOJIBAKE_SHARE and (cjk_context or (before is not None and before < MOJIBAKE_SHARE / 3)):
        return (f"mojibake: {share:.0%} of the non-ASCII text is U+FFFD or runs of Latin-1 letters"
                + (f" (the last version: {before:.0%})" if before is not None else ""))
    if cjk_context:
        was = _foreign_share(f"{previous.title or ''}\n{previous.text}") if previous else 0.0
        now = _foreign_share(text)
        if now >= FOREIGN_SHARE and was < FOREIGN_SHARE / 4:
            return (f"text no longer reads as Chinese/Japanese: {now:.0%} of the non-ASCII text is letters of "
                    f"another script (the last version: {was:.0%})")
    return None


__all__ = ["FOREIGN_SHARE", "KEPT_SHARE", "MIN_CHARS", "MOJIBAKE_SHARE", "suspected_misread"]
