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
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from alerts.errors import RouteConfigError, SinkConfigError, SinkDisabled
from alerts.registry import sink_class
from alerts.routing import Route
from crawlers.pages.generic import LIST_FIELDS, GenericSpec, selector_error
from crawlers.sources import BUILTIN, GENERIC_PAGES, GENERIC_SPIDER, SOURCES, SourceDef, register_generic
from pipeline.core.authority import DEFAULT_AUTHORITY
from pipeline.core.docnumber import AGENCY_CODES, ISSUERS, ORDER_CODES
from pipeline.defaults import DEFAULTS
from pipeline.triggers import cron_trigger
from pipeline.yamlnodes import YamlDoc, format_path, load_yaml

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


def _selector(value: str) -> str:
    problem = selector_error(value)
    if problem:
        raise ValueError(f"{problem} (CSS like 'ul.news > li', 'a::attr(href)', or XPath after 'xpath:')")
    return value


Selector = Annotated[str, AfterValidator(_selector)]
_SLUG = re.compile(r"^[a-z][a-z0-9-]*$")


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"issuer slug {value!r} must be lower-case letters, digits and '-' (e.g. gacc)")
    return value


Slug = Annotated[str, AfterValidator(_slug)]


class ListSelectors(_Model):
    """``sources.NAME.list`` of a ``kind: html_list`` source: one node per entry and its fields."""

    items: Selector
    link: Selector = "a"
    date: Selector | None = None
    title: Selector | None = None
    next: Selector | None = None
    page_url: str | None = None
    pages: int | None = Field(None, ge=2)

    @field_validator("page_url")
    @classmethod
    def _page_url(cls, value: str | None) -> str | None:
        if value is not None and "{page}" not in value:
            raise ValueError(f"page_url {value!r} needs a {{page}} placeholder (e.g. index_{{page}}.html)")
        return value

    @model_validator(mode="after")
    def _paging(self) -> ListSelectors:
        if self.next and self.page_url:
            raise ValueError("give next or page_url, not both")
        if self.pages is not None and not self.page_url:
            raise ValueError("pages counts the pages of page_url; set page_url too")
        return self


class DetailSelectors(_Model):
    """``sources.NAME.detail``: what each detail page says (body required)."""

    title: Selector | None = None
    body: Selector
    date: Selector | None = None
    document_number: Selector | None = None
    attachments: Selector | None = None


class NumberConfig(_Model):
    """``sources.NAME.document_number``: the document number read into the document key."""

    pattern: str
    issuer: Slug | None = None
    issuers: dict[str, Slug] = Field(default_factory=dict)

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            groups = set(re.compile(value).groupindex)
        except re.error as exc:
            raise ValueError(f"pattern does not compile: {exc} (a Python regex, e.g. "
                             "'(?P<year>\\d{4})年第(?P<number>\\d+)号')") from exc
        if "number" not in groups:
            raise ValueError("pattern needs a named group number, e.g. (?P<number>\\d+) (year and issuer are "
                             "optional named groups)")
        unknown = groups - {"number", "year", "issuer"}
        if unknown:
            raise ValueError(f"unknown named group(s) {', '.join(sorted(unknown))} (use year, number, issuer)")
        return value

    @model_validator(mode="after")
    def _who(self) -> NumberConfig:
        if self.issuer is None and not self.issuers:
            raise ValueError("give issuer (the slug of the source's own documents) or issuers (printed name → slug)")
        return self


GENERIC_KEYS = ("kind", "name", "list_urls", "allowed_hosts", "list", "detail", "document_number", "robots",
                "user_agent", "language", "encoding")


class SourceConfig(_Model):
    cron: str | None = None
    interval_minutes: int | None = Field(None, ge=1)
    timezone: str = "Asia/Shanghai"
    enabled: bool = True
    base_url: str | None = None
    max_pages: int | None = Field(None, ge=1)
    delay_seconds: float | None = Field(None, ge=0)
    # requests in flight on the source's host (default 1: polite); raise it only for sites that allow it
    concurrency: int | None = Field(None, ge=1, le=32)
    # If-None-Match / If-Modified-Since on known pages (lists included); off for a server whose validators lie
    conditional_requests: bool = True
    # a source described here instead of in code (kind: html_list or feed); README "Generic sources"
    kind: Literal["html_list", "feed"] | None = None
    name: str | None = None
    list_urls: list[str] | None = Field(None, min_length=1)
    allowed_hosts: list[str] | None = Field(None, min_length=1)
    listing: ListSelectors | None = Field(None, alias="list")  # ("list" would shadow the builtin in annotations)
    detail: DetailSelectors | None = None
    document_number: NumberConfig | None = None
    robots: bool = True
    user_agent: str | None = None
    language: Literal["zh", "ja", "en"] = "zh"
    encoding: str = "utf-8"  # expected when neither the header nor the page declares a charset

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r} (e.g. utf-8, gb18030, cp932)") from exc
        return value

    @field_validator("list_urls")
    @classmethod
    def _list_urls(cls, value: list[str] | None) -> list[str] | None:
        for url in value or []:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise ValueError(f"list URL {url!r} must be an absolute http(s) URL")
        return value

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

    def source_def(self, slug: str) -> SourceDef:
        """The crawler's definition of this configured source (``kind`` set)."""
        assert self.kind is not None and self.list_urls and self.detail is not None
        first = urlsplit(self.list_urls[0])
        hosts = tuple(self.allowed_hosts or dict.fromkeys(urlsplit(u).hostname or "" for u in self.list_urls))
        paging = self.listing
        number = self.document_number
        spec = GenericSpec(
            kind=self.kind, list_urls=tuple(self.list_urls),
            list={k: v for k, v in (paging.model_dump(include=set(LIST_FIELDS)) if paging else {}).items() if v},
            detail={k: v for k, v in self.detail.model_dump().items() if v},
            page_url=paging.page_url if paging else None, pages=paging.pages if paging else None,
            number_pattern=number.pattern if number else None, issuer=number.issuer if number else None,
            issuers=dict(number.issuers) if number else {}, language=self.language)
        return SourceDef(
            slug=slug, name=self.name or slug, base_url=f"{first.scheme}://{first.netloc}", allowed_hosts=hosts,
            timezone=self.timezone, encoding=self.encoding, spider=GENERIC_SPIDER, pages=dict(GENERIC_PAGES),
            download_delay=5.0 if self.delay_seconds is None else self.delay_seconds, robots_obey=self.robots,
            max_pages=self.max_pages or 3, generic=spec, user_agent=self.user_agent)




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


def _source(value: str, info: ValidationInfo) -> str:
    # the configured sources of the same file count too (check_config passes their names as context)
    known = set(BUILTIN) | set((info.context or {}).get("configured", ())) if info.context else set(SOURCES)
    if value not in known:
        raise ValueError(f"unknown source {value!r} (use one of {', '.join(sorted(known))})")
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
    "": FILE_KEYS, "defaults": tuple(Defaults.model_fields), "sources.*": tuple(f.alias or k for k, f in SourceConfig.model_fields.items()),
    "routes.*": tuple(RouteConfig.model_fields), "sources.*.list": tuple(ListSelectors.model_fields),
    "sources.*.detail": tuple(DetailSelectors.model_fields),
    "sources.*.document_number": tuple(NumberConfig.model_fields),
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
    register_generic(generic_sources(report.config))
    return report.config


def generic_sources(config: Config) -> list[SourceDef]:
    """The sources ``config`` describes by selectors (``kind: html_list`` / ``kind: feed``).

    :func:`load_config` registers them in ``crawlers.sources.SOURCES``, so every stage (crawl,
    process, inspect, reminders) reads them like the built-in ones.
    """
    return [src.source_def(slug) for slug, src in config.sources.items() if src.kind is not None]


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
            sources = resolved.get("sources") if isinstance(resolved.get("sources"), dict) else {}
            configured = [k for k, v in sources.items() if isinstance(v, dict) and v.get("kind") is not None]
            return Config.model_validate({**resolved, "path": str(self.path)}, context={"configured": configured})
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
        for name, cfg in sources.items():
            kind = cfg.get("kind") if isinstance(cfg, dict) else None
            if kind is not None and name in BUILTIN:
                self.add(("sources", name, "kind"), f"{name!r} is a built-in source and cannot be redefined",
                         "give the configured source another name, e.g. customs")
            elif kind is not None:
                self.check_generic(name, cfg)
            elif name not in BUILTIN:
                self.add(("sources", name), f"unknown source {name!r}",
                         _suggest(str(name), sorted(BUILTIN), "known"))
            else:
                for key in [k for k in GENERIC_KEYS if k in cfg]:
                    self.add(("sources", name, key), "only a configured source (kind: html_list or feed) takes this key",
                             f"{name} is built in: remove {key}")

    def check_generic(self, name: Any, cfg: dict[str, Any]) -> None:
        """What the model cannot see alone: required parts per kind, list URLs on allowed hosts."""
        where = ("sources", name)
        for key in ("list_urls", "detail") + (("list",) if cfg.get("kind") == "html_list" else ()):
            if key not in cfg:
                example = {"list_urls": "list_urls: [https://www.example.gov/notices/index.html]",
                           "detail": "detail: {title: h1, body: div.article}",
                           "list": "list: {items: 'ul.news > li', link: 'a::attr(href)'}"}[key]
                self.add(where, f"kind {cfg.get('kind')} needs {key}", f"e.g. {example}")
        if cfg.get("kind") == "feed" and isinstance(cfg.get("list"), dict) and set(cfg["list"]) - {"next"}:
            self.add((*where, "list"), "a feed's entries come from its <item>/<entry> elements; list selectors are "
                     "for kind: html_list", "remove list, or use kind: html_list")
        hosts = cfg.get("allowed_hosts")
        urls = cfg.get("list_urls")
        if isinstance(hosts, list) and isinstance(urls, list):
            for i, url in enumerate(urls):
                host = urlsplit(url).hostname if isinstance(url, str) else None
                if host and host not in hosts:
                    self.add((*where, "list_urls", i), f"host {host!r} is not in allowed_hosts",
                             f"add {host} to allowed_hosts or fix the URL")

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
