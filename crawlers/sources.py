"""Registry of the watched sources, as data: hosts, time zone, encoding, columns, spider and page classes.

Spiders, the replica and the pipeline read these definitions; nothing here fetches. Column
``page_id`` values are informational (the spider always reads the live ``queryData`` of the shell).

The four built-in sources are code; generic sources (``kind: html_list`` / ``kind: feed`` in
schedules.yaml) are added by ``pipeline.config.load_config`` through :func:`register_generic`,
with the generic spider and page classes reading the configured selectors (``generic``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import import_module
from typing import Any
from urllib.parse import urljoin, urlsplit


@dataclass(frozen=True, slots=True)
class Column:
    """One list column of a source: a name, the shell path and (if known) its jpaas pageId."""

    name: str
    shell_path: str
    page_id: str | None = None


@dataclass(frozen=True, slots=True)
class SourceDef:
    """Everything the crawler needs to know about one regulator site."""

    slug: str
    name: str
    base_url: str
    allowed_hosts: tuple[str, ...]
    timezone: str
    encoding: str = "utf-8"
    columns: tuple[Column, ...] = ()
    spider: str | None = None  # "module:Class"
    pages: dict[str, str] = field(default_factory=dict)  # role -> "module:Class"
    download_delay: float = 5.0
    robots_obey: bool = True
    conditional_requests: bool = True  # If-None-Match / If-Modified-Since on known pages (crawlers.middlewares)
    max_pages: int = 3
    page_size: int = 15
    notes: str = ""
    generic: Any = None  # crawlers.pages.generic.GenericSpec of a configured source, None for built-in ones
    user_agent: str | None = None  # overrides the shared browser-like User-Agent

    def spider_class(self) -> type[Any]:
        """Import and return the spider class (Scrapy is imported only here, on demand)."""
        if not self.spider:
            raise LookupError(f"source {self.slug!r} has no spider yet; add one in crawlers/spiders/")
        return load(self.spider)

    def page_class(self, role: str) -> type[Any]:
        """Import the page class for ``role`` (``shell``, ``feed``, ``list``, ``archive``, ``detail``)."""
        if self.generic is not None and role in self.pages:
            from crawlers.pages.generic import bind

            return bind(self.slug, self.generic, encoding=self.encoding)[role]
        try:
            return load(self.pages[role])
        except KeyError as exc:
            raise LookupError(f"source {self.slug!r} has no page class for role {role!r}; "
                              f"known roles: {sorted(self.pages)}") from exc

    def hosts_with(self, base_url: str | None) -> tuple[str, ...]:
        """Allowed hosts plus the host of an overriding base URL (a replica or mirror).

        Example:
            >>> SOURCES["mofcom"].hosts_with("http://127.0.0.1:8800")[-1]
            '127.0.0.1'
        """
        extra = urlsplit(base_url).hostname if base_url else None
        return self.allowed_hosts + ((extra,) if extra and extra not in self.allowed_hosts else ())


def load(path: str) -> type[Any]:
    """Import ``"package.module:Name"``.

    Example:
        >>> load("crawlers.sources:Column").__name__
        'Column'
    """
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


SOURCES: dict[str, SourceDef] = {
    "mofcom": SourceDef(
        slug="mofcom",
        name="商务部 (MOFCOM)",
        base_url="https://www.mofcom.gov.cn",
        allowed_hosts=("www.mofcom.gov.cn", "aqygzj.mofcom.gov.cn", "xkzj.mofcom.gov.cn", "mofcom.gov.cn"),
        timezone="Asia/Shanghai",
        encoding="utf-8",  # header says bare text/html; pages are UTF-8 (seen 2026)
        columns=(Column("政策发布", "/zwgk/zcfb/index.html", "fc8bdff48fa345a48b651c1285b70b8f"),),
        spider="crawlers.spiders.mofcom:MofcomSpider",
        pages={
            "shell": "crawlers.pages.mofcom:MofcomColumnShell",
            "list": "crawlers.pages.mofcom:MofcomListFragment",
            "detail": "crawlers.pages.mofcom:MofcomNoticePage",
        },
        download_delay=5.0,
        notes="WAF: 412/403, first-connection resets, API needs Referer + cookies",
    ),
    "miit": SourceDef(
        slug="miit",
        name="工业和信息化部 (MIIT)",
        base_url="https://www.miit.gov.cn",
        allowed_hosts=("www.miit.gov.cn", "wap.miit.gov.cn"),
        timezone="Asia/Shanghai",
        encoding="utf-8",
        columns=(
            Column("通知", "/zwgk/zcwj/wjfb/tz/index.html", "3e3ad1a3bec74939890a0d3e54815141"),
            Column("文件公示", "/zwgk/wjgs/index.html", "a7180b76aadf4a2ca625f403045cbaae"),
        ),
        spider="crawlers.spiders.miit:MiitSpider",
        pages={
            "shell": "crawlers.pages.miit:MiitColumnShell",
            "list": "crawlers.pages.miit:MiitListFragment",
            "detail": "crawlers.pages.miit:MiitNoticePage",
        },
        download_delay=5.0,
    ),
    "govcn": SourceDef(
        slug="govcn",
        name="中国政府网 (gov.cn)",
        base_url="https://www.gov.cn",
        allowed_hosts=("www.gov.cn", "gov.cn", "sousuo.www.gov.cn"),
        timezone="Asia/Shanghai",
        encoding="utf-8",  # gb18030 fallback on old pages
        columns=(Column("最新政策", "/zhengce/zuixin/ZUIXINZHENGCE.json"),
                 Column("部门文件", "/zhengce/zhengceku/bmwj/home.htm")),
        spider="crawlers.spiders.govcn:GovcnSpider",
        pages={
            "feed": "crawlers.pages.feeds:GovcnJsonFeed",  # the *.json columns
            "list": "crawlers.pages.govcn:GovcnListPage",
            "detail": "crawlers.pages.govcn:GovcnPolicyPage",
        },
        download_delay=5.0,
        # robots.txt is reported as "Disallow: /" (third-party probe, 2026): obeyed until the
        # compliance review decides otherwise, so a gov.cn spider fetches nothing by default.
        robots_obey=True,
    ),
    "meti": SourceDef(
        slug="meti",
        name="経済産業省 (METI)",
        base_url="https://www.meti.go.jp",
        allowed_hosts=("www.meti.go.jp",),
        timezone="Asia/Tokyo",
        encoding="utf-8",
        # The Atom feed first; the HTML lists are read when it is stale (crawlers/spiders/meti.py).
        columns=(Column("新着情報 (Atom)", "/ml_index_release_atom.xml"),
                 Column("ニュースリリース", "/press/index.html"),
                 Column("ニュースリリース月別", "/press/archive_{YYYYMM}.html")),
        spider="crawlers.spiders.meti:MetiSpider",
        pages={
            "feed": "crawlers.pages.feeds:MetiAtomFeed",
            "list": "crawlers.pages.meti:MetiPressIndexPage",
            "archive": "crawlers.pages.meti:MetiArchivePage",  # /press/archive_YYYYMM.html
            "detail": "crawlers.pages.meti:MetiPressPage",
        },
        download_delay=5.0,
    ),
}


BUILTIN = frozenset(SOURCES)
GENERIC_SPIDER = "crawlers.spiders.generic:GenericSpider"
GENERIC_PAGES = {"list": "crawlers.pages.generic:GenericListPage", "feed": "crawlers.pages.generic:GenericFeedPage",
                 "detail": "crawlers.pages.generic:GenericDetailPage"}


def register_generic(defs: list[SourceDef]) -> None:
    """Make ``defs`` the configured sources (replacing earlier ones); built-in slugs cannot be replaced.

    Example:
        >>> register_generic([SourceDef("demo", "Demo", "https://x.gov", ("x.gov",), "UTC")])
        >>> "demo" in SOURCES
        True
        >>> register_generic([]); "demo" in SOURCES
        False
    """
    clash = [d.slug for d in defs if d.slug in BUILTIN]
    if clash:
        raise ValueError(f"{', '.join(clash)}: built-in source name(s); give the configured source another name")
    for slug in [s for s in SOURCES if s not in BUILTIN]:
        del SOURCES[slug]
    SOURCES.update({d.slug: d for d in defs})


def rebased(url: str, base_url: str) -> str:
    """``url``'s path and query on ``base_url``'s host.

    Example:
        >>> rebased("https://www.customs.example/gk/ggl/index.html?x=1", "http://127.0.0.1:8805")
        'http://127.0.0.1:8805/gk/ggl/index.html?x=1'
    """
    parts = urlsplit(url)
    return urljoin(base_url.rstrip("/") + "/", parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else ""))


def generic_to_json(source: SourceDef) -> str:
    """A configured source as JSON, for the crawl child process (``python -m crawlers --source-json``)."""
    return json.dumps(asdict(source), ensure_ascii=False, sort_keys=True)


def generic_from_json(text: str) -> SourceDef:
    """The SourceDef written by :func:`generic_to_json`.

    Example:
        >>> from crawlers.pages.generic import GenericSpec
        >>> src = SourceDef("demo", "Demo", "https://x.gov", ("x.gov",), "UTC", generic=GenericSpec("feed", ("https://x.gov/a.xml",)))
        >>> generic_from_json(generic_to_json(src)) == src
        True
    """
    from crawlers.pages.generic import GenericSpec

    data = json.loads(text)
    spec = data.pop("generic")
    tuples = {"allowed_hosts": tuple(data["allowed_hosts"]), "columns": tuple(Column(**c) for c in data["columns"])}
    return SourceDef(**{**data, **tuples}, generic=GenericSpec(**{**spec, "list_urls": tuple(spec["list_urls"])}))


def get_source(slug: str) -> SourceDef:
    """The definition of ``slug``; a clear error lists the known sources.

    Example:
        >>> get_source("mofcom").timezone
        'Asia/Shanghai'
    """
    try:
        return SOURCES[slug]
    except KeyError:
        raise LookupError(f"unknown source {slug!r}; known sources: {', '.join(sorted(SOURCES))}") from None
