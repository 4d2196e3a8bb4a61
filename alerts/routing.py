"""Pure routing: which sinks get an alert, from a table of ``when → to`` rules.

Every matching rule contributes its sinks (not first-match); an alert no rule matches goes to
the default sinks, so nothing is silently dropped. Inside ``when`` all keys must match (AND);
a list value matches if any item does (OR).

``when`` keys:
    kind        alert kind(s): new, changed, withdrawn, status, deadline, source_health, sink_health
    severity    minimum severity: info < warning < critical
    source      source slug(s)
    doc_key     doc_key prefix(es), e.g. ``"mofcom+gacc:"`` or ``"mofcom:2025:"``
    issuer      issuer slug(s) in the doc_key (``mofcom+gacc:2025:70`` has mofcom and gacc)
    tag         tag pattern(s), shell-style: ``"code:1C914"``, ``"code:1C*"``, ``"element:*"``
    tag_kind    tag kind(s), the part before ``:``: ``code``, ``element``, ``relation``
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Iterable, Mapping, Sequence

from alerts.base import KINDS, SEVERITIES, Alert, severity_rank
from alerts.errors import RouteConfigError

WHEN_KEYS = ("kind", "severity", "source", "doc_key", "issuer", "tag", "tag_kind")


def issuers(doc_key: str | None) -> tuple[str, ...]:
    """Issuer slugs of a canonical key, in printed order.

    Example:
        >>> issuers("mofcom+gacc:2025:70"), issuers(None)
        (('mofcom', 'gacc'), ())
    """
    if not doc_key or ":" not in doc_key:
        return ()
    return tuple(s for s in doc_key.partition(":")[0].split("+") if s)


@dataclass(frozen=True)
class Route:
    """One rule: if ``when`` matches an alert, send it to the sinks named in ``to``.

    Example:
        >>> r = Route.from_dict({"when": {"tag": "code:1C*"}, "to": ["legal"]})
        >>> r.when, r.to
        ({'tag': ('code:1C*',)}, ('legal',))
    """

    when: Mapping[str, Any]
    to: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "when", _normalize_when(self.when, "when"))
        object.__setattr__(self, "to", _sink_names(self.to, "to"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "route") -> Route:
        """Build from ``{"when": {...}, "to": [...]}`` (YAML shape); errors name ``where``."""
        if not isinstance(data, Mapping):
            raise RouteConfigError(where, f"must be a mapping with 'when' and 'to', got {data!r}")
        unknown = sorted(set(data) - {"when", "to"})
        if unknown:
            raise RouteConfigError(f"{where}.{unknown[0]}", "unknown key; a route has only 'when' and 'to'")
        if "to" not in data:
            raise RouteConfigError(f"{where}.to", "missing; name at least one sink, e.g. to: [legal]")
        return cls(when=_normalize_when(data.get("when") or {}, f"{where}.when"), to=_sink_names(data["to"], f"{where}.to"))

    def matches(self, alert: Alert) -> bool:
        """True if every ``when`` condition holds for ``alert``."""
        w = self.when
        tag_kinds = {t.partition(":")[0] for t in alert.tags}
        checks = {
            "kind": lambda v: alert.kind in v,
            "severity": lambda v: severity_rank(alert.severity) >= severity_rank(v),
            "source": lambda v: alert.source in v,
            "doc_key": lambda v: alert.doc_key is not None and alert.doc_key.startswith(v),
            "issuer": lambda v: bool(set(issuers(alert.doc_key)) & set(v)),
            "tag": lambda v: any(fnmatchcase(t, p) for t in alert.tags for p in v),
            "tag_kind": lambda v: bool(tag_kinds & set(v)),
        }
        return all(checks[key](value) for key, value in w.items())


def load_routes(data: Iterable[Mapping[str, Any]] | None) -> list[Route]:
    """Validate a YAML ``routes:`` list into :class:`Route` objects.

    Example:
        >>> load_routes([{"when": {"severity": "critical"}, "to": ["pager"]}])[0].to
        ('pager',)
        >>> load_routes([{"when": {"sevrity": "critical"}, "to": ["pager"]}])
        Traceback (most recent call last):
        ...
        alerts.errors.RouteConfigError: routes[0].when.sevrity: unknown condition; known: kind, severity, source, doc_key, issuer, tag, tag_kind
    """
    if data is None:
        return []
    if isinstance(data, (str, Mapping)):
        raise RouteConfigError("routes", "must be a list of {when: ..., to: [...]} rules")
    return [Route.from_dict(item, f"routes[{i}]") for i, item in enumerate(data)]


def route(alert: Alert, routes: Sequence[Route], default: Sequence[str]) -> list[str]:
    """Sink names for ``alert``: all matching routes' sinks, deduplicated in first-seen order.

    If no route matches, the ``default`` sinks are returned. ``default`` must be non-empty.

    Example:
        >>> from datetime import datetime, timezone
        >>> a = Alert(1, "new", "critical", "mofcom", "mofcom+gacc:2025:70", "T", "", "https://x.test/",
        ...           datetime(2025, 1, 1, tzinfo=timezone.utc), tags=["code:1C914"])
        >>> rs = load_routes([{"when": {"tag": "code:1C*"}, "to": ["legal"]},
        ...                   {"when": {"severity": "warning"}, "to": ["legal", "ops"]}])
        >>> route(a, rs, default=["console"])
        ['legal', 'ops']
    """
    fallback = _sink_names(default, "default")
    out: list[str] = []
    for r in routes:
        if r.matches(alert):
            out += [name for name in r.to if name not in out]
    return out or list(fallback)


def sink_names_used(routes: Sequence[Route], default: Sequence[str]) -> list[str]:
    """Every sink name the table can route to (check them against the configured sinks).

    Example:
        >>> sink_names_used(load_routes([{"to": ["legal"]}]), ["console", "legal"])
        ['console', 'legal']
    """
    out: list[str] = []
    for name in list(default) + [n for r in routes for n in r.to]:
        if name not in out:
            out.append(name)
    return out


def _as_tuple(value: Any, where: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items or not all(isinstance(v, str) and v for v in items):
        raise RouteConfigError(where, f"must be a non-empty string or list of strings, got {value!r}")
    return tuple(items)


def _normalize_when(when: Any, where: str) -> dict[str, Any]:
    if not isinstance(when, Mapping):
        raise RouteConfigError(where, f"must be a mapping of conditions, got {when!r}")
    out: dict[str, Any] = {}
    for key, value in when.items():
        if key not in WHEN_KEYS:
            raise RouteConfigError(f"{where}.{key}", f"unknown condition; known: {', '.join(WHEN_KEYS)}")
        if key == "severity":
            if value not in SEVERITIES:
                raise RouteConfigError(f"{where}.severity", f"{value!r} is not one of {', '.join(SEVERITIES)}")
            out[key] = value
            continue
        values = _as_tuple(value, f"{where}.{key}")
        if key == "kind":
            bad = [v for v in values if v not in KINDS]
            if bad:
                raise RouteConfigError(f"{where}.kind", f"{bad[0]!r} is not one of {', '.join(KINDS)}")
        out[key] = values
    return out


def _sink_names(value: Any, where: str) -> tuple[str, ...]:
    names = _as_tuple(value, where)
    return tuple(dict.fromkeys(names))
