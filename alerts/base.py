"""The alert value delivered to sinks, the delivery result, and the sink protocol."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, NamedTuple, Protocol, runtime_checkable

from alerts.errors import InvalidAlert

KINDS: tuple[str, ...] = ("new", "changed", "withdrawn", "status", "deadline", "source_health", "sink_health")
SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")  # ordered, least severe first

Pairs = tuple[tuple[str, str], ...]


def severity_rank(severity: str) -> int:
    """Position of ``severity`` in :data:`SEVERITIES` (higher is more severe).

    Example:
        >>> severity_rank("warning") > severity_rank("info")
        True
    """
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Alert:
    """One alert as drained from the outbox and handed to every routed sink.

    ``id`` is the outbox row id. Text fields (``title``, ``summary``, ``facts``, ``diff_text``)
    are untrusted scraped text: renderers escape them, sinks never interpret them.
    ``tags`` are ``kind:value`` strings used for routing (``"code:1C914"``, ``"element:Dy"``).
    ``created_at`` must be timezone-aware and is normalized to UTC.

    Example:
        >>> a = Alert(1, "new", "info", "mofcom", "mofcom:2025:61", "Title", "One line.",
        ...           "https://example.gov/a.html", datetime(2025, 10, 9, tzinfo=timezone.utc),
        ...           facts=[("Effective", "2025-12-01")], tags=["code:1C914"])
        >>> a.facts, a.tags
        ((('Effective', '2025-12-01'),), ('code:1C914',))
        >>> Alert.from_payload(1, a.to_payload()) == a
        True
    """

    id: int
    kind: str
    severity: str
    source: str
    doc_key: str | None
    title: str
    summary: str
    url: str
    created_at: datetime
    facts: Pairs = ()
    diff_text: str | None = None
    links: Pairs = ()
    tags: tuple[str, ...] = ()
    headline: str | None = None  # English, generated from the extracted fields (pipeline.core.headline)
    # Set by the deliver stage for one sink, never stored in the payload: that sink's id of the first
    # message about the same document (a Slack ``ts``), which this alert is posted as a reply to.
    thread: str | None = None

    def __post_init__(self) -> None:
        def fail(name: str, message: str) -> InvalidAlert:
            return InvalidAlert(self.id, name, message)

        if not isinstance(self.id, int) or isinstance(self.id, bool):
            raise fail("id", f"must be an int (the outbox id), got {self.id!r}")
        if self.kind not in KINDS:
            raise fail("kind", f"{self.kind!r} is not one of {', '.join(KINDS)}")
        if self.severity not in SEVERITIES:
            raise fail("severity", f"{self.severity!r} is not one of {', '.join(SEVERITIES)}")
        for name in ("source", "title", "summary", "url"):
            if not isinstance(getattr(self, name), str):
                raise fail(name, f"must be a string, got {getattr(self, name)!r}")
        if not self.source:
            raise fail("source", "must be a non-empty source slug")
        if "\n" in self.summary:
            raise fail("summary", "must be one line (put details in facts or diff_text)")
        if self.doc_key is not None and not isinstance(self.doc_key, str):
            raise fail("doc_key", f"must be a string or None, got {self.doc_key!r}")
        if self.headline is not None and (not isinstance(self.headline, str) or "\n" in self.headline):
            raise fail("headline", f"must be one line of text or None, got {self.headline!r}")
        if self.diff_text is not None and not isinstance(self.diff_text, str):
            raise fail("diff_text", f"must be a string or None, got {type(self.diff_text).__name__}")
        if not isinstance(self.created_at, datetime) or self.created_at.utcoffset() is None:
            raise fail("created_at", f"must be a timezone-aware datetime, got {self.created_at!r}")
        object.__setattr__(self, "created_at", self.created_at.astimezone(timezone.utc))
        object.__setattr__(self, "facts", _pairs(self.id, "facts", self.facts))
        object.__setattr__(self, "links", _pairs(self.id, "links", self.links))
        if isinstance(self.tags, str) or not all(isinstance(t, str) for t in self.tags):
            raise fail("tags", f"must be a sequence of 'kind:value' strings, got {self.tags!r}")
        object.__setattr__(self, "tags", tuple(self.tags))

    @classmethod
    def from_payload(cls, id: int, payload: Mapping[str, Any]) -> Alert:
        """Build an alert from its outbox JSON payload (the inverse of :meth:`to_payload`).

        Unknown keys are rejected so a producer/consumer mismatch fails loudly.

        Example:
            >>> p = {"kind": "status", "severity": "warning", "source": "mofcom", "doc_key": None,
            ...      "title": "T", "summary": "S", "url": "https://x.test/",
            ...      "created_at": "2025-10-09T08:00:00+08:00"}
            >>> Alert.from_payload(3, p).created_at.isoformat()
            '2025-10-09T00:00:00+00:00'
        """
        required = ("kind", "severity", "source", "title", "summary", "url", "created_at")
        optional = ("doc_key", "facts", "diff_text", "links", "tags", "headline")
        missing = [k for k in required if k not in payload]
        if missing:
            raise InvalidAlert(id, missing[0], "missing from the outbox payload")
        unknown = sorted(set(payload) - set(required) - set(optional))
        if unknown:
            raise InvalidAlert(id, unknown[0], f"unknown payload key; known: {', '.join(required + optional)}")
        created = payload["created_at"]
        if isinstance(created, str):
            try:
                created = datetime.fromisoformat(created)
            except ValueError as exc:
                raise InvalidAlert(id, "created_at", f"not an ISO 8601 timestamp: {created!r}") from exc
        return cls(
            id=id,
            kind=payload["kind"],
            severity=payload["severity"],
            source=payload["source"],
            doc_key=payload.get("doc_key"),
            title=payload["title"],
            summary=payload["summary"],
            url=payload["url"],
            created_at=created,
            facts=payload.get("facts") or (),
            diff_text=payload.get("diff_text"),
            links=payload.get("links") or (),
            tags=payload.get("tags") or (),
            headline=payload.get("headline"),
        )

    def to_payload(self) -> dict[str, Any]:
        """The JSON-ready outbox payload (everything but ``id``, which is the row id).

        Example:
            >>> a = Alert(1, "deadline", "warning", "miit", None, "T", "S", "https://x.test/",
            ...           datetime(2025, 1, 2, tzinfo=timezone.utc))
            >>> a.to_payload()["created_at"]
            '2025-01-02T00:00:00+00:00'
        """
        payload = {
            "kind": self.kind,
            "severity": self.severity,
            "source": self.source,
            "doc_key": self.doc_key,
            "title": self.title,
            "summary": self.summary,
            "url": self.url,
            "created_at": self.created_at.isoformat(),
            "facts": [list(p) for p in self.facts],
            "diff_text": self.diff_text,
            "links": [list(p) for p in self.links],
            "tags": list(self.tags),
        }
        if self.headline is not None:  # absent, not null, so older payloads and readers stay the same
            payload["headline"] = self.headline
        return payload


def _pairs(alert_id: int, name: str, value: Any) -> Pairs:
    out = []
    for item in value or ():
        if isinstance(item, str) or len(item) != 2 or not all(isinstance(x, str) for x in item):
            raise InvalidAlert(alert_id, name, f"each entry must be a (label, value) pair of strings, got {item!r}")
        out.append((item[0], item[1]))
    return tuple(out)


@dataclass(frozen=True)
class DeliveryResult:
    """What one sink reports for one alert; the outbox records it as an attempt.

    A failure says what later attempts can expect:

    * ``retryable``: trying again later can succeed (rate limit, 5xx, connection error);
      ``retry_after`` (seconds) is the earliest sensible retry when the sink was told one.
    * ``ambiguous``: the request may have reached the destination (a timeout or a connection
      dropped after sending): the outbox reconciles (``find_posted``) before sending again.
    * ``blocked``: the sink itself is misconfigured (bad token, unknown channel, missing scope):
      every delivery to it waits until a probe succeeds or its configuration changes.
    * none of these: this alert can never be delivered to this sink (e.g. rejected blocks).

    Example:
        >>> DeliveryResult.success("1700000000.000100", "posted").ok
        True
        >>> DeliveryResult.failure("HTTP 500", retryable=True, ambiguous=True).ambiguous
        True
    """

    ok: bool
    external_id: str | None = None
    detail: str = ""
    retryable: bool = False
    ambiguous: bool = False
    blocked: bool = False
    retry_after: float | None = None

    @classmethod
    def success(cls, external_id: str | None, detail: str = "") -> DeliveryResult:
        """A delivered alert, with the sink's id for it (Slack ``ts``, file offset)."""
        return cls(ok=True, external_id=external_id, detail=detail, retryable=False)

    @classmethod
    def failure(cls, detail: str, *, retryable: bool, ambiguous: bool = False, blocked: bool = False,
                retry_after: float | None = None) -> DeliveryResult:
        """A failed delivery; ``detail`` says what failed and never contains secrets."""
        return cls(ok=False, external_id=None, detail=detail, retryable=retryable or ambiguous,
                   ambiguous=ambiguous, blocked=blocked, retry_after=retry_after)


OK, WARN, FAIL = "ok", "warn", "FAIL"
VERDICTS: tuple[str, ...] = (OK, WARN, FAIL)


class Check(NamedTuple):
    """One line of ``regwatch doctor``: what was checked, the verdict (ok / warn / FAIL), and a
    detail that says what to do when it is not ok. Never holds a secret.

    Example:
        >>> Check("slack legal: scopes", FAIL, "missing channels:history (add it to the Slack app)").verdict
        'FAIL'
    """

    name: str
    verdict: str
    detail: str


@runtime_checkable
class AlertSink(Protocol):
    """A named destination. Built by ``cls.from_config(name, cfg)``; raises ``SinkDisabled`` to opt out.

    ``send`` must not raise for delivery problems: it returns a failed :class:`DeliveryResult`.
    A sink may also offer ``check() -> list[Check]`` (its configuration tested against the real
    destination, sending nothing); ``regwatch doctor`` calls it when present.
    """

    kind: str
    name: str

    def send(self, alert: Alert) -> DeliveryResult:
        """Deliver one alert."""
        ...


@runtime_checkable
class Reconciling(Protocol):
    """A sink that can tell whether an alert was already delivered (Slack: channel history).

    ``export_state``/``import_state`` let the outbox remember what the sink learned (a channel ID)
    between runs; ``fingerprint`` changes when the sink's configuration (token, channel) changes.
    """

    def find_posted(self, alert_id: int, *, oldest: datetime) -> str | None:
        """The sink's id of an earlier delivery of ``alert_id`` since ``oldest``, else None;
        raises ``ReconcileError`` when it cannot tell."""
        ...


__all__ = ["FAIL", "KINDS", "OK", "SEVERITIES", "VERDICTS", "WARN", "Alert", "Check", "AlertSink", "DeliveryResult", "Reconciling", "severity_rank"]
