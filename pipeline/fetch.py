"""Fetch one page for ``regwatch inspect URL`` and ``regwatch sources test``: only on the source's
allowed hosts (or loopback replicas), and only where the site's robots.txt allows it when the
source obeys robots.txt (the crawler's rule, read with Protego as Scrapy's RobotsTxtMiddleware does)."""

from __future__ import annotations

import ipaddress
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from pipeline.errors import UserError
from pipeline.extract import detect_source, source_def

# A browser-like UA: METI's AWS WAF answers 403 to non-browser agents (seen 2026).
USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/126.0 Safari/537.36 regwatch/0.1")
MAX_BYTES = 20 * 1024 * 1024
_ROBOTS: dict[str, object] = {}  # scheme://host -> parsed robots.txt (one read per host and process)


def allowed(url: str, source: str) -> bool:
    """True when ``url`` is on the hosts of ``source`` (or a loopback replica).

    Example:
        >>> allowed("https://evil.example/x", "mofcom")
        False
    """
    host = (urlsplit(url).hostname or "").lower()
    try:
        if ipaddress.ip_address(host).is_loopback:
            return True
    except ValueError:
        pass
    if host == "localhost":
        return True
    hosts = source_def(source).allowed_hosts
    return any(host == h or host.endswith("." + h) for h in hosts)


def fetch_page(url: str, *, source: str, timeout: float = 30,
               user_agent: str | None = None) -> tuple[bytes, dict[str, str], int, str]:
    """GET ``url`` and return ``(body, headers, status, final_url)`` (``user_agent``: the source's own)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise UserError(f"{url}: only http(s) URLs can be fetched")
    if source == "auto":
        source = detect_source(url)
    if not allowed(url, source):
        raise UserError(f"{url} is not on an allowed host of source {source!r}",
                        "regwatch only fetches regulator hosts; save the page and inspect the file instead")
    agent = user_agent or USER_AGENT
    if source_def(source).robots_obey and not robots_allow(url, agent, timeout=timeout):
        raise UserError(f"{url}: the robots.txt of {urlsplit(url).netloc} disallows it for regwatch's user agent",
                        "the crawler obeys it too; open the page in a browser, save it and read the file "
                        "(inspect FILE, sources test --file FILE)")
    request = urllib.request.Request(url, headers={"User-Agent": agent, "Accept-Language": "zh-CN,zh;q=0.9,ja;q=0.8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (host checked above)
            final = response.geturl()
            if not allowed(final, source):
                raise UserError(f"{url} redirected off the allowed hosts to {final}")
            return response.read(MAX_BYTES), dict(response.headers.items()), response.status, final
    except urllib.error.HTTPError as exc:
        return exc.read(MAX_BYTES), dict(exc.headers.items()), exc.code, url
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise UserError(f"cannot fetch {url}: {getattr(exc, 'reason', exc)}",
                        "check the network, or save the page and inspect the file") from exc


def robots_allow(url: str, user_agent: str, *, timeout: float = 10) -> bool:
    """Whether the robots.txt of ``url``'s site lets ``user_agent`` fetch it. As in Scrapy, a
    robots.txt that is missing (4xx) or cannot be fetched allows everything."""
    from protego import Protego

    parts = urlsplit(url)
    site = f"{parts.scheme}://{parts.netloc}"
    if site not in _ROBOTS:
        text = ""
        request = urllib.request.Request(site + "/robots.txt", headers={"User-Agent": user_agent})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the page's own host)
                text = response.read(512 * 1024).decode("utf-8", "replace")
        except (urllib.error.URLError, TimeoutError, OSError, ValueError):
            text = ""
        _ROBOTS[site] = Protego.parse(text)
    return bool(_ROBOTS[site].can_fetch(url, user_agent))  # type: ignore[attr-defined]


__all__ = ["USER_AGENT", "allowed", "fetch_page", "robots_allow"]
