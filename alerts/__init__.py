"""Alert sinks and rendering. Knows nothing of the database or crawlers.

Public API (the pipeline's deliver stage uses these):

    Alert, DeliveryResult, AlertSink            alerts.base
    build_sinks, sink_kinds, BUILTIN_SINKS      alerts.registry
    Route, load_routes, route                   alerts.routing
    to_block_kit, to_plain, escape_mrkdwn       alerts.render
    SinkDisabled, SinkConfigError, ...          alerts.errors
"""

from alerts.base import KINDS, SEVERITIES, Alert, AlertSink, DeliveryResult
from alerts.errors import AlertsError, InvalidAlert, ReconcileError, RouteConfigError, SinkConfigError, SinkDisabled
from alerts.registry import BUILTIN_SINKS, ENTRY_POINT_GROUP, build_sinks, sink_kinds
from alerts.render import escape_mrkdwn, to_block_kit, to_plain
from alerts.routing import Route, load_routes, route

__all__ = [
    "KINDS", "SEVERITIES", "Alert", "AlertSink", "DeliveryResult",
    "AlertsError", "InvalidAlert", "ReconcileError", "RouteConfigError", "SinkConfigError", "SinkDisabled",
    "BUILTIN_SINKS", "ENTRY_POINT_GROUP", "build_sinks", "sink_kinds",
    "escape_mrkdwn", "to_block_kit", "to_plain",
    "Route", "load_routes", "route",
]
