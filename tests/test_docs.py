"""README stays true: the two set-up commands, every CLI command, config key and sink kind documented."""

from __future__ import annotations

import re
from pathlib import Path

from alerts.registry import BUILTIN_SINKS
from pipeline.cli import app
from pipeline.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    names = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]
    names += [f"{g.name} {c.name or c.callback.__name__}" for g in app.registered_groups
              for c in g.typer_instance.registered_commands]
    return names


def test_readme_starts_with_the_two_setup_commands() -> None:
    commands = re.findall(r"^    \$ (.+)$", README, flags=re.M)[:2]
    assert commands == ['pip install -e . && regwatch demo', 'pip install -e ".[test]" && python -m pytest -q']
    first_lines = [line for line in README.splitlines() if line.strip()][:3]
    assert first_lines[1:] == [f"    $ {c}" for c in commands]


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run runs the README's test command verbatim (and checks the README still shows it)."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    (cmd,) = re.findall(r"^cmd='(.+)'$", ci, flags=re.M)
    assert cmd == 'pip install -e ".[test]" && python -m pytest -q'
    assert f"    $ {cmd}" in README.splitlines()
    assert 'eval "$cmd"' in ci and "REGWATCH_TEST_PG_REQUIRED=1" in ci


def test_every_cli_command_is_in_the_readme() -> None:
    missing = [name for name in _commands() if f"regwatch {name}" not in README]
    assert missing == []
    assert len(_commands()) >= 12


def test_every_config_key_is_documented() -> None:
    assert [key for key in DEFAULTS if f"defaults.{key}" not in README] == []


def test_every_sink_kind_is_documented() -> None:
    assert [kind for kind in BUILTIN_SINKS if f"kind: {kind}" not in README] == []
