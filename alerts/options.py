"""Typed, validated reading of one sink's config dict (unknown keys are typos, not ignored)."""

from __future__ import annotations

from typing import Any, Mapping

from alerts.errors import SinkConfigError

_BOOL_WORDS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


class Options:
    """Read options of sink ``name`` from ``cfg``; every problem is a :class:`SinkConfigError`.

    Example:
        >>> o = Options("out", {"path": "a.jsonl", "fsync": "yes"}, allowed={"path", "fsync"})
        >>> o.string("path", required=True), o.boolean("fsync", default=False)
        ('a.jsonl', True)
        >>> Options("out", {"pth": "x"}, allowed={"path"})
        Traceback (most recent call last):
        ...
        alerts.errors.SinkConfigError: sink 'out': pth: unknown option; known options: kind, path
    """

    def __init__(self, name: str, cfg: Mapping[str, Any], *, allowed: set[str]) -> None:
        self.name = name
        self.cfg = dict(cfg)
        known = sorted(allowed | {"kind", "enabled"})
        for key in self.cfg:
            if key not in known:
                shown = ", ".join(k for k in known if k != "enabled")
                raise SinkConfigError(name, str(key), f"unknown option; known options: {shown}")

    def string(self, key: str, *, required: bool = False, default: str | None = None, hint: str = "") -> str | None:
        """A string option; ``required`` and missing or empty raises with ``hint`` appended."""
        value = self.cfg.get(key, default)
        if value is None or value == "":
            if required:
                raise SinkConfigError(self.name, key, "missing" + (f"; {hint}" if hint else ""))
            return default
        if not isinstance(value, str):
            raise SinkConfigError(self.name, key, f"must be a string, got {type(value).__name__}")
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        """A boolean option; accepts YAML booleans and yes/no/true/false/on/off/1/0 strings."""
        value = self.cfg.get(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.strip().lower()]
        raise SinkConfigError(self.name, key, f"must be true or false, got {value!r}")

    def number(self, key: str, *, default: float, minimum: float = 0) -> float:
        """A non-negative number option (seconds, counts)."""
        value = self.cfg.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
            raise SinkConfigError(self.name, key, f"must be a number >= {minimum}, got {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], *, default: str) -> str:
        """One of ``choices``, else a :class:`SinkConfigError` listing them."""
        value = self.cfg.get(key, default)
        if value not in choices:
            raise SinkConfigError(self.name, key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value
