"""Query commands start fast: they import no crawler, extractor, config model or Slack client.

Each command runs in a fresh interpreter (``python -c``) from a directory without schedules.yaml,
and the modules it loaded are compared with what only other stages need (python -X importtime
showed these cost more than the query itself: the config models pull in pydantic models, every
sink plug-in and slack_sdk; the extractor pulls in parsel/lxml and the tagging rules).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from store import Store

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)
HEAVY = ("scrapy", "twisted", "parsel", "lxml", "slack_sdk", "apscheduler", "yaml", "crawlers.pages",
         "crawlers.spiders", "pipeline.extract", "pipeline.core.tagging", "pipeline.config", "pipeline.process",
         "alerts.registry", "alerts.slack")
QUERIES = {
    "search": ["search", "稀土"], "search_long": ["search", "出口管制"], "history_json": ["history", "--json"],
    "history_code": ["history", "--code", "1C902"], "show": ["show", "mofcom:2025:1"], "status": ["status"],
    "status_json": ["status", "--json"],
}
_PROBE = """
import contextlib, io, json, sys
from pipeline.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _run(tmp_path: Path, db: Path, args: list[str]) -> dict:
    done = subprocess.run([sys.executable, "-c", _PROBE, "--db", str(db), *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("imports") / "regwatch.db"
    with Store.open(path, at=T0) as store:
        store.ensure_source("mofcom", "商务部", at=T0)
        store.record_version(source="mofcom", key="mofcom:2025:1", url="https://mofcom.example/1", title="稀土公告",
                             text="关于对稀土物项实施出口管制的公告", canonical_text="关于对稀土物项实施出口管制的公告",
                             content_hash="h1", fields={}, published=None, capture_id=None, seen_at=T0)
    return path


@pytest.mark.parametrize("args", QUERIES.values(), ids=QUERIES.keys())
def test_query_commands_import_no_stage_machinery(tmp_path, db, args) -> None:
    result = _run(tmp_path, db, args)
    assert result["code"] == 0 and result["out"].strip()
    assert _heavy(result["modules"]) == []
    assert "store" in result["modules"]  # it did run the query


def test_the_check_sees_a_heavy_import(tmp_path, db) -> None:
    """With a configuration file the same command validates it, and the probe sees the config
    models loaded (so the check above can fail)."""
    (tmp_path / "schedules.yaml").write_text("sources: {}\n", encoding="utf-8")
    result = _run(tmp_path, db, ["status"])
    assert result["code"] == 0 and "pipeline.config" in _heavy(result["modules"])
