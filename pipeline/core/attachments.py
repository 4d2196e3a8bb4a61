"""Read the text of an attachment (PDF, DOCX, XLSX) as stored: pure, bytes in, ``AttachmentText`` out.

Many rules live in their attachments (annex lists of items with codes; gov.cn department documents
published only as a PDF). This module reads what can be read honestly and says why when it cannot:

- PDF (pypdf): the text layer, up to ``MAX_PAGES`` pages and ``TIME_LIMIT`` seconds (checked
  between pages); an encrypted PDF that needs a password is ``encrypted``; a PDF whose pages carry
  no text (a scan) is ``no_text_layer`` — never an empty text.
- DOCX / XLSX: their XML parts via ``zipfile`` and lxml with entity expansion, DTD loading and
  network access off; a part that declares a DTD is refused (OOXML never needs one).
- Legacy DOC / WPS / XLS (OLE2) and anything else: ``not_extracted`` with a note.

Statuses: ``read``, ``partial`` (page or time cap hit: the first pages' text), ``no_text_layer``,
``encrypted``, ``too_large``, ``unreadable`` (corrupt file), ``not_extracted``. Only ``read`` and
``partial`` carry text.

Example:
    >>> read_attachment(b"PK-not-really", filename="a.docx").status
    'unreadable'
    >>> read_attachment(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(100), filename="附件.wps").note
    'legacy Office/WPS file (.wps): not extracted; open it by hand'
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

MAX_BYTES = 30 * 1024 * 1024  # attachment size cap
MAX_PAGES = 200  # PDF page cap
TIME_LIMIT = 20.0  # seconds per file (checked between PDF pages)
MAX_XML_BYTES = 20 * 1024 * 1024  # uncompressed size cap of one OOXML part (zip bombs)
TEXT_STATUSES = ("read", "partial")
_OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")
_LEGACY = (".doc", ".wps", ".xls", ".et", ".ppt", ".dps")


@dataclass(frozen=True, slots=True)
class AttachmentText:
    """The text read from one attachment, its status (see the module doc), a note for people, pages read."""

    text: str
    status: str
    note: str = ""
    pages: int | None = None
    sha256: str | None = None  # of the body read

    @property
    def has_text(self) -> bool:
        return self.status in TEXT_STATUSES and bool(self.text.strip())


def attachment_name(url: str) -> str:
    """The file name of an attachment URL (percent-decoded).

    Example:
        >>> attachment_name("https://www.gov.cn/zhengce/zhengceku/202508/W0205.pdf?x=1")
        'W0205.pdf'
    """
    return unquote(PurePosixPath(urlsplit(url).path).name)


def is_attachment_file(body: bytes, filename: str = "") -> bool:
    """Whether a saved file is an attachment (PDF, Office/WPS, zip) rather than a page.

    Example:
        >>> is_attachment_file(b"%PDF-1.7 ..."), is_attachment_file(b"<html>", "page.html"), is_attachment_file(b"", "a.wps")
        (True, False, True)
    """
    suffix = PurePosixPath(filename.lower()).suffix
    return (body.startswith((b"%PDF", _OLE2, b"PK\x03\x04")) or suffix in (".pdf", ".docx", ".xlsx") + _LEGACY)


def read_attachment(body: bytes, *, filename: str = "", content_type: str = "",
                    clock: Callable[[], float] = time.monotonic) -> AttachmentText:
    """Read one attachment's text; never raises for bad input (the status says what happened)."""
    return replace(_read(body, filename, content_type, clock), sha256=hashlib.sha256(body).hexdigest())


def _read(body: bytes, filename: str, content_type: str, clock: Callable[[], float]) -> AttachmentText:
    if len(body) > MAX_BYTES:
        return AttachmentText("", "too_large", f"{len(body)} bytes, over the {MAX_BYTES}-byte cap: not read")
    suffix = PurePosixPath(filename.lower()).suffix
    ctype = content_type.lower()
    if body.startswith(b"%PDF") or (b"%PDF-" in body[:1024]):
        return _pdf(body, clock)
    if body.startswith(_OLE2) or suffix in _LEGACY or "msword" in ctype or "ms-excel" in ctype:
        kind = suffix or ("an OLE2 file" if body.startswith(_OLE2) else ctype)
        return AttachmentText("", "not_extracted", f"legacy Office/WPS file ({kind}): not extracted; open it by hand")
    if body.startswith(b"PK") or suffix in (".docx", ".xlsx"):
        return _ooxml(body, suffix)
    if suffix == ".pdf" or "pdf" in ctype:
        return AttachmentText("", "unreadable", "named a PDF but is not one (no %PDF header): not read")
    return AttachmentText("", "not_extracted", f"file type {suffix or ctype or 'unknown'} is not read")


def _pdf(body: bytes, clock: Callable[[], float]) -> AttachmentText:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    started = clock()
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf logs every repaired xref as a warning
    try:
        reader = PdfReader(io.BytesIO(body))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (PyPdfError, NotImplementedError, ValueError):
                opened = 0
            if not opened:
                return AttachmentText("", "encrypted", "encrypted: not read (a password is needed)")
        total = len(reader.pages)
        texts: list[str] = []
        note = ""
        for index in range(min(total, MAX_PAGES)):
            if clock() - started > TIME_LIMIT:
                note = f"time limit of {TIME_LIMIT:g} s reached: read {index} of {total} pages"
                break
            texts.append((reader.pages[index].extract_text() or "").strip())
        else:
            if total > MAX_PAGES:
                note = f"page cap: read the first {MAX_PAGES} of {total} pages"
    except (PyPdfError, NotImplementedError, ValueError, KeyError, TypeError, AttributeError,
            RecursionError, OSError, ZeroDivisionError) as exc:
        return AttachmentText("", "unreadable", f"PDF cannot be read ({type(exc).__name__}: {exc})"[:300])
    text = "\n".join(t for t in texts if t)
    if not text.strip():
        if not texts:
            return AttachmentText("", "unreadable", note or "PDF has no pages", 0)
        return AttachmentText("", "no_text_layer", "no text layer (a scan?): not read; OCR is not done", len(texts))
    return AttachmentText(text, "partial" if note else "read", note, len(texts))


# --- OOXML ------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_SHEET = re.compile(r"xl/worksheets/sheet(\d+)\.xml")


class _Refused(Exception):
    pass


def _ooxml(body: bytes, suffix: str) -> AttachmentText:
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        names = set(archive.namelist())
        if "word/document.xml" in names:
            return _ooxml_text(_docx_text(_xml(archive, "word/document.xml")))
        if "xl/workbook.xml" in names:
            return _ooxml_text(_xlsx_text(archive, names))
    except _Refused as exc:
        return AttachmentText("", "unreadable", str(exc))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        return AttachmentText("", "unreadable", f"{suffix or 'zip'} file cannot be read ({type(exc).__name__}: {exc})"[:300])
    return AttachmentText("", "not_extracted", f"zip file ({suffix or 'no suffix'}) is neither DOCX nor XLSX: not read")


def _ooxml_text(text: str) -> AttachmentText:
    return AttachmentText(text, "read") if text.strip() else AttachmentText("", "read", "the file holds no text")


def _xml(archive: zipfile.ZipFile, name: str):
    """Parse one part safely: size-capped, no DTD, no entity expansion, no network."""
    from lxml import etree

    info = archive.getinfo(name)
    if info.file_size > MAX_XML_BYTES:
        raise _Refused(f"{name} is {info.file_size} bytes uncompressed, over the {MAX_XML_BYTES}-byte cap: not read")
    with archive.open(name) as part:
        data = part.read(MAX_XML_BYTES + 1)
    if len(data) > MAX_XML_BYTES:
        raise _Refused(f"{name} is over the {MAX_XML_BYTES}-byte cap: not read")
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise _Refused(f"{name} declares a DTD or entities (never needed in OOXML): not read")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _Refused(f"{name} is not well-formed XML ({exc}): not read") from None


def _docx_text(root) -> str:
    """Paragraph text of a DOCX body (tables row by row, cells separated by tabs)."""
    lines = []
    for para in root.iter(f"{_W}p"):
        parts = []
        for node in para.iter(f"{_W}t", f"{_W}tab", f"{_W}br"):
            parts.append(node.text or "" if node.tag == f"{_W}t" else ("\t" if node.tag == f"{_W}tab" else "\n"))
        lines.append("".join(parts))
    return "\n".join(line for line in lines if line.strip())


def _xlsx_text(archive: zipfile.ZipFile, names: set[str]) -> str:
    """Each sheet's rows, cells separated by tabs (shared and inline strings, numbers as stored)."""
    shared: list[str] = []
    if "xl/sharedStrings.xml" in names:
        shared = ["".join(t.text or "" for t in si.iter(f"{_S}t"))
                  for si in _xml(archive, "xl/sharedStrings.xml").iter(f"{_S}si")]
    sheets = sorted((int(m.group(1)), n) for n in names if (m := _SHEET.fullmatch(n)))
    lines = []
    for _, name in sheets:
        for row in _xml(archive, name).iter(f"{_S}row"):
            cells = []
            for cell in row.iter(f"{_S}c"):
                kind, value = cell.get("t"), cell.find(f"{_S}v")
                if kind == "s" and value is not None and (value.text or "").strip().isdigit():
                    index = int(value.text.strip())
                    cells.append(shared[index] if index < len(shared) else "")
                elif kind == "inlineStr":
                    cells.append("".join(t.text or "" for t in cell.iter(f"{_S}t")))
                else:
                    cells.append(value.text or "" if value is not None else "")
            if any(c.strip() for c in cells):
                lines.append("\t".join(cells).rstrip())
    return "\n".join(lines)


__all__ = ["AttachmentText", "MAX_BYTES", "MAX_PAGES", "TIME_LIMIT", "attachment_name", "is_attachment_file",
           "read_attachment"]
