"""Scrapy settings for regwatch crawls: polite, browser-like, loud about WAF challenges.

Per-source values (DOWNLOAD_DELAY, ROBOTSTXT_OBEY) are applied by ``crawlers.__main__`` from
``crawlers.sources``; these are the shared defaults (ECOSYSTEM.md §2, Scrapy 2.13+).
"""

from __future__ import annotations

BOT_NAME = "regwatch"
SPIDER_MODULES = ["crawlers.spiders"]  # crawls start from crawlers.sources; base spiders have no name

# A browser-like UA: METI/MOFCOM WAFs answer 403 to non-browser agents (seen 2025-2026).
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,application/json;q=0.8,*/*;q=0.7",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.6,ja;q=0.5",
}
ROBOTSTXT_OBEY = True  # set explicitly; per source in crawlers.sources

# Politeness: one request at a time per site, AutoThrottle above a floor delay.
CONCURRENT_REQUESTS = 4
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 5.0
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 5.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
# Per-page size cap (defaults.max_page_mb): Scrapy aborts a download whose Content-Length, or whose
# streamed body, exceeds it; the spider's errback records it as a ``too_large`` error naming the URL.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
REGWATCH_ATTACHMENT_MAXSIZE = 20 * 1024 * 1024  # per-request cap for attachments
# Re-checks of known detail pages that were on no list (pipeline.withdrawals): cadence and cap per crawl,
# as defaults.withdrawal_recheck_hours / withdrawal_max_rechecks (passed by the CLI and the daemon).
REGWATCH_RECHECK_HOURS = 24.0
REGWATCH_MAX_RECHECKS = 20

# Retries: server errors and connection failures (MOFCOM resets the first connection), never
# 403/412/202 — those are WAF signals, turned into CrawlError(kind="challenge").
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# A 429/503 Retry-After is waited for up to this many seconds, longer is an error (defaults.retry_after_max_seconds).
REGWATCH_RETRY_AFTER_MAX = 120.0
# A listed detail page the store knows is fetched again after this many days (defaults.recheck_days);
# REGWATCH_RECHECK_ALL (``crawl --recheck``) fetches every listed one.
REGWATCH_RECHECK_DAYS = 7.0
REGWATCH_RECHECK_ALL = False

COOKIES_ENABLED = True  # the WAF session cookie from the shell is needed by the list API
REFERER_ENABLED = True
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"

DOWNLOADER_MIDDLEWARES = {
    # Off-host redirects become CrawlError(kind="offsite") instead of being dropped silently.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawlers.middlewares.OffsiteRedirectMiddleware": 50,
    "crawlers.middlewares.ApiRefererMiddleware": 540,
    "crawlers.middlewares.RetryAfterMiddleware": 555,  # sees a 429/503 before RetryMiddleware (550)
    "crawlers.middlewares.ChallengeMiddleware": 560,
    # Own ETag/Last-Modified handling for detail pages and attachments (never RFC2616Policy); below
    # HttpCompression (590) so a 304 is replaced after decompression, above Retry/Redirect's view.
    "crawlers.middlewares.ConditionalRequestMiddleware": 580,
}
REGWATCH_CONDITIONAL_REQUESTS = True  # per source: SourceDef.conditional_requests
ITEM_PIPELINES = {
    "crawlers.pipelines.SaveCapturePipeline": 300,
}
