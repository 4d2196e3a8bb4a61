"""Which source is authoritative for a document: the issuer's own site (pure).

One announcement appears on several sites (a MIIT order is reprinted on gov.cn, a MOFCOM
announcement too). Its legal-text history is made from one of them only, the *authoritative*
source of its issuer; every other site holds a copy (see ``store.documents``). The issuer is
read from the canonical key (DOMAIN B.2: issuer slugs in printed order before the first ``:``):
the first issuer that has an entry in the table decides, so a joint order of MIIT, NDRC and
MNR (``miit+ndrc+mnr:order:71``) is MIIT's. A key with no listed issuer, or a keyless page, has
no authority: the source where it was first seen stays its reference.

``schedules.yaml`` can override or extend the table (``authority: {gacc: mofcom}``; see
``pipeline.config``).
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_AUTHORITY: dict[str, str] = {
    # MOFCOM publishes its own announcements and those it issues jointly with customs.
    "mofcom": "mofcom",
    "mofcom-general-office": "mofcom",
    "gacc": "mofcom",
    "gacc-general-office": "mofcom",
    "miit": "miit",
    "miit-general-office": "miit",
    # gov.cn is the State Council's own publication site.
    "state-council": "govcn",
    "state-council-general-office": "govcn",
    "meti": "meti",
}
"""Issuer slug (``pipeline.core.docnumber``) -> slug of the source authoritative for its documents."""


def key_issuers(doc_key: str | None) -> tuple[str, ...]:
    """The issuer slugs of a canonical key, in printed order (empty for a keyless document).

    Example:
        >>> key_issuers("miit+ndrc+mnr:order:71"), key_issuers("miit:工信部原:2012:285"), key_issuers(None)
        (('miit', 'ndrc', 'mnr'), ('miit',), ())
    """
    if not doc_key or ":" not in doc_key:
        return ()
    return tuple(slug for slug in doc_key.split(":", 1)[0].split("+") if slug)


def authoritative_source(doc_key: str | None, table: Mapping[str, str] | None = None) -> str | None:
    """The source authoritative for ``doc_key``: that of its first issuer listed in ``table``
    (default ``DEFAULT_AUTHORITY``), or None.

    Example:
        >>> authoritative_source("mofcom+gacc:2025:56"), authoritative_source("state-council:order:785")
        ('mofcom', 'govcn')
        >>> authoritative_source("ndrc:2025:1"), authoritative_source(None)
        (None, None)
        >>> authoritative_source("gacc:2025:3", {"gacc": "govcn"})
        'govcn'
    """
    table = DEFAULT_AUTHORITY if table is None else table
    return next((table[slug] for slug in key_issuers(doc_key) if slug in table), None)


__all__ = ["DEFAULT_AUTHORITY", "authoritative_source", "key_issuers"]
