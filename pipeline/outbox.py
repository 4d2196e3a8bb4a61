"""Queueing alerts: every stage puts its alerts into the outbox through ``enqueue_request``.

The routes of the configuration in force decide, at enqueue time, which sinks an alert goes to;
those deliveries are stored with the alert in the same transaction (``Store.enqueue_alert``),
so ``deliver`` run later with another (or no) ``schedules.yaml`` never reroutes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from alerts.base import Alert
from alerts.routing import Route, route
from pipeline.core.classify import AlertRequest
from store import Store

DEFAULT_SINKS = ("console",)


@dataclass(frozen=True)
class Routing:
    """The routes and default sinks an alert is planned with.

    Example:
        >>> Routing().sinks_for(Alert(0, "new", "info", "mofcom", None, "T", "S", "https://x.test/",
        ...                           datetime(2025, 1, 1).astimezone()))
        ['console']
    """

    routes: tuple[Route, ...] = ()
    default: tuple[str, ...] = DEFAULT_SINKS
    exclude: frozenset[str] = field(default_factory=frozenset)
    web_base_url: str | None = None  # config ``web.base_url``: alerts about a document link to its page

    @classmethod
    def from_config(cls, config: object) -> Routing:
        """The routing of a ``pipeline.config.Config`` (its routes, ``default_route`` and ``web.base_url``)."""
        from pipeline.sinks import routes_of

        return cls(tuple(routes_of(config)), tuple(getattr(config, "default_route", DEFAULT_SINKS)),
                   web_base_url=web_base_url(config))

    def sinks_for(self, alert: Alert) -> list[str]:
        """Sink names for ``alert``; ``exclude`` removes sinks (e.g. the one an ops alert is about)."""
        names = [n for n in route(alert, list(self.routes), list(self.default)) if n not in self.exclude]
        if not names:
            names = [n for n in self.default if n not in self.exclude]
        return names

    def without(self, sinks: Sequence[str]) -> Routing:
        """The same routing, never choosing ``sinks``."""
        return replace(self, exclude=self.exclude | frozenset(sinks))


def web_base_url(config: object) -> str | None:
    """The configured ``web.base_url`` of a ``pipeline.config.Config`` (None when not set)."""
    return getattr(getattr(config, "web", None), "base_url", None)


def web_links(request: AlertRequest, base_url: str | None) -> tuple[tuple[str, str], ...]:
    """The "Open in regwatch" link of an alert about a document, when the web view's URL is configured.

    Example:
        >>> r = AlertRequest("k", "new", "info", "mofcom", "mofcom:2025:61", "T", "S", "https://x.test/")
        >>> web_links(r, "https://rw.example.com/")
        (('Open in regwatch', 'https://rw.example.com/doc/mofcom:2025:61'),)
        >>> web_links(r, None)
        ()
    """
    if not base_url or not request.doc_key:
        return ()
    from pipeline.weblinks import doc_path, page_url

    return (("Open in regwatch", page_url(base_url, doc_path(request.doc_key))),)


def alert_of(request: AlertRequest, now: datetime, links: tuple[tuple[str, str], ...] = ()) -> Alert:
    """The alert value for a request (validated now, not first at delivery; the outbox id is 0)."""
    return Alert(0, request.kind, request.severity, request.source, request.doc_key, request.title,
                 " ".join(request.summary.split()), request.url, now, facts=request.facts,
                 diff_text=request.diff_text, links=links, tags=request.tags,
                 headline=request.headline)


def enqueue_request(store: Store, request: AlertRequest, now: datetime, routing: Routing | None = None) -> int:
    """Put one alert and its planned deliveries in the outbox; returns 1 if new, 0 if its dedup key was there.

    ``routing`` None plans with the built-in default (console only).
    """
    routing = routing or Routing()
    alert = alert_of(request, now, web_links(request, routing.web_base_url))
    sinks = routing.sinks_for(alert)
    _, created = store.enqueue_alert(dedup_key=request.dedup_key, kind=request.kind, severity=request.severity,
                                     source=request.source, doc_key=request.doc_key, payload=alert.to_payload(),
                                     created_at=now, sinks=sinks)
    return int(created)


__all__ = ["DEFAULT_SINKS", "Routing", "alert_of", "enqueue_request", "web_base_url", "web_links"]
