"""Build alert sinks and routes from the typed config (the glue between pipeline.config and alerts/)."""

from __future__ import annotations

from alerts.routing import load_routes
from alerts.registry import build_sinks
from pipeline.config import Config


def build_from_config(config: Config):
    """Return ``(sinks, routes, disabled)``; disabled maps sink name -> reason (e.g. no Slack token)."""
    sinks, disabled = build_sinks(config.sinks)
    routes = load_routes([{"when": r.when, "to": list(r.to)} for r in config.routes])
    return sinks, routes, disabled


__all__ = ["build_from_config"]
