"""Text normalization: the matching form every tagger reads, and the canonical form that is hashed.

``match_text`` is what extractors run their regexes on: NFKC (full-width digits and letters
become ASCII, U+3000 becomes a space) with whitespace runs inside a line collapsed.
``canonical_text`` additionally drops blank lines and trims lines; its SHA-256 is the
content hash that decides whether a capture is a new version.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000\ufeff]+")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")
# NFKC would turn these CJK punctuation marks into ASCII look-alikes that change meaning
# in legal text (e.g. "〔2024〕" must stay bracketed); we keep the full-width forms.
_KEEP = {"\u3014": "\u3014", "\u3015": "\u3015"}


def match_text(text: str) -> str:
    """NFKC + whitespace normalization used for matching; idempotent.

    Example:
        >>> match_text("商务部\\u3000公告２０２５年第５６号")
        '商务部 公告2025年第56号'
    """
    text = _NEWLINES.sub("\n", text)
    text = unicodedata.normalize("NFKC", text)
    text = _SPACES.sub(" ", text)
    return "\n".join(line.strip() for line in text.split("\n"))


def canonical_text(text: str) -> str:
    """Stable text for hashing: matching form, trimmed lines, no blank lines."""
    return "\n".join(line for line in match_text(text).split("\n") if line)


def content_hash(canonical: str) -> str:
    """SHA-256 hex digest of the canonical text."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


__all__ = ["canonical_text", "content_hash", "match_text"]
