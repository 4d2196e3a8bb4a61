"""``regwatch alerts list|show|retry|ack`` and the alert backlog of ``regwatch status``, through the CLI.

The outbox is filled by the real stages: alerts enqueued with planned deliveries to ``legal`` and
``archive``, then ``deliver_pending`` with recording fake sinks (one failing, blocked or rejecting
on demand), so states, attempts and the audit trail are the ones ``deliver`` really writes.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from alerts.base import Alert, DeliveryResult
from pipeline.cli import main
from pipeline.deliver import deliver_pending
from store import Store

HOSTILE = "公告 <!channel> \x1b[31mred\x1b[0m \u202eevil [bold]x[/bold] :warning:"
SHOWN = "公告 <!channel> \ufffd[31mred\ufffd[0m \ufffdevil [bold]x[/bold] :warning:"  # what a terminal gets
K1, K2, K3 = "mofcom+gacc:2025:58", "mofcom:2025:72", "mofcom+gacc:2025:70"


@pytest.fixture(autouse=True)
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run in tmp_path with wide plain output and the clock pinned to T0 + 1 h."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("REGWATCH_NOW", "2025-11-10T04:00:00+00:00")
    for name in ("REGWATCH_DB", "REGWATCH_CONFIG", "REGWATCH_DEBUG", "FORCE_COLOR", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys, *args: object):
    code, out, err = cli(capsys, *args, "--json")
    assert (code, err) == (0, ""), err
    return json.loads(out)


class Scripted:
    """A sink answering the alert ids in ``script`` with the given result; the rest go to a FakeSink."""

    kind = "fake"

    def __init__(self, inner, script: dict[int, DeliveryResult] | None = None) -> None:
        self.name, self.inner, self.script = inner.name, inner, dict(script or {})

    def send(self, alert: Alert) -> DeliveryResult:
        if alert.id in self.script:
            return self.script.pop(alert.id)
        return self.inner.send(alert)


def enqueue(store: Store, at, *specs: tuple[str, str, str, str]) -> list[int]:
    """Queue ``(kind, severity, doc_key, title)`` alerts planned for legal and archive."""
    ids = []
    for i, (kind, severity, doc_key, title) in enumerate(specs):
        alert = Alert(0, kind, severity, "mofcom", doc_key, title, f"summary {i + 1}",
                      f"https://www.mofcom.gov.cn/art/{i + 1}.html", at)
        alert_id, created = store.enqueue_alert(dedup_key=f"test:{i}", kind=kind, severity=severity, source="mofcom",
                                                doc_key=doc_key, payload=alert.to_payload(), created_at=at,
                                                sinks=["legal", "archive"])
        assert created
        ids.append(alert_id)
    return ids


@pytest.fixture(scope="module")
def outbox_db(tmp_path_factory: pytest.TempPathFactory, page_tools) -> Path:
    """Alerts 1-3 for legal+archive; legal answers invalid_auth (blocked: all its deliveries wait, and
    ops alert 4 is queued for the console), archive rejects alert 2 (dead) and takes 1 and 3; a second
    pass without the console sink holds alert 4."""
    path = tmp_path_factory.mktemp("alerts") / "outbox.db"
    t0 = page_tools.T0
    with Store.open(path) as store:
        page_tools.register_sources(store)
        a1, a2, a3 = enqueue(store, t0, ("changed", "warning", K1, HOSTILE), ("new", "info", K2, "商务部公告2025年第72号"),
                             ("status", "critical", K3, "暂停实施"))
        legal = Scripted(page_tools.FakeSink("legal"), {a1: DeliveryResult.failure(
            "slack: invalid_auth (check SLACK_BOT_TOKEN)", retryable=False, blocked=True)})
        archive = Scripted(page_tools.FakeSink("archive"), {a2: DeliveryResult.failure(
            "archive: rejected (invalid blocks)", retryable=False)})
        report = deliver_pending(store, {"legal": legal, "archive": archive}, now=t0, owner="host-a:1")
        # a rejected alert is that alert's dead end only: archive goes on with alert 3 in the same pass
        assert (report.blocked, report.dead, report.delivered) == (1, 1, 2)
        report = deliver_pending(store, {"archive": archive}, now=t0 + timedelta(minutes=1), owner="host-a:2")
        assert (report.held_sinks, report.sent) == ({"console": 1}, [])
    return path


@pytest.fixture
def db(outbox_db: Path, tmp_path: Path) -> Path:
    """A private copy of the outbox database (for commands that write)."""
    target = tmp_path / "regwatch.db"
    shutil.copy(outbox_db, target)
    return target


# -- list ----------------------------------------------------------------------------------------


def test_list_one_line_per_alert_newest_first_with_per_sink_states(capsys, outbox_db) -> None:
    code, out, err = cli(capsys, "--db", outbox_db, "alerts", "list")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "4  2025-11-10 03:00  sink_health  critical  regwatch             held     console:held                     "
        "-  alerts to legal are blocked",
        "3  2025-11-10 03:00  status       critical  mofcom+gacc:2025:70  blocked  legal:blocked archive:delivered  "
        "-  暂停实施",
        "2  2025-11-10 03:00  new          info      mofcom:2025:72       dead     legal:blocked archive:dead       "
        "-  商务部公告2025年第72号",
        f"1  2025-11-10 03:00  changed      warning   {K1}  blocked  legal:blocked archive:delivered  -  {SHOWN}",
    ]


def test_list_filters_and_json(capsys, db) -> None:
    def ids(*args: str) -> list[int]:
        return [row["id"] for row in cli_json(capsys, "--db", db, "alerts", "list", *args)]

    assert ids() == [4, 3, 2, 1]
    assert ids("--state", "blocked") == [3, 2, 1]  # alert 2 is dead overall; its legal delivery is blocked
    assert ids("--state", "dead") == [2]
    assert ids("--state", "held") == [4]
    assert ids("--state", "delivered", "--sink", "archive") == [3, 1]
    assert ids("--sink", "legal") == [3, 2, 1]
    assert ids("--sink", "nowhere") == []
    assert ids("--kind", "status") == [3]
    assert ids("--doc", K1) == [1]
    assert ids("--limit", "2") == [4, 3]
    assert cli(capsys, "--db", db, "alerts", "ack", "3", "--by", "alice")[0] == 0
    assert ids("--unacked") == [4, 2, 1]
    assert ids("--unacked", "--state", "blocked", "--sink", "legal") == [2, 1]
    rows = cli_json(capsys, "--db", db, "alerts", "list", "--doc", K1)
    assert rows == [{"id": 1, "created_at": "2025-11-10T03:00:00+00:00", "kind": "changed", "severity": "warning",
                     "source": "mofcom", "doc_key": K1, "title": HOSTILE, "status": "blocked",
                     "deliveries": {"legal": "blocked", "archive": "delivered"}, "acked_at": None, "acked_by": None}]
    assert cli_json(capsys, "--db", db, "alerts", "list", "--kind", "status")[0]["acked_by"] == "alice"
    code, out, _ = cli(capsys, "--db", db, "alerts", "list", "--kind", "deadline")
    assert (code, out) == (0, "no alerts for these filters\n")


def test_list_rejects_unknown_state_and_kind(capsys, outbox_db) -> None:
    code, out, err = cli(capsys, "--db", outbox_db, "alerts", "list", "--state", "failed")
    assert (code, out) == (1, "")
    assert err == ("error: --state 'failed' is not known (hint: use one of pending, sending, delivered, held, "
                   "blocked, dead)\n")
    code, _, err = cli(capsys, "--db", outbox_db, "alerts", "list", "--kind", "chnged")
    assert code == 1 and err.startswith("error: --kind 'chnged' is not known (hint: use one of new, changed, ")


def test_list_on_an_empty_database(capsys, tmp_path) -> None:
    code, out, err = cli(capsys, "--db", tmp_path / "empty.db", "alerts", "list")
    assert (code, out, err) == (0, "no alerts queued yet\n", "")


# -- show ----------------------------------------------------------------------------------------


def test_show_audit_trail_after_a_failing_then_working_sink(capsys, tmp_path, page_tools) -> None:
    path, t0 = tmp_path / "audit.db", page_tools.T0
    with Store.open(path) as store:
        page_tools.register_sources(store)
        [a1] = enqueue(store, t0, ("changed", "warning", K1, HOSTILE))
        legal, archive = page_tools.FakeSink("legal"), page_tools.FakeSink("archive")
        legal.fail(1)
        deliver_pending(store, {"legal": legal, "archive": archive}, now=t0, owner="host-a:1")
        deliver_pending(store, {"legal": legal, "archive": archive}, now=t0 + timedelta(minutes=10), owner="host-b:7")
        assert legal.sent_ids == archive.sent_ids == [a1]

    data = cli_json(capsys, "--db", path, "alerts", "show", a1)
    assert [(r["at"], r["sink"], r["outcome"], r["ok"], r["owner"], r["detail"], r["external_id"], r["finished_at"])
            for r in data["audit"]] == [
        ("2025-11-10T03:00:00+00:00", "legal", "retry", False, "host-a:1", "legal: HTTP 503 (fake outage)", None,
         "2025-11-10T03:00:00+00:00"),
        ("2025-11-10T03:00:00+00:00", "archive", "sent", True, "host-a:1", f"sent alert {a1}", "archive-1",
         "2025-11-10T03:00:00+00:00"),
        ("2025-11-10T03:10:00+00:00", "legal", "sent", True, "host-b:7", f"sent alert {a1}", "legal-1",
         "2025-11-10T03:10:00+00:00"),
    ]
    assert [(d["sink"], d["state"], d["attempts"], d["external_id"], d["delivered_at"], d["lease_owner"])
            for d in data["deliveries"]] == [
        ("legal", "delivered", 2, "legal-1", "2025-11-10T03:10:00+00:00", None),
        ("archive", "delivered", 1, "archive-1", "2025-11-10T03:00:00+00:00", None),
    ]
    assert list(data) == ["id", "dedup_key", "kind", "severity", "source", "doc_key", "status", "planned",
                          "failed_attempts", "last_error", "created_at", "updated_at", "title", "summary", "url",
                          "payload", "ack", "deliveries", "audit"]
    assert (data["id"], data["status"], data["failed_attempts"], data["title"], data["ack"]) == (
        a1, "delivered", 1, HOSTILE, None)
    assert list(data["deliveries"][0]) == ["sink", "state", "attempts", "next_attempt_at", "last_error",
                                           "external_id", "lease_owner", "lease_expires_at", "reconcile",
                                           "created_at", "requeued_at", "delivered_at"]

    code, out, err = cli(capsys, "--db", path, "alerts", "show", a1)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"alert {a1}  changed [warning]  mofcom  {K1}  status: delivered",
        f"title: {SHOWN}",
        "summary: summary 1",
        "url: https://www.mofcom.gov.cn/art/1.html",
        "created: 2025-11-10 03:00 UTC  updated: 2025-11-10 03:10 UTC  failed attempts: 1  dedup key: test:0",
        f"not acknowledged (regwatch alerts ack {a1})",
        "deliveries:",
        "  legal    delivered  attempts 2  delivered 2025-11-10 03:10  id legal-1",
        "  archive  delivered  attempts 1  delivered 2025-11-10 03:00  id archive-1",
        "attempts:",
        "  2025-11-10 03:00  legal    retry       owner host-a:1  legal: HTTP 503 (fake outage)",
        f"  2025-11-10 03:00  archive  sent        owner host-a:1  id archive-1  sent alert {a1}",
        f"  2025-11-10 03:10  legal    sent        owner host-b:7  id legal-1  sent alert {a1}",
    ]


def test_show_blocked_dead_and_a_delivery_being_sent(capsys, db, page_tools) -> None:
    code, out, _ = cli(capsys, "--db", db, "alerts", "show", "2")
    assert code == 0
    assert out.splitlines()[6:] == [
        "deliveries:",
        "  legal    blocked    attempts 0  next attempt 2025-11-10 03:30  last error: slack: invalid_auth (check "
        "SLACK_BOT_TOKEN)",
        "  archive  dead       attempts 1  last error: archive: rejected (invalid blocks)",
        "attempts:",
        "  2025-11-10 03:00  archive  rejected    owner host-a:1  archive: rejected (invalid blocks)",
    ]
    with Store.open(db) as store:  # another process claims alert 3's archive delivery... and is still sending
        store.requeue(3, at=page_tools.T0, sinks=["legal"])
        claim = store.claim_delivery(["legal"], owner="host-c:9", now=page_tools.T0 + timedelta(minutes=2),
                                     lease_seconds=120)
        assert claim is not None and claim.alert_id == 3
    code, out, _ = cli(capsys, "--db", db, "alerts", "show", "3")
    assert "  legal    sending    attempts 1  lease host-c:9 until 2025-11-10 03:04  last error: slack: invalid_auth " \
           "(check SLACK_BOT_TOKEN)" in out.splitlines()
    assert out.splitlines()[-1] == "  2025-11-10 03:02  legal    started     owner host-c:9"
    data = cli_json(capsys, "--db", db, "alerts", "show", "3")
    assert (data["deliveries"][0]["lease_owner"], data["deliveries"][0]["lease_expires_at"]) == (
        "host-c:9", "2025-11-10T03:04:00+00:00")
    assert data["audit"][-1] | {"at": None} == {"at": None, "sink": "legal", "outcome": "started", "ok": False,
                                               "owner": "host-c:9", "detail": "", "external_id": None,
                                               "finished_at": None}


def test_show_unknown_id_exits_1_with_a_hint(capsys, outbox_db) -> None:
    code, out, err = cli(capsys, "--db", outbox_db, "alerts", "show", "99")
    assert (code, out, err) == (1, "", "error: no alert 99; try `regwatch alerts list` to list alert ids\n")


# -- retry ---------------------------------------------------------------------------------------


def test_retry_ids_requeues_dead_and_blocked_and_deliver_then_sends_them(capsys, db, page_tools, monkeypatch) -> None:
    monkeypatch.setenv("REGWATCH_NOW", "2025-11-10T03:10:00+00:00")  # before legal's next probe (03:30)
    now = page_tools.T0 + timedelta(minutes=10)
    code, out, err = cli(capsys, "--db", db, "alerts", "retry", "2")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "requeued alert 2 → legal (was blocked)",
        "requeued alert 2 → archive (was dead)",
        "2 deliveries requeued; run `regwatch deliver` (or wait for the daemon) to send them",
    ]
    with Store.open(db) as store:
        assert [(d.sink, d.state, d.requeued_at, d.next_attempt_at) for d in store.alert_deliveries(2)] == [
            ("archive", "pending", now, now), ("legal", "pending", now, now)]
        assert store.alert(2).status == "pending"
        assert store.alert(1).status == "blocked"  # other alerts untouched
    code, out, _ = cli(capsys, "--db", db, "alerts", "retry", "2")
    assert (code, out) == (0, "alert 2: nothing to retry (legal:pending archive:pending)\n")

    with Store.open(db) as store:  # nothing was sent by retry; the next deliver sends those two first ...
        legal, archive = page_tools.FakeSink("legal"), page_tools.FakeSink("archive")
        report = deliver_pending(store, {"legal": legal, "archive": archive}, now=now, owner="host-d:1")
        assert report.sent[0] == (2, "legal")
        # ... and since legal took a post again, its other blocked deliveries are released and go out too
        assert sorted(report.sent) == [(1, "legal"), (2, "archive"), (2, "legal"), (3, "legal")]
        assert [store.alert(i).status for i in (1, 2, 3)] == ["delivered", "delivered", "delivered"]
        assert store.sink_state("legal").blocked_at is None


def test_retry_all_blocked_for_one_sink_and_json(capsys, db) -> None:
    data = cli_json(capsys, "--db", db, "alerts", "retry", "--all-blocked", "--sink", "legal")
    assert data == {"requeued": [{"alert_id": 1, "sink": "legal", "was": "blocked"},
                                 {"alert_id": 2, "sink": "legal", "was": "blocked"},
                                 {"alert_id": 3, "sink": "legal", "was": "blocked"}],
                    "revived": [], "untouched": []}
    with Store.open(db) as store:
        assert store.delivery_counts()["legal"] == {"pending": 3}
        assert store.delivery_counts()["archive"] == {"delivered": 2, "dead": 1}  # --all-blocked: dead stays dead
    code, out, _ = cli(capsys, "--db", db, "alerts", "retry", "--all-blocked")
    assert (code, out) == (0, "nothing to retry: no blocked deliveries\n")
    code, out, _ = cli(capsys, "--db", db, "alerts", "retry", "--all-dead")
    assert out == ("requeued alert 2 → archive (was dead)\n"
                   "1 delivery requeued; run `regwatch deliver` (or wait for the daemon) to send them\n")
    code, out, _ = cli(capsys, "--db", db, "alerts", "retry", "--all-dead", "--all-blocked", "--sink", "archive")
    assert (code, out) == (0, "nothing to retry: no dead or blocked deliveries to archive\n")


def test_retry_errors_change_nothing(capsys, db) -> None:
    code, out, err = cli(capsys, "--db", db, "alerts", "retry", "2", "99")
    assert (code, out, err) == (1, "", "error: no alert 99; try `regwatch alerts list` to list alert ids\n")
    code, _, err = cli(capsys, "--db", db, "alerts", "retry")
    assert code == 1 and err.startswith("error: nothing selected to retry (hint: pass alert ids, --all-dead or ")
    code, _, err = cli(capsys, "--db", db, "alerts", "retry", "2", "--all-dead")
    assert code == 1 and err.startswith("error: pass alert ids or --all-dead/--all-blocked, not both")
    with Store.open(db) as store:
        assert [(d.sink, d.state) for d in store.alert_deliveries(2)] == [("archive", "dead"), ("legal", "blocked")]


def test_retry_a_dead_alert_of_an_older_regwatch_that_has_no_plan(capsys, db, page_tools) -> None:
    legacy = []
    with Store.open(db) as store:
        for n in (1, 2):
            alert_id, _ = store.enqueue_alert(dedup_key=f"legacy:{n}", kind="new", severity="info", source="mofcom",
                                              doc_key=K2, payload=store.alert(2).payload, created_at=page_tools.T0)
            legacy.append(alert_id)
    with sqlite3.connect(db) as conn:  # what an older regwatch left behind after 8 failed runs
        conn.executemany("UPDATE alert SET status = 'dead', attempts = 8 WHERE id = ?", [(i,) for i in legacy])
    old1, old2 = legacy
    assert [r["id"] for r in cli_json(capsys, "--db", db, "alerts", "list", "--state", "dead")] == [old2, old1, 2]
    code, out, _ = cli(capsys, "--db", db, "alerts", "show", old1)
    assert f"deliveries: none planned (queued by an older regwatch; `regwatch alerts retry {old1}` requeues it)" in out
    code, out, _ = cli(capsys, "--db", db, "alerts", "retry", old1, "--sink", "legal")
    assert out == f"alert {old1}: nothing to retry ((unplanned); retry it without --sink)\n"
    code, out, _ = cli(capsys, "--db", db, "alerts", "retry", old2, "3")
    assert out.splitlines() == [
        "requeued alert 3 → legal (was blocked)",
        f"requeued alert {old2} (dead before deliveries were planned; the next deliver plans them)",
        "1 delivery requeued; 1 unplanned alert requeued; run `regwatch deliver` (or wait for the daemon) to send them",
    ]
    data = cli_json(capsys, "--db", db, "alerts", "retry", "--all-dead")
    assert (data["revived"], data["requeued"]) == ([old1], [{"alert_id": 2, "sink": "archive", "was": "dead"}])
    with Store.open(db) as store:
        assert (store.alert(old1).status, store.alert(old2).status) == ("pending", "pending")
        deliver_pending(store, {"archive": page_tools.FakeSink("archive")}, now=page_tools.T0)
        assert [d.sink for d in store.alert_deliveries(old1)] == ["console"]  # planned by the default route


def test_a_blocked_sink_whose_requeued_backlog_went_out_is_no_longer_reported_blocked(capsys, db, page_tools) -> None:
    assert cli(capsys, "--db", db, "alerts", "retry", "--all-blocked")[0] == 0
    with Store.open(db) as store:  # the token was fixed: everything goes out
        sinks = {name: page_tools.FakeSink(name) for name in ("legal", "archive", "console")}
        deliver_pending(store, sinks, now=page_tools.T0 + timedelta(hours=1))
        assert store.delivery_counts()["legal"] == {"delivered": 3}
    assert cli_json(capsys, "--db", db, "status")["blocked_sinks"] == []


# -- ack -----------------------------------------------------------------------------------------


def test_ack_defaults_to_the_os_user_and_is_shown(capsys, db, monkeypatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "alice")
    code, out, err = cli(capsys, "--db", db, "alerts", "ack", "1", "--note", "legal informed; no licence needed")
    assert (code, err) == (0, "")
    assert out == "alert 1 acknowledged by alice at 2025-11-10 04:00 UTC — legal informed; no licence needed\n"
    with Store.open(db) as store:
        alert = store.alert(1)
        assert (alert.acked_by, alert.acked_at.isoformat(), alert.ack_note, alert.status) == (
            "alice", "2025-11-10T04:00:00+00:00", "legal informed; no licence needed", "blocked")
    code, out, _ = cli(capsys, "--db", db, "alerts", "show", "1")
    assert out.splitlines()[5] == "acknowledged by alice at 2025-11-10 04:00 UTC — legal informed; no licence needed"
    assert cli_json(capsys, "--db", db, "alerts", "show", "1")["ack"] == {
        "by": "alice", "at": "2025-11-10T04:00:00+00:00", "note": "legal informed; no licence needed"}
    code, out, _ = cli(capsys, "--db", db, "alerts", "list", "--doc", K1)
    assert "  acked  " in out

    monkeypatch.setenv("REGWATCH_NOW", "2025-11-10T05:30:00+00:00")
    data = cli_json(capsys, "--db", db, "alerts", "ack", "1", "--by", "bob")
    assert data == {"id": 1, "by": "bob", "at": "2025-11-10T05:30:00+00:00", "note": None,
                    "previous": {"by": "alice", "at": "2025-11-10T04:00:00+00:00",
                                 "note": "legal informed; no licence needed"}}
    code, out, _ = cli(capsys, "--db", db, "alerts", "ack", "1", "--by", "carol")
    assert out.splitlines() == ["alert 1 acknowledged by carol at 2025-11-10 05:30 UTC",
                                "  (replaces the acknowledgement by bob at 2025-11-10 05:30 UTC)"]


def test_ack_falls_back_to_user_and_refuses_without_a_name(capsys, db, monkeypatch) -> None:
    def no_login() -> str:
        raise OSError("No username set in the environment")

    monkeypatch.setattr("getpass.getuser", no_login)
    monkeypatch.setenv("USER", "dave")
    code, out, _ = cli(capsys, "--db", db, "alerts", "ack", "2")
    assert (code, out) == (0, "alert 2 acknowledged by dave at 2025-11-10 04:00 UTC\n")
    monkeypatch.delenv("USER")
    code, out, err = cli(capsys, "--db", db, "alerts", "ack", "3")
    assert (code, out, err) == (1, "", "error: cannot tell who acknowledges (hint: pass --by NAME, e.g. --by alice)\n")
    code, _, err = cli(capsys, "--db", db, "alerts", "ack", "3", "--by", "  ")
    assert (code, err) == (1, "error: --by is empty (hint: pass --by NAME, e.g. --by alice)\n")
    code, _, err = cli(capsys, "--db", db, "alerts", "ack", "99", "--by", "erin")
    assert (code, err) == (1, "error: no alert 99; try `regwatch alerts list` to list alert ids\n")
    with Store.open(db) as store:
        assert store.alert(3).acked_at is None


def test_untrusted_ack_text_and_errors_are_printed_safely(capsys, db) -> None:
    code, out, _ = cli(capsys, "--db", db, "alerts", "ack", "1", "--by", "m\x1b]0;pwned\x07allory",
                       "--note", "<!here> \u202e[red]ok[/red] :smile:\nsecond line")
    assert out == "alert 1 acknowledged by m\ufffd]0;pwned\ufffdallory at 2025-11-10 04:00 UTC — <!here> \ufffd[red]ok[/red] " \
                  ":smile: second line\n"
    for args in (["alerts", "list"], ["alerts", "show", "1"], ["alerts", "retry", "1"], ["status"]):
        code, out, _ = cli(capsys, "--db", db, *args)
        assert code == 0 and not {"\x1b", "\x07", "\u202e"} & set(out), args
    code, out, _ = cli(capsys, "--db", db, "alerts", "show", "1")
    assert f"title: {SHOWN}" in out and "⚠" not in out and "😄" not in out
    assert cli_json(capsys, "--db", db, "alerts", "show", "1")["ack"]["note"] == (
        "<!here> \u202e[red]ok[/red] :smile:\nsecond line")  # --json is data: kept as recorded


# -- status --------------------------------------------------------------------------------------


def test_status_shows_the_backlog_per_sink_with_blocked_and_held_reasons(capsys, outbox_db) -> None:
    data = cli_json(capsys, "--db", outbox_db, "status")
    assert (data["pending_alerts"], data["dead_alerts"]) == (0, 1)
    assert data["alerts"] == {"pending": 0, "delivered": 0, "held": 1, "blocked": 2, "dead": 1}
    assert data["deliveries"] == {"archive": {"dead": 1, "delivered": 2}, "console": {"held": 1},
                                  "legal": {"blocked": 3}}
    assert data["blocked_sinks"] == [{"sink": "legal", "reason": "slack: invalid_auth (check SLACK_BOT_TOKEN)",
                                      "since": "2025-11-10T03:00:00+00:00", "blocked": 3}]
    assert data["held_sinks"] == [{"sink": "console", "reason": "sink 'console' is not configured", "held": 1}]

    code, out, err = cli(capsys, "--db", outbox_db, "status")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    rows = {cells[0]: cells[1:] for cells in ([c.strip() for c in line.replace("┃", "│").split("│")[1:-1]]
                                              for line in lines if line.startswith(("│ ", "┃ ")))}
    assert rows["sink"] == ["pending", "sending", "delivered", "held", "blocked", "dead"]
    assert (rows["archive"], rows["console"], rows["legal"]) == (
        ["0", "0", "2", "0", "0", "1"], ["0", "0", "0", "1", "0", "0"], ["0", "0", "0", "0", "3", "0"])
    assert lines[-3:] == [
        "sink legal blocked since 2025-11-10 03:00 UTC: slack: invalid_auth (check SLACK_BOT_TOKEN) — 3 waiting; "
        "they go out by themselves once it is fixed (see `regwatch alerts list --sink legal --state blocked`)",
        "1 held for sink console: sink 'console' is not configured",
        "documents: 0  versions: 0  changes: 0  captures: 0 (0 pending, 0 unreadable)  alerts: 0 pending, 1 held, "
        "2 blocked, 1 dead",
    ]
