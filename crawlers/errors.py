"""Errors raised while reading regulator pages. Each names the source, URL and what to do."""

from __future__ import annotations


class PageError(Exception):
    """Base class: a page could not be read into a record. Never means "the document was deleted"."""

    hint = "check the capture with `regwatch inspect` and refresh the page class if the site changed"

    def __init__(self, url: str, reason: str, *, source: str | None = None) -> None:
        self.url = url
        self.reason = reason
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{reason} ({url}); {self.hint}")


class LayoutChanged(PageError):
    """A selector did not match as many nodes as the page class expects (the site was redesigned)."""

    def __init__(self, url: str, selector: str, got: int, expected: str, *, source: str | None = None) -> None:
        self.selector = selector
        self.got = got
        self.expected = expected
        super().__init__(
            url, f"layout changed: selector {selector!r} matched {got} node(s), expected {expected}", source=source
        )


class ChallengePage(PageError):
    """The server answered with an anti-bot / WAF challenge instead of the page (retry later)."""

    hint = "this is a WAF challenge, not content: retry later, slower, with a browser User-Agent and Referer"


class EmptyPage(PageError):
    """The body is empty or whitespace only."""

    hint = "an empty body is a transient failure, not a deleted page: retry later"


class EmptyArticle(EmptyPage):
    """The article container is on the page but holds no text (and no attachment): a CMS glitch
    (seen 2026), not an emptied document, so it must never become a version."""

    hint = ("the page's article container is empty, usually a transient CMS glitch: retry later; if the "
            "document really is empty now, release the capture with `regwatch process --accept CAPTURE`")

    def __init__(self, url: str, selector: str, *, source: str | None = None) -> None:
        self.selector = selector
        super().__init__(url, f"article container {selector!r} is present but holds no text", source=source)


class TooDeep(PageError):
    """Markup nested deeper than the HTML parser can build, even after flattening (text would be lost)."""

    hint = "report the page: its markup cannot be read without losing text"

    def __init__(self, url: str, depth: int, limit: int, *, source: str | None = None) -> None:
        self.depth = depth
        self.limit = limit
        super().__init__(url, f"markup nested {depth} levels deep; the HTML parser stops at {limit}", source=source)


class NotHtml(PageError):
    """The body is not HTML (binary, PDF, JSON where HTML was expected)."""

    hint = "store it as an attachment or point the page class at the HTML page"


class UndecodableBody(PageError):
    """No candidate encoding decodes the body cleanly."""

    hint = "pass the right encoding (e.g. --encoding gb18030) or report the page"


class PageRedirect(PageError):
    """The page is only a JavaScript redirect; ``target`` is the absolute URL to fetch instead."""

    hint = "fetch the redirect target instead of this page"

    def __init__(self, url: str, target: str, *, source: str | None = None) -> None:
        self.target = target
        super().__init__(url, f"page is a JavaScript redirect to {target}", source=source)


class MalformedFeed(PageError):
    """A feed body is not the JSON / XML document its parser expects (or carries a forbidden DTD)."""

    hint = "the feed format changed or the server sent an error page: inspect the capture and update crawlers/pages/feeds.py"
