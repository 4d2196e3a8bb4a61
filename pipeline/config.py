"""Configuration: defaults table, then schedules.yaml, then environment, then CLI flags.

Secrets appear in YAML only as ``{$env: NAME}`` and are resolved here; a missing variable
leaves the value ``None`` so the sink disables itself with a clear reason instead of crashing
(and ``check_config`` warns, naming the sink).

:func:`check_config` validates the whole file and returns *every* problem at once, each naming
file, line and key (``schedules.yaml:12: sources.mofcom.cron: ...``); :func:`load_config` is
the same check, raising :class:`ConfigError` with those lines when any is an error. The line
numbers come from the YAML nodes (``pipeline.yamlnodes``), so they hold for validation errors
too, not only for syntax errors.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from alerts.errors import RouteConfigError, SinkConfigError, SinkDisabled
from alerts.registry import sink_class
from alerts.routing import Route
from crawlers.sources import SOURCES
from pipeline.core.authority import DEFAULT_AUTHORITY
from pipeline.core.docnumber import AGENCY_CODES, ISSUERS, ORDER_CODES
from pipeline.triggers import cron_trigger
from pipeline.yamlnodes import YamlDoc, format_path, load_yaml

# name -> (default, help). Documented in README (tests/test_docs.py checks every key).
DEFAULTS: dict[str, tuple[Any, str]] = {
    "jitter_seconds": (300, "random delay added to each scheduled crawl, in seconds"),
    "max_consecutive_failures": (3, "failed runs in a row before a source-health alert"),
    "misfire_grace_seconds": (900, "how late a scheduled run may start before it is skipped"),
    "crawl_timeout_seconds": (900, "hard limit for one crawl subprocess"),
    "deadline_lead_days": ([30, 7, 1, 0], "days before a legal deadline when deadline alerts are raised"),
    "dead_after_hours": (168, "hours of retryable delivery failures before a delivery is marked dead (resend with `regwatch alerts retry`)"),
    "withdrawal_recheck_hours": (24, "hours before a known page that is on no list is fetched again to see whether it is gone"),
    "withdrawal_after_checks": (3, "404/410 answers in a row (one per crawl, while the lists still parse) before a page is withdrawn"),
    "withdrawal_max_rechecks": (20, "known pages re-checked per crawl at most (0 = no re-checks)"),
    "recheck_days": (7, "days before a listed detail page already stored is fetched again (conditionally) to catch silent edits; `crawl --recheck` fetches them all now"),
    "max_page_mb": (10, "largest page a crawl downloads, in MB; a larger one is a `too_large` crawl error naming the URL"),
    "capture_retention_days": (None, "prune the raw bodies of captures older than this many days (daily by the daemon, or `regwatch db prune`); never the capture behind a version's latest appearance, the latest of its URL, or one pending or held; null = keep every raw capture"),
    "crawl_log_dir": (None, "directory of the kept crawl logs, one file per run under <dir>/<source>/ (default: logs/ beside a SQLite database, else the user log directory)"),
    "crawl_logs_keep": (20, "crawl logs kept per source; older ones are deleted after each crawl"),
    "retry_after_max_seconds": (120, "longest Retry-After a crawl waits on HTTP 429/503 before retrying; longer is a `rate_limited` crawl error"),
}
README_HINT = "see README 'Configuration'"


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`check_config`; ``str()`` is ``FILE:LINE: key.path: what is wrong (hint)``.

    Example:
        >>> print(Problem("s.yaml", 4, "sources.mofcomm", "unknown source 'mofcomm'", "did you mean 'mofcom'?"))
        s.yaml:4: sources.mofcomm: unknown source 'mofcomm' (did you mean 'mofcom'?)
        >>> print(Problem("s.yaml", 9, "sinks.legal.token", "SLACK_BOT_TOKEN is not set", warning=True))
        s.yaml:9: WARNING: sinks.legal.token: SLACK_BOT_TOKEN is not set
    """

    file: str
    line: int | None
    where: str
    message: str
    hint: str = ""
    warning: bool = False

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}" if self.line else self.file]
        parts += ["WARNING"] if self.warning else []
        parts += [self.where] if self.where else []
        return ": ".join(parts) + f": {self.message}" + (f" ({self.hint})" if self.hint else "")


class ConfigError(Exception):
    """schedules.yaml (or an override) is invalid; one line per problem, each naming file, line, key and fix."""

    def __init__(self, problems: str | list[Problem]) -> None:
        self.problems = [] if isinstance(problems, str) else list(problems)
        super().__init__(problems if isinstance(problems, str) else "\n".join(str(p) for p in self.problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Defaults(_Model):
    jitter_seconds: int = Field(DEFAULTS["jitter_seconds"][0], ge=0)
    max_consecutive_failures: int = Field(DEFAULTS["max_consecutive_failures"][0], ge=1)
    misfire_grace_seconds: int = Field(DEFAULTS["misfire_grace_seconds"][0], ge=1)
    crawl_timeout_seconds: int = Field(DEFAULTS["crawl_timeout_seconds"][0], ge=10)
    deadline_lead_days: list[int] = Field(default_factory=lambda: list(DEFAULTS["deadline_lead_days"][0]))
    dead_after_hours: float = Field(DEFAULTS["dead_after_hours"][0], gt=0)
    withdrawal_recheck_hours: float = Field(DEFAULTS["withdrawal_recheck_hours"][0], gt=0)
    withdrawal_after_checks: int = Field(DEFAULTS["withdrawal_after_checks"][0], ge=1)
    withdrawal_max_rechecks: int = Field(DEFAULTS["withdrawal_max_rechecks"][0], ge=0)
    recheck_days: float = Field(DEFAULTS["recheck_days"][0], gt=0)
    max_page_mb: float = Field(DEFAULTS["max_page_mb"][0], gt=0)
    retry_after_max_seconds: float = Field(DEFAULTS["retry_after_max_seconds"][0], ge=0)
    capture_retention_days: float | None = Field(DEFAULTS["capture_retention_days"][0], ge=1)
    crawl_log_dir: str | None = DEFAULTS["crawl_log_dir"][0]
    crawl_logs_keep: int = Field(DEFAULTS["crawl_logs_keep"][0], ge=1)


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
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Asia/Shanghai or Asia/Tokyo)") from exc
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:  # APScheduler's own trigger building: what loads here, the daemon can schedule
            try:
                cron_trigger(value, timezone="UTC", jitter=None)
            except ValueError as exc:
                if str(exc).startswith("cron "):
                    raise ValueError(f"{exc} (e.g. '0 */2 * * *': minute 0 of every second hour)") from exc
                raise ValueError(f"cron {value!r}: {exc} (minute hour day month day-of-week, e.g. '0 */2 * * *')") from exc
        return value

    @model_validator(mode="after")
    def _schedule(self) -> SourceConfig:
        if self.cron is None and self.interval_minutes is None:
            raise ValueError("give either cron or interval_minutes (e.g. cron: '0 */2 * * *')")
        if self.cron is not None and self.interval_minutes is not None:
            raise ValueError("give cron or interval_minutes, not both")
        return self


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
"""Every issuer slug a canonical key can start with (``pipeline.core.docnumber``)."""


def _issuer(value: str) -> str:
    if value not in ISSUER_SLUGS:
        raise ValueError(f"unknown issuer {value!r} (issuer slugs of document keys, e.g. mofcom, gacc, "
                         "miit, state-council, meti)")
    return value


def _source(value: str) -> str:
    if value not in SOURCES:
        raise ValueError(f"unknown source {value!r} (use one of {', '.join(sorted(SOURCES))})")
    return value


class Config(_Model):
    defaults: Defaults = Field(default_factory=Defaults)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    sinks: dict[str, dict[str, Any]] = Field(default_factory=lambda: {"console": {"kind": "console"}})
    routes: list[RouteConfig] = Field(default_factory=list)
    default_route: list[str] = Field(default_factory=lambda: ["console"])
    # issuer slug -> authoritative source slug; YAML entries override or extend DEFAULT_AUTHORITY,
    # so this always holds the whole table (pass it to process_pending).
    authority: dict[Annotated[str, AfterValidator(_issuer)], Annotated[str, AfterValidator(_source)]] = Field(
        default_factory=lambda: dict(DEFAULT_AUTHORITY))
    web: WebConfig = Field(default_factory=WebConfig)
    path: str | None = None

    @field_validator("authority")
    @classmethod
    def _authority(cls, value: dict[str, str]) -> dict[str, str]:
        return {**DEFAULT_AUTHORITY, **value}


FILE_KEYS = tuple(k for k in Config.model_fields if k != "path")
_KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "": FILE_KEYS, "defaults": tuple(Defaults.model_fields), "sources.*": tuple(SourceConfig.model_fields),
    "routes.*": tuple(RouteConfig.model_fields),
}


@dataclass
class ConfigReport:
    """What :func:`check_config` found: the config (None when any error) and every problem, in line order."""

    path: str
    config: Config | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.warning]


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

    Raises ConfigError with one ``FILE:LINE: key: problem (hint)`` line per error
    (:func:`check_config`); warnings (an unset ``{$env}`` variable) do not raise.
    """
    if path is None:
        return Config()
    report = check_config(path, env=env)
    if report.errors or report.config is None:
        raise ConfigError(report.errors)
    return report.config


_LITERAL_ENV = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|^\$[A-Za-z_][A-Za-z0-9_]*$")


def check_config(path: str | Path, *, env: Mapping[str, str] | None = None) -> ConfigReport:
    """Validate schedules.yaml completely: every error and warning, in line order.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = Path(d, "s.yaml")
        ...     _ = p.write_text("sources:\\n  mofcomm: {cron: '99 * * * *'}\\n", encoding="utf-8")
        ...     for problem in check_config(p, env={}).problems:
        ...         print(problem.line, problem.where, problem.message[:40], "|", problem.hint)
        2 sources.mofcomm unknown source 'mofcomm' | did you mean 'mofcom'?
        2 sources.mofcomm.cron cron '99 * * * *': Error validating expr | minute hour day month day-of-week, e.g. '0 */2 * * *'
    """
    return _Checker(Path(path), os.environ if env is None else env).run()


class _Checker:
    def __init__(self, path: Path, env: Mapping[str, str]) -> None:
        self.path = path
        self.file = str(path)
        self.env = env
        self.doc = YamlDoc(None)
        self.problems: list[Problem] = []
        self.unset: list[tuple[tuple[Any, ...], str]] = []  # (path of the {$env} value, variable)
        self.route_errors: set[int] = set()  # routes the model already reported

    def add(self, where: tuple[Any, ...], message: str, hint: str = "", *, warning: bool = False,
            line: int | None = None) -> None:
        self.problems.append(Problem(self.file, line or self.doc.line_of(where), format_path(where), message, hint,
                                     warning))

    def report(self, config: Config | None = None) -> ConfigReport:
        ordered = sorted(self.problems, key=lambda p: p.line or 0)  # stable: same line keeps check order
        return ConfigReport(self.file, None if any(not p.warning for p in ordered) else config, ordered)

    def run(self) -> ConfigReport:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.problems.append(Problem(self.file, None, "", "file not found",
                                         "pass --config or create it from the README example"))
            return self.report()
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(Problem(self.file, None, "", f"cannot read ({exc})", "it must be a UTF-8 YAML file"))
            return self.report()
        try:
            self.doc = load_yaml(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            self.problems.append(Problem(self.file, mark.line + 1 if mark else None, "", f"invalid YAML: {problem}",
                                         "fix the syntax"))
            return self.report()
        raw = {} if self.doc.data is None else self.doc.data
        if not isinstance(raw, dict):
            self.add((), "top level must be a mapping with defaults, sources, sinks, routes")
            return self.report()
        for where, line, first in self.doc.duplicates:
            self.add(where, f"duplicate key, also at line {first}; YAML would silently keep only the last one",
                     "remove or rename one", line=line)
        if "path" in raw:
            self.add(("path",), "unknown key", f"known keys: {', '.join(FILE_KEYS)}")
            raw = {k: v for k, v in raw.items() if k != "path"}
        resolved = self.resolve(raw, ())
        if isinstance(resolved.get("sources"), dict):
            self.check_source_names(resolved["sources"])
        config = self.validate(resolved)
        sinks = resolved.get("sinks") if isinstance(resolved.get("sinks"), dict) else None
        if sinks is not None:
            self.check_sinks(sinks, self.resolve(raw.get("sinks"), ("sinks",), placeholder=True, collect=False))
        for where, var in self.unset:
            if where[:1] != ("sinks",):
                self.add(where, f"environment variable {var} is not set (the value is empty)",
                         "set it where regwatch runs", warning=True)
        if sinks is not None or "sinks" not in raw:  # with a broken sinks: table, route names cannot be checked
            self.check_routes(resolved, set(sinks or {}) | {"console"})
        if config is not None:
            config.sinks.setdefault("console", {"kind": "console"})  # always available for the default route
        return self.report(config)

    # -- {$env} and literal "${NAME}" ------------------------------------------------------------
    def resolve(self, value: Any, where: tuple[Any, ...], *, placeholder: bool = False, collect: bool = True) -> Any:
        if isinstance(value, dict):
            if "$env" in value:
                name = value["$env"]
                if len(value) != 1 or not isinstance(name, str) or not name:
                    if collect:
                        self.add(where, "{$env: NAME} must be the only key, with a variable name",
                                 "e.g. token: {$env: SLACK_BOT_TOKEN}")
                    return None
                got = self.env.get(name) or None
                if got is None and collect:
                    self.unset.append((where, name))
                return f"<{name} not set>" if got is None and placeholder else got
            return {k: self.resolve(v, (*where, k), placeholder=placeholder, collect=collect) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, (*where, i), placeholder=placeholder, collect=collect) for i, v in enumerate(value)]
        if isinstance(value, str) and collect:
            literal = _LITERAL_ENV.search(value)
            if literal:
                name = literal.group(0).strip("${}")
                self.add(where, f"{literal.group(0)!r} is taken literally, not read from the environment",
                         f"write {{$env: {name}}} instead")
        return value

    # -- the typed model ----------------------------------------------------------------------
    def validate(self, resolved: dict[str, Any]) -> Config | None:
        try:
            return Config.model_validate({**resolved, "path": str(self.path)})
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(p for p in err["loc"] if p != "[key]")
                if loc[:1] == ("routes",) and len(loc) > 1 and isinstance(loc[1], int):
                    self.route_errors.add(loc[1])
                if err["type"] == "extra_forbidden":
                    self.unknown_key(loc)
                    continue
                message = err["msg"].removeprefix("Value error, ")
                hint = ""
                if message.endswith(")") and " (" in message:
                    message, _, hint = message[:-1].rpartition(" (")
                self.add(loc, message, hint or (README_HINT if err["type"] != "value_error" else ""))
            return None

    def unknown_key(self, loc: tuple[Any, ...]) -> None:
        parent = ".".join("*" if i and loc[0] in ("sources", "routes") and i == 1 else str(p)
                          for i, p in enumerate(loc[:-1]))
        known = _KNOWN_KEYS.get(parent, ())
        self.add(loc, "unknown key", _suggest(str(loc[-1]), known, "known keys"))

    # -- names: sources, sinks, routes -----------------------------------------------------------
    def check_source_names(self, sources: dict[Any, Any]) -> None:
        for name in sources:
            if name not in SOURCES:
                self.add(("sources", name), f"unknown source {name!r}", _suggest(str(name), sorted(SOURCES), "known"))

    def check_sinks(self, sinks: dict[Any, Any], with_placeholders: dict[Any, Any]) -> None:
        for name, cfg in sinks.items():
            if not isinstance(cfg, dict):
                continue  # the model reported it
            kind = cfg.get("kind")
            try:
                if not kind or not isinstance(kind, str):
                    raise SinkConfigError(str(name), "kind", "missing")
                cls = sink_class(kind, str(name))
            except SinkConfigError as exc:
                hint = "set kind: console, jsonl or slack" if exc.message == "missing" else ""
                self.add(("sinks", name, "kind") if "kind" in cfg else ("sinks", name),
                         exc.message if "kind" in cfg else "needs a 'kind'", hint)
                continue
            unset = [(where, var) for where, var in self.unset if where[:2] == ("sinks", name)]
            enabled = cfg.get("enabled", True) is not False
            outcome = _build(cls, str(name), cfg) if enabled else _build(cls, str(name), with_placeholders[name])
            if isinstance(outcome, SinkConfigError):
                self.sink_error(name, cfg, outcome)
                for where, var in unset if enabled else []:
                    self.add(where, f"environment variable {var} is not set (sink {name!r})",
                             "set it where regwatch runs, e.g. in the systemd EnvironmentFile", warning=True)
                continue
            if not enabled:
                continue
            if isinstance(outcome, SinkDisabled):
                for where, var in unset:
                    self.add(where, f"environment variable {var} is not set: sink {name!r} is disabled until it is",
                             "set it where regwatch runs, e.g. in the systemd EnvironmentFile; the sink's alerts "
                             "wait in the outbox", warning=True)
                if not unset:
                    self.add(("sinks", name), f"sink {name!r} is disabled: {outcome.reason}", warning=True)
                elif isinstance(again := _build(cls, str(name), with_placeholders[name]), SinkConfigError):
                    self.sink_error(name, cfg, again)
            else:
                for where, var in unset:
                    self.add(where, f"environment variable {var} is not set (sink {name!r} gets no value)",
                             "set it where regwatch runs", warning=True)

    def sink_error(self, name: Any, cfg: dict[str, Any], exc: SinkConfigError) -> None:
        where = ("sinks", name) if exc.field == "(config)" else ("sinks", name, exc.field)
        message, hint = exc.message, ""
        if message.startswith("unknown option; known options: "):
            known = message.removeprefix("unknown option; known options: ").split(", ")
            message, hint = "unknown option", _suggest(exc.field, known, "known options")
        elif "; " in message:
            message, _, hint = message.partition("; ")
        self.add(where, message, hint)

    def check_routes(self, resolved: dict[str, Any], sinks: set[str]) -> None:
        routes = resolved.get("routes")
        for i, item in enumerate(routes if isinstance(routes, list) else []):
            if i in self.route_errors or not isinstance(item, dict):
                continue
            try:
                Route.from_dict(item, f"routes[{i}]")
            except RouteConfigError as exc:
                self.add(_parse_where(exc.where), exc.message.partition("; ")[0], exc.message.partition("; ")[2])
                continue
            to = item.get("to")
            for j, name in enumerate([to] if isinstance(to, str) else to or []):
                self.unknown_sink(("routes", i, "to") + (() if isinstance(to, str) else (j,)), name, sinks)
        default = resolved.get("default_route")
        if isinstance(default, list):
            for j, name in enumerate(default):
                if isinstance(name, str):
                    self.unknown_sink(("default_route", j), name, sinks)

    def unknown_sink(self, where: tuple[Any, ...], name: str, sinks: set[str]) -> None:
        if name not in sinks:
            self.add(where, f"unknown sink {name!r}", _suggest(name, sorted(sinks), "define it under sinks:; known"))


def _build(cls: type, name: str, cfg: dict[str, Any]) -> Any:
    """The sink class's own ``from_config``: the sink, SinkDisabled or SinkConfigError (never raises)."""
    try:
        return cls.from_config(name, cfg)
    except (SinkDisabled, SinkConfigError) as exc:
        return exc
    except Exception as exc:  # a plug-in's own validation, reported like ours  # noqa: BLE001
        return SinkConfigError(name, "(config)", f"{cls.__name__}.from_config failed: {type(exc).__name__}: {exc}")


def _suggest(word: str, known: Any, label: str) -> str:
    """``did you mean 'x'?`` for a close match, else the known names.

    Example:
        >>> _suggest("mofcomm", ["govcn", "meti", "miit", "mofcom"], "known")
        "did you mean 'mofcom'?"
        >>> _suggest("zzz", ["govcn", "meti"], "known")
        'known: govcn, meti'
    """
    known = [str(k) for k in known]
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else f"{label}: {', '.join(known)}"


def _parse_where(where: str) -> tuple[Any, ...]:
    """``routes[0].when.sevrity`` → ``("routes", 0, "when", "sevrity")``."""
    out: list[Any] = []
    for part in where.split("."):
        name, *indexes = part.split("[")
        out += [name] if name else []
        out += [int(i.rstrip("]")) for i in indexes if i.rstrip("]").isdigit()]
    return tuple(out)


__all__ = ["DEFAULTS", "Config", "ConfigError", "ConfigReport", "Defaults", "Problem", "RouteConfig", "SourceConfig",
           "WebConfig",
           "check_config", "load_config", "resolve_env"]
