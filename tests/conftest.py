"""Shared test fixtures: an in-memory store, a fixed clock, a recording fake sink and page fixtures.

- ``store``: ``Store.in_memory()`` with the four sources registered (test_store overrides it).
- ``clock``: ``FixedClock`` at ``T0`` (2025-11-10 03:00 UTC); ``clock.advance(days=1)`` moves it.
- ``fake_sink``: ``fake_sink(name)`` builds a ``FakeSink`` that records every alert it is sent and
  fails on demand (``sink.fail()`` always, ``sink.fail(times=2)`` the next two sends).
- ``load_page``: ``load_page("mofcom", "MofcomNoticePage", "2025-58-standard")`` -> ``(body, meta)``.
- ``capture_page``: saves a fixture page as a capture in ``store`` and returns its id.
- ``page_tools``: the helpers behind these (``save``, ``read``, ``register_sources``, ``T0``) for
  tests that build their own (file) store; conftest modules are not importable from tests.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alerts.base import Alert, DeliveryResult
from pipeline.clock import FixedClock
from store import Store

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
T0 = datetime(2025, 11, 10, 3, 0, tzinfo=timezone.utc)
SOURCES = (
    ("mofcom", "商务部", "https://www.mofcom.gov.cn"),
    ("miit", "工业和信息化部", "https://www.miit.gov.cn"),
    ("govcn", "中国政府网", "https://www.gov.cn"),
    ("meti", "経済産業省", "https://www.meti.go.jp"),
)


class FakeSink:
    """An alert sink that records sends; ``fail(times)`` makes the next ``times`` sends fail (None: all)."""

    kind = "fake"

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[Alert] = []
        self.attempts = 0
        self._failures: int | None = 0

    def fail(self, times: int | None = None) -> None:
        self._failures = times

    def recover(self) -> None:
        self._failures = 0

    def send(self, alert: Alert) -> DeliveryResult:
        self.attempts += 1
        if self._failures is None or self._failures > 0:
            if self._failures is not None:
                self._failures -= 1
            return DeliveryResult.failure(f"{self.name}: HTTP 503 (fake outage)", retryable=True)
        self.sent.append(alert)
        return DeliveryResult.success(f"{self.name}-{len(self.sent)}", f"sent alert {alert.id}")

    @property
    def sent_ids(self) -> list[int]:
        return [a.id for a in self.sent]


def register_sources(store: Store) -> Store:
    for slug, name, url in SOURCES:
        store.ensure_source(slug, name, url, at=T0)
    return store


def read_page(source: str, page_class: str, case: str) -> tuple[bytes, dict[str, Any]]:
    """``(body bytes, meta dict)`` of ``tests/fixtures/pages/<source>/<page_class>/<case>/``."""
    folder = PAGES / source / page_class / case
    if not (folder / "meta.json").is_file():
        raise FileNotFoundError(f"no page fixture {folder} (needs body.html and meta.json)")
    return (folder / "body.html").read_bytes(), json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def save_page(store: Store, case: str, *, at: datetime, source: str = "mofcom",
              page_class: str = "MofcomNoticePage", body: bytes | None = None, status: int | None = None,
              url: str | None = None, kind: str = "detail") -> int:
    """Save a fixture page (optionally with another body/status/url) as a capture; returns its id."""
    fixture_body, meta = read_page(source, page_class, case)
    page_url = url or meta["url"]
    capture_id, _ = store.save_capture(
        source=source, url=page_url, final_url=page_url, status=meta["status"] if status is None else status,
        headers=meta["headers"], body=fixture_body if body is None else body, fetched_at=at, kind=kind,
    )
    return capture_id


@pytest.fixture
def store() -> Iterator[Store]:
    """A fresh in-memory store with the mofcom, miit, govcn and meti sources registered."""
    s = register_sources(Store.in_memory())
    yield s
    s.close()


@pytest.fixture
def clock() -> FixedClock:
    """A clock frozen at T0 = 2025-11-10 03:00 UTC."""
    return FixedClock(T0)


@pytest.fixture
def fake_sink() -> Callable[[str], FakeSink]:
    """Factory: ``fake_sink("legal")`` -> a new recording FakeSink named ``legal``."""
    return FakeSink


@pytest.fixture
def load_page() -> Callable[[str, str, str], tuple[bytes, dict[str, Any]]]:
    """``load_page(source, page_class, case)`` -> ``(body, meta)`` from tests/fixtures/pages."""
    return read_page


@pytest.fixture
def capture_page(store: Store, clock: FixedClock) -> Callable[..., int]:
    """``capture_page(case, body=None, status=None, url=None)`` saves a MOFCOM notice fixture at clock time."""

    def _capture(case: str, **kwargs: Any) -> int:
        kwargs.setdefault("at", clock.now())
        return save_page(store, case, **kwargs)

    return _capture


@pytest.fixture(scope="session")
def page_tools() -> types.SimpleNamespace:
    """``save(store, case, at=...)``, ``read(source, cls, case)``, ``register_sources(store)``, ``T0``, ``FakeSink``."""
    return types.SimpleNamespace(save=save_page, read=read_page, register_sources=register_sources, T0=T0,
                                 FakeSink=FakeSink)


# -- databases on both backends ---------------------------------------------------------------

def _pg_schema_url() -> Iterator[sa.URL]:
    base = os.environ.get("REGWATCH_TEST_PG_URL")
    required = os.environ.get("REGWATCH_TEST_PG_REQUIRED") == "1"
    if not base:
        if required:
            pytest.fail("REGWATCH_TEST_PG_REQUIRED=1 but REGWATCH_TEST_PG_URL is not set")
        pytest.skip("REGWATCH_TEST_PG_URL not set")
    schema = f"rw_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    try:
        with admin.begin() as conn:
            # pg_trgm once, in public: installed inside a test schema it would vanish with that schema's
            # DROP ... CASCADE and take the trigram indexes of any test running beside it along.
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as err:
        admin.dispose()
        message = f"PostgreSQL at {sa.make_url(base).render_as_string(hide_password=True)} unreachable: {err.orig}"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def pg_url_factory() -> Iterator[Callable[[], sa.URL]]:
    """``pg_url_factory()`` -> the URL of a new empty PostgreSQL schema (dropped after the test)."""
    opened: list[Iterator[sa.URL]] = []

    def make() -> sa.URL:
        gen = _pg_schema_url()
        opened.append(gen)
        return next(gen)

    yield make
    for gen in opened:
        next(gen, None)


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[sa.URL | str]:
    """A URL (or path) of an empty database on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "regwatch.db")
    else:
        yield from _pg_schema_url()




# -- a fake Slack Web API ---------------------------------------------------------------------


class FakeSlack:
    """A stateful fake of the Slack Web API on 127.0.0.1, driven by the real ``slack_sdk`` client.

    ``chat.postMessage`` stores messages (with metadata, ``thread_ts`` and ``reply_broadcast``) per
    channel and answers with a ``ts``; ``conversations.history`` (top-level and broadcast messages,
    like Slack), ``conversations.replies`` (one thread) and ``conversations.list`` read them back. ``script`` holds faults
    for the next ``chat.postMessage`` calls, each one of:

    * ``(status, headers, body)`` — answer with that and store nothing;
    * ``"drop_after_post"`` — store the message, then close the connection without answering;
    * ``("slow", seconds)`` — store the message, answer only after ``seconds``;
    * ``"outage"`` — close the connection before storing anything (nothing reached Slack).

    ``history_script`` does the same for ``conversations.history`` and ``scripts[method]`` for any
    other method (status/headers/body only).

    Every answer carries the ``x-oauth-scopes`` header with ``scopes`` (set it to drop one, or to
    None for no header); ``auth.test`` answers for the bot ``regwatch``, ``conversations.info``
    with ``is_member`` (``member = False``: the bot was not invited) and ``is_private`` (``private``).
    """

    CHANNEL_ID = "C0REGWATCH"

    def __init__(self, *, latency: float = 0.0) -> None:
        import json as _json
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs

        self.requests: list[dict] = []
        self.scripts: dict[str, list[object]] = {"chat.postMessage": [], "conversations.history": []}
        self.posts: list[dict] = []
        self.latency = latency
        self.scopes: list[str] | None = ["chat:write", "channels:history", "channels:read"]
        self.member = True
        self.private = False
        self.lock = threading.Lock()
        self._ts = int(time.time() * 1_000_000)  # Slack stamps posts with its own (real) clock
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (slack_sdk sends conversations.info/list as GET)
                path, _, query = self.path.partition("?")
                self._handle(path, {k: v[0] for k, v in parse_qs(query).items()})

            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                is_json = self.headers.get("Content-Type", "").startswith("application/json")
                body = _json.loads(raw) if is_json else {k: v[0] for k, v in parse_qs(raw).items()}
                self._handle(self.path, body)

            def _handle(self, path: str, body: dict) -> None:
                method = path.rsplit("/", 1)[-1]
                with fake.lock:
                    fake.requests.append({"path": path, "headers": dict(self.headers), "body": body})
                    queue = fake.scripts.get(method)
                    step = queue.pop(0) if queue else None
                if fake.latency:
                    time.sleep(fake.latency)
                if step == "outage":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(step, tuple) and len(step) == 3:
                    return self._answer(*step)
                answer = getattr(fake, "_" + method.replace(".", "_"))(body)
                if step == "drop_after_post":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(step, tuple) and step[0] == "slow":
                    time.sleep(step[1])
                self._answer(200, {}, answer)

            def _answer(self, status: int, headers: dict, payload: object) -> None:
                data = payload.encode() if isinstance(payload, str) else _json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    ctype = "text/html" if isinstance(payload, str) else "application/json; charset=utf-8"
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    if fake.scopes is not None:
                        self.send_header("x-oauth-scopes", ",".join(fake.scopes))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

            def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    @property
    def script(self) -> list[object]:
        """Faults for the next ``chat.postMessage`` calls."""
        return self.scripts["chat.postMessage"]

    @script.setter
    def script(self, steps: list[object]) -> None:
        self.scripts["chat.postMessage"] = list(steps)

    @property
    def history_script(self) -> list[object]:
        """Answers for the next ``conversations.history`` calls."""
        return self.scripts["conversations.history"]

    @history_script.setter
    def history_script(self, steps: list[object]) -> None:
        self.scripts["conversations.history"] = list(steps)

    def _chat_postMessage(self, body: dict) -> dict:
        import json as _json

        with self.lock:
            self._ts += 100
            ts = f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"
            meta = body.get("metadata")
            meta = _json.loads(meta) if isinstance(meta, str) else meta
            broadcast = body.get("reply_broadcast") in (True, "true", "1", 1)
            self.posts.append({"ts": ts, "channel": body.get("channel"), "text": body.get("text"), "metadata": meta,
                               "thread_ts": body.get("thread_ts"), "reply_broadcast": broadcast})
        return {"ok": True, "channel": self.CHANNEL_ID, "ts": ts}

    def _conversations_history(self, body: dict) -> dict:
        """Like Slack: the channel's messages, a thread reply only when it was also sent to the channel."""
        oldest = float(body.get("oldest") or 0)
        with self.lock:
            messages = [{"ts": p["ts"], "text": p["text"], "metadata": p["metadata"]} for p in reversed(self.posts)
                        if float(p["ts"]) >= oldest and body.get("channel") == self.CHANNEL_ID
                        and (not p.get("thread_ts") or p.get("reply_broadcast"))]
        return {"ok": True, "messages": messages, "response_metadata": {"next_cursor": ""}}

    def _conversations_replies(self, body: dict) -> dict:
        """The thread of ``ts``: its parent, then every reply, oldest first."""
        oldest = float(body.get("oldest") or 0)
        with self.lock:
            messages = [{"ts": p["ts"], "text": p["text"], "metadata": p["metadata"], "thread_ts": body.get("ts")}
                        for p in self.posts if body.get("channel") == self.CHANNEL_ID and float(p["ts"]) >= oldest
                        and body.get("ts") in (p["ts"], p.get("thread_ts"))]
        if not messages:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": messages, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def thread_of(self, alert_id: int) -> str | None:
        """The ``thread_ts`` the post of ``alert_id`` was a reply in (None: a top-level message)."""
        with self.lock:
            return next(p.get("thread_ts") for p in self.posts
                        if (p["metadata"] or {}).get("event_payload", {}).get("id") == alert_id)

    def _auth_test(self, body: dict) -> dict:
        return {"ok": True, "url": "https://example.slack.com/", "team": "Example", "user": "regwatch",
                "team_id": "T0EXAMPLE", "user_id": "U0REGWATCH", "bot_id": "B0REGWATCH"}

    def _conversations_info(self, body: dict) -> dict:
        if body.get("channel") != self.CHANNEL_ID:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": self.CHANNEL_ID, "name": "export-controls", "is_member": self.member,
                                        "is_private": self.private, "is_archived": False}}

    def _conversations_list(self, body: dict) -> dict:
        return {"ok": True, "channels": [{"id": self.CHANNEL_ID, "name": "export-controls"}],
                "response_metadata": {"next_cursor": ""}}

    def posted_ids(self) -> list[int]:
        """Outbox ids of every message posted, in order (duplicates show up twice)."""
        with self.lock:
            return [(p["metadata"] or {}).get("event_payload", {}).get("id") for p in self.posts]

    def calls(self, method: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r["path"].endswith("/" + method))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running ``FakeSlack`` (``fake_slack.base_url`` for the sink's ``base_url``)."""
    server = FakeSlack()
    yield server
    server.close()
