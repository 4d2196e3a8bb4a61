"""Live canaries: one real list page per site still reads with our page classes.

Deselected by default (``-m 'not live'`` in pyproject); run on a machine with internet access:
``python -m pytest -m live tests/live``. A failure here means a site changed its layout or its
anti-bot rules — refresh the fixtures from a real capture (`regwatch inspect URL`) and the page class.
"""

from __future__ import annotations

import pytest

from crawlers.sources import SOURCES
from pipeline.fetch import fetch_page

pytestmark = pytest.mark.live


@pytest.mark.parametrize("slug", sorted(SOURCES))
def test_first_column_still_lists_entries(slug: str) -> None:
    source = SOURCES[slug]
    column = source.columns[0]
    url = source.base_url + column.shell_path
    body, headers, status, final = fetch_page(url, source=slug)
    assert status == 200, f"{slug}: {url} answered HTTP {status}"
    role = "shell" if "shell" in source.pages else "list"
    page = source.page_class(role)(final, body, headers, status=status)
    assert page.entries(), f"{slug}: {url} lists no entries with {type(page).__name__}"
