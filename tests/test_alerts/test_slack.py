"""SlackSink against a local fake Slack Web API on 127.0.0.1 (no network, no real token)."""

from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timezone
from pathlib import Path

import pytest
from slack_sdk import WebClient

from alerts.base import Alert, DeliveryResult
from alerts.errors import ReconcileError, SinkConfigError, SinkDisabled
from alerts.render import to_block_kit
from alerts.slack import SlackSink

TOKEN = "xoxb-000-fake-SECRET-token-for-tests"
RENDER = Path(__file__).resolve().parents[1] / "fixtures" / "alerts" / "render"
OK = (200, {}, {"ok": True, "channel": "C0REGWATCH", "ts": "1762480500.000100"})
RATELIMITED = (429, {"Retry-After": "0"}, {"ok": False, "error": "ratelimited"})


def load_alert(name: str) -> Alert:
    case = json.loads((RENDER / f"{name}.alert.json").read_text(encoding="utf-8"))
    return Alert.from_payload(case["id"], case["payload"])


@pytest.fixture
def fake(fake_slack):
    """The stateful fake Slack Web API of tests/conftest.py (``FakeSlack``)."""
    return fake_slack


@pytest.fixture
def sink(fake, monkeypatch: pytest.MonkeyPatch) -> SlackSink:
    # RateLimitErrorRetryHandler sleeps Retry-After + random(); make the random part 0.
    monkeypatch.setattr(random, "random", lambda: 0.0)
    return SlackSink.from_config(
        "legal", {"kind": "slack", "token": TOKEN, "channel": "#export-controls", "base_url": fake.base_url, "timeout": 5}
    )


def test_post_ok_sends_blocks_text_and_metadata(sink: SlackSink, fake) -> None:
    alert = load_alert("new_joint_notice")
    result = sink.send(alert)
    [post] = fake.posts
    assert result == DeliveryResult(True, post["ts"], f"posted to #export-controls ts={post['ts']}", False)
    [req] = fake.requests
    assert req["path"] == "/api/chat.postMessage"
    assert req["headers"]["Authorization"] == f"Bearer {TOKEN}"
    expected = to_block_kit(alert)
    assert req["body"] == {
        "channel": "#export-controls",
        "text": expected["text"],
        "blocks": expected["blocks"],
        "metadata": {"event_type": "regwatch_alert",
                     "event_payload": {"id": 101, "created_at": alert.created_at.isoformat()}},
        "unfurl_links": False,
        "unfurl_media": False,
    }
    assert sink.channel_id == "C0REGWATCH"


def test_rate_limited_is_not_slept_inline_but_reported_with_retry_after(sink: SlackSink, fake) -> None:
    fake.script = [(429, {"Retry-After": "30"}, {"ok": False, "error": "ratelimited"})]
    result = sink.send(load_alert("source_health"))
    assert result == DeliveryResult(False, None, "slack legal: chat.postMessage failed: HTTP 429 ratelimited",
                                    retryable=True, retry_after=30.0)
    assert len(fake.requests) == 1  # the outbox schedules the retry; this process holds no lease asleep


@pytest.mark.parametrize(
    ("reply", "detail"),
    [
        ((500, {}, {"ok": False, "error": "internal_error"}), "HTTP 500 internal_error"),
        ((503, {}, "<html>Service Unavailable</html>"), "HTTP 503 Received a response in a non-JSON format: <html>Service Unavailable</html>"),
    ],
)
def test_server_errors_are_ambiguous_and_not_retried_inline(sink, fake, reply, detail) -> None:
    fake.script = [reply]
    result = sink.send(load_alert("source_health"))
    assert result == DeliveryResult(False, None, f"slack legal: chat.postMessage failed: {detail}", retryable=True,
                                    ambiguous=True)
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        ("invalid_auth", "check the bot token (SLACK_BOT_TOKEN)"),
        ("not_in_channel", "invite the bot to the channel (/invite @regwatch)"),
        ("channel_not_found", "check the channel name or use its ID"),
        ("missing_scope", "add the chat:write and channels:history scopes to the Slack app"),
    ],
)
def test_permanent_api_errors_block_the_sink(sink, fake, error, hint) -> None:
    fake.script = [(200, {}, {"ok": False, "error": error})]
    result = sink.send(load_alert("source_health"))
    assert result == DeliveryResult(False, None, f"slack legal: chat.postMessage failed: HTTP 200 {error} ({hint})",
                                    blocked=True)


def test_rejected_blocks_are_a_dead_end_for_this_alert_only(sink, fake) -> None:
    fake.script = [(200, {}, {"ok": False, "error": "invalid_blocks"})]
    result = sink.send(load_alert("source_health"))
    assert (result.ok, result.retryable, result.blocked, result.ambiguous) == (False, False, False, False)


def test_connection_refused_is_retryable_and_not_ambiguous(fake) -> None:
    fake.close()  # nothing listens on that port any more: the post cannot have reached Slack
    sink = SlackSink("legal", WebClient(token=TOKEN, base_url=fake.base_url, retry_handlers=[]), "#export-controls")
    result = sink.send(load_alert("source_health"))
    assert not result.ok and result.retryable and not result.ambiguous
    assert result.detail.startswith(f"slack legal: connection to {fake.base_url} failed: URLError: ")
    fake.server = _Closed()  # the fixture's close() must not fail


class _Closed:
    def shutdown(self) -> None:
        return None

    def server_close(self) -> None:
        return None


def test_token_never_leaks(fake, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(random, "random", lambda: 0.0)
    sink = SlackSink.from_config("legal", {"kind": "slack", "token": TOKEN, "channel": "#c", "base_url": fake.base_url})
    fake.script = [OK, RATELIMITED, OK, (500, {}, "oops"), (200, {}, {"ok": False, "error": "invalid_auth"})]
    results = [sink.send(load_alert(name)) for name in ("injection", "source_health", "many_facts", "new_joint_notice")]
    seen = [repr(sink), str(sink.__dict__.get("channel")), *(repr(r) for r in results)]
    for bad in ({"kind": "slack", "token": {"$env": "SLACK_BOT_TOKEN"}, "channel": "#c"},
                {"kind": "slack", "token": TOKEN},
                {"kind": "slack", "token": TOKEN, "channel": "#c", "base_url": "ftp://x"}):
        with pytest.raises(SinkConfigError) as info:
            SlackSink.from_config("legal", bad)
        seen.append(str(info.value))
    assert len(fake.requests) == 4 and any("Sending a request" in r.getMessage() for r in caplog.records)
    everything = "\n".join(seen + [r.getMessage() for r in caplog.records] + [caplog.text])
    assert TOKEN not in everything and "SECRET" not in everything
    assert repr(sink) == f"SlackSink(name='legal', channel='#c', base_url='{fake.base_url}', token=<redacted>)"


@pytest.mark.parametrize("cfg", [{}, {"token": ""}, {"token": None}])
def test_missing_token_disables(cfg: dict) -> None:
    with pytest.raises(SinkDisabled) as info:
        SlackSink.from_config("legal", {"kind": "slack", "channel": "#c", **cfg})
    assert info.value.reason == "slack: no token (set SLACK_BOT_TOKEN)"


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"token": {"$env": "SLACK_BOT_TOKEN"}, "channel": "#c"},
         "sink 'legal': token: must be a string; write it as {$env: SLACK_BOT_TOKEN} and let config resolve it"),
        ({"token": TOKEN}, "sink 'legal': channel: missing; set channel: '#export-controls' (or a channel ID)"),
        ({"token": TOKEN, "channel": "#c", "base_url": "slack.test"},
         "sink 'legal': base_url: must be an http(s) URL, got 'slack.test'"),
        ({"token": TOKEN, "channel": "#c", "chanel": "#d"},
         "sink 'legal': chanel: unknown option; known options: base_url, channel, kind, timeout, token"),
    ],
)
def test_config_errors(cfg: dict, message: str) -> None:
    with pytest.raises(SinkConfigError) as info:
        SlackSink.from_config("legal", {"kind": "slack", **cfg})
    assert str(info.value) == message


def test_client_is_built_with_explicit_retry_handlers() -> None:
    sink = SlackSink.from_config("legal", {"kind": "slack", "token": TOKEN, "channel": "C0123ABCD", "base_url": "http://127.0.0.1:9/api"})
    assert sink.client.retry_handlers == []  # no SDK resend of a post that may have reached Slack
    assert sink.client.base_url == "http://127.0.0.1:9/api/"
    assert sink.channel_id == "C0123ABCD"  # configured by ID: reconciliation works before any post


def test_find_posted_pages_through_history(sink: SlackSink, fake) -> None:
    sink.send(load_alert("source_health"))  # learns the channel ID
    other = {"ts": "1.1", "metadata": {"event_type": "regwatch_alert", "event_payload": {"id": 1}}}
    mine = {"ts": "2.2", "metadata": {"event_type": "regwatch_alert", "event_payload": {"id": 404}}}
    fake.history_script = [
        (200, {}, {"ok": True, "messages": [other, {"ts": "1.5", "text": "hi"}], "response_metadata": {"next_cursor": "abc"}}),
        (200, {}, {"ok": True, "messages": [mine], "response_metadata": {"next_cursor": ""}}),
    ]
    oldest = datetime(2026, 1, 8, 18, 0, tzinfo=timezone.utc)
    assert sink.find_posted(404, oldest=oldest) == "2.2"
    first, second = fake.requests[1:]
    assert first["path"] == "/api/conversations.history"
    assert first["body"] == {"channel": "C0REGWATCH", "oldest": "1767895200.000000", "limit": "200", "include_all_metadata": "1"}
    assert second["body"]["cursor"] == "abc"


def test_find_posted_absent_and_errors(sink: SlackSink, fake) -> None:
    oldest = datetime(2026, 1, 8, tzinfo=timezone.utc)
    fake.scripts["conversations.list"] = [(200, {}, {"ok": False, "error": "missing_scope"})]  # no channels:read
    with pytest.raises(ReconcileError, match=r"channel ID unknown for #export-controls and conversations.list failed: "
                                             r"HTTP 200 missing_scope; configure the channel by ID"):
        sink.find_posted(1, oldest=oldest)
    sink.channel_id = "C0REGWATCH"
    fake.history_script = [(200, {}, {"ok": True, "messages": []})]
    assert sink.find_posted(1, oldest=oldest) is None
    fake.history_script = [(200, {}, {"ok": False, "error": "missing_scope"})]
    with pytest.raises(ReconcileError, match=r"^sink 'legal': cannot check for an earlier post: HTTP 200 missing_scope$"):
        sink.find_posted(1, oldest=oldest)
