"""The crawl→store contract: what a spider yields (raw captures, crawl errors and re-check answers, never
parsed fields)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

CaptureKind = Literal["detail", "list", "attachment"]
ErrorKind = Literal["challenge", "empty", "transient", "http", "network", "layout", "redirect", "too_large",
                    "robots",  # robots: a request robots.txt forbids (sources.robots_obey)
                    "offsite"]  # offsite: redirected to a host the source does not allow (extra: target)


@dataclass(slots=True)
class Capture:
    """One fetched response, as served: raw bytes and headers, with a tz-aware UTC fetch time."""

    source: str
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    kind: CaptureKind = "detail"

    def __post_init__(self) -> None:
        if self.fetched_at.tzinfo is None:
            raise ValueError(f"{self.source}: Capture.fetched_at must be timezone-aware ({self.url})")


@dataclass(slots=True)
class CrawlError:
    """Something that kept a page from being captured or read; becomes a CrawlRun error row."""

    source: str
    url: str
    kind: ErrorKind
    message: str
    extra: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, str]:
        """The ``{kind, url, message}`` shape ``Store.finish_run`` records, plus any ``extra`` keys.

        Example:
            >>> CrawlError("mofcom", "u", "challenge", "HTTP 412").as_dict()
            {'kind': 'challenge', 'url': 'u', 'message': 'HTTP 412'}
            >>> CrawlError("mofcom", "u", "offsite", "redirected", {"target": "t"}).as_dict()["target"]
            't'
        """
        return {**self.extra, "kind": self.kind, "url": self.url, "message": self.message}


RecheckOutcome = Literal["gone", "found"]


@dataclass(slots=True)
class RecheckAnswer:
    """What a known detail URL answered when read again: ``gone`` (HTTP 404/410) or ``found`` (a
    readable page, whose capture is yielded too). ``appearance_id`` names the store's appearance
    it was asked for; becomes a ``recheck`` row (``Store.record_recheck``)."""

    source: str
    url: str
    appearance_id: int
    status: int
    outcome: RecheckOutcome
    checked_at: datetime

    def __post_init__(self) -> None:
        if self.checked_at.tzinfo is None:
            raise ValueError(f"{self.source}: RecheckAnswer.checked_at must be timezone-aware ({self.url})")
