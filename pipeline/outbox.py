"""Queueing alerts: every stage puts its alerts into the outbox through ``enqueue_request``.

The routes of the configuration in force decide, at enqueue time, which sinks an alert goes to;
those deliveries are stored with the alert in the same transaction (``Store.enqueue_alert``),
so ``deliver`` run later with another (or no) ``schedules.yaml`` never reroutes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from alerts.base import Alert
from alerts.routing import Route, route
from pipeline.classify import AlertRequest
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

    @classmethod
    def from_config(cls, config: object) -> Routing:
        """The routing of a ``pipeline.config.Config`` (its routes and ``default_route``)."""
        from pipeline.sinks import routes_of

        return cls(tuple(routes_of(config)), tuple(getattr(config, "default_route", DEFAULT_SINKS)))

    def sinks_for(self, alert: Alert) -> list[str]:
        """Sink names for ``alert``; ``exclude`` removes sinks (e.g. the one an ops alert is about)."""
        names = [n for n in route(alert, list(self.routes), list(self.default)) if n not in self.exclude]
        if not names:
            names = [n for n in self.default if n not in self.exclude]
        return names

    def without(self, sinks: Sequence[str]) -> Routing:
        """The same routing, never choosing ``sinks``."""
        return Routing(self.routes, self.default, self.exclude | frozenset(sinks))


def alert_of(request: AlertRequest, now: datetime) -> Alert:
    """The alert value for a request (validated now, not first at delivery; the outbox id is 0)."""
    return Alert(0, request.kind, request.severity, request.source, request.doc_key, request.title,
                 " ".join(request.summary.split()), request.url, now, facts=request.facts,
                 diff_text=request.diff_text, tags=request.tags)


def enqueue_request(store: Store, request: AlertRequest, now: datetime, routing: Routing | None = None) -> int:
    """Put one alert and its planned deliveries in the outbox; returns 1 if new, 0 if its dedup key was there.

    ``routing`` None plans with the built-in default (console only).
    """
    alert = alert_of(request, now)
    sinks = (routing or Routing()).sinks_for(alert)
    _, created = store.enqueue_alert(dedup_key=request.dedup_key, kind=request.kind, severity=request.severity,
                                     source=request.source, doc_key=request.doc_key, payload=alert.to_payload(),
                                     created_at=now, sinks=sinks)
    return int(created)


__all__ = ["DEFAULT_SINKS", "Routing", "alert_of", "enqueue_request"]
