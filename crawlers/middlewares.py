"""Downloader middlewares, one concern each: Referer for jpaas list-API calls, WAF-challenge detection,
off-host redirects reported instead of dropped, conditional requests for known detail pages and
attachments, ``Retry-After`` on 429/503 honoured within a bound.

Cookie warm-up is the column-shell fetch: the spider always loads the shell (which sets the
WAF session cookie, kept by Scrapy's CookiesMiddleware) before calling the list API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from crawlers.pages.base import looks_like_challenge
from crawlers.pages.hanweb import UNIT_API_PATH
from crawlers.pipelines import KnownPages

logger = logging.getLogger(__name__)

SSI_ERROR = "[an error occurred while processing this directive]"


class ApiRefererMiddleware:
    """Give jpaas ``page/build/unit`` requests the column shell as Referer.

    MOFCOM's WAF answers list-API calls without a Referer with 412 (third-party reports, 2025).
    The shell URL comes from ``request.meta["shell_url"]``, else the site root.
    """

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if UNIT_API_PATH in request.url and not request.headers.get("Referer"):
            request.headers["Referer"] = request.meta.get("shell_url") or urljoin(request.url, "/")


class ChallengeDetected(IgnoreRequest):
    """The response was a WAF challenge, an empty body or an SSI failure — not content.

    ``kind`` is ``challenge`` (403/412/521, 202-empty, interstitial markers), ``empty`` (blank
    200) or ``transient`` (SSI error text); the spider's errback turns it into a CrawlError.
    """

    def __init__(self, kind: str, message: str, response: Response) -> None:
        super().__init__(message)
        self.kind = kind
        self.response = response


class ChallengeMiddleware:
    """Stop challenge/empty answers before they reach the spider, and count them in stats."""

    CHALLENGE_STATUSES = (403, 412, 521)

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ChallengeMiddleware":
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Any:
        verdict = classify_response(response.status, dict(_headers(response)), response.body)
        if verdict is None:
            return response
        kind, message = verdict
        self.stats.inc_value(f"regwatch/blocked/{kind}")
        logger.warning("%s: %s (%s)", kind, message, request.url)
        raise ChallengeDetected(kind, message, response)


class OffsiteRedirect(IgnoreRequest):
    """A request was redirected (HTTP 3xx or meta refresh) to a host the source does not allow.

    ``original`` is the URL first requested, ``target`` the off-host URL it was sent to; the
    spider's errback turns it into a CrawlError of kind ``offsite``.
    """

    def __init__(self, original: str, target: str) -> None:
        super().__init__(f"redirected off-host to {target}; not fetched")
        self.original = original
        self.target = target


class OffsiteRedirectMiddleware(OffsiteMiddleware):
    """Scrapy's OffsiteMiddleware, except that a redirect to another host is an error, not a silent drop.

    Scrapy (2.13+) filters off-site requests when they are scheduled, redirected ones included:
    the redirect target is dropped before any errback can see it, and the page is silently
    missing from the crawl. Here a redirected request (``redirect_urls`` in its meta) is let
    through scheduling (``dont_filter``, so a second page redirected to the same place is
    reported too) and refused in ``process_request`` with OffsiteRedirect, which reaches the
    request's errback. On-site means the spider's own host policy (``allowed(url)``) when it has
    one, else ``allowed_domains``. Requests that were not redirected are filtered as by Scrapy.
    """

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        if request.meta.get("redirect_urls"):
            if not self._on_site(request):
                request.dont_filter = True  # reach process_request even if the target was seen before
            return
        super().request_scheduled(request, spider)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:  # type: ignore[override]
        redirects = request.meta.get("redirect_urls")
        if redirects and not self._on_site(request):
            self.stats.inc_value("regwatch/offsite_redirects")
            raise OffsiteRedirect(redirects[0], request.url)
        if redirects:
            return None
        return super().process_request(request)

    def _on_site(self, request: Request) -> bool:
        spider = self.crawler.spider
        assert spider is not None
        allowed = getattr(spider, "allowed", None)
        if callable(allowed):
            return bool(allowed(request.url))
        return urlparse_cached(request).scheme in ("http", "https") and self.should_follow(request, spider)


# Callbacks whose pages are fetched conditionally: details, attachments and list pages (a static
# list, a feed, a jpaas unit page). A 304 says the stored copy is the current page, so the spider
# reads the same entries as from a 200 with that body. Not the jpaas column shell (``parse_shell``):
# its answer hands out the WAF session cookie the unit API needs, which a 304 need not carry.
CONDITIONAL_KINDS = {"parse_detail": "detail", "parse_attachment": "attachment",
                     "parse_list": "list", "parse_feed": "list"}
NOT_MODIFIED_FLAG = "not_modified"


class ConditionalRequestMiddleware:
    """Send ``If-None-Match`` / ``If-Modified-Since`` from the last stored capture of a detail page,
    attachment or list page, and turn a 304 answer into that capture (ECOSYSTEM.md: own ETag/Last-Modified
    middleware, never Scrapy's RFC2616Policy cache, which keeps its own copies and can serve stale
    list pages).

    A request is conditional when its callback is one of ``CONDITIONAL_KINDS`` (or
    ``meta["conditional"]`` is true; false turns it off), it was not redirected, and the last
    capture of its URL was a 200 with an ETag or Last-Modified. A 304 to it is never an error:
    the response handed on is the stored capture's headers and body with status 200 and the flag
    ``not_modified``, so the spider reads the page as before (attachments are still followed, a
    re-check still finds the page) and ``save_capture`` sees the same body (no new capture, counted
    unchanged). Counted in the stats as ``regwatch/captures/not_modified`` (and per kind).

    Setting ``REGWATCH_CONDITIONAL_REQUESTS`` (per source: ``SourceDef.conditional_requests``)
    turns it off; without ``REGWATCH_DB_URL`` (spider tests) there is nothing to compare with.
    """

    def __init__(self, crawler: Crawler, known: KnownPages) -> None:
        self.stats = crawler.stats
        self.known = known

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ConditionalRequestMiddleware":
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        if not crawler.settings.getbool("REGWATCH_CONDITIONAL_REQUESTS", True):
            raise NotConfigured("conditional requests turned off for this source")
        known = KnownPages.from_db_url(crawler.settings)
        if known is None:
            raise NotConfigured("conditional requests need REGWATCH_DB_URL")
        middleware = cls(crawler, known)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_closed(self, spider: Spider | None = None) -> None:
        self.known.close()

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        kind = _conditional_kind(request)
        if kind is None or request.meta.get("redirect_urls"):
            return None
        found = self.known.validators(request.url)
        if found is None:
            return None
        capture_id, headers = found
        for name, value in headers.items():
            request.headers[name] = value
        request.meta["regwatch_conditional"] = (capture_id, kind)
        self.stats.inc_value("regwatch/conditional_requests")
        return None

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Any:
        sent = request.meta.get("regwatch_conditional")
        if response.status != 304 or not sent:
            return response
        capture_id, kind = sent
        from scrapy.http import Headers
        from scrapy.responsetypes import responsetypes

        stored_headers, body = self.known.stored_page(capture_id)
        headers = Headers(stored_headers)
        for name in ("ETag", "Last-Modified"):  # a 304 may carry fresher validators
            if name in response.headers:
                headers[name] = response.headers[name]
        cls = responsetypes.from_args(headers=headers, url=response.url, body=body)
        self.stats.inc_value("regwatch/captures/not_modified")
        self.stats.inc_value(f"regwatch/captures/not_modified/{kind}")
        return cls(url=response.url, status=200, headers=headers, body=body, request=request,
                   flags=[*response.flags, NOT_MODIFIED_FLAG], ip_address=response.ip_address,
                   protocol=response.protocol)


def _conditional_kind(request: Request) -> str | None:
    """``detail`` / ``attachment`` / ``list`` for a request that may be conditional, else None."""
    wanted = request.meta.get("conditional")
    if wanted is False:
        return None
    name = getattr(request.callback, "__name__", "")
    kind = CONDITIONAL_KINDS.get(name)
    return kind or ("detail" if wanted else None)


def classify_response(status: int, headers: dict[str, str], body: bytes) -> tuple[str, str] | None:
    """``(kind, message)`` when a response is not content, else None.

    Example:
        >>> classify_response(202, {}, b"")
        ('challenge', 'HTTP 202 with an empty body (WAF JS challenge); retry later')
        >>> classify_response(200, {"Content-Type": "application/pdf"}, b"%PDF-1.4") is None
        True
    """
    if status in ChallengeMiddleware.CHALLENGE_STATUSES:
        return "challenge", f"HTTP {status} from the WAF; retry later, slower, with Referer and cookies"
    if status == 202 and not body.strip():
        return "challenge", "HTTP 202 with an empty body (WAF JS challenge); retry later"
    if status == 304 or status >= 300:
        return None  # redirects are followed; 404/5xx go to HttpError / retry
    if not body.strip():
        return "empty", f"HTTP {status} with an empty body; transient, not a deleted page"
    ctype = headers.get("content-type", "").lower()
    if not (ctype.startswith("text/") or "json" in ctype or not ctype) or body[:5] == b"%PDF-":
        return None
    text = body[:20000].decode("utf-8", "ignore")
    if SSI_ERROR in text:
        return "transient", "server-side include failed ([an error occurred while processing this directive])"
    if looks_like_challenge(text, status):
        return "challenge", f"anti-bot interstitial instead of content (HTTP {status})"
    return None


def _headers(response: Response) -> Any:
    for key, values in response.headers.items():
        yield key.decode("latin-1").lower(), b", ".join(values).decode("latin-1")


RETRY_AFTER_STATUSES = (429, 503)


class RetryAfterTooLong(IgnoreRequest):
    """A 429/503 asked to come back later than ``REGWATCH_RETRY_AFTER_MAX`` seconds: the page is not
    fetched in this crawl (the errback makes it a ``rate_limited`` CrawlError naming the URL)."""

    def __init__(self, url: str, status: int, delay: float, bound: float) -> None:
        super().__init__(f"HTTP {status} with Retry-After {delay:g} s, longer than the {bound:g} s this crawl "
                         f"waits (defaults.retry_after_max_seconds); not fetched, the next crawl tries again")
        self.url, self.status, self.delay, self.bound = url, status, delay, bound


def retry_after_seconds(value: str, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP-date, RFC 9110 §10.2.3)
    at ``now``; None when unreadable. A date in the past means "now" (0).

    Example:
        >>> now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
        >>> retry_after_seconds("30", now), retry_after_seconds("Mon, 23 Nov 2026 03:02:00 GMT", now)
        (30.0, 120.0)
        >>> retry_after_seconds("soon", now) is None, retry_after_seconds("Mon, 23 Nov 2026 02:00:00 GMT", now)
        (True, 0.0)
    """
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class RetryAfterMiddleware:
    """Wait what a 429/503 ``Retry-After`` asks, then retry (Scrapy's RetryMiddleware retries at once
    and ignores the header); a wait above ``REGWATCH_RETRY_AFTER_MAX`` (default 120 s) raises
    RetryAfterTooLong instead. Without the header (or unreadable), Scrapy's retry policy applies.

    Placed above RetryMiddleware (550), so it sees the answer first; retries count towards
    ``RETRY_TIMES`` like Scrapy's (``get_retry_request``); once they are used up the answer goes
    on to RetryMiddleware / HttpError as before. Waited seconds go to ``regwatch/retry_after/waited``.
    ``sleep`` and ``now`` are replaceable (tests: a fake clock; the crawl clock is ``REGWATCH_NOW``).
    """

    def __init__(self, crawler: Crawler, *, bound: float, sleep: Callable[[float], Awaitable[None]] | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.bound = bound
        self.sleep = sleep or asyncio.sleep
        self.now = now or _crawl_now

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "RetryAfterMiddleware":
        return cls(crawler, bound=crawler.settings.getfloat("REGWATCH_RETRY_AFTER_MAX", 120.0))

    async def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Any:
        if response.status not in RETRY_AFTER_STATUSES or request.meta.get("dont_retry"):
            return response
        header = response.headers.get("Retry-After")
        delay = retry_after_seconds(header.decode("latin-1"), self.now()) if header else None
        if delay is None:
            return response
        if delay > self.bound:
            self.stats.inc_value("regwatch/retry_after/too_long")
            logger.warning("HTTP %s with Retry-After %g s > %g s: not waiting (%s)", response.status, delay,
                           self.bound, request.url)
            raise RetryAfterTooLong(request.url, response.status, delay, self.bound)
        from scrapy.downloadermiddlewares.retry import get_retry_request

        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"retry_after_{response.status}",
                                  max_retry_times=request.meta.get("max_retry_times",
                                                                   self.crawler.settings.getint("RETRY_TIMES")))
        if retry is None:
            return response
        logger.info("HTTP %s with Retry-After %g s: waiting, then retrying %s", response.status, delay, request.url)
        self.stats.inc_value("regwatch/retry_after/waited", delay)
        await self.sleep(delay)
        return retry


def _crawl_now() -> datetime:
    from crawlers.spiders.base import crawl_clock

    return crawl_clock()
