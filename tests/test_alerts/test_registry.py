"""Sink registry: built-ins, entry-point plug-ins, disabled sinks, unknown kinds."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import alerts.registry as registry
from alerts.console import ConsoleSink
from alerts.errors import SinkConfigError
from alerts.jsonl import JsonlSink
from alerts.registry import ENTRY_POINT_GROUP, build_sinks, sink_class, sink_kinds
from alerts.slack import SlackSink

PLUGIN = '''
"""A third-party sink used by the registry tests."""
from alerts.base import DeliveryResult


class MemorySink:
    kind = "memory"

    def __init__(self, name, size):
        self.name, self.size, self.sent = name, size, []

    @classmethod
    def from_config(cls, name, cfg):
        return cls(name, cfg.get("size", 10))

    def send(self, alert):
        self.sent.append(alert)
        return DeliveryResult.success(str(len(self.sent)))


class NotASink:
    @classmethod
    def from_config(cls, name, cfg):
        return object()


class FakeSlack(MemorySink):
    kind = "slack"
'''


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[EntryPoint]:
    (tmp_path / "regwatch_test_plugin.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [
        EntryPoint("console", "alerts.console:ConsoleSink", ENTRY_POINT_GROUP),  # regwatch's own declaration
        EntryPoint("memory", "regwatch_test_plugin:MemorySink", ENTRY_POINT_GROUP),
        EntryPoint("notasink", "regwatch_test_plugin:NotASink", ENTRY_POINT_GROUP),
        EntryPoint("broken", "regwatch_missing_module:Sink", ENTRY_POINT_GROUP),
        EntryPoint("slack", "regwatch_test_plugin:FakeSlack", ENTRY_POINT_GROUP),  # must not shadow a built-in
    ]
    monkeypatch.setattr(registry, "plugin_entry_points", lambda: eps)
    return eps


def test_installed_entry_points_point_at_builtins() -> None:
    for ep in registry.plugin_entry_points():
        if ep.name in registry.BUILTIN_SINKS:
            assert ep.load() is registry.BUILTIN_SINKS[ep.name]


def test_builtin_kinds() -> None:
    assert {k: sink_class(k) for k in ("console", "jsonl", "slack")} == {
        "console": ConsoleSink, "jsonl": JsonlSink, "slack": SlackSink,
    }


def test_plugins_are_merged_and_builtins_win(plugins, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="alerts.registry")
    assert sorted(sink_kinds()) == ["broken", "console", "jsonl", "memory", "notasink", "slack"]
    assert sink_class("slack") is SlackSink
    assert sink_class("memory").__name__ == "MemorySink"
    assert [r.getMessage() for r in caplog.records] == [
        "Ignored alert sink plug-in slack = regwatch_test_plugin:FakeSlack: 'slack' is a built-in kind"
    ] * 3  # once per lookup here; build_sinks looks up once per call


def test_build_sinks_mixed(plugins, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="alerts.registry")
    sinks, disabled = build_sinks(
        {
            "dry": {"kind": "console", "color": "never"},
            "archive": {"kind": "jsonl", "path": str(tmp_path / "a.jsonl")},
            "legal": {"kind": "slack", "token": None, "channel": "#export-controls"},
            "mem": {"kind": "memory", "size": 3},
            "paused": {"kind": "jsonl", "path": "x", "enabled": False},
        }
    )
    assert list(sinks) == ["dry", "archive", "mem"]
    assert [(s.kind, s.name) for s in sinks.values()] == [("console", "dry"), ("jsonl", "archive"), ("memory", "mem")]
    assert sinks["mem"].size == 3
    assert disabled == {"legal": "slack: no token (set SLACK_BOT_TOKEN)", "paused": "enabled: false in config"}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["Ignored alert sink plug-in slack = regwatch_test_plugin:FakeSlack: 'slack' is a built-in kind"]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert messages == [
        "Disabled sink legal: slack: no token (set SLACK_BOT_TOKEN)",
        "Disabled sink paused: enabled: false in config",
    ]


@pytest.mark.parametrize(
    ("configs", "message"),
    [
        ({"pager": {"kind": "sms"}},
         "sink 'pager': kind: unknown sink kind 'sms'; known kinds: broken, console, jsonl, memory, notasink, slack"),
        ({"pager": {"channel": "#x"}},
         "sink 'pager': kind: missing; set kind: one of broken, console, jsonl, memory, notasink, slack"),
        ({"pager": "slack"}, "sink 'pager': (config): must be a mapping with a kind, got 'slack'"),
        ({"pager": {"kind": "broken"}},
         "sink 'pager': kind: plug-in for kind 'broken' failed to load "
         "(ModuleNotFoundError: No module named 'regwatch_missing_module'); reinstall it"),
        ({"pager": {"kind": "notasink"}}, "sink 'pager': kind: 'notasink' built object, which lacks kind/name/send"),
        ({"legal": {"kind": "slack", "token": "xoxb-1"}},
         "sink 'legal': channel: missing; set channel: '#export-controls' (or a channel ID)"),
    ],
)
def test_build_sinks_config_errors(plugins, configs: dict, message: str) -> None:
    with pytest.raises(SinkConfigError) as info:
        build_sinks(configs)
    assert str(info.value) == message
