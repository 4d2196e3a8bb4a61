"""MIIT (工业和信息化部) spider: the jpaas flow of HanwebSpider over the 通知 and 文件公示 columns.

Navigation: column shell → ``page/build/unit`` pages (GET only, ``parseType=buildstatic`` as the
shell's script tag says; MOFCOM spells it ``bulidstatic``) → ``/art/<YYYY>/art_<32hex>.html``
detail pages → ``/cms_files/filemanager/…`` attachments (pdf.js viewer links unwrapped by the
page class). A 521 JS-cookie challenge becomes a ``challenge`` CrawlError, never content.
Page classes: ``crawlers.pages.miit`` (column shell, list fragment, notice page).

Example:
    python -m crawlers miit --db sqlite:///regwatch.db --base-url http://127.0.0.1:8801
"""

from __future__ import annotations

from crawlers.spiders.base import HanwebSpider


class MiitSpider(HanwebSpider):
    """www.miit.gov.cn 通知 and 文件公示 (the columns listed in crawlers.sources)."""

    name = "miit"  # the source slug in crawlers.sources
