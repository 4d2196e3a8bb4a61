"""Sources configured by selectors (``kind: html_list`` / ``kind: feed``), end to end on a replica.

The README's example (section "Generic sources") is loaded verbatim; for the crawls only
``base_url`` (the replica on 127.0.0.1), ``delay_seconds: 0`` and a jsonl sink are added to it.
The replica (``crawlers/replica_sites/notices``) is a customs-style notice list with paging and an
Atom feed of press releases, with states for a new announcement, a redesigned list and a feed
carrying an entity bomb. Each cycle is the daemon's: crawl child → process → reminders → deliver.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from crawlers.errors import LayoutChanged, MalformedFeed
from crawlers.pages.base import Link
from crawlers.pages.generic import GenericSpec, bind, selector_error
from crawlers.replica import ReplicaServer, site_path
from crawlers.sources import BUILTIN, SOURCES, generic_from_json, generic_to_json, register_generic
from pipeline.cli import main
from pipeline.clock import FixedClock
from pipeline.config import check_config, load_config
from pipeline.daemon import Daemon
from store import Store

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("### Generic sources"):]
EXAMPLE = re.search(r"```yaml\n(.*?)```", SECTION, re.S).group(1)  # type: ignore[union-attr]
T0 = datetime(2026, 11, 22, 3, tzinfo=timezone.utc)
LIST, PAGE2 = "/gk/ggl/index.html", "/gk/ggl/index_2.html"
N = {i: f"/gk/ggl/2026/n{i}.html" for i in range(5)}
PDF = "/gk/ggl/2026/n3-1.pdf"
FEED, F1, F2 = "/xwfb/atom.xml", "/xwfb/2026/f1.html", "/xwfb/2026/f2.html"


@pytest.fixture(autouse=True)
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Configured sources registered by a test are gone after it; the CLI reads no stray config."""
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("REGWATCH_DB", "REGWATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    yield
    register_generic([])


def example_file(tmp_path: Path, **overrides: Any) -> Path:
    """The README example, plus ``overrides`` in every source (and a jsonl sink when overridden)."""
    path = tmp_path / "schedules.yaml"
    if not overrides:
        path.write_text(EXAMPLE, encoding="utf-8")
        return path
    data = yaml.safe_load(EXAMPLE)
    for src in data["sources"].values():
        src.update(overrides)
    data["sinks"] = {"archive": {"kind": "jsonl", "path": str(tmp_path / "alerts.jsonl")}}
    data["default_route"] = ["archive"]
    data["defaults"] = {"jitter_seconds": 0, "max_consecutive_failures": 2}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


class Site:
    """The notices replica, a store and the daemon's cycle over the README's sources."""

    def __init__(self, replica: ReplicaServer, db: Any, tmp_path: Path) -> None:
        self.replica = replica
        self.config_path = example_file(tmp_path, base_url=replica.base_url, delay_seconds=0)
        self.store = Store.open(db, at=T0)
        self.clock = FixedClock(T0)
        self.daemon = Daemon(load_config(self.config_path, env={}), self.store, clock=self.clock)

    def cycle(self, source: str, state: str = "base", day: float = 0) -> dict[str, Any]:
        self.replica.set_state(state)
        self.clock.set(T0 + timedelta(days=day))
        return self.daemon.cycle(source)

    def alerts(self, kind: str | None = None) -> list[Any]:
        return [a for a in self.store.alerts(limit=500) if kind is None or a.kind == kind]


@pytest.fixture
def site(tmp_path: Path, db_url: Any) -> Iterator[Site]:
    with ReplicaServer(site_path("notices")) as replica:
        s = Site(replica, db_url, tmp_path)
        yield s
        s.store.close()


# -- the README example ------------------------------------------------------------------------------

def test_readme_example_is_a_valid_config_of_two_configured_sources(tmp_path: Path) -> None:
    report = check_config(example_file(tmp_path), env={})
    assert report.problems == []
    assert len(EXAMPLE.strip().splitlines()) <= 20  # a dozen lines per source
    config = load_config(example_file(tmp_path), env={})
    customs, news = SOURCES["customs"], SOURCES["customs-news"]
    assert (customs.allowed_hosts, customs.timezone, customs.robots_obey, customs.download_delay) == (
        ("www.customs.gov.cn",), "Asia/Shanghai", True, 5.0)
    assert customs.generic.list == {"items": "ul.notice-list > li", "link": "a::attr(href)", "date": "span.date",
                                    "next": "a.next::attr(href)"}
    assert (customs.generic.issuers, news.generic.kind, config.authority["gacc"]) == ({"海关总署": "gacc"}, "feed",
                                                                                       "customs")
    assert generic_from_json(generic_to_json(customs)) == customs  # what the crawl child receives


# -- crawl → process → alerts -------------------------------------------------------------------------

def test_html_list_with_paging_crawled_processed_and_alerted(site: Site) -> None:
    result = site.cycle("customs")
    crawl = result["crawl"]
    assert (crawl["status"], crawl["errors"], crawl["fetched"]) == ("ok", 0, {"list": 2, "detail": 4,
                                                                             "attachment": 1})
    paths = [r.path for r in site.replica.requests]
    assert [p for p in paths if p.startswith("/gk/ggl/index")] == [LIST, PAGE2]  # a.next followed, once
    assert all(r.headers["User-Agent"].startswith("Mozilla/5.0") for r in site.replica.requests)
    assert "/robots.txt" in paths  # robots: true by default
    assert result["process"]["new_documents"] == 4 and result["process"]["failed"] == 0
    # identity: the configured regex gives the key; the page without a number keeps its URL
    assert site.store.document_keys("customs") == ["gacc:2026:11", "gacc:2026:12", "gacc:2026:9"]
    plain = site.store.document(site.replica.base_url + N[1])
    assert (plain.key, plain.title) == (None, "关于调整业务办理时间的通知")
    # extraction as for the built-in sources: dates, codes (from the attachment too), relations
    doc = site.store.document("gacc:2026:12")
    (version,) = site.store.versions(doc.id or 0)
    assert (version.published.isoformat(), version.fields["effective"]) == ("2026-11-20", "2026-12-01")
    codes = {t.value for t in site.store.tags(version.id or 0) if t.kind == "code"}
    assert {"3A001", "1C902"} <= codes
    assert "【附件：物项清单.pdf】" in version.text
    assert [(r.type, r.target_key) for r in site.store.relations_from("gacc:2026:11")] == [("repeals", "gacc:2020:5")]
    new = {a.doc_key for a in site.alerts("new")}
    assert new == {"gacc:2026:9", "gacc:2026:11", "gacc:2026:12", None}

    # a new announcement: only it is fetched as new and alerted
    second = site.cycle("customs", "2", day=1)
    assert second["crawl"]["status"] == "ok" and second["process"]["new_documents"] == 1
    assert {a.doc_key for a in site.alerts("new")} - new == {"gacc:2026:13"}
    assert site.store.document("gacc:2026:13").source == "customs"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unchanged_site_is_asked_only_conditionally_lists_included(site: Site) -> None:
    """Issue 11 "done when": a second crawl of an unchanged site makes only conditional requests.
    A 304 list page is read from its stored copy (its entries are still seen); a changed list
    page is a 200 and brings its new entry; ``conditional_requests: false`` asks plainly."""
    site.cycle("customs")
    site.replica.clear_log()
    again = site.cycle("customs", day=0.5)["crawl"]
    asked = [r for r in site.replica.requests if r.path != "/robots.txt"]
    assert [r.path for r in asked] == [LIST]  # details not due (recheck_days); page 1 brings nothing new
    assert all(r.status == 304 and r.headers.get("If-None-Match", "").startswith('W/"') for r in asked)
    assert (again["status"], again["not_modified"], again["captures_new"], again["list_entries"]) == ("ok", 1, 0, 3)

    site.replica.clear_log()
    edited = site.cycle("customs", "2", day=1)
    first = next(r for r in site.replica.requests if r.path == LIST)
    assert (first.status, "If-None-Match" in first.headers) == (200, True)  # asked conditionally, changed
    assert N[4] in {r.path for r in site.replica.requests if r.status == 200}
    assert edited["process"]["new_documents"] == 1

    plain = example_file(site.config_path.parent, base_url=site.replica.base_url, delay_seconds=0,
                         conditional_requests=False)
    daemon = Daemon(load_config(plain, env={}), site.store, clock=site.clock)
    site.replica.clear_log()
    site.clock.set(T0 + timedelta(days=1.5))
    daemon.cycle("customs")
    asked = [r for r in site.replica.requests if r.path != "/robots.txt"]
    assert asked and all("If-None-Match" not in r.headers and "If-Modified-Since" not in r.headers for r in asked)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_atom_feed_entries_read_with_the_detail_selectors(site: Site) -> None:
    result = site.cycle("customs-news")
    assert (result["crawl"]["status"], result["crawl"]["fetched"]) == ("ok", {"list": 1, "detail": 2})
    assert result["process"]["new_documents"] == 2
    f1 = site.store.document(site.replica.base_url + F1)
    (version,) = site.store.versions(f1.id or 0)
    assert (f1.key, version.title, version.published.isoformat()) == (
        None, "海关总署举行新闻发布会介绍出口管制执法情况", "2026-11-21")
    assert "3A001" in {t.value for t in site.store.tags(version.id or 0) if t.kind == "code"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_layout_change_is_a_source_health_alert_and_nothing_is_deleted(site: Site) -> None:
    site.cycle("customs")
    before = site.store.document_keys("customs")
    for day in (1, 2):
        result = site.cycle("customs", "layout", day=day)
        crawl = result["crawl"]
        assert (crawl["status"], crawl["error_kinds"]) == ("failed", {"layout": 1})
        (error,) = crawl["first_errors"]
        assert error["url"] == site.replica.base_url + LIST
        assert "selector 'ul.notice-list > li' matched 0 node(s)" in error["message"]
        assert site.replica.base_url + LIST in error["message"]
    (health,) = site.alerts("source_health")  # max_consecutive_failures: 2
    assert (health.source, health.dedup_key) == ("customs", "health:customs:streak:2")
    assert "layout" in str(health.payload)
    assert site.store.document_keys("customs") == before
    assert all(site.store.document(k).status == "active" for k in before)
    assert site.alerts("withdrawn") == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_feed_with_an_entity_bomb_is_refused_unread(site: Site) -> None:
    result = site.cycle("customs-news", "bomb")
    crawl = result["crawl"]
    assert (crawl["status"], crawl["error_kinds"]) == ("failed", {"layout": 1})
    assert "DTD" in crawl["first_errors"][0]["message"] and "entity-expansion" in crawl["first_errors"][0]["message"]
    assert not any(r.path == F1 for r in site.replica.requests)  # no entry was followed


# -- the feed parser on hostile XML -------------------------------------------------------------------

FEED_PAGE = bind("demo", GenericSpec("feed", ("https://x.gov/a.xml",)))["feed"]


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel><item>'
    b"<title>&x;</title><link>/a.html</link></item></channel></rss>",
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>&b;</title><link href='/a'/></entry></feed>",
    '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><rss/>'.encode("utf-16"),
], ids=["external-entity", "entity-expansion", "external-dtd-utf16"])
def test_feed_dtds_and_entities_are_refused(body: bytes) -> None:
    with pytest.raises(MalformedFeed, match="DTD"):
        FEED_PAGE("https://x.gov/a.xml", body).entries()


def test_feed_kinds_rss2_rss1_atom() -> None:
    rss1 = (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
            b'xmlns:dc="http://purl.org/dc/elements/1.1/"><item rdf:about="https://x.gov/b.html"><title>B</title>'
            b"<dc:date>2026-11-02</dc:date></item></rdf:RDF>")
    (entry,) = FEED_PAGE("https://x.gov/a.xml", rss1).entries()
    assert (entry.url, entry.title, entry.date_text) == ("https://x.gov/b.html", "B", "2026-11-02")
    with pytest.raises(MalformedFeed, match="root element"):
        FEED_PAGE("https://x.gov/a.xml", b"<html><body>not a feed</body></html>").entries()


# -- page classes: selectors that fail loudly ---------------------------------------------------------

SPEC = GenericSpec("html_list", ("https://x.gov/n/",),
                   {"items": "ul.news li", "link": "xpath:./a/@href", "date": "span"},
                   {"title": "h1", "body": "div.text", "date": "xpath://meta[@name='PubDate']/@content",
                    "document_number": "p.no"})
PAGES = bind("demo", SPEC)


@pytest.mark.parametrize(("html", "selector"), [
    ("<div class='news2'><li><a href='1.html'>A</a><span>2026-01-02</span></li></div>", "ul.news li"),
    ("<ul class='news'><li><b>A</b><span>2026-01-02</span></li></ul>", "xpath:./a/@href"),
    ("<ul class='news'><li><a href='1.html'>A</a><i>2026-01-02</i></li></ul>", "span"),
])
def test_list_selector_matching_nothing_is_a_layout_change(html: str, selector: str) -> None:
    with pytest.raises(LayoutChanged) as caught:
        PAGES["list"]("https://x.gov/n/", html.encode()).entries()
    assert (caught.value.selector, caught.value.url, caught.value.source) == (selector, "https://x.gov/n/", "demo")


def test_detail_required_selectors_and_optional_ones() -> None:
    page = ("<html><head><meta name='PubDate' content='2026-01-02 10:00'></head><body><h1>标题</h1>"
            "<div class='text'><p>正文。</p></div></body></html>")
    parsed = PAGES["detail"]("https://x.gov/n/1.html", page.encode()).parse()
    assert (parsed.title, parsed.published_text, parsed.doc_number_text, parsed.attachments) == (
        "标题", "2026-01-02 10:00", None, ())  # no number, no attachment: normal
    with pytest.raises(LayoutChanged, match="xpath://meta"):
        PAGES["detail"]("https://x.gov/n/1.html", "<h1>标题</h1><div class='text'>正文</div>".encode()).parse()
    with pytest.raises(LayoutChanged, match="div.text"):
        PAGES["detail"]("https://x.gov/n/1.html", page.replace("text", "txt").encode()).parse()


def test_selector_errors() -> None:
    assert selector_error("a::attr(href)") is None and selector_error("xpath://a[@x='1']/@href") is None
    assert "does not parse" in (selector_error("ul >> li") or "")
    assert "XPath" in (selector_error("xpath://a[") or "")


# -- config check: every problem with its line --------------------------------------------------------

BAD = """\
sources:
  customs:
    kind: html_list
    interval_minutes: 60
    list_urls: [https://www.customs.gov.cn/gk/index.html, https://evil.example/x.html]
    allowed_hosts: [www.customs.gov.cn]
    list:
      items: "ul.news >> li"
      lnk: "a"
    detail: {body: "xpath://div[@id='a'", title: h1}
    document_number: {pattern: '第(\\d+)号', issuer: GACC}
  mofcom:
    kind: feed
    interval_minutes: 60
  miit: {cron: '0 * * * *', list_urls: [https://www.miit.gov.cn/x.html]}
  news:
    kind: feed
    interval_minutes: 60
    list_urls: [https://www.customs.gov.cn/a.xml]
"""


def test_config_check_reports_generic_problems_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    got = [(p.line, p.where, p.message, p.hint) for p in check_config(path, env={}).problems]
    assert got == [
        (5, "sources.customs.list_urls[1]", "host 'evil.example' is not in allowed_hosts",
         "add evil.example to allowed_hosts or fix the URL"),
        (8, "sources.customs.list.items",
         "CSS selector 'ul.news >> li' does not parse: Expected selector, got <DELIM '>' at 9>",
         "CSS like 'ul.news > li', 'a::attr(href)', or XPath after 'xpath:'"),
        (9, "sources.customs.list.lnk", "unknown key", "did you mean 'link'?"),
        (10, "sources.customs.detail.body", "XPath \"xpath://div[@id='a'\" does not parse: Invalid predicate",
         "CSS like 'ul.news > li', 'a::attr(href)', or XPath after 'xpath:'"),
        (11, "sources.customs.document_number.pattern",
         "pattern needs a named group number, e.g. (?P<number>\\d+)", "year and issuer are optional named groups"),
        (11, "sources.customs.document_number.issuer",
         "issuer slug 'GACC' must be lower-case letters, digits and '-'", "e.g. gacc"),
        (13, "sources.mofcom.kind", "'mofcom' is a built-in source and cannot be redefined",
         "give the configured source another name, e.g. customs"),
        (15, "sources.miit.list_urls", "only a configured source (kind: html_list or feed) takes this key",
         "miit is built in: remove list_urls"),
        (16, "sources.news", "kind feed needs detail", "e.g. detail: {title: h1, body: div.article}"),
    ]
    assert check_config(path, env={}).config is None


def test_configured_source_can_be_an_authority_and_unknown_sources_still_cannot(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(EXAMPLE.replace("authority: {gacc: customs}", "authority: {gacc: customz}"), encoding="utf-8")
    (problem,) = check_config(path, env={}).problems
    assert (problem.where, problem.message) == ("authority.gacc", "unknown source 'customz'")
    assert "customs" in problem.hint and "mofcom" in problem.hint


def test_registry_keeps_builtins() -> None:
    with pytest.raises(ValueError, match="built-in"):
        register_generic([SOURCES["mofcom"]])
    assert set(BUILTIN) == {"mofcom", "miit", "govcn", "meti"} and set(SOURCES) == set(BUILTIN)


# -- regwatch sources test ----------------------------------------------------------------------------

def cli(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_sources_test_live_on_the_replica(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ReplicaServer(site_path("notices")) as replica:
        config = example_file(tmp_path, base_url=replica.base_url, delay_seconds=0)
        code, out, err = cli(capsys, "--config", config, "sources", "test", "customs")
        paths = [r.path for r in replica.requests]
    base = replica.base_url
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"customs: list page {base}{LIST} (live, HTTP 200)"
    assert re.split(r"\s{2,}", lines[1].strip()) == ["list.items", "'ul.notice-list > li'", "3 matched"]
    assert re.split(r"\s{2,}", lines[2].strip()) == ["list[1].link", "'a::attr(href)'", base + N[3]]
    detail = lines.index(f"customs: detail page {base}{N[3]} (live, HTTP 200)")
    readings = {re.split(r"\s{2,}", line.strip())[0]: re.split(r"\s{2,}", line.strip())[-1]
                for line in lines[detail + 1:-1]}
    assert readings == {"detail.title": "关于对部分物项实施出口管制的公告",
                        "detail.body": readings["detail.body"],
                        "detail.date": "2026-11-20", "detail.document_number": "海关总署公告2026年第12号",
                        "detail.attachments": base + PDF, "document key": "gacc:2026:12"}
    assert readings["detail.body"].startswith("为维护国家安全和利益")
    assert lines[-1] == "every selector matched"
    assert paths == ["/robots.txt", LIST, N[3]]  # robots.txt once (obeyed), one list page, one detail page; no paging


def test_sources_test_reports_what_matched_nothing_and_exits_1(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    layout = site_path("notices") / "state-layout" / LIST.lstrip("/")
    code, out, _ = cli(capsys, "--config", example_file(tmp_path), "sources", "test", "customs", "--file", layout)
    assert code == 1
    assert re.split(r"\s{2,}", out.splitlines()[1].strip()) == ["list.items", "'ul.notice-list > li'",
                                                                 "MATCHED NOTHING"]
    assert out.splitlines()[-1] == "matched nothing: list.items 'ul.notice-list > li' (required)"
    # a detail page without a document number: optional, the URL is its identity
    n1 = site_path("notices") / "base" / N[1].lstrip("/")
    code, out, _ = cli(capsys, "--config", example_file(tmp_path), "sources", "test", "customs", "--file", n1,
                       "--detail", "--url", "https://www.customs.gov.cn" + N[1])
    assert code == 0
    assert "none: the URL is the identity" in out
    assert out.splitlines()[-1] == ("matched nothing: detail.document_number 'span.docno'; "
                                    "detail.attachments '(attachment links in the body)'")


def test_sources_test_fetches_only_allowed_hosts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--config", example_file(tmp_path), "sources", "test", "customs",
                         "--url", "https://evil.example/list.html")
    assert (code, out) == (1, "")
    assert "https://evil.example/list.html is not on an allowed host of source 'customs'" in err
    code, _, err = cli(capsys, "--config", example_file(tmp_path), "sources", "test", "mofcom")
    assert code == 1 and "built in" in err
    code, _, err = cli(capsys, "--config", example_file(tmp_path), "sources", "test", "nope")
    assert code == 1 and "configured sources: customs, customs-news" in err


def test_readme_sources_test_output_is_what_the_command_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    block = re.search(r"```\n\$ regwatch sources test customs --file list\.html\n(.*?)```", SECTION, re.S)
    assert block is not None
    (tmp_path / "list.html").write_bytes((site_path("notices") / "base" / LIST.lstrip("/")).read_bytes())
    monkeypatch.chdir(tmp_path)  # the README runs it beside list.html
    code, out, _ = cli(capsys, "--config", example_file(tmp_path), "sources", "test", "customs", "--file", "list.html")
    assert code == 0
    shown = [line for line in block.group(1).splitlines() if line.strip() != "…"]
    printed = out.splitlines()
    assert [line for line in printed if line in shown] == shown  # every README line, in order


def test_inspect_reads_a_saved_page_of_a_configured_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = site_path("notices") / "base" / N[2].lstrip("/")
    code, out, err = cli(capsys, "--config", example_file(tmp_path), "inspect", page, "--source", "customs",
                         "--url", "https://www.customs.gov.cn" + N[2], "--json")
    data = json.loads(out)
    assert (code, data["source"], data["doc_key"], data["published"]) == (0, "customs", "gacc:2026:11", "2026-11-10")
    assert [(r["type"], r["target_key"]) for r in data["relations"]] == [("repeals", "gacc:2020:5")]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_page_url_pattern_robots_off_and_own_user_agent(tmp_path: Path, db_url: Any) -> None:
    from crawlers.__main__ import build_settings
    from pipeline.crawl import crawl_source

    data = yaml.safe_load(EXAMPLE)
    customs = data["sources"]["customs"]
    customs["list"].pop("next")
    customs.update({"robots": False, "user_agent": "regwatch-test/1.0 (+mailto:ops@example.org)"})
    customs["list"].update({"page_url": "index_{page}.html", "pages": 2})
    path = tmp_path / "s.yaml"
    with ReplicaServer(site_path("notices")) as replica:
        customs.update({"base_url": replica.base_url, "delay_seconds": 0})
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        config = load_config(path, env={})
        with Store.open(db_url, at=T0) as store:
            summary = crawl_source(store, "customs", config=config, clock=FixedClock(T0))
        requests = list(replica.requests)
    assert (summary["status"], summary["fetched"]) == ("ok", {"list": 2, "detail": 4, "attachment": 1})
    assert [r.path for r in requests if "index" in r.path] == [LIST, PAGE2]  # page 2 from page_url, no page 3
    assert "/robots.txt" not in [r.path for r in requests]
    assert {r.headers["User-Agent"] for r in requests} == {"regwatch-test/1.0 (+mailto:ops@example.org)"}
    settings = build_settings(SOURCES["customs"], db_url="sqlite://", run_id=1, delay=None, log_level=None)
    assert (settings.getbool("ROBOTSTXT_OBEY"), settings.getfloat("DOWNLOAD_DELAY")) == (False, 0.0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_captures_of_a_source_the_config_no_longer_describes_wait(site: Site) -> None:
    from pipeline.crawl import crawl_source
    from pipeline.process import process_pending

    crawl_source(site.store, "customs-news", config=site.daemon.config, clock=site.clock)
    register_generic([])  # e.g. `regwatch process` run with another schedules.yaml
    report = process_pending(site.store, now=T0, source="customs-news")
    assert (report.processed, report.failed, report.errors) == (0, 0, [
        "customs-news: 3 capture(s) wait unread: the configuration does not describe source 'customs-news'; "
        "restore its entry under sources: (kind: html_list / feed) and process again"])
    load_config(site.config_path, env={})
    again = process_pending(site.store, now=T0, source="customs-news")
    assert (again.new_documents, again.errors) == (2, [])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_fixtures_save_and_rerun_for_a_configured_source(site: Site, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    site.cycle("customs")
    db, config, into = str(site.store.dsn), site.config_path, tmp_path / "fixtures"
    code, out, err = cli(capsys, "--db", db, "--config", config, "fixtures", "save", "gacc:2026:12", "--case", "c1",
                         "--dir", into)
    assert (code, err) == (0, "")
    folder = into / "customs" / "GenericDetailPage" / "c1"
    code, out, err = cli(capsys, "--config", config, "fixtures", "rerun", folder)
    parsed = json.loads(out)
    assert (code, parsed["source"], parsed["doc_number_text"], parsed["published_text"]) == (
        0, "customs", "海关总署公告2026年第12号", "2026-11-20")


def test_encoding_of_a_site_that_declares_none(tmp_path: Path) -> None:
    data = yaml.safe_load(EXAMPLE)
    data["sources"]["customs"]["encoding"] = "gb18030"
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    load_config(path, env={})
    body = ("<h1 class='title'>关于稀土的公告</h1><span class='pubdate'>2026-11-20</span>"
            "<div id='article'><p>正文。</p></div>").encode("gb18030")
    parsed = SOURCES["customs"].page_class("detail")("https://www.customs.gov.cn/a.html", body,
                                                       {"Content-Type": "text/html"}).parse()
    assert (parsed.title, parsed.body_text) == ("关于稀土的公告", "正文。")
    assert SOURCES["customs"].page_class("detail").expected_encoding == "gb18030"  # sniffing alone might also do
    data["sources"]["customs"]["encoding"] = "gb-nope"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (problem,) = check_config(path, env={}).problems
    assert (problem.where, problem.message) == ("sources.customs.encoding", "unknown encoding 'gb-nope'")


def test_daemon_schedules_the_configured_sources(tmp_path: Path) -> None:
    from pipeline.daemon import crawlable, job_specs

    specs = job_specs(load_config(example_file(tmp_path), env={}), crawlable=crawlable)
    assert [s.id for s in specs if s.kind == "cycle"] == ["cycle:customs", "cycle:customs-news"]


def test_configured_attachment_selector_takes_links_anywhere_on_the_page() -> None:
    page = ("<div class='text'><p>正文</p><a href='in-body.pdf'>正文链接</a></div>"
            "<ul class='files'><li><a href='/f/annex.xlsx'>附件1 清单</a></li></ul><a class='extra' href='b.docx'>x</a>"
            ).encode()

    def attachments(query: str) -> tuple[Link, ...]:
        spec = GenericSpec("html_list", ("https://x.gov/n/",), {"items": "li"}, {"body": "div.text",
                                                                                  "attachments": query})
        return bind("demo", spec)["detail"]("https://x.gov/n/1.html", page).parse().attachments

    assert attachments("ul.files a") == (Link("https://x.gov/f/annex.xlsx", "附件1 清单"),)
    assert attachments("xpath://a[@class='extra']/@href") == (Link("https://x.gov/n/b.docx", "b.docx"),)
    assert attachments("div.gone a") == ()  # optional: a page without an annex is normal
    default = bind("demo", GenericSpec("html_list", ("https://x.gov/n/",), {"items": "li"}, {"body": "div.text"}))
    assert default["detail"]("https://x.gov/n/1.html", page).parse().attachments == (
        Link("https://x.gov/n/in-body.pdf", "正文链接"),)  # default: document links in the body
