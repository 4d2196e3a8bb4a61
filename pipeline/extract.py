"""Turn a page (or a text snippet) into a DocumentRecord: the heart of ``regwatch inspect``.

Pure: values in, values out. The page class of the source reads the HTML into a
``ParsedPage``; this module types and tags it (document number, typed dates, control codes,
elements, HS codes, relations).
"""

from __future__ import annotations

import re
from dataclasses import replace
from collections.abc import Callable, Mapping
from datetime import date
from urllib.parse import urlsplit

from crawlers.errors import PageError
from crawlers.pages.base import Link, ParsedPage
from crawlers.sources import SOURCES, SourceDef
from pipeline.core.attachments import AttachmentText, attachment_name
from pipeline.core.dates import find_dates, parse_date, parse_timestamp
from pipeline.core.docnumber import (find_doc_numbers, find_english_doc_numbers, meti_press_key, parse_doc_number,
                                     pattern_number)
from pipeline.core.normalize import content_hash, match_text, record_canonical_text
from pipeline.core.records import Attachment, CodeTag, DatedEvent, DocNumber, DocumentRecord
from pipeline.core.tagging.codes import extract_codes
from pipeline.core.tagging.dates import extract_dates
from pipeline.core.tagging.elements import extract_elements
from pipeline.core.tagging.hs import extract_hs_codes
from pipeline.core.tagging.relations import extract_relations

# How many leading body lines may carry the document's own number (title block).
_HEAD_LINES = 4
# Characters of a body that are tagged (codes, dates, relations, elements, HS codes): real notices and
# their annex lists are far shorter; a multi-MB page is tagged on its head only (with a warning) so
# reading one takes seconds, not minutes. Its whole text is still kept, hashed and diffed.
MAX_TAGGED_CHARS = 1_000_000


class UnknownSource(ValueError):
    """The source slug is not one regwatch can read."""

    def __init__(self, source: str) -> None:
        super().__init__(f"unknown source {source!r}; use one of {', '.join(sorted(SOURCES))} or auto")


def detect_source(url: str, body: bytes | None = None) -> str:
    """Guess the source from the URL host (then from the page's site name).

    Example:
        >>> detect_source("https://xkzj.mofcom.gov.cn/tzgg/art/2025/art_x.html")
        'mofcom'
    """
    host = (urlsplit(url).hostname or "").lower()
    for source in SOURCES.values():
        if any(host == h or host.endswith("." + h) for h in source.allowed_hosts):
            return source.slug
    head = (body or b"")[:8192].decode("utf-8", "ignore")
    for marker, slug in (("商务部", "mofcom"), ("工业和信息化部", "miit"), ("経済産業省", "meti"), ("中国政府网", "govcn")):
        if marker in head:
            return slug
    raise UnknownSource(f"auto ({url or 'no URL'}: host not recognised; pass --source)")


def source_def(source: str) -> SourceDef:
    try:
        return SOURCES[source]
    except KeyError:
        raise UnknownSource(source) from None


def page_class(source: str) -> type:
    """The detail-page class of ``source`` (from the crawlers' source registry)."""
    return source_def(source).page_class("detail")


def parse_page(body: bytes, *, source: str, url: str, headers: Mapping[str, str] | None = None,
               status: int | None = 200, encoding: str | None = None, allow_empty: bool = False) -> ParsedPage:
    """Run the source's page class over raw bytes (raises crawlers.errors.PageError subclasses).

    ``allow_empty`` reads an empty article container as an empty body instead of raising
    EmptyArticle (a person accepted the capture with ``regwatch process --accept``).
    """
    cls = page_class(source)
    try:
        return cls(url, body, headers or {}, status=status, encoding=encoding, allow_empty=allow_empty).parse()
    except RecursionError:
        raise PageError(url, "markup nested too deeply to read", source=source) from None


def declared_url(body: bytes, *, headers: Mapping[str, str] | None = None, encoding: str | None = None) -> str | None:
    """The canonical URL a saved page declares (``<link rel=canonical>``, ``og:url``) when its host is
    one of the sources', else ``None`` (then the page is read under the URL it was given).

    Example:
        >>> declared_url(b'<html><head><meta property="og:url" content="https://www.meti.go.jp/press/2026/12/'
        ...              b'20261201001/20261201001.html"></head><body>x</body></html>')
        'https://www.meti.go.jp/press/2026/12/20261201001/20261201001.html'
        >>> declared_url(b'<html><head><link rel="canonical" href="https://example.com/a"></head></html>') is None
        True
    """
    from crawlers.pages.base import Page

    try:
        url = Page("about:blank", body, headers, encoding=encoding).canonical_url()
    except PageError:
        return None  # the page class will report what is wrong with the body
    if url is None:
        return None
    try:
        detect_source(url)
    except UnknownSource:
        return None
    return url


def extract_page(body: bytes, *, source: str, url: str, headers: Mapping[str, str] | None = None,
                 status: int | None = 200, encoding: str | None = None, allow_empty: bool = False,
                 attachments: Mapping[str, AttachmentText] | None = None,
                 read_attachments: Callable[[list[str]], Mapping[str, AttachmentText]] | None = None) -> DocumentRecord:
    """Parse and extract one saved page (``attachments``: the read attachments, see ``extract_parsed``;
    ``read_attachments``: called with the page's attachment URLs, returns them read).

    Example:
        record = extract_page(Path("page.html").read_bytes(), source="mofcom", url="https://www.mofcom.gov.cn/...")
    """
    if not url.lower().startswith(("http://", "https://")):  # a saved file: the page may name its own URL
        url = declared_url(body, headers=headers, encoding=encoding) or url
    if source == "auto":
        source = detect_source(url, body)
    parsed = parse_page(body, source=source, url=url, headers=headers, status=status, encoding=encoding,
                        allow_empty=allow_empty)
    if read_attachments is not None and parsed.attachments:
        attachments = {**read_attachments([a.url for a in parsed.attachments]), **(attachments or {})}
    return extract_parsed(parsed, attachments=attachments)


def extract_text(text: str, *, source: str, url: str, published: date | None, language: str = "zh",
                 title: str | None = None) -> DocumentRecord:
    """Extract from a plain-text snippet (no HTML), with the publication date as context."""
    parsed = ParsedPage(source=source, url=url, title=title, body_text=text, language=language,
                        published_text=published.isoformat() if published else None)
    return extract_parsed(parsed)


# Whose documents each site publishes first-hand; a page of another issuer's document is a copy.
_SITE_ISSUERS = {"mofcom": ("mofcom",), "miit": ("miit",), "govcn": ("state-council",), "meti": ("meti",)}
_REPRINT_TYPES = ("转载",)


def _is_copy(parsed: ParsedPage, number: DocNumber | None) -> bool:
    """Whether the page reprints a document first published elsewhere.

    A page that labels itself a reprint (MOFCOM 许可证局 ``类型：转载``), or a site's copy of a document
    none of whose issuers is the site's own (a MOFCOM announcement on gov.cn's 政策库).

    Example:
        >>> page = ParsedPage(source="govcn", url="https://www.gov.cn/zhengce/zhengceku/x.htm", title=None, body_text="")
        >>> _is_copy(page, parse_doc_number("商务部公告2026年第12号")), _is_copy(page, parse_doc_number("国发〔2026〕3号"))
        (True, False)
    """
    if parsed.meta.get("type", "").strip() in _REPRINT_TYPES:
        return True
    owners = _SITE_ISSUERS.get(parsed.source) or _configured_issuers(parsed.source)
    issuers = number.issuers if number else ()
    return bool(owners and issuers) and not any(i.startswith(o) for i in issuers for o in owners)


def _configured_issuers(source: str) -> tuple[str, ...]:
    """The issuer slugs a configured source publishes first-hand (its ``document_number`` issuer(s))."""
    spec = SOURCES[source].generic if source in SOURCES else None
    return tuple(dict.fromkeys(([spec.issuer] if spec.issuer else []) + list(spec.issuers.values()))) if spec else ()


def _configured_number(parsed: ParsedPage, title: str | None, body: str) -> DocNumber | None:
    """A configured source's own number: its regex over the number field, then the title, then the
    first body lines (DOMAIN B.2: the number is the identity; without one the URL is)."""
    spec = SOURCES[parsed.source].generic if parsed.source in SOURCES else None
    if spec is None or not spec.number_pattern:
        return None
    head = "\n".join([line for line in body.split("\n") if line.strip()][:_HEAD_LINES])
    for text in (parsed.doc_number_text, title, head):
        found = pattern_number(match_text(text), spec.number_pattern, issuer=spec.issuer,
                               issuers=spec.issuers) if text else None
        if found:
            return found
    return None


def attachment_heading(title: str, url: str) -> str:
    """The separator line put before an attachment's text in a record's text.

    Example:
        >>> attachment_heading("稀土行业规范条件.pdf", "https://x.cn/a/W1.pdf"), attachment_heading("", "https://x.cn/a/W1.pdf")
        ('【附件：稀土行业规范条件.pdf】', '【附件：W1.pdf】')
    """
    return f"【附件：{' '.join(title.split()) or attachment_name(url)}】"


def with_attachments(parsed: ParsedPage, attachments: Mapping[str, AttachmentText]) -> ParsedPage:
    """The page with the text of its read attachments (keyed by URL) appended to the body, each
    after its ``attachment_heading`` line, in the page's order: a changed annex changes the
    record's text, canonical text and content hash. Attachments without text add nothing."""
    parts = [parsed.body_text] if parsed.body_text.strip() else []
    added = 0
    for link in parsed.attachments:
        read = attachments.get(link.url)
        if read is not None and read.has_text:
            parts.append(f"{attachment_heading(link.title, link.url)}\n{read.text.strip()}")
            added += 1
    if not added:
        return parsed
    return replace(parsed, body_text="\n\n".join(parts))


def extract_file(read: AttachmentText, *, source: str, url: str, title: str | None = None,
                 language: str | None = None) -> DocumentRecord:
    """The record of a file read on its own (``regwatch inspect annex.pdf``): its text as the only
    attachment of an empty page, so codes name it (``where``) and its status is in ``attachments``;
    a file without text says why in ``warnings``.

    Example:
        >>> record = extract_file(AttachmentText("物项 3A001", "read"), source="govcn", url="file:///a/annex.pdf")
        >>> record.text, [(c.code, c.where) for c in record.codes], record.attachments[0].status
        ('【附件：annex.pdf】\\n物项 3A001', [('3A001', 'file:///a/annex.pdf')], 'read')
    """
    source_def(source)  # UnknownSource for a slug regwatch cannot read
    language = language or ("ja" if source == "meti" else "zh")
    name = attachment_name(url)
    parsed = ParsedPage(source=source, url=url, title=title, body_text="", language=language,
                        attachments=(Link(url, name),))
    record = extract_parsed(parsed, attachments={url: read})
    if read.has_text:
        return record
    return replace(record, warnings=(f"{source}: {url}: {read.status}: {read.note or 'no text'}",))


def _attribute_codes(codes: list[CodeTag], parsed: ParsedPage, attachments: Mapping[str, AttachmentText]) -> list[CodeTag]:
    """Each code found in the body stays unattributed; one found only in an attachment names it (``where``)."""
    in_body = {(c.scheme, c.code) for c in extract_codes(match_text(parsed.body_text), language=parsed.language)}
    found: dict[tuple[str, str], str] = {}
    for link in parsed.attachments:
        read = attachments.get(link.url)
        if read is None or not read.has_text:
            continue
        for c in extract_codes(match_text(read.text), language=parsed.language):
            found.setdefault((c.scheme, c.code), link.url)
    return [c if (c.scheme, c.code) in in_body else replace(c, where=found.get((c.scheme, c.code))) for c in codes]


def _annex_texts(parsed: ParsedPage, attachments: Mapping[str, AttachmentText]) -> tuple[tuple[str, str], ...]:
    """(title, text) of each attachment with text, in the page's order."""
    return tuple((" ".join(link.title.split()) or attachment_name(link.url), read.text)
                 for link in parsed.attachments if (read := attachments.get(link.url)) is not None and read.has_text)


def _read_attachments(parsed: ParsedPage, attachments: Mapping[str, AttachmentText]) -> tuple[Attachment, ...]:
    out = []
    for link in parsed.attachments:
        read = attachments.get(link.url)
        out.append(Attachment(link.url, link.title) if read is None else
                   Attachment(link.url, link.title, read.status, read.note, read.pages, read.sha256))
    return tuple(out)


def extract_parsed(parsed: ParsedPage, *, attachments: Mapping[str, AttachmentText] | None = None) -> DocumentRecord:
    """Type and tag a ParsedPage (pure).

    ``attachments``: attachment URL -> its text as read (``pipeline.core.attachments``). Their text is
    tagged with the body's (codes, HS codes, elements, dates; relations are read from the body,
    and from an annex only when the body points to it as its list) and becomes part of the record's text (see ``with_attachments``); a code read only from
    an attachment names it in ``where``.
    """
    attachments = attachments or {}
    own = parsed
    parsed = with_attachments(parsed, attachments)
    tz = SOURCES[parsed.source].timezone if parsed.source in SOURCES else "Asia/Shanghai"
    body = match_text(parsed.body_text)
    long_body = len(body) > MAX_TAGGED_CHARS
    body = body[:MAX_TAGGED_CHARS]
    title = " ".join(parsed.title.split()) if parsed.title else None  # as printed, whitespace collapsed
    number = _own_number(parsed, title, body)
    published = _as_date(parsed.published_text, tz) or _labelled_published(body)
    signed = _as_date(parsed.signed_text, tz)
    own_key = number.key if number else None
    published_text = parsed.published_text
    if signed is not None and published is not None and signed < published and _is_copy(parsed, number):
        # a reprint posted later: the document was published on its own printed date
        published, published_text = signed, parsed.signed_text

    # "自公布之日起施行" / "自即日起" refer to the instrument's own date: the signed (成文) date when
    # printed, else the publication date (an order signed in July may be posted in August).
    events = list(extract_dates(body, published=signed or published))
    if signed is None:  # the signature date at the foot of the body is the instrument's date
        signed = next((e.date for e in events if e.type == "signed"), None)
        if signed is not None and signed != published:
            events = list(extract_dates(body, published=signed))
    if published:  # the page's own publication date wins over a label quoted in the body
        events = [e for e in events if e.type != "published" or e.date == published]
        if not any(e.type == "published" for e in events):
            events.insert(0, DatedEvent("published", published, None, (published_text or "").strip()))
    if signed and not any(e.type == "signed" and e.date == signed for e in events):
        events.insert(1 if published else 0, DatedEvent("signed", signed, None, (parsed.signed_text or "").strip()))
    discussion = bool(title and _DISCUSSES.search(title))
    if discussion:  # a Q&A or interpretation restates other documents' dates: they are not its own
        events = [e for e in events if e.type in ("published", "signed")]
    events = _dedupe(events)
    if published is None:
        published = next((e.date for e in events if e.type == "published"), None)
    if signed is None:
        signed = next((e.date for e in events if e.type == "signed"), None)
    effective = _whole_document_effective(events)

    issuers = number.issuers if number else None
    # Relations come from the body: an annex quoting other documents' numbers (a list of the
    # measures it consolidates) must not suspend or repeal them. Only a body sentence that points to
    # its annex as the list of what it acts on ("目录见附件") reads the attachments' lines.
    relations = [] if discussion else extract_relations(body if parsed is own else match_text(own.body_text)[:MAX_TAGGED_CHARS],
                                                        self_key=own_key, default_issuers=issuers,
                                                        published=published, annexes=_annex_texts(own, attachments),
                                                        effective=effective)
    codes = extract_codes(body, language=parsed.language)
    if parsed is not own:
        codes = _attribute_codes(codes, own, attachments)
    elements = extract_elements(f"{title or ''}\n{body}")
    hs_codes = extract_hs_codes(body)
    canon = record_canonical_text(title, parsed.body_text)
    return DocumentRecord(
        source=parsed.source,
        url=parsed.url,
        title=title,
        language=parsed.language,
        text=parsed.body_text,
        canonical_text=canon,
        content_hash=content_hash(canon),
        doc_number=number,
        published=published,
        signed=signed,
        effective=effective,
        dates=tuple(events),
        codes=tuple(codes),
        elements=tuple(elements),
        hs_codes=tuple(hs_codes),
        relations=tuple(relations),
        attachments=_read_attachments(parsed, attachments),
        warnings=tuple(parsed.warnings) + (
            () if body.strip() else (f"{parsed.source}: {parsed.url}: the page parsed but its body holds no text",)
        ) + ((f"{parsed.source}: {parsed.url}: the body is longer than {MAX_TAGGED_CHARS:,} characters; codes, "
              f"dates and relations were read from its first {MAX_TAGGED_CHARS:,} only (the whole text is kept)",)
             if long_body else ()),
    )


def _own_number(parsed: ParsedPage, title: str | None, body: str) -> DocNumber | None:
    """The document's own number: the header field (【发布文号】, 发文字号), the METI release id, a
    title that starts with a number, or a line at the top of the body that is only a number.

    Numbers cited inside sentences ("根据商务部公告…", a Q&A page about an announcement) are
    never the document's own.
    """
    configured = _configured_number(parsed, title, body)
    if configured:
        return configured
    if parsed.doc_number_text:
        found = parse_doc_number(match_text(parsed.doc_number_text))
        if found:
            return found
    if parsed.source == "meti":
        key = meti_press_key(parsed.url)
        if key:
            issuers, _, number = key.partition(":press:")
            return DocNumber(tuple(issuers.split("+")), "press", number, None, parsed.doc_number_text or number)
    if title and not _DISCUSSES.search(title):
        found = _leading_number(match_text(title))
        if found is None and parsed.language == "en":  # "MOFCOM Announcement No. 61 of 2025 on …"
            found = parse_doc_number(match_text(title))
        if found:
            return found
    head = [line.strip() for line in body.split("\n") if line.strip()][:_HEAD_LINES]
    for i, line in enumerate(head):
        found = _leading_number(line, whole=True)
        if found is None and parsed.language == "en":  # a line "MOFCOM Announcement No. 61 of 2025"
            english = find_english_doc_numbers(line)
            if len(english) == 1 and not (line[: english[0].start] + line[english[0].end:]).strip(" .:"):
                found = parse_doc_number(line)
        if found:
            return found
        # "工业和信息化部 国家发展改革委 自然资源部令" / "第71号" printed on two lines
        if line.endswith(("令", "公告")) and i + 1 < len(head):
            found = _leading_number(f"{line} {head[i + 1]}", whole=True)
            if found:
                return found
    return None


def _leading_number(text: str, *, whole: bool = False) -> DocNumber | None:
    """A number printed at the very start of ``text`` (and, with ``whole``, making up all of it)."""
    matches = find_doc_numbers(text)
    if not matches or text[: matches[0].start].strip():
        return None
    rest = text[matches[0].end:].strip()
    if whole and rest:
        return None
    return matches[0].doc_number


# Pages about another document ("商务部公告2025年第61号政策解读", "…答记者问") carry its number in
# their title without being it.
_DISCUSSES = re.compile(r"解读|答记者问|答问|问答|记者会|发布会|图解|一图读懂|評論|解説|Q&A|FAQ", re.I)

# Labelled publication dates inside a snippet ("发布时间：2025-10-09 18:00", "公表日：R7.10.9").
_PUBLISHED_LABEL = re.compile(r"(?:发布时间|发布日期|公布日期|发文日期|公表日|発表日)\s*[:：]\s*([^\n]{6,24})")


def _labelled_published(body: str) -> date | None:
    """The date right after a publication label in the body (snippets without page metadata)."""
    m = _PUBLISHED_LABEL.search(body)
    found = find_dates(m.group(1)) if m else []
    return found[0].date if found and not m.group(1)[: found[0].start].strip() else None


def _as_date(text: str | None, tz: str) -> date | None:
    """A metadata date or timestamp (in the issuer's zone) as a calendar date."""
    if not text:
        return None
    text = match_text(text).strip()
    stamp = parse_timestamp(text, tz)
    return stamp.date() if stamp is not None else parse_date(text)


def _whole_document_effective(events: list[DatedEvent]) -> date | None:
    whole = [e.date for e in events if e.type == "effective" and not e.clause]
    if whole:
        return whole[0]
    clauses = [e.date for e in events if e.type == "effective"]
    return min(clauses) if clauses else None


def _dedupe(events: list[DatedEvent]) -> list[DatedEvent]:
    seen: set[tuple[str, date, str | None]] = set()
    out: list[DatedEvent] = []
    for event in events:
        key = (event.type, event.date, event.clause)
        if key not in seen:
            seen.add(key)
            out.append(event)
    return out


__all__ = ["UnknownSource", "detect_source", "extract_page", "extract_parsed", "extract_text", "page_class", "parse_page"]
