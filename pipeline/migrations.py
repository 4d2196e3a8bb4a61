"""The store's schema migrations with the pipeline's rules bound (``regwatch db upgrade`` uses these).

``store`` imports nothing internal, so a migration that needs pipeline logic is registered there
with an ``apply`` that refuses to run (``store.migrations``) and bound here to the pipeline's
functions. Today that is ``0004_rekey_agency_codes`` (``store.rekey``): document keys per DOMAIN.md
B.2 from each version's own printed number (``pipeline.core.docnumber.rekey``), relation targets from
their citation text, and canonical texts/hashes recomputed with ``pipeline.core.normalize``.

Example:
    >>> from store import MIGRATIONS as STORE_MIGRATIONS
    >>> MIGRATIONS.names == STORE_MIGRATIONS.names
    True
"""

from __future__ import annotations

from pipeline.core.docnumber import rekey
from pipeline.core.normalize import content_hash, record_canonical_text
from store import MIGRATIONS as STORE_MIGRATIONS
from store.migrations import REKEY_AGENCY_CODES
from store.rekey import KeyRules, rekey_agency_codes


def target_key(stored_key: str | None, citation: str) -> str | None:
    """The B.2 key of a relation target cited as ``citation``; None when there is no citation text.

    Example:
        >>> target_key("miit:2012:285", "工信部原〔2012〕285号"), target_key("mofcom+gacc:2025:56", "56号")
        ('miit:工信部原:2012:285', 'mofcom+gacc:2025:56')
        >>> target_key("miit:2012:285", "") is None
        True
    """
    if not citation.strip():
        return None
    return rekey(stored_key, citation)


KEY_RULES = KeyRules(
    document_key=lambda key, printed: rekey(key, printed) or key,
    target_key=target_key,
    canonical_text=record_canonical_text,
    content_hash=content_hash,
)

MIGRATIONS = STORE_MIGRATIONS.bind(REKEY_AGENCY_CODES, rekey_agency_codes(KEY_RULES))
"""``store.MIGRATIONS`` with every migration runnable (same names and order)."""

__all__ = ["KEY_RULES", "MIGRATIONS", "target_key"]
