"""``regwatch doctor`` through ``pipeline.cli.main``: a fake Slack Web API and HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

import pipeline.migrations
from pipeline.cli import main
from pipeline.leader import leader_lock
from store import Migration, Store

TOKEN = "xoxb-000-fake-SECRET-token-for-doctor"
T0 = datetime(2025, 11, 10, 3, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("REGWATCH_DB", "REGWATCH_CONFIG", "REGWATCH_DEBUG", "FORCE_COLOR", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, tuple[str, str]], str]:
    """Run ``regwatch ARGS doctor --json`` → (exit code, {check: (verdict, detail)}, raw stdout)."""
    capsys.readouterr()
    code = main([*map(str, args), "doctor", "--json"]) if "doctor" not in args else main(list(map(str, args)))
    out, _err = capsys.readouterr()
    rows = json.loads(out)
    assert all(set(r) == {"check", "verdict", "detail"} for r in rows)
    return code, {r["check"]: (r["verdict"], r["detail"]) for r in rows}, out


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "regwatch.db"
    Store.open(path).close()
    return path


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def slack_config(tmp_path: Path, base_url: str, channel: str = "'#export-controls'") -> Path:
    return write_config(tmp_path, f"""
sinks:
  legal: {{kind: slack, token: {{$env: SLACK_BOT_TOKEN}}, channel: {channel}, base_url: "{base_url}", timeout: 5}}
default_route: [legal]
""")


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)


# -- Slack -------------------------------------------------------------------------------------


def test_a_healthy_slack_sink_passes_every_check(capsys, tmp_path, db, fake_slack, slack_env) -> None:
    config = slack_config(tmp_path, fake_slack.base_url)
    code, checks, out = doctor(capsys, "--db", db, "--config", config)
    assert code == 0, out
    assert checks["slack legal: auth"] == ("ok", "token accepted (auth.test): bot regwatch in workspace Example")
    assert checks["slack legal: channel"] == ("ok", "#export-controls → C0REGWATCH (looked up with conversations.list)")
    assert checks["slack legal: scopes"] == ("ok", "chat:write, channels:history granted")
    assert checks["slack legal: membership"] == ("ok", "the bot is a member of #export-controls")
    assert TOKEN not in out
    assert fake_slack.calls("chat.postMessage") == 0  # doctor never posts


def test_a_missing_scope_fails_naming_the_scope(capsys, tmp_path, db, fake_slack, slack_env) -> None:
    fake_slack.scopes = ["chat:write", "channels:read"]
    code, checks, _ = doctor(capsys, "--db", db, "--config", slack_config(tmp_path, fake_slack.base_url))
    assert code == 1
    verdict, detail = checks["slack legal: scopes"]
    assert verdict == "FAIL"
    assert detail.startswith("missing channels:history (needed to check for a post before a resend): add it under "
                             "OAuth & Permissions")


def test_a_private_channel_needs_groups_history(capsys, tmp_path, db, fake_slack, slack_env) -> None:
    fake_slack.private = True
    code, checks, _ = doctor(capsys, "--db", db, "--config", slack_config(tmp_path, fake_slack.base_url,
                                                                             channel="C0REGWATCH"))
    assert code == 1
    assert checks["slack legal: channel"] == ("ok", "C0REGWATCH → C0REGWATCH (configured by ID)")
    assert checks["slack legal: scopes"][0] == "FAIL"
    assert checks["slack legal: scopes"][1].startswith("missing groups:history")
    assert fake_slack.calls("conversations.list") == 0


def test_a_bot_not_in_the_channel_fails_with_invite_the_bot(capsys, tmp_path, db, fake_slack, slack_env) -> None:
    fake_slack.member = False
    code, checks, _ = doctor(capsys, "--db", db, "--config", slack_config(tmp_path, fake_slack.base_url))
    assert code == 1
    assert checks["slack legal: membership"] == (
        "FAIL", "the bot is not a member of #export-controls: invite the bot (/invite @regwatch in the channel)")


def test_a_remembered_channel_id_needs_no_lookup(capsys, tmp_path, db, fake_slack, slack_env) -> None:
    with Store.open(db) as store:
        store.remember_sink("legal", at=T0, state={"channel": "#export-controls", "channel_id": "C0REGWATCH"})
    code, checks, _ = doctor(capsys, "--db", db, "--config", slack_config(tmp_path, fake_slack.base_url))
    assert code == 0
    assert checks["slack legal: channel"] == (
        "ok", "#export-controls → C0REGWATCH (remembered from an earlier post or lookup)")
    assert fake_slack.calls("conversations.list") == 0


def test_a_rejected_token_fails_without_printing_it(capsys, tmp_path, db, fake_slack, slack_env) -> None:
    fake_slack.scripts["auth.test"] = [(200, {}, {"ok": False, "error": "invalid_auth"})]
    code, checks, out = doctor(capsys, "--db", db, "--config", slack_config(tmp_path, fake_slack.base_url))
    assert code == 1
    assert checks["slack legal: auth"] == (
        "FAIL", "auth.test failed: HTTP 200 invalid_auth (check the bot token (SLACK_BOT_TOKEN))")
    assert "slack legal: scopes" not in checks  # nothing else can work without a token
    assert TOKEN not in out


def test_an_unset_token_disables_the_sink_with_a_warning(capsys, tmp_path, db, fake_slack) -> None:
    code, checks, _ = doctor(capsys, "--db", db, "--config", slack_config(tmp_path, fake_slack.base_url))
    assert code == 0
    assert checks["sink legal"] == (
        "warn", "disabled: slack: no token (set SLACK_BOT_TOKEN); its alerts wait (held) until it is enabled")


def test_human_output_is_one_line_per_check(capsys, tmp_path, db, fake_slack, slack_env) -> None:
    fake_slack.member = False
    capsys.readouterr()
    code = main(["--db", str(db), "--config", str(slack_config(tmp_path, fake_slack.base_url)), "doctor"])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["ok", "config"]
    assert [line.split()[0] for line in lines if "slack legal" in line] == ["ok", "ok", "ok", "FAIL"]
    assert any(line.startswith("FAIL  slack legal: membership") and "invite the bot" in line for line in lines)


# -- sources -----------------------------------------------------------------------------------


@pytest.fixture
def site() -> Iterator[str]:
    """A site on 127.0.0.1 that answers HEAD with 200."""

    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sources_config(tmp_path: Path, up: str, down: str) -> Path:
    return write_config(tmp_path, f"""
sources:
  mofcom: {{cron: "0 */2 * * *", base_url: "{up}"}}
  miit: {{cron: "15 */3 * * *", base_url: "{down}"}}
  meti: {{cron: "45 */3 * * *", timezone: Asia/Tokyo, enabled: false}}
""")


def test_sources_reachable_and_unreachable(capsys, tmp_path, db, site) -> None:
    down = f"http://127.0.0.1:{closed_port()}"
    code, checks, _ = doctor(capsys, "--db", db, "--config", sources_config(tmp_path, site, down))
    assert code == 1
    assert checks["source mofcom"] == ("ok", f"{site} reachable: HTTP 200")
    verdict, detail = checks["source miit"]
    assert verdict == "FAIL" and detail.startswith(f"{down} unreachable: [Errno 111] Connection refused")
    assert "source meti" not in checks  # disabled sources are not checked


def test_offline_skips_the_source_checks(capsys, tmp_path, db, site) -> None:
    down = f"http://127.0.0.1:{closed_port()}"
    code, checks, _ = doctor(capsys, "--db", db, "--config", sources_config(tmp_path, site, down),
                             "doctor", "--offline", "--json")
    assert code == 0
    assert checks["source mofcom"] == ("ok", f"skipped (--offline): {site}")
    assert checks["source miit"] == ("ok", f"skipped (--offline): {down}")


# -- configuration and JSONL -------------------------------------------------------------------


def test_a_config_that_does_not_load_fails_with_its_error(capsys, tmp_path, db) -> None:
    config = write_config(tmp_path, "sources:\n  mofcom: {cron: '0 */2 * * *', timezone: Mars/Olympus}\n")
    code, checks, _ = doctor(capsys, "--db", db, "--config", config)
    assert code == 1
    verdict, detail = checks["config"]
    assert verdict == "FAIL" and detail.startswith(f"{config}:") and "Mars/Olympus" in detail
    assert checks["database schema"][0] == "ok"  # the database is still checked


def test_no_config_file_is_a_warning(capsys, db) -> None:
    code, checks, _ = doctor(capsys, "--db", db)
    assert code == 0
    assert checks["config"][0] == "warn" and "built-in defaults" in checks["config"][1]


def test_jsonl_paths(capsys, tmp_path, db) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    existing = tmp_path / "alerts.jsonl"
    existing.write_bytes(b'{"id": 1}\n')
    config = write_config(tmp_path, f"""
sinks:
  archive: {{kind: jsonl, path: "{existing}"}}
  fresh: {{kind: jsonl, path: "{tmp_path / 'new' / 'dir' / 'alerts.jsonl'}"}}
  broken: {{kind: jsonl, path: "{tmp_path / 'a-file' / 'alerts.jsonl'}"}}
  relative: {{kind: jsonl, path: alerts.jsonl}}
""")
    code, checks, _ = doctor(capsys, "--db", db, "--config", config)
    assert code == 1
    assert checks["jsonl archive: path"] == ("ok", f"{existing} is appendable (10 bytes)")
    assert existing.read_bytes() == b'{"id": 1}\n'  # nothing written
    assert checks["jsonl fresh: path"] == (
        "ok", f"{tmp_path / 'new' / 'dir' / 'alerts.jsonl'} will be created on the first alert "
              f"(with the directory {tmp_path / 'new' / 'dir'})")
    assert not (tmp_path / "new").exists()
    assert checks["jsonl broken: path"] == (
        "FAIL", f"cannot create {tmp_path / 'a-file' / 'alerts.jsonl'}: {tmp_path / 'a-file'} is not a directory")
    assert checks["jsonl relative: path"][0] == "warn" and "give an absolute path" in checks["jsonl relative: path"][1]


# -- database ----------------------------------------------------------------------------------


def test_an_out_of_date_database_fails_naming_db_upgrade(capsys, tmp_path, db, monkeypatch) -> None:
    newer = pipeline.migrations.MIGRATIONS.plus(
        Migration("9001_document_note", lambda conn: conn.execute(sa.text("ALTER TABLE document ADD COLUMN note TEXT")),
                  additive=False))
    monkeypatch.setattr(pipeline.migrations, "MIGRATIONS", newer)
    code, checks, _ = doctor(capsys, "--db", db)
    assert code == 1
    head = newer.version
    assert checks["database schema"] == (
        "FAIL", f"schema {head - 1} of {head}, pending migrations 9001_document_note: back it up, then run "
                "`regwatch db upgrade`")
    assert "daemon lock" not in checks  # nothing reads an out-of-date schema
    with Store.open(db) as store, store.engine.connect() as conn:
        assert "9001_document_note" not in [n for (n,) in conn.execute(sa.text("SELECT name FROM _migrations"))]


def test_a_missing_database_file_fails_and_is_not_created(capsys, tmp_path) -> None:
    code, checks, _ = doctor(capsys, "--db", tmp_path / "none.db")
    assert code == 1
    assert checks["database"] == ("FAIL", f"{tmp_path / 'none.db'} does not exist yet: run `regwatch db upgrade` "
                                          "(or check --db / REGWATCH_DB)")
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def test_database_checks_on_each_backend(capsys, tmp_path, backend, pg_url_factory) -> None:
    pg_url = pg_url_factory() if backend == "pg" else None
    url = str(tmp_path / "regwatch.db") if pg_url is None else pg_url.render_as_string(hide_password=False)
    Store.open(url).close()
    code, checks, _ = doctor(capsys, "--db", url)
    assert code == 0
    assert checks["database schema"] == ("ok", f"schema version {pipeline.migrations.MIGRATIONS.version} (up to date)")
    assert checks["database write"] == ("ok", "a test write (rolled back) succeeded")
    size_verdict, size = checks["database size"]
    assert size_verdict == "ok"
    # the database REGWATCH_TEST_PG_URL names (CI: "test"), not a fixed name
    assert (f"PostgreSQL database {pg_url.database}" in size) if pg_url is not None else ("with its WAL" in size)
    with Store.open(url) as store, store.engine.connect() as conn:
        names = [n for (n,) in conn.execute(sa.text("SELECT name FROM _migrations"))]
    assert "doctor-write-check" not in names  # rolled back


def test_lock_and_outbox_backlog(capsys, db) -> None:
    with Store.open(db) as store:
        store.ensure_source("mofcom", "商务部", at=T0)
        store.enqueue_alert(dedup_key="d1", kind="new", severity="info", source="mofcom", doc_key=None,
                            payload={"t": 1}, created_at=T0, sinks=["legal"])
        store.block_sink("legal", "slack legal: chat.postMessage failed: HTTP 200 not_in_channel", at=T0,
                         probe_at=T0 + timedelta(minutes=30))
        with leader_lock(store) as lock:
            code, checks, _ = doctor(capsys, "--db", db)
            holder = lock.holder
    assert code == 0
    assert checks["daemon lock"] == ("ok", f"held by {holder}")
    assert checks["outbox legal"] == ("warn", "blocked since 2025-11-10 03:00 UTC: slack legal: chat.postMessage "
                                              "failed: HTTP 200 not_in_channel; 1 alert(s) wait and go out by "
                                              "themselves once it is fixed")
    code, checks, _ = doctor(capsys, "--db", db)
    assert checks["daemon lock"] == ("ok", "free (no daemon runs on this database)")


def test_slack_unreachable_and_unknown_channel(capsys, tmp_path, db, fake_slack, slack_env) -> None:
    config = write_config(tmp_path, f"""
sinks:
  down: {{kind: slack, token: {{$env: SLACK_BOT_TOKEN}}, channel: C0DOWN0, base_url: "http://127.0.0.1:{closed_port()}/api/"}}
  gone: {{kind: slack, token: {{$env: SLACK_BOT_TOKEN}}, channel: C0GONE0, base_url: "{fake_slack.base_url}"}}
""")
    code, checks, out = doctor(capsys, "--db", db, "--config", config)
    assert code == 1
    verdict, detail = checks["slack down: auth"]
    assert verdict == "FAIL" and detail.startswith("cannot reach http://127.0.0.1:") and "ConnectionRefusedError" in detail
    assert checks["slack gone: channel"] == (
        "FAIL", "C0GONE0 (C0GONE0): conversations.info: HTTP 200 channel_not_found (check the channel name or use its ID)")
    assert TOKEN not in out


def test_a_misspelt_sink_option_fails_the_config_check_with_its_line(capsys, tmp_path, db, slack_env) -> None:
    config = write_config(tmp_path, """
sinks:
  typo: {kind: slack, token: {$env: SLACK_BOT_TOKEN}, chanel: "#export-controls"}
""")
    code, checks, out = doctor(capsys, "--db", db, "--config", config)
    assert code == 1
    verdict, detail = checks["config"]
    assert verdict == "FAIL" and "chanel" in detail and f"{config}:3:" in detail
    assert TOKEN not in out


def test_an_unreachable_postgres_fails_and_skips_what_reads_it(capsys) -> None:
    code, checks, _ = doctor(capsys, "--db", f"postgresql+psycopg://regwatch:secret-pw@127.0.0.1:{closed_port()}/regwatch")
    assert code == 1
    verdict, detail = checks["database"]
    assert verdict == "FAIL" and "secret-pw" not in detail
    assert detail.startswith("cannot connect to database postgresql+psycopg://regwatch:***@127.0.0.1:")
    assert detail.endswith("check that the server is running and the --db URL is right")
    assert "daemon lock" not in checks and "database write" not in checks


def test_no_scopes_header_is_a_warning_naming_the_scopes(capsys, tmp_path, db, fake_slack, slack_env) -> None:
    fake_slack.scopes = None
    code, checks, _ = doctor(capsys, "--db", db, "--config", slack_config(tmp_path, fake_slack.base_url))
    assert code == 0
    assert checks["slack legal: scopes"] == (
        "warn", "Slack did not report the granted scopes (no x-oauth-scopes header); make sure the app has "
                "chat:write and channels:history")


def test_doctor_module_examples() -> None:
    import doctest

    import pipeline.doctor

    result = doctest.testmod(pipeline.doctor)
    assert (result.failed, result.attempted >= 5) == (0, True)
