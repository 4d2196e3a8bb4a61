"""The package dependency direction of STYLE.md §2.2, checked on the import statements."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INTERNAL = {"crawlers", "pipeline", "store", "alerts"}
# package -> internal packages it may import
ALLOWED = {
    "store": set(),
    "alerts": set(),
    "crawlers": {"store"},
    "pipeline": {"store", "alerts", "crawlers"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_dependency_direction(package: str) -> None:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imports(path) & INTERNAL - {package} - ALLOWED[package]:
            bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert bad == []


def test_pages_and_core_do_not_import_scrapy() -> None:
    """Page classes and the pure core stay importable without Scrapy (fast CLI, pure tests)."""
    paths = list((ROOT / "crawlers" / "pages").rglob("*.py")) + [
        p for p in (ROOT / "pipeline").rglob("*.py") if "daemon" not in p.name
    ]
    offenders = [str(p.relative_to(ROOT)) for p in paths if {"scrapy", "twisted"} & _imports(p)]
    assert offenders == []
