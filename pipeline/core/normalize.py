"""Text normalization: the matching form every tagger reads, and the canonical form that is hashed.

``match_text`` is what extractors run their regexes on: NFKC (full-width digits and letters
become ASCII, U+3000 and NBSP become a space), zero-width characters (U+200B–U+200D, U+2060,
U+FEFF) dropped, whitespace runs inside a line collapsed.
``canonical_text`` additionally drops blank lines, trims lines and drops the spaces between CJK
characters: between two Han/kana letters, on either side of CJK punctuation (、。《》【】〔〕, which
carries its own spacing), and between a CJK letter and the ASCII punctuation NFKC makes of
full-width ``，：（）``. Chinese and Japanese are written without spaces, so a space, NBSP or
zero-width character inserted there by an editor or a CMS is not a change of the text. Other
spaces stay: between Latin words (``Export Control Law`` is not ``ExportControlLaw``) and between
a CJK letter and a Latin letter or digit (``物项 3C901.b``, ``公告 2025年``), where they are common
typography and keep diffs readable. Its SHA-256 is the content hash that decides whether a capture
is a new version, and text diffs are computed on it; the stored text of a version stays the
original.

Example:
    >>> canonical_text("商务部 海关总署\\u00a0公告 2025年第56号\\u200b决定 ， 物项 3C901.b 。 Export Control Law")
    '商务部海关总署公告 2025年第56号决定,物项 3C901.b。Export Control Law'
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200d\u2060\ufeff]")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")
# After NFKC: CJK letters are Han (with extensions and compatibility ideographs) and kana; CJK
# punctuation is CJK symbols and punctuation (、。〃〈〉《》「」『』【】〔〕〜), vertical/compatibility forms
# and the half-width CJK punctuation NFKC keeps. Hangul is not included: Korean separates words
# with spaces. NFKC turns full-width ，：（） into ASCII, which next to a CJK letter is CJK punctuation.
_CJK_LETTER = r"\u2e80-\u2fdf\u3040-\u30ff\u31c0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_PUNCT = r"\u3001-\u303f\ufe10-\ufe1f\ufe30-\ufe4f\uff61-\uff65"
_ASCII_PUNCT = r"!-/:-@\[-`{-~"
_CJK_GAP = re.compile(
    rf"(?<=[{_CJK_PUNCT}]) +| +(?=[{_CJK_PUNCT}])"
    rf"|(?<=[{_CJK_LETTER}]) +(?=[{_CJK_LETTER}{_ASCII_PUNCT}])|(?<=[{_ASCII_PUNCT}]) +(?=[{_CJK_LETTER}])"
)


@lru_cache(maxsize=16)  # one page's body is normalized by several taggers in turn
def match_text(text: str) -> str:
    """NFKC + whitespace normalization used for matching; idempotent.

    Example:
        >>> match_text("商务部\\u3000公告２０２５年第５６号")
        '商务部 公告2025年第56号'
    """
    text = _NEWLINES.sub("\n", text)
    text = unicodedata.normalize("NFKC", text)
    text = _ZERO_WIDTH.sub("", text)
    text = _SPACES.sub(" ", text)
    return "\n".join(line.strip() for line in text.split("\n"))


def canonical_text(text: str) -> str:
    """Stable text for hashing and diffing: matching form, trimmed lines, no blank lines, no space
    between CJK characters; idempotent.

    Example:
        >>> canonical_text("第一条\\u3000 本办法 自 2026年1月1日起施行 。\\n\\n  Article 1 applies.")
        '第一条本办法自 2026年1月1日起施行。\\nArticle 1 applies.'
    """
    lines = (_CJK_GAP.sub("", line) for line in match_text(text).split("\n"))
    return "\n".join(line for line in lines if line)


def record_canonical_text(title: str | None, body: str) -> str:
    """The canonical text of a record: its title line, then its body (what ``content_hash`` hashes).

    Example:
        >>> record_canonical_text("关于 通知", "正文 第一条")
        '关于通知\\n正文第一条'
    """
    return canonical_text(f"{title or ''}\n{body}")


def content_hash(canonical: str) -> str:
    """SHA-256 hex digest of the canonical text."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


__all__ = ["canonical_text", "content_hash", "match_text", "record_canonical_text"]
