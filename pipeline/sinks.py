"""Build alert sinks and routes from the typed config (the glue between pipeline.config and alerts/)."""

from __future__ import annotations

from alerts.routing import Route, load_routes
from alerts.registry import build_sinks
from pipeline.config import Config


def routes_of(config: Config) -> list[Route]:
    """The config's routing table as ``alerts.routing.Route`` objects."""
    return load_routes([{"when": r.when, "to": list(r.to)} for r in config.routes])


def build_from_config(config: Config):
    """Return ``(sinks, routes, disabled)``; disabled maps sink name -> reason (e.g. no Slack token)."""
    sinks, disabled = build_sinks(config.sinks)
    return sinks, routes_of(config), disabled


__all__ = ["build_from_config", "routes_of"]
