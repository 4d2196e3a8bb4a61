"""The outbox's promises, each proven by injecting the fault (issue 7).

A fake Slack Web API on 127.0.0.1 (driven by the real ``slack_sdk`` client through ``base_url``)
answers 500 bursts, 429 + Retry-After, a post that succeeds and then drops the connection, a
slow post past the client timeout, and permanent errors. Crashes are injected at every store
write of a ``deliver`` and a ``process`` pass (a hook that ends the pass at the Nth write, the
way ``kill -9`` leaves an uncommitted transaction), and as a real ``SIGKILL`` of a child
process in the middle of a post. Three ``deliver`` processes run at once. Asserted each time:
every alert reaches every sink it was planned for, exactly once.
"""

from __future__ import annotations

import itertools
import json
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from alerts.slack import SlackSink
from pipeline.core.classify import AlertRequest
from pipeline.deliver import DeliveryPolicy, deliver_pending
from pipeline.outbox import Routing, enqueue_request
from pipeline.process import process_pending
from store import Store

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc)
TOKEN = "xoxb-000-fake-guarantee-token"
ROUTING = Routing(default=("legal", "archive"))
POLICY = DeliveryPolicy(jitter=0.0)
ERR_500 = (500, {}, {"ok": False, "error": "internal_error"})


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so no handler on the way swallows it."""


def crash_at(engine: sa.Engine, n: int | None) -> list[int]:
    """End the process at the ``n``-th write statement (None: only count). Returns the counter."""
    seen = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen[0] += 1
            if n is not None and seen[0] == n:
                raise Crash(f"killed at write {n}")

    seen.append(_count)  # type: ignore[arg-type]
    return seen


def stop_crashing(engine: sa.Engine, counter: list) -> None:
    event.remove(engine, "before_cursor_execute", counter[1])


def slack(fake, **cfg) -> SlackSink:
    return SlackSink.from_config("legal", {"kind": "slack", "token": TOKEN, "channel": "#export-controls",
                                           "base_url": fake.base_url, "timeout": 5, **cfg})


def alerts(store: Store, n: int, at: datetime = T0, sinks: tuple[str, ...] = ("legal",)) -> list[int]:
    for i in range(n):
        enqueue_request(store, AlertRequest(
            dedup_key=f"g:{i}", kind="status", severity="critical", source="mofcom", doc_key=f"mofcom:2026:{i + 1}",
            title=f"商务部公告2026年第{i + 1}号 暂停实施", summary=f"suspended {i + 1}",
            url=f"https://www.mofcom.gov.cn/art/{i + 1}.html"), at, Routing(default=sinks))
    return sorted(a.id for a in store.alerts(limit=1000))


def states(store: Store, ids: list[int]) -> list[dict[str, str]]:
    return [{d.sink: d.state for d in store.alert_deliveries(i)} for i in ids]


@pytest.fixture
def db(tmp_path) -> Store:
    s = Store.open(tmp_path / "outbox.db", at=T0)
    s.ensure_source("mofcom", "商务部", at=T0)
    yield s
    s.close()


def test_an_outage_delays_alerts_and_loses_none(db, fake_slack, fake_sink) -> None:
    ids = alerts(db, 4, sinks=("legal", "archive"))
    archive = fake_sink("archive")
    fake_slack.script = [ERR_500] * 200
    now = T0
    for _ in range(9):  # a 25-minute outage, the daemon delivering every 3 minutes
        deliver_pending(db, {"legal": slack(fake_slack), "archive": archive}, now=now, policy=POLICY)
        now += timedelta(minutes=3)
    assert fake_slack.posted_ids() == [] and archive.sent_ids == ids
    assert {db.alert(i).status for i in ids} == {"pending"}  # not dead: still retryable
    attempts = fake_slack.calls("chat.postMessage")
    assert 1 <= attempts <= 9  # one try per pass at most, backing off: no hammering
    fake_slack.script = []  # Slack is back
    now += timedelta(hours=2)
    report = deliver_pending(db, {"legal": slack(fake_slack), "archive": archive}, now=now, policy=POLICY)
    assert sorted(fake_slack.posted_ids()) == ids  # each exactly once
    assert report.delivered == 4 and states(db, ids) == [{"archive": "delivered", "legal": "delivered"}] * 4
    assert archive.sent_ids == ids  # never re-sent to the sink that had it


def test_rate_limit_retry_after_is_honoured(db, fake_slack) -> None:
    ids = alerts(db, 3)
    fake_slack.script = [(429, {"Retry-After": "120"}, {"ok": False, "error": "ratelimited"})]
    deliver_pending(db, {"legal": slack(fake_slack)}, now=T0, policy=POLICY)
    assert fake_slack.calls("chat.postMessage") == 1  # the sink is left alone for the rest of the pass
    [first] = [d for d in db.alert_deliveries(ids[0]) if d.sink == "legal"]
    assert first.next_attempt_at == T0 + timedelta(seconds=120)
    deliver_pending(db, {"legal": slack(fake_slack)}, now=T0 + timedelta(seconds=60), policy=POLICY)
    assert sorted(fake_slack.posted_ids()) == ids[1:]  # the others were due; the limited one waits
    deliver_pending(db, {"legal": slack(fake_slack)}, now=T0 + timedelta(seconds=121), policy=POLICY)
    assert sorted(fake_slack.posted_ids()) == ids and fake_slack.calls("conversations.history") == 0


@pytest.mark.parametrize("fault", ["drop_after_post", ("slow", 2.5)], ids=["response-lost", "client-timeout"])
def test_a_post_that_may_have_gone_through_is_reconciled_not_resent(db, fake_slack, fault) -> None:
    [alert_id] = alerts(db, 1)
    fake_slack.script = [fault]
    report = deliver_pending(db, {"legal": slack(fake_slack, timeout=1)}, now=T0, policy=POLICY)
    assert report.failed == 1 and fake_slack.posted_ids() == [alert_id]  # Slack has it, we could not tell
    later = T0 + timedelta(minutes=5)
    report = deliver_pending(db, {"legal": slack(fake_slack, timeout=1)}, now=later, policy=POLICY)
    assert (report.reconciled, report.delivered) == (1, 1)
    assert fake_slack.posted_ids() == [alert_id]  # never posted twice
    assert [d.outcome for d in db.deliveries(alert_id)] == ["ambiguous", "reconciled"]
    [legal] = db.alert_deliveries(alert_id)
    assert (legal.state, legal.external_id) == ("delivered", fake_slack.posts[0]["ts"])


@pytest.mark.parametrize(("error", "fix"), [
    ("invalid_auth", {"token": "xoxb-000-a-new-token"}),
    ("channel_not_found", {"channel": "#export-control"}),
    ("missing_scope", None),  # the scope is added to the same token: found by the next probe
])
def test_a_permanent_error_blocks_the_sink_once_and_the_backlog_goes_out_when_fixed(db, fake_slack, fake_sink,
                                                                                     error, fix) -> None:
    ids = alerts(db, 3, sinks=("legal", "archive"))
    archive = fake_sink("archive")
    fake_slack.script = [(200, {}, {"ok": False, "error": error})]
    report = deliver_pending(db, {"legal": slack(fake_slack), "archive": archive}, now=T0, policy=POLICY,
                             routing=ROUTING)
    assert report.blocked == 1 and {db.alert(i).status for i in ids} == {"blocked"}
    [ops] = db.alerts(kind="sink_health")
    assert ops.payload["title"] == "alerts to legal are blocked" and error in ops.payload["summary"]
    assert [d.sink for d in db.alert_deliveries(ops.id)] == ["archive"]  # never routed to the blocked sink
    assert archive.sent_ids == [*ids, ops.id]
    for minutes in (3, 6, 9):  # the daemon keeps delivering: no Slack call, no second ops alert
        deliver_pending(db, {"legal": slack(fake_slack), "archive": archive}, now=T0 + timedelta(minutes=minutes),
                        policy=POLICY, routing=ROUTING)
    assert fake_slack.calls("chat.postMessage") == 1 and len(db.alerts(kind="sink_health")) == 1
    fixed_at = T0 + (timedelta(minutes=12) if fix else timedelta(minutes=31))
    report = deliver_pending(db, {"legal": slack(fake_slack, **(fix or {})), "archive": archive}, now=fixed_at,
                             policy=POLICY, routing=ROUTING)
    assert sorted(fake_slack.posted_ids()) == ids and report.delivered == 3 + 1  # + the recovery notice
    assert {db.alert(i).status for i in ids} == {"delivered"}
    assert [a.payload["title"] for a in db.alerts(kind="sink_health")] == [
        "alerts to legal flow again", "alerts to legal are blocked"]
    assert db.sink_state("legal").blocked_at is None


DELIVER_CHILD = """
import sys
from datetime import datetime
from alerts.slack import SlackSink
from pipeline.deliver import deliver_pending
from store import Store
sink = SlackSink.from_config("legal", {"kind": "slack", "token": sys.argv[3], "channel": "#export-controls",
                                       "base_url": sys.argv[4], "timeout": int(sys.argv[5])})
with Store.open(sys.argv[1]) as store:
    report = deliver_pending(store, {"legal": sink}, now=datetime.fromisoformat(sys.argv[2]))
print(report.delivered)
"""


def test_sigkill_during_a_post_does_not_send_it_twice(tmp_path, fake_slack) -> None:
    path = tmp_path / "killed.db"
    with Store.open(path, at=T0) as s:
        s.ensure_source("mofcom", "商务部", at=T0)
        ids = alerts(s, 2)
    script = tmp_path / "deliver_child.py"
    script.write_text(DELIVER_CHILD, encoding="utf-8")
    fake_slack.script = [("slow", 30)]  # Slack stores the post, then the answer takes long
    child = subprocess.Popen([sys.executable, str(script), str(path), T0.isoformat(), TOKEN, fake_slack.base_url, "60"],
                             stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not fake_slack.posted_ids() and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert fake_slack.posted_ids() == [ids[0]]
    with Store.open(path) as s:
        [first] = s.alert_deliveries(ids[0])
        assert first.state == "sending"  # the intent was recorded before the post
        sink = slack(fake_slack, timeout=60)  # as in the child: its lease was 2 × 60 + 30 s
        lease_over = T0 + timedelta(seconds=sink.lease_seconds + 1)
        report = deliver_pending(s, {"legal": sink}, now=lease_over, policy=POLICY)
        assert (report.reconciled, report.delivered) == (1, 2)
        assert sorted(fake_slack.posted_ids()) == ids  # the killed post was found, not repeated
        assert [d.outcome for d in s.deliveries(ids[0])] == ["started", "reconciled"]


def test_three_concurrent_deliver_processes_send_each_alert_once(db_url, tmp_path, fake_slack) -> None:
    with Store.open(db_url, at=T0) as s:
        s.ensure_source("mofcom", "商务部", at=T0)
        ids = alerts(s, 24)
        dsn = s.dsn
    script = tmp_path / "deliver_child.py"
    script.write_text(DELIVER_CHILD, encoding="utf-8")
    fake_slack.latency = 0.02  # posts overlap with the other processes' claims
    children = [subprocess.Popen([sys.executable, str(script), dsn, T0.isoformat(), TOKEN, fake_slack.base_url, "30"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [c.communicate(timeout=90) for c in children]
    assert [c.returncode for c in children] == [0, 0, 0], [err for _, err in results]
    assert sorted(fake_slack.posted_ids()) == ids  # 24 posts, none twice
    assert sum(int(out) for out, _ in results) == 24
    with Store.open(db_url) as s:
        assert states(s, ids) == [{"legal": "delivered"}] * 24
        assert sorted(d.outcome for i in ids for d in s.deliveries(i)) == ["sent"] * 24


def test_a_crash_at_any_write_of_deliver_is_completed_by_the_next_run(tmp_path, fake_slack) -> None:
    pristine = tmp_path / "pristine.db"
    with Store.open(pristine, at=T0) as s:
        s.ensure_source("mofcom", "商务部", at=T0)
        ids = alerts(s, 2)
    probe = tmp_path / "count.db"
    shutil.copy(pristine, probe)
    with Store.open(probe) as s:
        counter = crash_at(s.engine, None)
        deliver_pending(s, {"legal": slack(fake_slack)}, now=T0, policy=POLICY)
        writes = counter[0]
    assert writes >= 8
    for n in range(1, writes + 1):
        fake_slack.posts.clear()
        path = tmp_path / f"crash-{n}.db"
        shutil.copy(pristine, path)
        with Store.open(path) as s:
            counter = crash_at(s.engine, n)
            with pytest.raises(Crash):
                deliver_pending(s, {"legal": slack(fake_slack)}, now=T0, policy=POLICY)
            stop_crashing(s.engine, counter)
        with Store.open(path) as s:  # the next run, after the dead sender's lease
            later = T0 + timedelta(minutes=10)
            deliver_pending(s, {"legal": slack(fake_slack)}, now=later, policy=POLICY)
            assert sorted(fake_slack.posted_ids()) == ids, f"crash at write {n}"
            assert states(s, ids) == [{"legal": "delivered"}] * 2, f"crash at write {n}"


def _snapshot(store: Store) -> dict[str, object]:
    with store.engine.connect() as conn:
        def rows(sql: str) -> list[tuple]:
            return sorted(tuple(r) for r in conn.execute(sa.text(sql)))

        return {
            "versions": rows("SELECT d.key, v.number, v.content_hash FROM version v JOIN document d ON d.id = v.document_id"),
            "changes": rows("SELECT d.key, c.kind, c.summary FROM change c JOIN document d ON d.id = c.document_id"),
            "tags": rows("SELECT v.number, t.kind, t.value FROM tag t JOIN version v ON v.id = t.version_id"),
            "relations": rows("SELECT source_key, type, target_key, until FROM relation"),
            # (not the dedup keys: they hold version row ids, and PostgreSQL sequences skip after a rollback)
            "alerts": rows("SELECT kind, doc_key, status, severity FROM alert"),
            "deliveries": rows("SELECT a.kind, a.doc_key, d.sink, d.state FROM alert_delivery d "
                               "JOIN alert a ON a.id = d.alert_id"),
            "captures": rows("SELECT id, state FROM capture"),
        }


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def test_a_crash_at_any_write_of_process_is_completed_by_the_next_run(backend, request, tmp_path, page_tools) -> None:
    def fresh() -> Store:
        url = tmp_path / f"p{next(serial)}.db" if backend == "sqlite" else request.getfixturevalue("pg_url_factory")()
        s = page_tools.register_sources(Store.open(url, at=T0))
        for case in ("2025-58-standard", "2025-72-gonggao"):
            page_tools.save(s, case, at=T0)
        return s

    serial = itertools.count()
    with fresh() as s:
        counter = crash_at(s.engine, None)
        process_pending(s, now=T0, routing=ROUTING)
        writes, baseline = counter[0], _snapshot(s)
    assert len(baseline["versions"]) == 2 and baseline["alerts"] and writes > 10
    points = range(1, writes + 1) if backend == "sqlite" else sorted({1, writes // 3, writes // 2, writes - 1, writes})
    for n in points:
        with fresh() as s:
            counter = crash_at(s.engine, n)
            with pytest.raises(Crash):
                process_pending(s, now=T0, routing=ROUTING)
            stop_crashing(s.engine, counter)
            process_pending(s, now=T0, routing=ROUTING)  # the rerun
            assert _snapshot(s) == baseline, f"crash at write {n} of {writes}"


def test_a_version_left_unfinished_by_an_older_regwatch_is_completed(store, clock, capture_page) -> None:
    """Before units of work, a crash could leave a version without its change row and alerts."""
    capture_id = capture_page("2025-58-standard")
    real_enqueue = store.enqueue_alert
    store.enqueue_alert = lambda **kw: (_ for _ in ()).throw(OSError("disk full"))  # type: ignore[method-assign]
    with pytest.raises(OSError):
        process_pending(store, now=clock.now())
    store.enqueue_alert = real_enqueue  # type: ignore[method-assign]
    assert store.alerts() == [] and store.capture(capture_id).state == "pending"  # rolled back together
    # simulate the older regwatch: the version was committed on its own
    from pipeline.extract import extract_page

    info = store.capture(capture_id)
    record = extract_page(store.capture_body(capture_id), source="mofcom", url=info.url, headers=info.headers,
                          status=info.status)
    store.record_version(source="mofcom", key=record.doc_key, url=record.url, title=record.title, text=record.text,
                         canonical_text=record.canonical_text, content_hash=record.content_hash,
                         fields=record.to_json(), published=record.published, capture_id=capture_id,
                         seen_at=clock.now())
    report = process_pending(store, now=clock.now())
    assert (report.new_versions, report.new_documents) == (1, 1)
    assert [a.kind for a in store.alerts()] == ["new"]
    assert [c.kind for c in store.changes(store.document(record.doc_key).id)] == ["new"]


def test_a_crash_between_writing_the_archive_line_and_recording_it_writes_no_second_line(db, tmp_path) -> None:
    from alerts.jsonl import JsonlSink

    ids = alerts(db, 2, sinks=("archive",))
    path = tmp_path / "archive.jsonl"
    sink = JsonlSink("archive", path)

    class DiesAfterWriting(JsonlSink):
        def send(self, alert):
            sink.send(alert)
            raise Crash("killed after the line was written")

    with pytest.raises(Crash):
        deliver_pending(db, {"archive": DiesAfterWriting("archive", path)}, now=T0, policy=POLICY)
    report = deliver_pending(db, {"archive": sink}, now=T0 + timedelta(minutes=5), policy=POLICY)
    assert (report.reconciled, report.delivered) == (1, 2)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ids  # the first alert once, not twice
    [first] = db.alert_deliveries(ids[0])
    assert first.external_id == f"{path}#0"


def story(store: Store) -> list[int]:
    """A new document, a status change of it (critical), a new other document, then a wording change of the first."""
    for i, (kind, severity, key) in enumerate([("new", "warning", "mofcom:2026:1"), ("status", "critical", "mofcom:2026:1"),
                                                ("new", "info", "mofcom:2026:2"), ("changed", "info", "mofcom:2026:1")]):
        enqueue_request(store, AlertRequest(
            dedup_key=f"t:{i}", kind=kind, severity=severity, source="mofcom", doc_key=key, title=f"{kind} {key}",
            summary=f"{kind} {key}", url="https://www.mofcom.gov.cn/a.html"), T0 + timedelta(seconds=i),
            Routing(default=("legal",)))
    return sorted(a.id for a in store.alerts(limit=None))


def test_alerts_about_one_document_share_its_slack_thread(db, fake_slack) -> None:
    ids = story(db)
    report = deliver_pending(db, {"legal": slack(fake_slack)}, now=T0 + timedelta(minutes=1), policy=POLICY)
    assert report.delivered == 4 and fake_slack.posted_ids() == ids
    root = next(d.external_id for d in db.alert_deliveries(ids[0]))
    assert [fake_slack.thread_of(i) for i in ids] == [None, root, None, root]
    broadcast = {(p["metadata"] or {})["event_payload"]["id"]: p["reply_broadcast"] for p in fake_slack.posts}
    assert broadcast == {ids[0]: False, ids[1]: True, ids[2]: False, ids[3]: False}  # critical replies reach the channel


def test_a_thread_reply_whose_answer_was_lost_is_found_in_its_thread_not_resent(db, fake_slack) -> None:
    ids = story(db)
    deliver_pending(db, {"legal": slack(fake_slack)}, now=T0 + timedelta(minutes=1), policy=POLICY, limit=3)
    fake_slack.script = ["drop_after_post"]  # the wording change (a non-broadcast reply) is posted, the answer lost
    report = deliver_pending(db, {"legal": slack(fake_slack, timeout=1)}, now=T0 + timedelta(minutes=2), policy=POLICY)
    assert report.failed == 1 and fake_slack.posted_ids() == ids
    report = deliver_pending(db, {"legal": slack(fake_slack, timeout=1)}, now=T0 + timedelta(minutes=10), policy=POLICY)
    assert report.reconciled == 1 and fake_slack.posted_ids() == ids  # found by conversations.replies
    assert fake_slack.calls("conversations.replies") >= 1
    assert [d.state for d in db.alert_deliveries(ids[3])] == ["delivered"]
