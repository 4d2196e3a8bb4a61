"""Deployment files stay true: systemd units, Dockerfile and compose.yaml say what README "Deployment" says.

Nothing here needs Docker or a running systemd; ``systemd-analyze verify`` runs where it is installed.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from crawlers.sources import SOURCES
from pipeline.cli import main
from pipeline.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
README = (ROOT / "README.md").read_text(encoding="utf-8")
CRAWL_TIMEOUT = DEFAULTS["crawl_timeout_seconds"][0]
UNITS = ("regwatch.service", "regwatch-once.service", "regwatch.timer")
HARDENING = {"ProtectSystem": "strict", "ReadWritePaths": "/var/lib/regwatch", "StateDirectory": "regwatch",
             "NoNewPrivileges": "yes", "PrivateTmp": "yes", "ProtectHome": "yes", "User": "regwatch",
             "EnvironmentFile": "/etc/regwatch/regwatch.env"}


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit as ``{section: {key: [values in order]}}`` (keys like Environment= repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"{path.name}:{number}: not key=value in a section: {raw!r}"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    values = unit[section][key]
    assert len(values) == 1, f"{section}.{key} set {len(values)} times"
    return values[0]


def seconds(value: str) -> float:
    """systemd/compose durations: ``960``, ``960s``, ``16m``, ``1h 10min``.

    Example: seconds("16m") == 960
    """
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    parts = re.findall(r"(\d+)\s*(min|sec|h|m|s|)", value)
    assert parts, value
    return sum(int(n) * units[u] for n, u in parts)


def test_seconds() -> None:
    assert (seconds("960"), seconds("16m"), seconds("1h 10min"), seconds("90s")) == (960, 960, 4200, 90)


def test_daemon_unit() -> None:
    unit = parse_unit(DEPLOY / "regwatch.service")
    assert one(unit, "Service", "Type") == "exec"
    assert one(unit, "Service", "ExecStart") == "/usr/local/bin/regwatch --config /etc/regwatch/schedules.yaml daemon"
    assert one(unit, "Service", "KillMode") == "mixed"
    assert seconds(one(unit, "Service", "TimeoutStopSec")) > CRAWL_TIMEOUT
    assert one(unit, "Service", "Restart") == "on-failure"
    assert one(unit, "Service", "RestartSec") == "10"
    assert one(unit, "Service", "ExecReload") == "/bin/kill -HUP $MAINPID"
    for key, value in HARDENING.items():
        assert one(unit, "Service", key) == value, key
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


def test_the_database_lives_in_the_only_writable_directory() -> None:
    for name in ("regwatch.service", "regwatch-once.service"):
        unit = parse_unit(DEPLOY / name)
        env = dict(v.split("=", 1) for v in unit["Service"]["Environment"])
        db = Path(env["REGWATCH_DB"])
        assert db.parent == Path(one(unit, "Service", "ReadWritePaths")) == Path("/var/lib") / one(
            unit, "Service", "StateDirectory")
        assert one(unit, "Service", "User") not in ("root", "0")


def test_once_unit_and_timer() -> None:
    once = parse_unit(DEPLOY / "regwatch-once.service")
    assert one(once, "Service", "Type") == "oneshot"
    assert one(once, "Service", "ExecStart").endswith(" daemon --once")
    crawlable = [s for s in SOURCES.values() if s.spider]
    assert seconds(one(once, "Service", "TimeoutStartSec")) > len(crawlable) * CRAWL_TIMEOUT  # sources run in turn
    for key, value in HARDENING.items():
        assert one(once, "Service", key) == value, key
    timer = parse_unit(DEPLOY / "regwatch.timer")
    assert one(timer, "Timer", "Unit") == "regwatch-once.service"
    assert one(timer, "Timer", "OnCalendar") and one(timer, "Timer", "Persistent") in ("yes", "true")
    assert one(timer, "Install", "WantedBy") == "timers.target"


@pytest.mark.parametrize("name", ["regwatch.service", "regwatch-once.service"])
def test_exec_start_is_a_valid_regwatch_command_line(name: str, capsys) -> None:
    argv = shlex.split(one(parse_unit(DEPLOY / name), "Service", "ExecStart"))
    assert argv[0] == "/usr/local/bin/regwatch"
    assert main([*argv[1:], "--help"]) == 0  # every option and the command exist
    assert "Usage: regwatch daemon" in capsys.readouterr().out


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed here (the unit files are still parsed above)")
    stub = tmp_path / "regwatch"  # verify wants ExecStart's binary to exist: a stub stands in for it
    stub.write_text("#!/bin/sh\n", encoding="utf-8")
    stub.chmod(0o755)
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8").replace("/usr/local/bin/regwatch", str(stub))
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = subprocess.run([tool, "verify", *(str(tmp_path / n) for n in UNITS)], capture_output=True, text=True,
                            timeout=60, check=False)
    ours = [line for line in (result.stdout + result.stderr).splitlines() if any(n in line for n in UNITS)]
    assert (result.returncode, ours) == (0, [])  # unknown keys are only warnings: none may name our units


# -- Docker -------------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """``[(INSTRUCTION, arguments)]`` with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            out.append((instruction.upper(), " ".join(args.split())))
    return out


def test_dockerfile() -> None:
    steps = dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    users = [args for ins, args in steps if ins == "USER"]
    assert users and users[-1] not in ("root", "0") and not users[-1].startswith("0:")
    assert ("VOLUME", "/data") in steps
    env = " ".join(args for ins, args in steps if ins == "ENV")
    assert "REGWATCH_DB=/data/regwatch.db" in env.split()
    assert ("ENTRYPOINT", '["regwatch"]') in steps and steps[-1] == ("CMD", '["daemon"]')
    runs = " ".join(args for ins, args in steps if ins == "RUN")
    assert 'pip install ".[postgres]"' in runs
    # the lock file first, so a build installs the versions tested (README "Deployment")
    assert runs.index("pip install -r requirements.lock") < runs.index('pip install ".[postgres]"')


def test_lock_file_pins_every_dependency_within_the_floors() -> None:
    import tomllib

    from packaging.requirements import Requirement
    from packaging.version import Version

    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith((" ", "#")):
            name, _, version = line.partition("==")
            pins[name.strip().lower().replace("_", "-")] = Version(version.split(";")[0].strip())
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for spec in [*deps["dependencies"], *deps["optional-dependencies"]["postgres"]]:
        req = Requirement(spec)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"requirements.lock lacks {name}: run .ci/lock"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} is outside {req.specifier}"


def test_dockerfile_copies_every_package_and_nothing_ignored() -> None:
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set()
    for ins, args in dockerfile():
        if ins == "COPY":
            *sources, _dest = args.split()
            for src in sources:
                assert (ROOT / src).exists(), f"COPY {src}: no such file"
                copied.add(src)
    assert packages <= copied and {"pyproject.toml", pyproject["project"]["readme"]} <= copied
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()}
    assert not copied & ignored


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_with_postgres() -> None:
    spec = compose()
    services = spec["services"]
    assert set(services) == {"db", "migrate", "regwatch"}
    db = services["db"]
    assert db["image"] == "postgres:16" and "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in spec["volumes"]  # a named volume, not a bind mount
    migrate, daemon = services["migrate"], services["regwatch"]
    assert migrate["command"] == ["db", "upgrade"] and migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert daemon["command"] == ["daemon"]
    assert daemon["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for service in (migrate, daemon):
        assert service["environment"]["REGWATCH_DB"].startswith("postgresql+psycopg://")
        assert service["env_file"] == ".env"
        assert "build" in service and service["image"] == "regwatch:latest"
    assert seconds(daemon["stop_grace_period"]) > CRAWL_TIMEOUT
    assert "POSTGRES_PASSWORD" in (ROOT / "deploy" / "compose.env.example").read_text(encoding="utf-8")
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


# -- README -------------------------------------------------------------------------------------


def deployment_commands() -> list[str]:
    section = README.split("## Deployment", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```\n(.*?)^```", section, flags=re.M | re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line]


def test_readme_deployment_commands() -> None:
    commands = deployment_commands()
    for needed in ("useradd --system", "install -m 0644 deploy/regwatch.service /etc/systemd/system/",
                   "chmod 600 /etc/regwatch/regwatch.env", "systemctl enable --now regwatch",
                   "--config /etc/regwatch/schedules.yaml doctor", "systemctl enable --now regwatch.timer",
                   "docker compose up -d --build", "docker compose run --rm regwatch doctor"):
        assert any(needed in c for c in commands), needed
    files = {word for c in commands for word in shlex.split(c.replace(";", " ").strip("()"))
             if re.match(r"^(deploy/|Dockerfile|compose\.yaml|schedules\.yaml)", word)}
    assert files >= {"deploy/regwatch.service", "deploy/regwatch-once.service", "deploy/regwatch.timer",
                     "deploy/regwatch.env.example", "deploy/compose.env.example", "schedules.yaml"}
    assert [f for f in files if not (ROOT / f).exists()] == []


def test_readme_regwatch_commands_parse(capsys) -> None:
    """Each ``regwatch …`` in the Deployment blocks names real options and commands (checked with --help)."""
    runs = []
    for command in deployment_commands():
        words = shlex.split(command.replace(";", " ").strip("()"))
        for i, word in enumerate(words):
            # the program (first word, or after `runuser … --`), or the compose service a `run` starts
            if word == "regwatch" and (i == 0 or words[i - 1] == "--" or words[:3] == ["docker", "compose", "run"]):
                runs.append(words[i + 1:])
    assert len(runs) >= 3
    for args in runs:
        assert main([*args, "--help"]) == 0, args
    capsys.readouterr()


def test_the_files_header_commands_are_the_readmes() -> None:
    """The commands quoted at the top of each deployment file are the ones README shows."""
    readme = "\n".join(deployment_commands()) + README
    for path in (ROOT / "Dockerfile", ROOT / "compose.yaml", DEPLOY / "regwatch.service"):
        quoted = [line.lstrip("# ").strip() for line in path.read_text(encoding="utf-8").splitlines()
                  if line.startswith("#   ")]
        assert quoted, path.name
        for command in quoted:
            for part in command.split("  #")[0].split(" && "):
                assert part.strip() in readme, f"{path.name}: {part.strip()!r} is not in README 'Deployment'"
