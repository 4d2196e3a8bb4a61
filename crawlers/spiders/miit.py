"""MIIT (工业和信息化部) spider: the jpaas flow of HanwebSpider over the 通知 and 文件公示 columns.

Navigation: column shell → ``page/build/unit`` pages (GET only, ``parseType=buildstatic`` as the
shell's script tag says; MOFCOM spells it ``bulidstatic``) → ``/art/<YYYY>/art_<32hex>.html``
detail pages → ``/cms_files/filemanager/…`` attachments (pdf.js viewer links unwrapped by the
page class). A 521 JS-cookie challenge becomes a ``challenge`` CrawlError, never content.
Page classes: ``crawlers.pages.miit`` (list fragment, notice page); the shell is read like
MOFCOM's (one ``script[queryData]``).

Example:
    python -m crawlers miit --db sqlite:///regwatch.db --base-url http://127.0.0.1:8801
"""

from __future__ import annotations

from scrapy.http import Response

from crawlers.pages.base import Page
from crawlers.pages.mofcom import MofcomColumnShell
from crawlers.spiders.base import HanwebSpider, _headers


class MiitColumnShell(MofcomColumnShell):
    """The jpaas column shell, read exactly like MOFCOM's, with MIIT named in its errors.

    Interim: belongs in ``crawlers.pages.miit`` (role ``shell`` in crawlers.sources).
    """

    source = "miit"


class MiitSpider(HanwebSpider):
    """www.miit.gov.cn 通知 and 文件公示 (the columns listed in crawlers.sources)."""

    name = "miit"
    source_slug = "miit"

    def page(self, role: str, response: Response) -> Page:
        """The source's page class for ``role``; the shell falls back to :class:`MiitColumnShell`."""
        if role == "shell" and "shell" not in self.source_def.pages:
            return MiitColumnShell(response.url, response.body, _headers(response), status=response.status)
        return super().page(role, response)

