"""Paths of the web view's pages (``regwatch web``), shared by the app and by alerts that link to it.

Pure and dependency-free, so building an alert never imports the web stack.
"""

from __future__ import annotations

from urllib.parse import quote


def doc_path(key: str) -> str:
    """The path of a document page; ``:`` and ``+`` stay readable, CJK and the rest are quoted.

    Example:
        >>> doc_path("miit:工信部原:2012:285")
        '/doc/miit:%E5%B7%A5%E4%BF%A1%E9%83%A8%E5%8E%9F:2012:285'
        >>> doc_path("mofcom+gacc:2025:58")
        '/doc/mofcom+gacc:2025:58'
    """
    return "/doc/" + quote(key, safe=":+")


def diff_path(key: str, old: int, new: int) -> str:
    """The path of the diff page between versions ``old`` and ``new``.

    Example:
        >>> diff_path("mofcom+gacc:2025:58", 1, 2)
        '/doc/mofcom+gacc:2025:58/diff/1..2'
    """
    return f"{doc_path(key)}/diff/{old}..{new}"


def page_url(base_url: str, path: str) -> str:
    """``path`` under the configured ``web.base_url`` (with or without a trailing slash).

    Example:
        >>> page_url("https://regwatch.example.com/", "/doc/mofcom:2025:61")
        'https://regwatch.example.com/doc/mofcom:2025:61'
    """
    return base_url.rstrip("/") + path


__all__ = ["diff_path", "doc_path", "page_url"]
