"""Live canaries: one real list per site still reads with our page classes.

Deselected by default (``-m 'not live'`` in pyproject); run on a machine with internet access:
``python -m pytest -m live tests/live``. A failure means a site changed its layout or its anti-bot
rules: capture a real page (``regwatch inspect URL``), refresh the fixtures and the page class.
"""

from __future__ import annotations

import pytest

from crawlers.sources import SOURCES
from pipeline.fetch import fetch_page

pytestmark = pytest.mark.live


def _page(slug: str, role: str, url: str):
    body, headers, status, final = fetch_page(url, source=slug)
    assert status == 200, f"{slug}: {url} answered HTTP {status}"
    return SOURCES[slug].page_class(role)(final, body, headers, status=status)


@pytest.mark.parametrize("slug", sorted(SOURCES))
def test_first_column_still_lists_entries(slug: str) -> None:
    source = SOURCES[slug]
    url = source.base_url + source.columns[0].shell_path
    if "feed" in source.pages:  # gov.cn JSON feed, METI Atom feed
        entries = _page(slug, "feed", url).entries()
    elif "shell" in source.pages:  # Hanweb jpaas: the shell names the unit API that holds the list
        shell = _page(slug, "shell", url)
        entries = _page(slug, "list", shell.unit_url(1)).entries()
    else:
        entries = _page(slug, "list", url).entries()
    assert entries, f"{slug}: {url} lists no entries"
