"""RegulatorSpider (source config, host policy, list → detail → attachment flow) and HanwebSpider (jpaas).

Spiders only navigate: they yield raw ``Capture`` items and ``CrawlError`` items and use page
classes solely to find the next URLs. Fields are extracted later, from stored captures.

Re-checks: once everything the lists lead to is fetched (Scrapy's ``spider_idle``), and only when
the lists were read (entries found, no layout change or WAF challenge in this run), the spider
asks the store for the source's known detail URLs that were on no list in this run and were
neither seen nor re-checked for ``REGWATCH_RECHECK_HOURS`` (at most ``REGWATCH_MAX_RECHECKS``),
and fetches them with the same politeness, marked ``meta["recheck"]``. A 404/410 answer becomes a
``gone`` RecheckAnswer; a readable page is captured as usual plus a ``found`` answer (so is a
watched page — gone before, or withdrawn — read from a list). A WAF page, network error or 5xx
stays a CrawlError and answers nothing. ``pipeline.withdrawals`` decides what the answers mean.
Neither base class has a ``name``: Scrapy's spider loader lists only the concrete spiders, and
crawls are started from the source registry (``crawlers.sources``), not by spider name.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers.errors import ChallengePage, EmptyPage, PageError, PageRedirect
from crawlers.items import Capture, CaptureKind, CrawlError, RecheckAnswer
from crawlers.middlewares import ChallengeDetected, OffsiteRedirect, RetryAfterTooLong
from crawlers.pages.base import ListingEntry, Page
from crawlers.pages.hanweb import UnitQuery, unit_api_url
from crawlers.pipelines import KnownPages
from crawlers.sources import Column, SourceDef, get_source

GONE_STATUSES = (404, 410)  # a re-checked URL answering these is gone (others are errors, never "gone")
RECHECK_BLOCKERS = ("layout", "challenge")  # errors in a run that stop its re-checks: the lists may be unread
RECHECK_SLACK = 0.05  # share of the re-check interval a page may be early


def recheck_blocker(stats: Mapping[str, Any]) -> str | None:
    """Why a run with these crawl stats must not re-check known pages (its lists were not read), or None.

    Example:
        >>> recheck_blocker({"regwatch/list_entries": 17})
        >>> recheck_blocker({})
        'no list entries were read'
        >>> recheck_blocker({"regwatch/list_entries": 17, "regwatch/errors/challenge": 1})
        'challenge errors in this run'
    """
    if not stats.get("regwatch/list_entries"):
        return "no list entries were read"
    if stats.get("regwatch/lists_stopped_early"):
        return "list paging stopped early (the lists were read in full within the re-check interval)"
    met = [kind for kind in RECHECK_BLOCKERS if stats.get(f"regwatch/errors/{kind}")]
    return f"{' and '.join(met)} errors in this run" if met else None


def too_large(exc: BaseException) -> bool:
    """True when a download failed on Scrapy's size cap: ``DownloadCancelledError`` (Content-Length
    over DOWNLOAD_MAXSIZE), a bare ``CancelledError`` (a streamed body crossed it: Scrapy cancels the
    download without a message) or HttpCompression's IgnoreRequest (decompressed body too large).

    Example:
        >>> from twisted.internet.defer import CancelledError
        >>> too_large(CancelledError()), too_large(TimeoutError("took 30 s"))
        (True, False)
    """
    import scrapy.exceptions
    from twisted.internet.defer import CancelledError

    cancelled = (CancelledError, *[c for c in (getattr(scrapy.exceptions, "DownloadCancelledError", None),) if c])
    text = str(exc).lower()
    return isinstance(exc, cancelled) or "max size" in text or "download_maxsize" in text


def crawl_clock(pinned: str | None = None) -> datetime:
    """The crawl's clock: ``pinned`` or ``REGWATCH_NOW`` (an ISO datetime with offset), else now, in UTC.

    Example:
        >>> crawl_clock("2026-11-23T12:00:00+09:00").isoformat()
        '2026-11-23T03:00:00+00:00'
    """
    pinned = pinned or os.environ.get("REGWATCH_NOW")
    if not pinned:
        return datetime.now(UTC)
    value = datetime.fromisoformat(pinned)
    if value.tzinfo is None:
        raise ValueError(f"crawl clock {pinned!r} needs an offset, e.g. 2026-11-23T12:00:00+09:00")
    return value.astimezone(UTC)


class RegulatorSpider(scrapy.Spider):
    """Base spider: ``-a base_url=…`` (replica/mirror), ``-a max_pages=N``, ``-a now=ISO`` (the crawl
    clock, else ``REGWATCH_NOW``, else the system clock; a pinned clock also stamps the captures);
    never leaves allowed hosts — only the base URL's host when the crawl stores the replica's pages
    under the source's own URLs (setting ``REGWATCH_STORE_AS``).

    A concrete spider sets ``name`` to its source slug and decides how list pages are reached;
    detail pages, attachments, "each URL once" and re-checks are handled here for every source.
    """

    def __init__(self, *args: Any, base_url: str | None = None, max_pages: int | str | None = None,
                 now: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source_def: SourceDef = get_source(self.name)
        self.base_url = (base_url or self.source_def.base_url).rstrip("/")
        self.hosts = self.source_def.hosts_with(base_url)
        self.allowed_domains = list(self.hosts)
        self.max_pages = int(max_pages) if max_pages else self.source_def.max_pages
        self.clock_pinned = bool(now or os.environ.get("REGWATCH_NOW"))
        self.now = crawl_clock(now)
        self.seen_urls: set[str] = set()
        self.known: KnownPages | None = None  # set by from_crawler when the crawl writes to a store
        self._watched: dict[str, int] | None = None
        self._rechecks_planned = False
        self._may_stop_early: bool | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> RegulatorSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if crawler.settings.get("REGWATCH_STORE_AS"):  # a replica stored as the source: never leave the replica
            spider.hosts = tuple(h for h in (urlsplit(spider.base_url).hostname,) if h)
            spider.allowed_domains = list(spider.hosts)
        spider.known = KnownPages.from_settings(crawler.settings)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    def clock(self) -> datetime:
        """Now, on the crawl clock: the pinned instant (``REGWATCH_NOW``, tests and replays), else the system clock."""
        return self.now if self.clock_pinned else datetime.now(UTC)

    # -- policy ----------------------------------------------------------------------------
    def allowed(self, url: str) -> bool:
        """True for http(s) URLs on the source's hosts (or the base_url host)."""
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and (parts.hostname or "") in self.hosts

    def page(self, role: str, response: Response) -> Page:
        """Build the source's page class for ``role`` from a response (raw bytes, not Scrapy's decode)."""
        cls = self.source_def.page_class(role)
        return cls(response.url, response.body, _headers(response), status=response.status)

    def url_of(self, path: str) -> str:
        """A site path (a column's ``shell_path``) joined to the crawl's base URL."""
        return urljoin(self.base_url + "/", path.lstrip("/"))

    @property
    def entry_limit(self) -> int:
        """Entries followed from one static list or feed (newest first): ``max_pages × page_size``."""
        return self.max_pages * self.source_def.page_size

    # -- items -----------------------------------------------------------------------------
    def capture(self, response: Response, kind: CaptureKind) -> Capture:
        self.crawler.stats.inc_value(f"regwatch/fetched/{kind}")
        first_url = (response.request.meta.get("redirect_urls") or [response.url])[0] if response.request else response.url
        return Capture(source=self.source_def.slug, url=first_url, final_url=response.url, status=response.status,
                       headers=_headers(response), body=response.body, fetched_at=self.clock(), kind=kind)

    def error(self, url: str, kind: str, message: str, **extra: str) -> CrawlError:
        self.crawler.stats.inc_value(f"regwatch/errors/{kind}")
        return CrawlError(source=self.source_def.slug, url=url, kind=kind, message=message,  # type: ignore[arg-type]
                          extra=extra)

    def offsite_error(self, url: str, target: str) -> CrawlError:
        """``url`` redirected (HTTP, meta refresh or JavaScript) to ``target`` on a host the source does not allow."""
        return self.error(url, "offsite", f"redirected to {target}, a host {self.source_def.slug} does not allow "
                          f"({', '.join(self.hosts)}); not fetched — add the host to the source's allowed_hosts "
                          "if it is the regulator's own", target=target)

    def page_error(self, url: str, exc: PageError) -> CrawlError:
        """A page class's refusal as a CrawlError: ``challenge`` for a WAF page, ``empty`` for an empty body
        or article container (one page, transient: it does not fail the run), else ``layout``."""
        kind = "challenge" if isinstance(exc, ChallengePage) else "empty" if isinstance(exc, EmptyPage) else "layout"
        return self.error(url, kind, str(exc))

    def on_error(self, failure: Failure) -> Iterator[CrawlError]:
        """Errback: every failed request becomes a CrawlError item (recorded on the CrawlRun)."""
        request = failure.request  # type: ignore[attr-defined]
        exc = failure.value
        if isinstance(exc, ChallengeDetected):
            yield self.error(request.url, exc.kind, str(exc))
        elif isinstance(exc, OffsiteRedirect):
            yield self.offsite_error(exc.original, exc.target)
        elif isinstance(exc, RetryAfterTooLong):
            yield self.error(request.url, "rate_limited", str(exc))
        elif isinstance(exc, HttpError):
            yield self.error(request.url, "http", f"HTTP {exc.response.status}")
        elif too_large(exc):
            cap = int(request.meta.get("download_maxsize") or self.settings.getint("DOWNLOAD_MAXSIZE"))
            yield self.error(request.url, "too_large", f"larger than the {cap / 1024 / 1024:g} MB page size cap "
                             "(defaults.max_page_mb); not fetched — raise the cap if the page is real content")
        else:
            yield self.error(request.url, "network", f"{type(exc).__name__}: {exc}")

    def follow(self, url: str, callback: Any, **meta: Any) -> Request | None:
        """A request for ``url`` if it is on an allowed host; off-host links are counted and dropped."""
        if not self.allowed(url):
            self.crawler.stats.inc_value("regwatch/offsite_skipped")
            self.logger.info("not following off-host link %s", url)
            return None
        return Request(url, callback=callback, errback=self.on_error, meta=meta)

    # -- navigation shared by every source -------------------------------------------------------
    def column_requests(self, callback: Callable[..., Any],
                        columns: Sequence[Column] | None = None) -> Iterator[Request]:
        """Requests for the source's columns (or ``columns``), each tagged with its column name."""
        for column in self.source_def.columns if columns is None else columns:
            request = self.follow(self.url_of(column.shell_path), callback, column=column.name)
            if request is not None:
                yield request

    def follow_entries(self, entries: Sequence[ListingEntry], *, limit: int | None = None) -> list[Request]:
        """Detail requests for the first ``limit`` list entries, each URL once per crawl (off-host ones dropped).

        A known entry (a detail page the store has a 200 capture of) is fetched again only when
        it was last read ``REGWATCH_RECHECK_DAYS`` (default 7) or more before the crawl clock, or
        always with ``REGWATCH_RECHECK_ALL`` (``crawl --recheck``); the others are counted
        ``regwatch/known_skipped``. An empty list back means nothing on these entries needs a
        fetch: list paging stops there. Every entry counts as seen (on a list in this run).
        """
        entries = entries[:limit]
        self.crawler.stats.inc_value("regwatch/list_entries", len(entries))
        fresh = []
        for entry in entries:
            if entry.url not in self.seen_urls:
                self.seen_urls.add(entry.url)
                fresh.append(entry)
        last = self.known.last_checked([e.url for e in fresh]) if self.known is not None and fresh else {}
        recheck_all = self.settings.getbool("REGWATCH_RECHECK_ALL", False)
        due = self.now - timedelta(days=self.settings.getfloat("REGWATCH_RECHECK_DAYS", 7.0)) * (1 - RECHECK_SLACK)
        requests = []
        for entry in fresh:
            known_at = last.get(entry.url)
            if known_at is not None and not recheck_all and known_at > due:
                self.crawler.stats.inc_value("regwatch/known_skipped")
                continue
            if known_at is not None:
                self.crawler.stats.inc_value("regwatch/known_rechecked")
            request = self.follow(entry.url, self.parse_detail, listing_title=entry.title, listing_date=entry.date_text)
            if request is not None:
                requests.append(request)
        return requests

    def may_stop_paging(self) -> bool:
        """True when list paging may stop at a page with nothing to fetch: the source's lists were read
        in full (no early stop) within ``REGWATCH_RECHECK_HOURS``. Else this run reads every list
        page up to ``max_pages``, so the re-checks of pages on no list (which need the whole lists)
        run at their cadence; a run that stops early makes no such re-checks."""
        if self._may_stop_early is None:
            if self.known is None:
                self._may_stop_early = True
            else:
                hours = self.settings.getfloat("REGWATCH_RECHECK_HOURS", 24.0)
                last = self.known.last_full_list_read(self.source_def.slug)
                self._may_stop_early = last is not None and last > self.now - timedelta(hours=hours) * (1 - RECHECK_SLACK)
        return self._may_stop_early

    def parse_static_list(self, response: Response, role: str) -> Iterator[Any]:
        """Capture a static list or feed page (page class of ``role``) and follow its newest entries."""
        yield self.capture(response, "list")
        try:
            entries = self.page(role, response).entries()  # type: ignore[attr-defined]
        except PageError as exc:
            yield self.page_error(response.url, exc)
            return
        yield from self.follow_entries(entries, limit=self.entry_limit)

    def parse_detail(self, response: Response) -> Iterator[Any]:
        """Capture a detail page and follow its attachments; JS-redirect stubs are followed, not stored."""
        try:
            parsed = self.page("detail", response).parse()  # type: ignore[attr-defined]
        except PageRedirect as redirect:
            self.crawler.stats.inc_value("regwatch/js_redirects")
            if not self.allowed(redirect.target):  # a redirect, unlike a link, is the page itself: report it
                yield self.offsite_error(response.url, redirect.target)
                return
            carried = {k: v for k, v in response.meta.items()
                       if k.startswith("listing_") or k in ("recheck", "handle_httpstatus_list")}
            callback = self.parse_recheck if "recheck" in carried else self.parse_detail
            request = self.follow(redirect.target, callback, **carried)
            if request is not None:
                yield request
            return
        except PageError as exc:
            yield self.capture(response, "detail")  # keep the evidence; the page class needs a fix
            yield self.page_error(response.url, exc)
            return
        yield self.capture(response, "detail")
        found = self.answer(response, "found")
        if found is not None:
            yield found
        cap = self.settings.getint("REGWATCH_ATTACHMENT_MAXSIZE", 20 * 1024 * 1024)
        for link in parsed.attachments:
            request = self.follow(link.url, self.parse_attachment, download_maxsize=cap, referer=response.url)
            if request is not None:
                yield request

    def parse_attachment(self, response: Response) -> Iterator[Any]:
        """Capture an attachment (PDF, Word, …) as served."""
        yield self.capture(response, "attachment")

    # -- re-checks of known pages that left every list ----------------------------------------
    def recheck_requests(self) -> list[Request]:
        """Requests for the known pages to re-check now (none without a store or when the lists were not read)."""
        limit = self.settings.getint("REGWATCH_MAX_RECHECKS", 20)
        hours = self.settings.getfloat("REGWATCH_RECHECK_HOURS", 24.0)
        if self.known is None or limit <= 0:
            return []
        blocker = recheck_blocker(self.crawler.stats.get_stats())
        if blocker is not None:
            self.logger.info("%s: no re-checks of known pages: %s", self.source_def.slug, blocker)
            self.crawler.stats.set_value("regwatch/rechecks/skipped", blocker)
            return []
        # 5% slack: a daily crawl that starts a few minutes early (jitter) still re-checks daily
        cutoff = self.now - timedelta(hours=hours) * (1 - RECHECK_SLACK)
        targets = self.known.recheck_targets(self.source_def.slug, cutoff=cutoff, limit=limit, exclude=self.seen_urls)
        requests = []
        for target in targets:
            request = self.follow(target.url, self.parse_recheck, handle_httpstatus_list=list(GONE_STATUSES),
                                  recheck={"appearance_id": target.appearance_id, "url": target.url})
            if request is not None:
                requests.append(request)
        self.crawler.stats.inc_value("regwatch/rechecks/requested", len(requests))
        if requests:
            self.logger.info("%s: re-checking %d known page(s) that were on no list", self.source_def.slug,
                             len(requests))
        return requests

    def on_idle(self, spider: scrapy.Spider | None = None) -> None:
        """``spider_idle``: once, after everything the lists led to, schedule the re-checks."""
        if self._rechecks_planned:
            return
        self._rechecks_planned = True
        requests = self.recheck_requests()
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider

    def on_closed(self, spider: scrapy.Spider | None = None) -> None:
        if self.known is not None:
            self.known.close()

    def parse_recheck(self, response: Response) -> Iterator[Any]:
        """A re-checked page: 404/410 is a ``gone`` answer; anything else is read as a detail page."""
        if response.status in GONE_STATUSES:
            answer = self.answer(response, "gone")
            if answer is not None:
                yield answer
            return
        yield from self.parse_detail(response)

    def watched(self) -> dict[str, int]:
        """URL -> appearance id of the source's pages whose reading must be reported (loaded once)."""
        if self._watched is None:
            self._watched = self.known.watched_urls(self.source_def.slug) if self.known is not None else {}
        return self._watched

    def answer(self, response: Response, outcome: str) -> RecheckAnswer | None:
        """The re-check answer for a re-checked or watched page, else None."""
        meta = response.meta if response.request is not None else {}
        recheck = meta.get("recheck")
        if recheck is not None:
            appearance_id, url = int(recheck["appearance_id"]), str(recheck["url"])
        else:
            first = (meta.get("redirect_urls") or [response.url])[0]
            watched = self.watched()
            appearance_id = watched.get(first) or watched.get(response.url)
            if appearance_id is None:
                return None
            url = first
        return RecheckAnswer(source=self.source_def.slug, url=url, appearance_id=appearance_id,
                             status=response.status, outcome=outcome,  # type: ignore[arg-type]
                             checked_at=self.clock())


class HanwebSpider(RegulatorSpider):
    """Hanweb jpaas sites (MOFCOM, MIIT): column shell → unit API pages → detail pages → attachments."""

    async def start(self) -> AsyncIterator[Any]:
        for request in self.column_requests(self.parse_shell):
            yield request

    def parse_shell(self, response: Response) -> Iterator[Any]:
        yield self.capture(response, "list")
        try:
            query = self.page("shell", response).query()  # type: ignore[attr-defined]
        except PageError as exc:
            yield self.error(response.url, "layout", str(exc))
            return
        yield self.list_request(response.url, query, 1)

    def list_request(self, shell_url: str, query: UnitQuery, page_no: int) -> Request:
        url = unit_api_url(shell_url, query, page_no=page_no, page_size=self.source_def.page_size)
        return Request(url, callback=self.parse_list, errback=self.on_error, headers={"Referer": shell_url},
                       meta={"shell_url": shell_url, "query": query, "page_no": page_no})

    def parse_list(self, response: Response) -> Iterator[Any]:
        yield self.capture(response, "list")
        page_no = response.meta["page_no"]
        fragment = self.page("list", response)
        try:
            entries, count = fragment.entries(), fragment.count  # type: ignore[attr-defined]
        except PageError as exc:
            yield self.page_error(response.url, exc)
            return
        if page_no == 1 and not entries:
            yield self.error(response.url, "layout", "list page 1 has no entries; check the list selectors")
        fresh = any(entry.url not in self.seen_urls for entry in entries)  # only already-seen ones end the column
        wanted = self.follow_entries(entries)
        yield from wanted
        size = self.source_def.page_size
        more = fresh and page_no < self.max_pages and (count is None or page_no * size < count)
        # a page whose entries are all known (none due for a re-check) ends the column too
        if more and not wanted and self.may_stop_paging():
            self.crawler.stats.inc_value("regwatch/lists_stopped_early")
            more = False
        if more:
            yield self.list_request(response.meta["shell_url"], response.meta["query"], page_no + 1)


def _headers(response: Response) -> dict[str, str]:
    return {key.decode("latin-1"): b", ".join(values).decode("latin-1") for key, values in response.headers.items()}
