"""Plain frozen result types returned by ``Store`` where no single table row fits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CaptureInfo:
    """A capture without its body (read the body with ``Store.capture_body(id)``)."""

    id: int
    source: str
    run_id: int | None
    kind: str
    url: str
    final_url: str
    status: int
    headers: dict[str, Any]
    body_sha256: str
    size: int
    fetched_at: datetime
    state: str
    error: str | None
    processed_at: datetime | None


@dataclass(frozen=True, slots=True)
class VersionResult:
    """Outcome of ``Store.record_version``.

    ``created`` is False when the content was already known (same hash as the latest version
    from the same URL); ``version_id``/``number`` then name that existing version.
    ``previous_version_id`` is the version to diff against (None for a new document).
    ``appearance_id`` is the document's appearance on the recording source
    (``appearance_created``: seen there for the first time).
    ``copy``: the source is not the document's reference, so only its appearance was updated;
    no version was made and ``version_id``/``number`` name the document's latest version.
    ``reference``: this source just became the reference (the authoritative copy arrived); when
    ``created`` too, the new version is the reference text, not an amendment, and
    ``previous_version_id`` is the copy's text it replaces.
    """

    document_id: int
    document_key: str | None
    version_id: int
    number: int
    created: bool
    previous_version_id: int | None
    document_created: bool = False
    appearance_id: int = 0
    appearance_created: bool = False
    copy: bool = False
    reference: bool = False


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One change with its document, for ``regwatch history`` (newest first)."""

    change_id: int
    kind: str
    document_id: int
    document_key: str | None
    canonical_url: str
    title: str
    source: str
    url: str
    from_number: int | None
    to_number: int
    summary: str
    field_changes: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A latest version whose title or text contains the query."""

    document_id: int
    document_key: str | None
    title: str
    url: str
    number: int
    snippet: str
