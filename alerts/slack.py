"""SlackSink: posts rendered alerts with chat.postMessage; it only sends (render.py renders)."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from http.client import HTTPException
from typing import Any, Mapping
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, RetryHandler

from alerts.base import Alert, DeliveryResult
from alerts.errors import ReconcileError, SinkConfigError, SinkDisabled
from alerts.options import Options
from alerts.render import to_block_kit

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://slack.com/api/"
EVENT_TYPE = "regwatch_alert"
# Slack "error" codes that a later retry can clear.
RETRYABLE_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
HINTS = {
    "invalid_auth": "check the bot token (SLACK_BOT_TOKEN)",
    "not_authed": "check the bot token (SLACK_BOT_TOKEN)",
    "token_revoked": "issue a new bot token (SLACK_BOT_TOKEN)",
    "account_inactive": "issue a new bot token (SLACK_BOT_TOKEN)",
    "channel_not_found": "check the channel name or use its ID",
    "not_in_channel": "invite the bot to the channel (/invite @regwatch)",
    "missing_scope": "add the chat:write scope to the Slack app",
    "invalid_blocks": "rendering bug: report it with the alert id",
    "msg_blocks_too_long": "rendering bug: report it with the alert id",
}
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")


def default_retry_handlers() -> list[RetryHandler]:
    """Retry policy: one retry on connection errors, up to three on HTTP 429 (opt-in in slack-sdk).

    Example:
        >>> [type(h).__name__ for h in default_retry_handlers()]
        ['ConnectionErrorRetryHandler', 'RateLimitErrorRetryHandler']
    """
    return [ConnectionErrorRetryHandler(max_retry_count=1), RateLimitErrorRetryHandler(max_retry_count=3)]


class SlackSink:
    """Post alerts to one Slack channel with a bot token.

    Config: ``token`` (already resolved from ``{$env: SLACK_BOT_TOKEN}``; empty → disabled),
    ``channel`` (``#name`` or an ID), ``base_url`` (tests: a local fake), ``timeout`` seconds.
    The token lives only inside the ``WebClient``; ``repr`` and every result detail omit it.

    Example:
        >>> SlackSink.from_config("legal", {"kind": "slack", "token": "xoxb-secret", "channel": "#legal"})
        SlackSink(name='legal', channel='#legal', base_url='https://slack.com/api/', token=<redacted>)
        >>> SlackSink.from_config("legal", {"kind": "slack", "token": "", "channel": "#legal"})
        Traceback (most recent call last):
        ...
        alerts.errors.SinkDisabled: slack: no token (set SLACK_BOT_TOKEN)
    """

    kind = "slack"

    def __init__(self, name: str, client: WebClient, channel: str) -> None:
        self.name = name
        self.client = client
        self.channel = channel
        self.channel_id: str | None = channel if _CHANNEL_ID.match(channel) else None

    @classmethod
    def from_config(cls, name: str, cfg: Mapping[str, Any]) -> SlackSink:
        """Build from config; no token → :class:`SinkDisabled`, bad fields → :class:`SinkConfigError`."""
        opts = Options(name, cfg, allowed={"token", "channel", "base_url", "timeout"})
        token = cfg.get("token")
        if token is not None and not isinstance(token, str):
            raise SinkConfigError(
                name, "token", "must be a string; write it as {$env: SLACK_BOT_TOKEN} and let config resolve it"
            )
        if not token:
            raise SinkDisabled("slack: no token (set SLACK_BOT_TOKEN)")
        channel = opts.string("channel", required=True, hint="set channel: '#export-controls' (or a channel ID)")
        base_url = opts.string("base_url", default=DEFAULT_BASE_URL) or DEFAULT_BASE_URL
        if not base_url.startswith(("https://", "http://")):
            raise SinkConfigError(name, "base_url", f"must be an http(s) URL, got {base_url!r}")
        base_url = base_url if base_url.endswith("/") else base_url + "/"
        timeout = opts.number("timeout", default=30)
        client = WebClient(token=token, base_url=base_url, timeout=int(timeout), retry_handlers=default_retry_handlers())
        return cls(name, client, channel)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"SlackSink(name={self.name!r}, channel={self.channel!r}, base_url={self.client.base_url!r}, token=<redacted>)"

    def send(self, alert: Alert) -> DeliveryResult:
        """Post one alert; the outbox id travels in message metadata for later reconciliation."""
        message = to_block_kit(alert)
        try:
            response = self.client.chat_postMessage(
                channel=self.channel,
                text=message["text"],
                blocks=message["blocks"],
                metadata={"event_type": EVENT_TYPE, "event_payload": {"id": alert.id}},
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            return self._api_failure(alert, exc)
        except (URLError, HTTPException, OSError) as exc:  # refused, reset, timeout, DNS
            reason = getattr(exc, "reason", None) or exc
            detail = f"slack {self.name}: connection to {self.client.base_url} failed: {type(exc).__name__}: {reason}"
            log.warning("alert %s not delivered: %s", alert.id, detail)
            return DeliveryResult.failure(detail, retryable=True)
        except SlackClientError as exc:
            detail = f"slack {self.name}: client error: {type(exc).__name__}"
            log.warning("alert %s not delivered: %s", alert.id, detail)
            return DeliveryResult.failure(detail, retryable=False)
        ts = response.get("ts")
        if isinstance(response.get("channel"), str):
            self.channel_id = response["channel"]
        log.info("alert %s posted to %s (ts=%s)", alert.id, self.channel, ts)
        return DeliveryResult.success(ts, f"posted to {self.channel} ts={ts}")

    def _api_failure(self, alert: Alert, exc: SlackApiError) -> DeliveryResult:
        status = getattr(exc.response, "status_code", None) or 0
        data = exc.response.data if isinstance(getattr(exc.response, "data", None), dict) else {}
        error = str(data.get("error") or "unknown_error")[:200]  # non-JSON bodies come back as long messages
        retryable = status == 429 or status >= 500 or error in RETRYABLE_ERRORS
        detail = f"slack {self.name}: chat.postMessage failed: HTTP {status} {error}"
        if error in HINTS:
            detail += f" ({HINTS[error]})"
        log.warning("alert %s not delivered: %s", alert.id, detail)
        return DeliveryResult.failure(detail, retryable=retryable)

    def find_posted(self, alert_id: int, *, oldest: datetime, max_pages: int = 5) -> str | None:
        """The ``ts`` of an earlier post of ``alert_id`` in this channel since ``oldest``, else None.

        Call it before retrying after an ambiguous failure (Slack has no idempotency key).
        Needs the channel ID (configured, or learned from an earlier successful post) and the
        ``channels:history`` scope. Raises :class:`ReconcileError` when it cannot tell.
        """
        if not self.channel_id:
            raise ReconcileError(self.name, f"channel ID unknown for {self.channel}; configure the channel by ID")
        cursor: str | None = None
        for _ in range(max_pages):
            try:
                page = self.client.conversations_history(
                    channel=self.channel_id, oldest=f"{oldest.timestamp():.6f}", limit=200,
                    include_all_metadata=True, cursor=cursor,
                )
            except SlackApiError as exc:
                data = exc.response.data if isinstance(exc.response.data, dict) else {}
                raise ReconcileError(self.name, f"HTTP {exc.response.status_code} {data.get('error')}") from None
            except (URLError, HTTPException, OSError) as exc:
                raise ReconcileError(self.name, f"connection failed: {type(exc).__name__}") from None
            for msg in page.get("messages") or []:
                meta = msg.get("metadata") or {}
                if meta.get("event_type") == EVENT_TYPE and (meta.get("event_payload") or {}).get("id") == alert_id:
                    return msg.get("ts")
            cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor:
                return None
        raise ReconcileError(self.name, f"alert {alert_id} not found in {max_pages} pages of history; widen oldest")
