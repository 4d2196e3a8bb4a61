"""Exceptions of the alerts package; each carries its data and formats its own message."""

from __future__ import annotations


class AlertsError(Exception):
    """Base class for every error raised by the alerts package."""


class SinkDisabled(AlertsError):
    """A sink opted out at build time (Scrapy ``NotConfigured``); logged, never fatal.

    Example:
        >>> str(SinkDisabled("slack: no token (set SLACK_BOT_TOKEN)"))
        'slack: no token (set SLACK_BOT_TOKEN)'
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class SinkConfigError(AlertsError):
    """A sink's configuration is wrong; the message names the sink, the field and the fix.

    Example:
        >>> str(SinkConfigError("legal", "channel", "missing; set channel: '#export-controls'"))
        "sink 'legal': channel: missing; set channel: '#export-controls'"
    """

    def __init__(self, sink_name: str, field: str, message: str) -> None:
        self.sink_name = sink_name
        self.field = field
        self.message = message
        super().__init__(f"sink {sink_name!r}: {field}: {message}")


class RouteConfigError(AlertsError):
    """A routing rule is malformed; ``where`` is e.g. ``"routes[2].when.severity"``.

    Example:
        >>> str(RouteConfigError("routes[0].when", "unknown key 'sevrity'; known: kind, severity"))
        "routes[0].when: unknown key 'sevrity'; known: kind, severity"
    """

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")


class InvalidAlert(AlertsError):
    """An alert (or its outbox payload) has a missing or invalid field.

    Example:
        >>> str(InvalidAlert(7, "severity", "'loud' is not one of info, warning, critical"))
        "alert 7: severity: 'loud' is not one of info, warning, critical"
    """

    def __init__(self, alert_id: object, field: str, message: str) -> None:
        self.alert_id = alert_id
        self.field = field
        self.message = message
        super().__init__(f"alert {alert_id}: {field}: {message}")


class ReconcileError(AlertsError):
    """Checking whether an alert was already posted failed; do not repost blindly.

    Example:
        >>> str(ReconcileError("legal", "HTTP 500 internal_error"))
        "sink 'legal': cannot check for an earlier post: HTTP 500 internal_error"
    """

    def __init__(self, sink_name: str, detail: str) -> None:
        self.sink_name = sink_name
        self.detail = detail
        super().__init__(f"sink {sink_name!r}: cannot check for an earlier post: {detail}")
