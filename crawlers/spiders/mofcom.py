"""MOFCOM (商务部) spider: the jpaas flow of HanwebSpider over the columns listed in crawlers.sources.

Navigation: column shell (sets the WAF cookie) → ``page/build/unit`` pages with the shell as
Referer → ``/art/<YYYY>/art_<32hex>.html`` detail pages → ``/cms_files/…`` attachments.
Page classes: ``crawlers.pages.mofcom`` (shell, list fragment, notice page).

Example:
    python -m crawlers mofcom --db sqlite:///regwatch.db --base-url http://127.0.0.1:8800
"""

from __future__ import annotations

from crawlers.spiders.base import HanwebSpider


class MofcomSpider(HanwebSpider):
    """www.mofcom.gov.cn 政策发布 (and any further columns configured for the source)."""

    name = "mofcom"  # the source slug in crawlers.sources
