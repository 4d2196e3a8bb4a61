"""SlackSink: posts rendered alerts with chat.postMessage; it only sends (render.py renders)."""

from __future__ import annotations

import hashlib
import logging
import re
import socket
from datetime import datetime, timezone
from http.client import HTTPException
from typing import Any, Mapping
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler

from alerts.base import FAIL, OK, WARN, Alert, Check, DeliveryResult
from alerts.errors import ReconcileError, SinkConfigError, SinkDisabled
from alerts.options import Options
from alerts.render import to_block_kit

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://slack.com/api/"
EVENT_TYPE = "regwatch_alert"
# Slack "error" codes that a later retry can clear.
RETRYABLE_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# Slack "error" codes that mean the sink itself is misconfigured: no alert can go out until it is fixed.
BLOCKING_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
                   "channel_not_found", "not_in_channel", "is_archived", "missing_scope", "no_permission",
                   "ekm_access_denied", "team_access_not_granted", "restricted_action"}
HINTS = {
    "invalid_auth": "check the bot token (SLACK_BOT_TOKEN)",
    "not_authed": "check the bot token (SLACK_BOT_TOKEN)",
    "token_revoked": "issue a new bot token (SLACK_BOT_TOKEN)",
    "token_expired": "issue a new bot token (SLACK_BOT_TOKEN)",
    "account_inactive": "issue a new bot token (SLACK_BOT_TOKEN)",
    "channel_not_found": "check the channel name or use its ID",
    "not_in_channel": "invite the bot to the channel (/invite @regwatch)",
    "is_archived": "unarchive the channel or configure another one",
    "missing_scope": "add the chat:write and channels:history scopes to the Slack app",
    "invalid_blocks": "rendering bug: report it with the alert id",
    "msg_blocks_too_long": "rendering bug: report it with the alert id",
}
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")


def default_retry_handlers() -> list[RetryHandler]:
    """No SDK-level retries: the outbox retries on its own schedule.

    slack_sdk's ``ConnectionErrorRetryHandler`` would resend a ``chat.postMessage`` whose request
    may already have reached Slack (a dropped response), and Slack has no idempotency key
    (ECOSYSTEM.md §6): the post would appear twice. ``RateLimitErrorRetryHandler`` would sleep
    ``Retry-After`` while this process holds the delivery's lease. Instead ``send`` reports
    what happened (``retry_after``, ``ambiguous``) and ``pipeline.deliver`` schedules the retry,
    reconciling first after an ambiguous failure.

    Example:
        >>> default_retry_handlers()
        []
    """
    return []


def _connection_reason(exc: BaseException) -> BaseException:
    reason = getattr(exc, "reason", None)
    return reason if isinstance(reason, BaseException) else exc


def _never_sent(exc: BaseException) -> bool:
    """True when the request cannot have reached Slack (refused, DNS): resending is safe."""
    reason = _connection_reason(exc)
    return isinstance(reason, (ConnectionRefusedError, socket.gaierror))


class SlackSink:
    """Post alerts to one Slack channel with a bot token.

    Config: ``token`` (already resolved from ``{$env: SLACK_BOT_TOKEN}``; empty → disabled),
    ``channel`` (``#name`` or an ID), ``base_url`` (tests: a local fake), ``timeout`` seconds.
    The token lives only inside the ``WebClient``; ``repr`` and every result detail omit it.
    Scopes: ``chat:write`` to post; ``channels:history`` (``groups:history`` for a private
    channel) to reconcile after an ambiguous failure; ``channels:read`` to resolve a ``#name``
    to its ID before the first post (or configure the channel by ID).

    Example:
        >>> SlackSink.from_config("legal", {"kind": "slack", "token": "xoxb-secret", "channel": "#legal"})
        SlackSink(name='legal', channel='#legal', base_url='https://slack.com/api/', token=<redacted>)
        >>> SlackSink.from_config("legal", {"kind": "slack", "token": "", "channel": "#legal"})
        Traceback (most recent call last):
        ...
        alerts.errors.SinkDisabled: slack: no token (set SLACK_BOT_TOKEN)
    """

    kind = "slack"

    def __init__(self, name: str, client: WebClient, channel: str, *, token_digest: str = "") -> None:
        self.name = name
        self.client = client
        self.channel = channel
        self.channel_id: str | None = channel if _CHANNEL_ID.match(channel) else None
        self._token_digest = token_digest

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
        digest = hashlib.sha256(token.encode()).hexdigest()[:16]
        return cls(name, client, channel, token_digest=digest)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"SlackSink(name={self.name!r}, channel={self.channel!r}, base_url={self.client.base_url!r}, token=<redacted>)"

    @property
    def lease_seconds(self) -> float:
        """How long one send can take at most (the client timeout, connect + read, plus margin)."""
        return 2 * float(self.client.timeout) + 30

    def fingerprint(self) -> str:
        """Changes when the token, channel or API URL changes (a blocked sink is then tried again)."""
        return hashlib.sha256(f"{self.client.base_url}|{self.channel}|{self._token_digest}".encode()).hexdigest()[:16]

    def export_state(self) -> dict[str, Any]:
        """What to remember between runs: the channel ID learned from a post or a lookup."""
        return {"channel": self.channel, "channel_id": self.channel_id} if self.channel_id else {}

    def import_state(self, state: Mapping[str, Any]) -> None:
        """Restore a remembered channel ID (only if it was learned for the same channel)."""
        if not self.channel_id and state.get("channel") == self.channel and isinstance(state.get("channel_id"), str):
            self.channel_id = state["channel_id"]

    threads = True  # the deliver stage sets alert.thread: alerts about one document share its thread

    def send(self, alert: Alert) -> DeliveryResult:
        """Post one alert; the outbox id travels in message metadata for later reconciliation.

        An alert with ``thread`` (the ``ts`` of the first message about its document) is posted as
        a reply in that thread, also sent to the channel when it is critical (``reply_broadcast``).
        """
        message = to_block_kit(alert)
        thread = {"thread_ts": alert.thread, "reply_broadcast": alert.severity == "critical"} if alert.thread else {}
        try:
            response = self.client.chat_postMessage(
                channel=self.channel_id or self.channel,
                text=message["text"],
                blocks=message["blocks"],
                metadata={"event_type": EVENT_TYPE, "event_payload": _event_payload(alert)},
                unfurl_links=False,
                unfurl_media=False,
                **thread,
            )
        except SlackApiError as exc:
            return self._api_failure(alert, exc)
        except (URLError, HTTPException, OSError) as exc:  # refused, reset, timeout, DNS
            reason = _connection_reason(exc)
            never_sent = _never_sent(exc)
            detail = (f"slack {self.name}: connection to {self.client.base_url} failed: {type(exc).__name__}: {reason}"
                      + ("" if never_sent else " (the post may have gone through; checking before any resend)"))
            log.warning("alert %s not delivered: %s", alert.id, detail)
            return DeliveryResult.failure(detail, retryable=True, ambiguous=not never_sent)
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
        detail = f"slack {self.name}: chat.postMessage failed: HTTP {status} {error}"
        if error in HINTS:
            detail += f" ({HINTS[error]})"
        log.warning("alert %s not delivered: %s", alert.id, detail)
        if status == 429 or error == "ratelimited":
            return DeliveryResult.failure(detail, retryable=True, retry_after=_retry_after(exc.response))
        if error in BLOCKING_ERRORS:
            return DeliveryResult.failure(detail, retryable=False, blocked=True)
        if status >= 500 or error in RETRYABLE_ERRORS:
            # A 5xx may come after Slack stored the message: check before sending again.
            return DeliveryResult.failure(detail, retryable=True, ambiguous=True)
        return DeliveryResult.failure(detail, retryable=False)

    def _resolve_channel_id(self) -> str:
        """Look the channel's ID up by name (``conversations.list``, scope ``channels:read``)."""
        name = self.channel.lstrip("#")
        cursor: str | None = None
        for _ in range(20):
            try:
                page = self.client.conversations_list(types="public_channel,private_channel", exclude_archived=True,
                                                      limit=1000, cursor=cursor)
            except SlackApiError as exc:
                data = exc.response.data if isinstance(exc.response.data, dict) else {}
                raise ReconcileError(self.name, f"channel ID unknown for {self.channel} and conversations.list "
                                     f"failed: HTTP {exc.response.status_code} {data.get('error')}; configure the "
                                     "channel by ID or add the channels:read scope") from None
            except (URLError, HTTPException, OSError) as exc:
                raise ReconcileError(self.name, f"connection failed: {type(exc).__name__}") from None
            for channel in page.get("channels") or []:
                if channel.get("name") == name and isinstance(channel.get("id"), str):
                    self.channel_id = channel["id"]
                    return channel["id"]
            cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor:
                break
        raise ReconcileError(self.name, f"channel {self.channel} not found by conversations.list; configure it by ID")

    def find_posted(self, alert_id: int, *, oldest: datetime, max_pages: int = 5,
                    created_at: datetime | None = None, thread: str | None = None) -> str | None:
        """The ``ts`` of an earlier post of ``alert_id`` in this channel since ``oldest``, else None.

        Call it before retrying after an ambiguous failure (Slack has no idempotency key).
        Needs the channel ID (configured, learned from an earlier post, or looked up by name) and
        the ``channels:history`` scope. Raises :class:`ReconcileError` when it cannot tell.
        ``created_at`` (the alert's) must match too when given, so another regwatch database
        posting to the same channel (its alert ids overlap ours) is never taken for ours.
        ``thread``: the alert was posted as a reply there, which the channel's history does not
        list, so that thread is searched (``conversations.replies``).
        """
        channel_id = self.channel_id or self._resolve_channel_id()
        cursor: str | None = None
        for _ in range(max_pages):
            try:
                if thread:
                    page = self.client.conversations_replies(
                        channel=channel_id, ts=thread, oldest=f"{oldest.timestamp():.6f}", limit=200,
                        include_all_metadata=True, cursor=cursor,
                    )
                else:
                    page = self.client.conversations_history(
                        channel=channel_id, oldest=f"{oldest.timestamp():.6f}", limit=200,
                        include_all_metadata=True, cursor=cursor,
                    )
            except SlackApiError as exc:
                data = exc.response.data if isinstance(exc.response.data, dict) else {}
                raise ReconcileError(self.name, f"HTTP {exc.response.status_code} {data.get('error')}") from None
            except (URLError, HTTPException, OSError) as exc:
                raise ReconcileError(self.name, f"connection failed: {type(exc).__name__}") from None
            for msg in page.get("messages") or []:
                meta = msg.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") != EVENT_TYPE or payload.get("id") != alert_id:
                    continue
                if created_at is None or payload.get("created_at") == _stamp(created_at):
                    return msg.get("ts")
            cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor:
                return None
        raise ReconcileError(self.name, f"alert {alert_id} not found in {max_pages} pages of history; widen oldest")


    # -- doctor ------------------------------------------------------------------------------

    def check(self) -> list[Check]:
        """Test the token, channel, scopes and membership against Slack, posting nothing.

        ``auth.test`` proves the token; the ``x-oauth-scopes`` header Slack returns on Web API
        calls lists the granted scopes (``chat:write`` to post, ``channels:history`` — or
        ``groups:history`` for a private channel — to reconcile); the channel's ID comes from the
        configuration, the remembered state (:meth:`import_state`) or ``conversations.list``;
        ``conversations.info`` says whether the bot is a member. Stops after a failed
        ``auth.test`` (nothing else can work). The token never appears in a detail.
        """
        prefix = f"slack {self.name}"
        try:
            auth = self.client.auth_test()
        except SlackApiError as exc:
            return [Check(f"{prefix}: auth", FAIL, "auth.test failed: " + _api_error(exc))]
        except (URLError, HTTPException, OSError) as exc:
            reason = _connection_reason(exc)
            return [Check(f"{prefix}: auth", FAIL, f"cannot reach {self.client.base_url}: {type(reason).__name__}: "
                          f"{reason} (check the network, a proxy, or base_url)")]
        except SlackClientError as exc:
            return [Check(f"{prefix}: auth", FAIL, f"auth.test failed: client error {type(exc).__name__}")]
        who = f"bot {auth.get('user') or auth.get('user_id') or '?'} in workspace {auth.get('team') or '?'}"
        checks = [Check(f"{prefix}: auth", OK, f"token accepted (auth.test): {who}")]
        channel_check, info = self._check_channel()
        checks.append(channel_check)
        private = bool(info.get("is_private")) if info else (self.channel_id or "").startswith("G")
        checks.append(self._check_scopes(_scopes(auth), private=private))
        checks.append(self._check_membership(info, str(auth.get("user") or "regwatch")))
        return checks

    def _check_channel(self) -> tuple[Check, dict[str, Any]]:
        """The channel's ID (configured, remembered or looked up) and its ``conversations.info``."""
        name = f"slack {self.name}: channel"
        if self.channel_id is None:
            try:
                self._resolve_channel_id()
            except ReconcileError as exc:
                return Check(name, WARN, f"{self.channel}: no channel ID ({exc.detail}); posting works by name, "
                             "but a post that may have gone through cannot be checked before a resend"), {}
            how = "looked up with conversations.list"
        elif self.channel_id == self.channel:
            how = "configured by ID"
        else:
            how = "remembered from an earlier post or lookup"
        try:
            info = self.client.conversations_info(channel=self.channel_id)
        except SlackApiError as exc:
            error = _error_code(exc)
            if error == "channel_not_found":
                return Check(name, FAIL, f"{self.channel} ({self.channel_id}): conversations.info: "
                             + _api_error(exc)), {}
            return Check(name, OK, f"{self.channel} → {self.channel_id} ({how}; conversations.info failed: "
                         f"{_api_error(exc)})"), {}
        except (URLError, HTTPException, OSError) as exc:
            return Check(name, WARN, f"{self.channel} → {self.channel_id} ({how}); conversations.info: connection "
                         f"failed: {type(exc).__name__}"), {}
        data = info.get("channel") or {}
        if data.get("is_archived"):
            return Check(name, FAIL, f"{self.channel} ({self.channel_id}) is archived ({HINTS['is_archived']})"), data
        return Check(name, OK, f"{self.channel} → {self.channel_id} ({how})"), data

    def _check_scopes(self, granted: set[str] | None, *, private: bool) -> Check:
        name = f"slack {self.name}: scopes"
        history = "groups:history" if private else "channels:history"
        needed = ["chat:write", history]
        if granted is None:
            return Check(name, WARN, "Slack did not report the granted scopes (no x-oauth-scopes header); make sure "
                         f"the app has {' and '.join(needed)}")
        missing = [scope for scope in needed if scope not in granted]
        if missing:
            why = {"chat:write": "needed to post", history: "needed to check for a post before a resend"}
            return Check(name, FAIL, "missing " + ", ".join(f"{m} ({why[m]})" for m in missing)
                         + ": add it under OAuth & Permissions → Bot Token Scopes and reinstall the app")
        return Check(name, OK, ", ".join(needed) + " granted")

    def _check_membership(self, info: Mapping[str, Any], bot: str) -> Check:
        name = f"slack {self.name}: membership"
        if "is_member" not in info:
            return Check(name, WARN, f"cannot tell whether the bot is in {self.channel} (needs the channel ID and "
                         "channels:read / groups:read for conversations.info)")
        if not info["is_member"]:
            return Check(name, FAIL, f"the bot is not a member of {self.channel}: invite the bot "
                         f"(/invite @{bot} in the channel)")
        return Check(name, OK, f"the bot is a member of {self.channel}")


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    for key, value in dict(headers).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None


def _header(response: Any, name: str) -> str | None:
    """A response header, case-insensitively (slack_sdk keeps the server's spelling)."""
    for key, value in dict(getattr(response, "headers", None) or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) and value else value
    return None


def _scopes(response: Any) -> set[str] | None:
    """The scopes Slack reports as granted (``x-oauth-scopes: chat:write,channels:history``), or None.

    Example:
        >>> from types import SimpleNamespace
        >>> sorted(_scopes(SimpleNamespace(headers={"X-OAuth-Scopes": "chat:write, channels:history"})))
        ['channels:history', 'chat:write']
        >>> _scopes(SimpleNamespace(headers={})) is None
        True
    """
    raw = _header(response, "x-oauth-scopes")
    if raw is None:
        return None
    return {scope.strip() for scope in str(raw).split(",") if scope.strip()}


def _error_code(exc: SlackApiError) -> str:
    data = exc.response.data if isinstance(getattr(exc.response, "data", None), dict) else {}
    return str(data.get("error") or "unknown_error")[:200]


def _api_error(exc: SlackApiError) -> str:
    """``HTTP 200 invalid_auth (check the bot token (SLACK_BOT_TOKEN))``: the error with its hint."""
    error = _error_code(exc)
    hint = HINTS.get(error)
    status = getattr(exc.response, "status_code", None) or 0
    return f"HTTP {status} {error}" + (f" ({hint})" if hint else "")


def _stamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat()


def _event_payload(alert: Alert) -> dict[str, Any]:
    """Message metadata naming the outbox row: its id and creation time (ids alone repeat across databases)."""
    return {"id": alert.id, "created_at": _stamp(alert.created_at)}
