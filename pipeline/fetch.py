"""Fetch one page for ``regwatch inspect URL``: only on the source's allowed hosts (or loopback replicas)."""

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
    request = urllib.request.Request(url, headers={"User-Agent": user_agent or USER_AGENT, "Accept-Language": "zh-CN,zh;q=0.9,ja;q=0.8"})
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


__all__ = ["USER_AGENT", "allowed", "fetch_page"]
