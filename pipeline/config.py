"""Configuration: defaults table, then schedules.yaml, then environment, then CLI flags.

Secrets appear in YAML only as ``{$env: NAME}`` and are resolved here; a missing variable
leaves the value ``None`` so the sink disables itself with a clear reason instead of crashing.
Every error names the file and the field (``schedules.yaml: sources.mofcom.cron: ...``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alerts.errors import RouteConfigError
from alerts.routing import load_routes, sink_names_used
from crawlers.sources import SOURCES
from pipeline.authority import DEFAULT_AUTHORITY
from pipeline.docnumber import AGENCY_CODES, ISSUERS, ORDER_CODES

# name -> (default, help). Documented in README (tests/test_docs.py checks every key).
DEFAULTS: dict[str, tuple[Any, str]] = {
    "jitter_seconds": (300, "random delay added to each scheduled crawl, in seconds"),
    "max_consecutive_failures": (3, "failed runs in a row before a source-health alert"),
    "misfire_grace_seconds": (900, "how late a scheduled run may start before it is skipped"),
    "crawl_timeout_seconds": (900, "hard limit for one crawl subprocess"),
    "deadline_lead_days": ([30, 7, 1, 0], "days before a legal deadline when deadline alerts are raised"),
    "dead_after_hours": (168, "hours of retryable delivery failures before a delivery is marked dead (resend with `regwatch alerts retry`)"),
}


class ConfigError(Exception):
    """schedules.yaml (or an override) is invalid; the message names file, field and fix."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Defaults(_Model):
    jitter_seconds: int = Field(DEFAULTS["jitter_seconds"][0], ge=0)
    max_consecutive_failures: int = Field(DEFAULTS["max_consecutive_failures"][0], ge=1)
    misfire_grace_seconds: int = Field(DEFAULTS["misfire_grace_seconds"][0], ge=1)
    crawl_timeout_seconds: int = Field(DEFAULTS["crawl_timeout_seconds"][0], ge=10)
    deadline_lead_days: list[int] = Field(default_factory=lambda: list(DEFAULTS["deadline_lead_days"][0]))
    dead_after_hours: float = Field(DEFAULTS["dead_after_hours"][0], gt=0)


class SourceConfig(_Model):
    cron: str | None = None
    interval_minutes: int | None = Field(None, ge=1)
    timezone: str = "Asia/Shanghai"
    enabled: bool = True
    base_url: str | None = None
    max_pages: int | None = Field(None, ge=1)
    delay_seconds: float | None = Field(None, ge=0)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Asia/Shanghai)") from exc
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) != 5:
            raise ValueError(f"cron {value!r} must have 5 fields: minute hour day month day-of-week")
        return value


class RouteConfig(_Model):
    when: dict[str, Any] = Field(default_factory=dict)
    to: list[str]


class WebConfig(_Model):
    """``web:`` — the web view (``regwatch web``). ``base_url``: where readers reach it; when set,
    alerts link to the document's page there ("Open in regwatch")."""

    base_url: str | None = None

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("http://") or value.startswith("https://")):
            raise ValueError(f"base_url {value!r} must start with http:// or https://, e.g. https://regwatch.example.com")
        return value


ISSUER_SLUGS = frozenset(ISSUERS.values()) | frozenset(AGENCY_CODES.values()) | frozenset(ORDER_CODES.values())
"""Every issuer slug a canonical key can start with (``pipeline.docnumber``)."""


class Config(_Model):
    defaults: Defaults = Field(default_factory=Defaults)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    sinks: dict[str, dict[str, Any]] = Field(default_factory=lambda: {"console": {"kind": "console"}})
    routes: list[RouteConfig] = Field(default_factory=list)
    default_route: list[str] = Field(default_factory=lambda: ["console"])
    # issuer slug -> authoritative source slug; YAML entries override or extend DEFAULT_AUTHORITY,
    # so this always holds the whole table (pass it to process_pending).
    authority: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_AUTHORITY))
    web: WebConfig = Field(default_factory=WebConfig)
    path: str | None = None

    @field_validator("authority")
    @classmethod
    def _authority(cls, value: dict[str, str]) -> dict[str, str]:
        for issuer, source in value.items():
            if issuer not in ISSUER_SLUGS:
                raise ValueError(f"unknown issuer {issuer!r} (issuer slugs of document keys, e.g. mofcom, gacc, "
                                 "miit, state-council, meti)")
            if source not in SOURCES:
                raise ValueError(f"{issuer}: unknown source {source!r} (use one of {', '.join(sorted(SOURCES))})")
        return {**DEFAULT_AUTHORITY, **value}


def resolve_env(value: Any, env: Mapping[str, str], where: str = "") -> Any:
    """Replace ``{$env: NAME}`` mappings by the variable's value (None when unset).

    Example:
        >>> resolve_env({"token": {"$env": "T"}}, {"T": "xoxb-1"})
        {'token': 'xoxb-1'}
    """
    if isinstance(value, dict):
        if set(value) == {"$env"}:
            name = value["$env"]
            if not isinstance(name, str) or not name:
                raise ConfigError(f"{where}: {{$env: ...}} needs a variable name")
            return env.get(name) or None
        return {k: resolve_env(v, env, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_env(v, env, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def load_config(path: str | Path | None, *, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate schedules.yaml; ``None`` gives the built-in defaults.

    Raises ConfigError naming the file and field on any problem.
    """
    env = os.environ if env is None else env
    if path is None:
        return Config()
    p = Path(path)
    try:
        raw_text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{p}: file not found; pass --config or create it from the README example") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read ({exc}); it must be a UTF-8 YAML file") from exc
    try:
        raw = yaml.safe_load(raw_text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{p}:{where}: invalid YAML ({getattr(exc, 'problem', exc)}); fix the syntax") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: top level must be a mapping with defaults/sources/sinks/routes")
    raw = resolve_env(raw, env)
    try:
        config = Config.model_validate({**raw, "path": str(p)})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"{p}: {field}: {first['msg']} (see README 'Configuration')") from exc
    for name, sink in config.sinks.items():
        if not isinstance(sink, dict) or "kind" not in sink:
            raise ConfigError(f"{p}: sinks.{name}: needs a 'kind' (console, jsonl, slack)")
    config.sinks.setdefault("console", {"kind": "console"})  # always available for the default route
    try:  # the alert router's own validation, so a bad `when:` fails at load, not at delivery
        routes = load_routes([{"when": r.when, "to": list(r.to)} for r in config.routes])
    except RouteConfigError as exc:
        raise ConfigError(f"{p}: {exc}; see README 'Configuration'") from exc
    unknown = set(sink_names_used(routes, config.default_route)) - set(config.sinks)
    if unknown:
        raise ConfigError(f"{p}: routes: unknown sink(s) {sorted(unknown)}; define them under 'sinks:'")
    for name, src in config.sources.items():
        if src.cron is None and src.interval_minutes is None:
            raise ConfigError(f"{p}: sources.{name}: give either cron or interval_minutes")
    return config


__all__ = ["DEFAULTS", "Config", "ConfigError", "Defaults", "RouteConfig", "SourceConfig", "WebConfig", "load_config",
           "resolve_env"]
