"""`regwatch config check` and the one validation behind every config read: exact FILE:LINE lines.

Each test writes a real YAML file into tmp_path and asserts the lines a user sees.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawlers.runner import CrawlProcessError
from pipeline.cli import main
from pipeline.cli.app import app, command_reads_config
from pipeline.config import ConfigError, check_config, load_config
from pipeline.daemon import Daemon
from store import Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run in tmp_path (no ./schedules.yaml), with no token and no config in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "REGWATCH_CONFIG", "REGWATCH_DB", "OPS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "400")


def write(tmp_path: Path, text: str, name: str = "schedules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, list[str], list[str]]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


BROKEN = """\
defaults:
  jiter_seconds: 10
sources:
  mofcomm: {cron: "0 */2 * * *"}
  miit: {cron: "99 */3 * * *", timezone: Asia/Shangai}
  meti: {cron: "0 9 * * 8", timezone: Asia/Tokyo}
sinks:
  legal: {kind: slack, token: {$env: SLACK_BOT_TOKEN}, chanel: "#export-controls"}
  ops: {kind: slack, token: "${OPS_TOKEN}", channel: "#ops"}
  pager: {kind: slack, token: $OPS_TOKEN, channel: "#pager"}
  archive: {kind: jsonl}
  archive: {kind: jsonl, path: a.jsonl, fsync: maybe}
  sms: {kind: sms}
routes:
  - {when: {kind: [new]}, to: [legal, lgeal]}
  - {when: {sevrity: critical}, to: [ops]}
default_route: [consol]
"""


def test_every_problem_at_once_each_with_its_line(capsys, tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN)
    code, out, err = cli(capsys, "config", "check", path)
    assert (code, err) == (1, [])
    assert out == [
        f"{path}:2: defaults.jiter_seconds: unknown key (did you mean 'jitter_seconds'?)",
        f"{path}:4: sources.mofcomm: unknown source 'mofcomm' (did you mean 'mofcom'?)",
        f"{path}:5: sources.miit.cron: cron '99 */3 * * *': Error validating expression '99': the last value (99) "
        "is higher than the maximum value (59) (minute hour day month day-of-week, e.g. '0 */2 * * *')",
        f"{path}:5: sources.miit.timezone: unknown time zone 'Asia/Shangai' (use an IANA name like Asia/Shanghai "
        "or Asia/Tokyo)",
        f"{path}:6: sources.meti.cron: cron '0 9 * * 8': Error validating expression '8': the last value (8) is "
        "higher than the maximum value (6) (minute hour day month day-of-week, e.g. '0 */2 * * *')",
        f"{path}:8: sinks.legal.chanel: unknown option (did you mean 'channel'?)",
        f"{path}:8: WARNING: sinks.legal.token: environment variable SLACK_BOT_TOKEN is not set (sink 'legal') "
        "(set it where regwatch runs, e.g. in the systemd EnvironmentFile)",
        f"{path}:9: sinks.ops.token: '${{OPS_TOKEN}}' is taken literally, not read from the environment "
        "(write {$env: OPS_TOKEN} instead)",
        f"{path}:10: sinks.pager.token: '$OPS_TOKEN' is taken literally, not read from the environment "
        "(write {$env: OPS_TOKEN} instead)",
        f"{path}:12: sinks.archive: duplicate key, also at line 11; YAML would silently keep only the last one "
        "(remove or rename one)",
        f"{path}:12: sinks.archive.fsync: must be true or false, got 'maybe'",
        f"{path}:13: sinks.sms.kind: unknown sink kind 'sms'; known kinds: console, jsonl, slack",
        f"{path}:15: routes[0].to[1]: unknown sink 'lgeal' (did you mean 'legal'?)",
        f"{path}:16: routes[1].when.sevrity: unknown condition (known: kind, severity, source, doc_key, issuer, tag, "
        "tag_kind)",
        f"{path}:17: default_route[0]: unknown sink 'consol' (did you mean 'console'?)",
        f"{path}: 14 errors",
    ]


def test_the_same_lines_from_every_command_that_reads_the_config(capsys, tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  mofcom: {cron: '99 * * * *'}\n  mofcom: {interval_minutes: 60}\n"
                           "sinks:\n  legal: {kind: slack, token: xoxb-1, chanel: '#legal'}\n")
    expected = [
        f"error: {path}:3: sources.mofcom: duplicate key, also at line 2; YAML would silently keep only the last one "
        "(remove or rename one)",
        f"error: {path}:5: sinks.legal.chanel: unknown option (did you mean 'channel'?)",
    ]
    for command in (["process"], ["deliver"], ["daemon", "--once"], ["daemon"], ["crawl", "mofcom"]):
        code, out, err = cli(capsys, "--db", tmp_path / "d.db", "--config", path, *command)
        assert (code, out, err) == (1, [], expected), command
    with pytest.raises(ConfigError) as exc:
        load_config(path, env={})
    assert [str(p) for p in exc.value.problems] == [line.removeprefix("error: ") for line in expected]


def test_a_valid_file_is_ok_with_counts_and_unset_variables_as_warnings(capsys, tmp_path: Path) -> None:
    path = write(tmp_path, (ROOT / "schedules.yaml").read_text(encoding="utf-8"))
    code, out, _ = cli(capsys, "config", "check", path)
    hint = "(set it where regwatch runs, e.g. in the systemd EnvironmentFile; the sink's alerts wait in the outbox)"
    assert (code, out) == (0, [
        f"{path}:27: WARNING: sinks.legal.token: environment variable SLACK_BOT_TOKEN is not set: sink 'legal' is "
        f"disabled until it is {hint}",
        f"{path}:28: WARNING: sinks.ops.token: environment variable SLACK_BOT_TOKEN is not set: sink 'ops' is "
        f"disabled until it is {hint}",
        f"{path}: ok (4 sources, 4 sinks, 2 routes)",
    ])
    os.environ["SLACK_BOT_TOKEN"] = "xoxb-test"  # removed again by the autouse fixture's monkeypatch
    try:
        assert cli(capsys, "config", "check", path) == (0, [f"{path}: ok (4 sources, 4 sinks, 2 routes)"], [])
    finally:
        del os.environ["SLACK_BOT_TOKEN"]


def test_unset_variable_still_checks_the_other_options(tmp_path: Path) -> None:
    path = write(tmp_path, "sinks:\n  legal:\n    kind: slack\n    token: {$env: SLACK_BOT_TOKEN}\n")
    report = check_config(path, env={})
    assert [str(p) for p in report.problems] == [
        f"{path}:2: sinks.legal.channel: missing (set channel: '#export-controls' (or a channel ID))",
        f"{path}:4: WARNING: sinks.legal.token: environment variable SLACK_BOT_TOKEN is not set: sink 'legal' is "
        "disabled until it is (set it where regwatch runs, e.g. in the systemd EnvironmentFile; the sink's alerts "
        "wait in the outbox)",
    ]
    assert report.config is None
    good = write(tmp_path, "sinks:\n  legal: {kind: slack, token: {$env: SLACK_BOT_TOKEN}, channel: '#l'}\n", "g.yaml")
    config = load_config(good, env={})  # a warning does not stop anything
    assert config.sinks["legal"]["token"] is None and set(config.sinks) == {"legal", "console"}
    assert load_config(good, env={"SLACK_BOT_TOKEN": "xoxb-1"}).sinks["legal"]["token"] == "xoxb-1"


def test_a_disabled_sink_is_still_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "sinks:\n  old: {kind: jsonl, enabled: false, pth: x.jsonl}\n")
    assert [str(p) for p in check_config(path, env={}).problems] == [
        f"{path}:2: sinks.old.pth: unknown option (did you mean 'path'?)"]


def test_duplicate_keys_are_rejected_anywhere(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults:\n  jitter_seconds: 5\n  jitter_seconds: 50\nsources: {}\nsources: {}\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path, env={})
    assert str(exc.value).splitlines() == [
        f"{path}:3: defaults.jitter_seconds: duplicate key, also at line 2; YAML would silently keep only the last "
        "one (remove or rename one)",
        f"{path}:5: sources: duplicate key, also at line 4; YAML would silently keep only the last one "
        "(remove or rename one)",
    ]
    merged = write(tmp_path, "base: &b {cron: '0 * * * *'}\n", "m.yaml")  # a merge key overriding is not a duplicate
    merged.write_text("sources:\n  mofcom: &b {cron: '0 * * * *', max_pages: 2}\n"
                      "  miit: {<<: *b, max_pages: 3}\n", encoding="utf-8")
    assert load_config(merged, env={}).sources["miit"].max_pages == 3


def test_schedule_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  mofcom: {cron: '0 * * * *', interval_minutes: 5}\n  miit: {enabled: false}\n"
                           "  meti: {cron: '0 9 * * 1-5 *'}\n  govcn: {interval_minutes: 0}\n")
    assert [str(p) for p in check_config(path, env={}).problems] == [
        f"{path}:2: sources.mofcom: give cron or interval_minutes, not both",
        f"{path}:3: sources.miit: give either cron or interval_minutes (e.g. cron: '0 */2 * * *')",
        f"{path}:4: sources.meti.cron: cron '0 9 * * 1-5 *' has 6 fields, not 5: minute hour day month day-of-week "
        "(e.g. '0 */2 * * *': minute 0 of every second hour)",
        f"{path}:5: sources.govcn.interval_minutes: Input should be greater than or equal to 1 "
        "(see README 'Configuration')",
    ]


def test_file_level_problems(capsys, tmp_path: Path) -> None:
    assert cli(capsys, "config", "check", tmp_path / "nope.yaml") == (
        1, [f"{tmp_path / 'nope.yaml'}: file not found (pass --config or create it from the README example)",
            f"{tmp_path / 'nope.yaml'}: 1 error"], [])
    bad = write(tmp_path, "sources:\n  mofcom: {cron: '0 * * * *'\nsinks: {}\n")
    code, out, _ = cli(capsys, "config", "check", bad)
    assert code == 1 and out[0] == f"{bad}:3: invalid YAML: expected ',' or '}}', but got '<scalar>' (fix the syntax)"
    path = write(tmp_path, "path: /tmp/x\nsinks: {a: 1}\n", "p.yaml")
    assert [str(p) for p in check_config(path, env={}).problems] == [
        f"{path}:1: path: unknown key (known keys: defaults, sources, sinks, routes, default_route, authority, web)",
        f"{path}:2: sinks.a: Input should be a valid dictionary (see README 'Configuration')",
    ]


def test_default_file_is_the_one_the_cli_reads(capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli(capsys, "config", "check") == (1, [], [
        "error: no configuration file to check: ./schedules.yaml does not exist "
        "(hint: pass FILE, or --config / REGWATCH_CONFIG)"])
    write(tmp_path, "sources:\n  mofcom: {cron: '0 * * * *'}\n")
    assert cli(capsys, "config", "check") == (0, ["schedules.yaml: ok (1 sources, 1 sinks, 0 routes)"], [])
    other = write(tmp_path, "routes:\n  - {to: [console]}\n", "other.yaml")
    assert cli(capsys, "--config", other, "config", "check") == (0, [f"{other}: ok (0 sources, 1 sinks, 1 routes)"], [])
    monkeypatch.setenv("REGWATCH_CONFIG", str(other))
    assert cli(capsys, "config", "check")[1] == [f"{other}: ok (0 sources, 1 sinks, 1 routes)"]


def test_json_output(capsys, tmp_path: Path) -> None:
    import json

    path = write(tmp_path, "sources:\n  mofcomm: {cron: '0 * * * *'}\n")
    code = main(["config", "check", str(path), "--json"])
    assert code == 1
    assert json.loads(capsys.readouterr().out) == {"file": str(path), "ok": False, "problems": [
        {"line": 2, "key": "sources.mofcomm", "severity": "error", "message": "unknown source 'mofcomm'",
         "hint": "did you mean 'mofcom'?"}]}


def test_config_on_a_command_that_does_not_read_it_is_an_error(capsys, tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path, "sources: {}\n")
    for command, name in ((["history"], "history"), (["alerts", "list"], "alerts"), (["db", "upgrade"], "db")):
        assert cli(capsys, "--db", tmp_path / "d.db", "--config", path, *command) == (
            1, [], [f"error: --config is not used by `regwatch {name}` (hint: drop it)"])
    monkeypatch.setenv("REGWATCH_CONFIG", str(path))  # the environment is for every command: no error
    code, out, err = cli(capsys, "--db", tmp_path / "d.db", "history")
    assert (code, err) == (0, [])


def _calls_config_of(func, module_funcs: dict, seen: set) -> bool:
    if func.__name__ in seen:
        return False
    seen.add(func.__name__)
    tree = ast.parse(inspect.getsource(func).strip() if not inspect.getsource(func).startswith(" ") else
                     "if 1:\n" + inspect.getsource(func))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("config_of", "config_path", "configured"):
                return True
            if node.func.id in module_funcs and _calls_config_of(module_funcs[node.func.id], module_funcs, seen):
                return True
    return False


def test_commands_marked_as_reading_the_config_are_exactly_those_that_do() -> None:
    from typer.main import get_command

    root = get_command(app)
    readers, marked = set(), set()

    def visit(prefix: str, command) -> None:
        subs = getattr(command, "commands", None)
        if isinstance(subs, dict):
            for name, sub in subs.items():
                visit(f"{prefix} {name}".strip(), sub)
            return
        func = inspect.unwrap(command.callback)
        module = sys.modules[func.__module__]
        funcs = {n: f for n, f in vars(module).items() if inspect.isfunction(f) and f.__module__ == module.__name__}
        if _calls_config_of(func, funcs, set()):
            readers.add(prefix)
        if command_reads_config(command):
            marked.add(prefix)

    visit("", root)
    assert readers == marked
    assert {"crawl", "process", "deliver", "daemon", "show", "status", "config check"} <= marked


def test_daemon_once_exits_1_when_a_crawl_failed(capsys, tmp_path: Path, monkeypatch) -> None:
    import crawlers.runner

    def broken(source, db_url, **_kwargs):
        raise CrawlProcessError(source, "timed out after 900 s", "Traceback …")

    monkeypatch.setattr(crawlers.runner, "run_crawl_subprocess", broken)
    path = write(tmp_path, "defaults: {jitter_seconds: 0}\nsources:\n  mofcom: {cron: '0 */2 * * *'}\n")
    code, out, err = cli(capsys, "--db", tmp_path / "d.db", "--config", path, "daemon", "--once")
    assert code == 1
    assert out == ["mofcom: crawl failed, 0 new versions, 0 reminders, 0 alerts delivered"]
    assert err[-1] == "crawl failed: mofcom (see `regwatch status`)"


def test_readme_example_is_the_real_output(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    yaml_text, = re.findall(r"For this `bad.yaml`:\n\n```yaml\n(.*?)```", readme, flags=re.S)
    output, = re.findall(r"```\n\$ regwatch config check bad.yaml\n(.*?)```", readme, flags=re.S)
    write(tmp_path, yaml_text, "bad.yaml")
    env = {k: v for k, v in os.environ.items() if k != "SLACK_BOT_TOKEN"} | {"COLUMNS": "400"}
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "config", "check", "bad.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=60)
    assert (done.returncode, done.stdout) == (1, output)


# -- the daemon: reload between jobs, SIGHUP --------------------------------------------------------

DAEMON_CONFIG = """\
defaults: {jitter_seconds: 0, misfire_grace_seconds: 900}
sources:
  mofcom: {cron: '0 */2 * * *'}
  miit: {cron: '15 */3 * * *'}
sinks:
  archive: {kind: jsonl, path: a.jsonl}
routes:
  - {when: {}, to: [archive]}
"""


def test_reload_keeps_the_old_configuration_when_the_new_one_is_invalid(tmp_path: Path, caplog) -> None:
    path = write(tmp_path, DAEMON_CONFIG)
    with Store.open(tmp_path / "d.db") as store:
        daemon = Daemon(load_config(path, env={}), store)
        sched = daemon.scheduler()
        before = {job.id: str(job.trigger) for job in sched.get_jobs()}
        old_config, old_sinks = daemon.config, daemon.sinks
        path.write_text(DAEMON_CONFIG.replace("'0 */2 * * *'", "'99 */2 * * *'").replace("path: a.jsonl", "pth: a"),
                        encoding="utf-8")
        with caplog.at_level("ERROR", logger="pipeline.daemon"):
            problems = daemon.reload(env={})
        assert problems == [
            f"{path}:3: sources.mofcom.cron: cron '99 */2 * * *': Error validating expression '99': the last value "
            "(99) is higher than the maximum value (59) (minute hour day month day-of-week, e.g. '0 */2 * * *')",
            f"{path}:6: sinks.archive.pth: unknown option (did you mean 'path'?)",
        ]
        assert daemon.config is old_config and daemon.sinks is old_sinks
        assert {job.id: str(job.trigger) for job in sched.get_jobs()} == before
        assert f"config reload: {path} has 2 error(s); keeping the old configuration" in caplog.text


def test_reload_rebuilds_jobs_sinks_and_routing(tmp_path: Path) -> None:
    path = write(tmp_path, DAEMON_CONFIG)
    with Store.open(tmp_path / "d.db") as store:
        daemon = Daemon(load_config(path, env={}), store)
        sched = daemon.scheduler()
        assert sorted(job.id for job in sched.get_jobs()) == ["cycle:miit", "cycle:mofcom", "deliver", "reminders"]
        new = tmp_path / "new.yaml"
        new.write_text("defaults: {jitter_seconds: 0, misfire_grace_seconds: 60}\n"
                       "sources:\n  mofcom: {interval_minutes: 30}\n  miit: {cron: '15 */3 * * *', enabled: false}\n"
                       "sinks:\n  log: {kind: jsonl, path: b.jsonl}\nroutes:\n  - {when: {kind: [new]}, to: [log]}\n"
                       "default_route: [log]\n", encoding="utf-8")
        assert daemon.reload(new, env={}) == []
        jobs = {job.id: job for job in sched.get_jobs()}
        assert sorted(jobs) == ["cycle:mofcom", "deliver", "reminders"]  # miit disabled: its job is gone
        assert str(jobs["cycle:mofcom"].trigger) == "interval[0:30:00]"
        assert jobs["cycle:mofcom"].misfire_grace_time == 60
        assert sorted(daemon.sinks) == ["console", "log"] and daemon.config.path == str(new)
        assert daemon.routing.default == ("log",)


def test_reload_without_a_file_says_so(tmp_path: Path) -> None:
    with Store.open(tmp_path / "d.db") as store:
        daemon = Daemon(load_config(None), store)
        assert daemon.reload() == [
            "no configuration file to reload: the daemon runs on the built-in defaults (start it with --config)"]


def _wait_for(path: Path, text: str, proc: subprocess.Popen, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = path.read_text(encoding="utf-8", errors="replace")
        if text in got:
            return got
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the daemon's stderr:\n{path.read_text(encoding='utf-8')}")


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="SIGHUP is POSIX")
def test_sighup_reloads_a_running_daemon(tmp_path: Path) -> None:
    """A real `regwatch daemon` (nothing crawlable scheduled): SIGHUP with a broken file keeps the old
    configuration, SIGHUP with a valid one switches to it, SIGTERM stops it."""
    path = write(tmp_path, "sources: {}\nsinks:\n  archive: {kind: jsonl, path: a.jsonl}\n")
    log = tmp_path / "stderr.txt"
    env = {k: v for k, v in os.environ.items() if k not in ("REGWATCH_CONFIG", "REGWATCH_NOW")}
    env |= {"REGWATCH_LOG": "INFO", "COLUMNS": "400"}
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--db", str(tmp_path / "d.db"), "--config",
                                 str(path), "daemon"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        _wait_for(log, "daemon started", proc)
        path.write_text("sources:\n  mofcom: {cron: '0 0 31 2 *', enabled: false}\n  mofcom: {}\n", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        text = _wait_for(log, "keeping the old configuration", proc)
        assert f"{path}:3: sources.mofcom: duplicate key, also at line 2" in text
        path.write_text("sources: {}\nsinks:\n  other: {kind: jsonl, path: b.jsonl}\ndefault_route: [other]\n",
                        encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        _wait_for(log, f"config reloaded from {path}: ", proc)
        assert proc.poll() is None  # still running
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_unset_variable_outside_sinks_and_env_form_mistakes(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  mofcom: {cron: '0 * * * *', base_url: {$env: REPLICA_URL}}\n"
                           "sinks:\n  legal: {kind: slack, token: {$env: SLACK_BOT_TOKEN, default: x}, channel: '#l'}\n"
                           "  ops: {kind: slack, token: {$env: 7}, channel: '#o'}\n")
    assert [str(p) for p in check_config(path, env={}).problems] == [
        f"{path}:2: WARNING: sources.mofcom.base_url: environment variable REPLICA_URL is not set (the value is empty) "
        "(set it where regwatch runs)",
        f"{path}:4: sinks.legal.token: {{$env: NAME}} must be the only key, with a variable name "
        "(e.g. token: {$env: SLACK_BOT_TOKEN})",
        f"{path}:4: WARNING: sinks.legal: sink 'legal' is disabled: slack: no token (set SLACK_BOT_TOKEN)",
        f"{path}:5: sinks.ops.token: {{$env: NAME}} must be the only key, with a variable name "
        "(e.g. token: {$env: SLACK_BOT_TOKEN})",
        f"{path}:5: WARNING: sinks.ops: sink 'ops' is disabled: slack: no token (set SLACK_BOT_TOKEN)",
    ]
    assert check_config(path, env={"REPLICA_URL": "http://127.0.0.1:8800"}).problems[0].line == 4
