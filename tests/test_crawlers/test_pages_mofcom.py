"""MOFCOM page classes against the fixture cases in tests/fixtures/pages/mofcom (one test per case dir).

A case's ``expected.json`` holds the page output field by field, or ``{"error": "<ExceptionClass>"}``
(plus optional attributes such as ``selector`` or ``target``) for pages that must be rejected.
"""

from __future__ import annotations

import doctest
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from crawlers.errors import PageError
from crawlers.pages import base, hanweb, mofcom, text

PAGES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "pages"


@dataclass(frozen=True)
class PageCase:
    """One ``fixtures/pages/<source>/<PageClass>/<case>/`` directory."""

    source: str
    page_class: str
    name: str
    path: Path

    @property
    def id(self) -> str:
        return f"{self.source}-{self.page_class}-{self.name}"

    @property
    def body(self) -> bytes:
        return (self.path / "body.html").read_bytes()

    @property
    def meta(self) -> dict[str, Any]:
        return json.loads((self.path / "meta.json").read_text(encoding="utf-8"))

    @property
    def expected(self) -> dict[str, Any]:
        return json.loads((self.path / "expected.json").read_text(encoding="utf-8"))


def page_cases(source: str) -> list[PageCase]:
    """Every case directory of ``source``, sorted (used to parametrize page tests)."""
    root = PAGES_DIR / source
    return [PageCase(source, d.parent.name, d.name, d) for d in sorted(root.glob("*/*")) if (d / "meta.json").is_file()]


CASES = page_cases("mofcom")


def page_output(case: PageCase) -> dict[str, Any]:
    """What the page class produces for a case, as JSON-comparable values."""
    meta = case.meta
    cls = getattr(mofcom, case.page_class)
    page = cls(meta["url"], case.body, meta.get("headers", {}), status=meta.get("status", 200),
               encoding=meta.get("encoding"))
    if case.page_class == "MofcomNoticePage":
        out = asdict(page.parse())
        out["attachments"] = [list(link.values()) for link in out["attachments"]]
        out["warnings"] = list(out["warnings"])
        out["encoding"] = page.encoding
        return out
    if case.page_class == "MofcomListFragment":
        return {"count": page.count, "page_no": page.page_no, "entries": [asdict(e) for e in page.entries()]}
    if case.page_class == "MofcomColumnShell":
        return {"query": asdict(page.query()), "unit_url_page_1": page.unit_url(1),
                "entries": [asdict(e) for e in page.entries()]}
    raise AssertionError(f"no output function for {case.page_class}; add one to page_output()")


def test_every_page_class_has_cases() -> None:
    assert {c.page_class for c in CASES} == {"MofcomNoticePage", "MofcomListFragment", "MofcomColumnShell"}
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_page_case(case: PageCase) -> None:
    expected = case.expected
    if "error" in expected:
        with pytest.raises(PageError) as info:
            page_output(case)
        assert type(info.value).__name__ == expected["error"]
        for attr, value in expected.items():
            if attr != "error":
                assert getattr(info.value, attr) == value, attr
        return
    got = page_output(case)
    mismatched = {k: {"expected": v, "got": got.get(k)} for k, v in expected.items() if got.get(k) != v}
    assert mismatched == {}
    assert set(expected) == set(got), "expected.json must list every output field"


@pytest.mark.parametrize("module", [base, hanweb, mofcom, text], ids=lambda m: m.__name__)
def test_docstring_examples(module: Any) -> None:
    """The ``Example:`` blocks of the page helpers are executable and true."""
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
