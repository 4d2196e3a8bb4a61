"""Sink registry: built-in kinds plus entry points ``regwatch.alert_sinks``; builds sinks from config."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Callable, Mapping

from alerts.base import AlertSink
from alerts.console import ConsoleSink
from alerts.errors import SinkConfigError, SinkDisabled
from alerts.jsonl import JsonlSink
from alerts.slack import SlackSink

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "regwatch.alert_sinks"
BUILTIN_SINKS: dict[str, type] = {"console": ConsoleSink, "jsonl": JsonlSink, "slack": SlackSink}


def plugin_entry_points() -> list[EntryPoint]:
    """Installed entry points of the ``regwatch.alert_sinks`` group (tests monkeypatch this)."""
    return list(entry_points(group=ENTRY_POINT_GROUP))


def sink_kinds() -> dict[str, Callable[[], type]]:
    """Every known sink kind → a loader of its class; built-ins cannot be shadowed by plugins.

    An entry point whose name is a built-in kind is ignored unless it points at the built-in
    class itself (regwatch's own pyproject declares console and jsonl that way).

    Example:
        >>> sorted(sink_kinds())[:3]
        ['console', 'jsonl', 'slack']
    """
    kinds: dict[str, Callable[[], type]] = {name: (lambda cls=cls: cls) for name, cls in BUILTIN_SINKS.items()}
    for ep in plugin_entry_points():
        if ep.name in BUILTIN_SINKS:
            builtin = BUILTIN_SINKS[ep.name]
            if ep.value != f"{builtin.__module__}:{builtin.__qualname__}":
                log.warning("Ignored alert sink plug-in %s = %s: %r is a built-in kind", ep.name, ep.value, ep.name)
            continue
        kinds.setdefault(ep.name, ep.load)
    return kinds


def sink_class(kind: str, sink_name: str = "?", kinds: Mapping[str, Callable[[], type]] | None = None) -> type:
    """The class for ``kind``; an unknown kind or a broken plug-in raises :class:`SinkConfigError`.

    Example:
        >>> sink_class("console").__name__
        'ConsoleSink'
        >>> sink_class("sms", "pager")
        Traceback (most recent call last):
        ...
        alerts.errors.SinkConfigError: sink 'pager': kind: unknown sink kind 'sms'; known kinds: console, jsonl, slack
    """
    kinds = sink_kinds() if kinds is None else kinds
    if kind not in kinds:
        known = ", ".join(sorted(kinds))
        raise SinkConfigError(sink_name, "kind", f"unknown sink kind {kind!r}; known kinds: {known}")
    try:
        cls = kinds[kind]()
    except (ImportError, AttributeError) as exc:
        raise SinkConfigError(
            sink_name, "kind", f"plug-in for kind {kind!r} failed to load ({type(exc).__name__}: {exc}); reinstall it"
        ) from exc
    if not callable(getattr(cls, "from_config", None)):
        raise SinkConfigError(sink_name, "kind", f"plug-in for kind {kind!r} has no from_config(name, cfg)")
    return cls


def build_sinks(configs: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, AlertSink], dict[str, str]]:
    """Build every configured sink: ``(sinks by name, disabled reasons by name)``.

    Each config needs ``kind``; ``enabled: false`` disables a sink. A sink raising
    :class:`SinkDisabled` is logged ("Disabled sink legal: reason") and reported, not raised.
    Config mistakes raise :class:`SinkConfigError` naming the sink and field.

    Example:
        >>> sinks, disabled = build_sinks({"dry": {"kind": "console"},
        ...                                "legal": {"kind": "slack", "token": "", "channel": "#legal"}})
        >>> sorted(sinks), disabled
        (['dry'], {'legal': 'slack: no token (set SLACK_BOT_TOKEN)'})
    """
    sinks: dict[str, AlertSink] = {}
    disabled: dict[str, str] = {}
    kinds = sink_kinds()
    for name, cfg in configs.items():
        if not isinstance(cfg, Mapping):
            raise SinkConfigError(name, "(config)", f"must be a mapping with a kind, got {cfg!r}")
        kind = cfg.get("kind")
        if not kind or not isinstance(kind, str):
            raise SinkConfigError(name, "kind", f"missing; set kind: one of {', '.join(sorted(kinds))}")
        cls = sink_class(kind, name, kinds)
        if cfg.get("enabled", True) is False:
            disabled[name] = "enabled: false in config"
            log.info("Disabled sink %s: %s", name, disabled[name])
            continue
        try:
            sink = cls.from_config(name, cfg)
        except SinkDisabled as exc:
            disabled[name] = exc.reason
            log.info("Disabled sink %s: %s", name, exc.reason)
            continue
        if not isinstance(sink, AlertSink):
            raise SinkConfigError(name, "kind", f"{kind!r} built {type(sink).__name__}, which lacks kind/name/send")
        sinks[name] = sink
    return sinks, disabled
