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


# libraries that mean I/O: a database, the network, a sink, the clock-driven scheduler
IO_LIBRARIES = {
    "scrapy", "twisted", "sqlalchemy", "sqlmodel", "psycopg", "slack_sdk", "httpx", "requests",
    "aiohttp", "urllib3", "socket", "apscheduler", "starlette", "uvicorn", "typer",
}


def _all_imports(path: Path) -> set[str]:
    """Every absolute module named by an import (full dotted name), including ``from X import``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


CORE = ROOT / "pipeline" / "core"


def _core_violations(paths: list[Path]) -> list[str]:
    bad = []
    for path in paths:
        for name in sorted(_all_imports(path)):
            top = name.split(".")[0]
            inside_core = name == "pipeline.core" or name.startswith("pipeline.core.")
            if (top in INTERNAL and not inside_core) or top in IO_LIBRARIES or name in {"urllib.request", "http.client"}:
                bad.append(f"{path.name} imports {name}")
    return bad


def test_core_imports_no_stage_store_or_network() -> None:
    """pipeline.core is pure: it imports itself, the standard library and parsing libraries only."""
    assert _core_violations(sorted(CORE.rglob("*.py"))) == []


def test_core_check_catches_a_stage_import(tmp_path: Path) -> None:
    """The check above can fail: a stage, the store and a database library are each reported."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from pipeline.core.records import DocumentRecord\nfrom pipeline.process import process_pending\n"
        "from store import Store\nimport sqlalchemy\n",
        encoding="utf-8",
    )
    assert _core_violations([probe]) == [
        "probe.py imports pipeline.process",
        "probe.py imports pipeline.process.process_pending",
        "probe.py imports sqlalchemy",
        "probe.py imports store",
        "probe.py imports store.Store",
    ]


def test_pages_and_core_do_not_import_scrapy() -> None:
    """Page classes and the pure core stay importable without Scrapy (fast CLI, pure tests)."""
    paths = list((ROOT / "crawlers" / "pages").rglob("*.py")) + [
        p for p in (ROOT / "pipeline").rglob("*.py") if "daemon" not in p.name
    ]
    offenders = [str(p.relative_to(ROOT)) for p in paths if {"scrapy", "twisted"} & _imports(p)]
    assert offenders == []
