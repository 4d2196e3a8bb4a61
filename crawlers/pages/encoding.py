"""Decoding a page's raw bytes: which charset the page is really in, and what a few bad bytes cost.

Evidence, strongest first (w3lib's order, ECOSYSTEM §3, with two changes):

1. a UTF-8 byte-order mark;
2. the bytes themselves when they are valid UTF-8 with multi-byte sequences, or UTF-8 with a few
   invalid bytes in thousands of valid sequences: legacy CJK text is practically never (nearly)
   valid UTF-8, so this cannot misread a GBK/Shift_JIS page;
3. the HTTP ``Content-Type`` charset, the page's ``<meta charset>`` (first 4096 bytes), the
   source's expected encoding, then sniffing (utf-8, gb18030, cp932, euc_jis_2004). The first
   candidate that decodes cleanly wins, **unless** it is a single-byte Latin charset whose text
   is mojibake (runs of Latin-1 letters, see ``mojibake_share``) while a CJK candidate decodes
   the same bytes plausibly: servers label GBK pages ``charset=ISO-8859-1`` (seen 2026), and
   cp1252 decodes almost any byte string without error. Between legacy CJK candidates the
   clearly more plausible one wins (Shift_JIS bytes are valid gb18030 and vice versa).
4. A few invalid bytes (``max_invalid``) in an otherwise clean page are replaced by U+FFFD and
   reported as a warning naming their byte offsets; a page that no candidate decodes with that
   few raises ``UndecodableBody``.

Labels are mapped to their supersets as w3lib does (gb2312/gbk -> gb18030, shift_jis -> cp932,
latin-1 -> cp1252).
"""

from __future__ import annotations

import codecs
import contextvars
import logging
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from crawlers.errors import EmptyPage, NotHtml, UndecodableBody

log = logging.getLogger(__name__)

_CHARSET_HEADER = re.compile(rb"charset\s*=\s*[\"']?([A-Za-z0-9_\-.:]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-.:]+)", re.I)
# Superset mapping, as w3lib does: declared gb2312/gbk pages often use gb18030-only characters.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
}
_FALLBACKS = ("utf-8", "gb18030", "cp932", "euc_jis_2004")
_LEGACY_CJK = {"gb18030", "cp932", "euc_jis_2004", "shift_jis", "euc_jp", "big5", "euc_kr", "cp949"}

# A misread shows as runs of Latin-1 supplement / cp1252 letters (each CJK character becomes two
# of them) or as U+FFFD. Single accented letters between ASCII ones ("café") are not runs.
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_LATIN_RUN = re.compile(r"[\u0080-\u024f\u02c6\u02dc\u2013-\u203a\u20ac\u2122\ufffd]{2,}")
MOJIBAKE_SHARE = 0.5  # a single-byte decode is mojibake when at least this share of its non-ASCII text is
PLAUSIBLE_CJK = 0.5  # a legacy CJK decode is plausible when at least this share is common characters
# Invalid bytes tolerated: 3 on any page, 1 per 200 non-ASCII bytes on longer ones, never more than
# 64; and at least 5 validly decoded non-ASCII characters per invalid byte (GBK read as UTF-8 gives
# about one valid sequence per two invalid ones: that is the wrong charset, not a stray byte).
_MIN_INVALID, _INVALID_PER, _MAX_INVALID, _VALID_PER_INVALID = 3, 200, 64, 5


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded body: text, codec name, where the charset came from, and the invalid bytes replaced.

    ``origin`` is ``bom``, ``utf-8`` (the bytes are UTF-8), ``header``, ``meta``, ``expected`` or
    ``sniffed``. ``invalid_offsets`` are the byte offsets (in the gunzipped body) replaced by U+FFFD.
    """

    text: str
    encoding: str
    origin: str
    invalid_offsets: tuple[int, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        if not self.invalid_offsets:
            return ()
        shown = ", ".join(str(o) for o in self.invalid_offsets[:10])
        more = f" and {len(self.invalid_offsets) - 10} more" if len(self.invalid_offsets) > 10 else ""
        return (f"{len(self.invalid_offsets)} invalid byte(s) for {self.encoding} replaced by U+FFFD "
                f"at byte offset(s) {shown}{more}",)


def mojibake_share(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` that look misread: U+FFFD, or runs of two or more
    Latin-1 / cp1252 letters (how GBK, Shift_JIS or UTF-8 bytes read as ISO-8859-1 look). 0.0 without
    non-ASCII text.

    Example:
        >>> mojibake_share("商务部公告"), mojibake_share("出口管制".encode("gbk").decode("cp1252"))
        (0.0, 1.0)
        >>> mojibake_share("café déjà vu")
        0.0
    """
    non_ascii = len(_NON_ASCII.findall(text))
    if not non_ascii:
        return 0.0
    runs = _LATIN_RUN.findall(text)
    lone_fffd = text.count("\ufffd") - sum(run.count("\ufffd") for run in runs)
    return min(1.0, (sum(map(len, runs)) + lone_fffd) / non_ascii)


def max_invalid(body: bytes) -> int:
    """How many invalid bytes a page may hold and still be decoded (with U+FFFD and a warning).

    Example:
        >>> max_invalid(b"<p>x</p>"), max_invalid("商务部".encode() * 1000), max_invalid(bytes(range(128, 256)) * 999)
        (3, 45, 64)
    """
    non_ascii = len(body) - len(body.translate(None, bytes(range(128, 256))))
    return min(_MAX_INVALID, max(_MIN_INVALID, non_ascii // _INVALID_PER))


def decode_html(body: bytes, headers: Mapping[str, str], *, url: str, expected: str | None = None,
                source: str | None = None) -> Decoded:
    """Decode a page body (see the module docstring for the order of evidence).

    A gzip body that was never decompressed is inflated first. Raises EmptyPage (no bytes),
    NotHtml (binary) or UndecodableBody (no charset decodes it with at most ``max_invalid`` bad bytes).

    Example:
        >>> gbk = '<meta charset="gbk"><p>商务部公告</p>'.encode("gbk")
        >>> d = decode_html(gbk, {"Content-Type": "text/html; charset=ISO-8859-1"}, url="u")
        >>> d.encoding, d.origin, "商务部公告" in d.text
        ('gb18030', 'meta', True)
    """
    if not body or not body.strip():
        raise EmptyPage(url, "empty body", source=source)
    body = gunzip(body, url=url, source=source)
    if b"\x00" in body[:2048] or body[:5] == b"%PDF-" or body[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
        raise NotHtml(url, "body is binary, not HTML", source=source)
    candidates = _candidates(body, headers, expected)
    limit = max_invalid(body)
    if candidates[0][1] == "utf-8-sig":
        return _with_bom(body, url=url, source=source, limit=limit)
    if not body.isascii():
        # Valid UTF-8 with multi-byte sequences is UTF-8 whatever the label says (seen 2026: pages
        # served as charset=ISO-8859-1 or declared gb2312 after a CMS migration); so is UTF-8 with
        # a few stray bytes among many valid sequences.
        try:
            return Decoded(body.decode("utf-8"), "utf-8", "utf-8")
        except UnicodeDecodeError:
            pass
        utf8 = _lenient(body, "utf-8", limit)
        if utf8 is not None and _valid_non_ascii(utf8[0]) >= _VALID_PER_INVALID * len(utf8[1]):
            return _reported(Decoded(utf8[0], "utf-8", "utf-8", tuple(utf8[1])), url=url, source=source)
    return _choose(body, candidates, limit, url=url, source=source)


def decode_body(body: bytes, headers: Mapping[str, str], *, url: str, expected: str | None = None,
                source: str | None = None) -> tuple[str, str]:
    """``(text, encoding)`` of a page body; ``decode_html`` with the details dropped.

    Example:
        >>> decode_body("出口管制".encode("gbk"), {"Content-Type": "text/html; charset=utf-8"}, url="u")[1]
        'gb18030'
    """
    decoded = decode_html(body, headers, url=url, expected=expected, source=source)
    return decoded.text, decoded.encoding


@dataclass(slots=True)
class _Try:
    order: int
    origin: str
    encoding: str
    text: str
    invalid: tuple[int, ...]
    mojibake: bool
    _plausibility: float | None = None

    @property
    def plausibility(self) -> float:
        """Computed on demand (it is the costly part): 1.0 for non-legacy-CJK encodings."""
        if self._plausibility is None:
            self._plausibility = _plausibility(self.text, self.encoding) if self.encoding in _LEGACY_CJK else 1.0
        return self._plausibility


def _choose(body: bytes, candidates: list[tuple[str, str]], limit: int, *, url: str,
            source: str | None) -> Decoded:
    tries: list[_Try] = []
    best_rejected: tuple[str, int, int] | None = None  # (encoding, invalid count, first offset)
    for order, (origin, enc) in enumerate(candidates):
        result = _lenient(body, enc, limit)
        if result is None:
            continue
        text, invalid = result
        attempt = _Try(order, origin, enc, text, tuple(invalid),
                       _single_byte(enc) and mojibake_share(text) >= MOJIBAKE_SHARE)
        if invalid and (_valid_non_ascii(text) < _VALID_PER_INVALID * len(invalid)
                        or (enc in _LEGACY_CJK and attempt.plausibility < PLAUSIBLE_CJK)):
            if best_rejected is None or len(invalid) < best_rejected[1]:
                best_rejected = (enc, len(invalid), invalid[0])
            continue
        tries.append(attempt)
    if not tries:
        detail = (f"; the closest, {best_rejected[0]}, has {best_rejected[1]} invalid bytes from byte offset "
                  f"{best_rejected[2]}" if best_rejected else "")
        raise UndecodableBody(url, f"no encoding decodes the body (more than {limit} invalid bytes in each of "
                                   f"{', '.join(enc for _, enc in candidates)}){detail}", source=source)
    clean = [t for t in tries if not t.invalid]
    pick = clean[0] if clean else min(tries, key=lambda t: (len(t.invalid), t.order))
    cjk = [t for t in tries if t.encoding in _LEGACY_CJK]
    if pick.mojibake:
        plausible = [t for t in cjk if t.plausibility >= PLAUSIBLE_CJK]
        if plausible:
            pick = min(plausible, key=lambda t: (len(t.invalid), -t.plausibility, t.order))
    if pick.encoding in _LEGACY_CJK:
        for other in cjk:
            if other is not pick and other.plausibility > pick.plausibility + 0.25:
                pick = other
                break
    return _reported(Decoded(pick.text, pick.encoding, pick.origin, pick.invalid), url=url, source=source)


def _with_bom(body: bytes, *, url: str, source: str | None, limit: int) -> Decoded:
    result = _lenient(body, "utf-8-sig", limit)
    if result is None:
        raise UndecodableBody(url, f"body starts with a UTF-8 byte-order mark but has more than {limit} "
                                   "invalid UTF-8 bytes", source=source)
    return _reported(Decoded(result[0], "utf-8-sig", "bom", tuple(result[1])), url=url, source=source)


def _reported(decoded: Decoded, *, url: str, source: str | None) -> Decoded:
    for warning in decoded.warnings:
        log.warning("%s%s: %s", f"{source}: " if source else "", url, warning)
    return decoded


# -- candidates ------------------------------------------------------------------------------------

def _normalize_encoding(name: str) -> str | None:
    label = name.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _candidates(body: bytes, headers: Mapping[str, str], expected: str | None) -> list[tuple[str, str]]:
    """``(origin, codec name)`` pairs in order of evidence, each codec once (its first origin)."""
    out: list[tuple[str, str]] = []
    if body.startswith(codecs.BOM_UTF8):
        out.append(("bom", "utf-8-sig"))
    m = _CHARSET_HEADER.search(header(headers, "content-type").encode("latin-1", "ignore"))
    if m:
        out.append(("header", m.group(1).decode("ascii", "ignore")))
    m = _META_CHARSET.search(body[:4096])
    if m:
        out.append(("meta", m.group(1).decode("ascii", "ignore")))
    if expected:
        out.append(("expected", expected))
    out.extend(("sniffed", name) for name in _FALLBACKS)
    seen: list[tuple[str, str]] = []
    for origin, name in out:
        norm = "utf-8-sig" if name == "utf-8-sig" else _normalize_encoding(name)
        if norm and norm not in (enc for _, enc in seen):
            seen.append((origin, norm))
    return seen


def header(headers: Mapping[str, str], name: str) -> str:
    """A header value by case-insensitive name (``""`` when absent)."""
    for key, value in headers.items():
        if key.lower() == name:
            return value if isinstance(value, str) else str(value)
    return ""


# -- decoding with a budget of invalid bytes --------------------------------------------------------

class _TooMany(Exception):
    pass


_INVALID: contextvars.ContextVar[tuple[list[int], int]] = contextvars.ContextVar("regwatch_invalid_bytes")


def _record_invalid(exc: UnicodeError) -> tuple[str, int]:
    offsets, limit = _INVALID.get()
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    offsets.append(exc.start)
    if len(offsets) > limit:
        raise _TooMany
    return "\ufffd", exc.end


codecs.register_error("regwatch-count-invalid", _record_invalid)


def _lenient(body: bytes, enc: str, limit: int) -> tuple[str, list[int]] | None:
    """``(text, invalid byte offsets)`` decoding with U+FFFD, or None beyond ``limit`` invalid bytes."""
    offsets: list[int] = []
    token = _INVALID.set((offsets, limit))
    try:
        return body.decode(enc, "regwatch-count-invalid"), offsets
    except (_TooMany, LookupError):
        return None
    finally:
        _INVALID.reset(token)


_SAMPLE = 20000  # non-ASCII characters enough to judge a charset; larger pages are sampled evenly


def _valid_non_ascii(text: str) -> int:
    return len(_NON_ASCII.findall(text)) - text.count("\ufffd")


@lru_cache(maxsize=64)
def _single_byte(enc: str) -> bool:
    """True for single-byte charsets (cp1252, iso8859-*): one character per byte."""
    try:
        text = bytes(range(0x80, 0x100)).decode(enc, "replace")
    except LookupError:
        return False
    return len(text) == 128 and text.count("\ufffd") < 16


def _plausibility(text: str, enc: str) -> float:
    """Share of non-ASCII characters that are common in the language the encoding serves."""
    chars = [c for c in _NON_ASCII.findall(text) if c != "\ufffd"]
    if not chars:
        return 1.0
    if len(chars) > _SAMPLE:
        chars = chars[:: len(chars) // _SAMPLE + 1]
    common = 0
    for ch in chars:
        if enc == "gb18030":
            try:
                lead = ch.encode("gb2312")[0]
            except UnicodeEncodeError:
                continue
            common += 0xA1 <= lead <= 0xA3 or 0xB0 <= lead <= 0xD7  # punctuation, level-1 hanzi
        else:
            if "\u3040" <= ch <= "\u30ff":  # kana
                common += 1
                continue
            try:
                lead = ch.encode("cp932")[0]
            except UnicodeEncodeError:
                continue
            common += 0x81 <= lead <= 0x83 or 0x88 <= lead <= 0x98  # symbols, kana, JIS level-1 kanji
    return common / len(chars)


# -- gzip ----------------------------------------------------------------------------------------

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_GUNZIP = 32 * 1024 * 1024  # a detail page is well under this; more is a decompression bomb


def gunzip(body: bytes, *, url: str, source: str | None) -> bytes:
    """Decompress a body that arrived gzip-compressed but undecoded (DOMAIN §3.3, seen on gov.cn).

    A ``Content-Encoding: gzip`` header on a body that is already plain HTML is ignored: only
    the gzip magic bytes decide.
    """
    if not body.startswith(_GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, _MAX_GUNZIP)
    except zlib.error as exc:
        raise UndecodableBody(url, f"body starts like gzip but does not decompress: {exc}", source=source) from exc
    if inflater.unconsumed_tail:
        raise UndecodableBody(url, f"gzip body inflates beyond {_MAX_GUNZIP} bytes; refused", source=source)
    return out


__all__ = ["Decoded", "decode_body", "decode_html", "gunzip", "header", "max_invalid", "mojibake_share"]
