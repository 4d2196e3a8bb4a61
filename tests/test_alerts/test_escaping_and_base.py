"""escape_mrkdwn cases from YAML, Alert validation and payload round trip, doctests of alerts/*."""

from __future__ import annotations

import doctest
import importlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from alerts.base import Alert, DeliveryResult
from alerts.errors import InvalidAlert
from alerts.render import escape_mrkdwn

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alerts"
ESCAPING = yaml.safe_load((FIXTURES / "escaping.yaml").read_text(encoding="utf-8"))
MODULES = ["base", "errors", "options", "render", "routing", "console", "jsonl", "slack", "registry"]


@pytest.mark.parametrize("case", sorted(ESCAPING), ids=sorted(ESCAPING))
def test_escape_mrkdwn(case: str) -> None:
    assert escape_mrkdwn(ESCAPING[case]["text"]) == ESCAPING[case]["expected"]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"alerts.{module}"), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def sample_payload() -> dict:
    case = json.loads((FIXTURES / "render" / "new_joint_notice.alert.json").read_text(encoding="utf-8"))
    return case["payload"]


def test_payload_round_trip_through_json() -> None:
    alert = Alert.from_payload(101, sample_payload())
    again = Alert.from_payload(101, json.loads(json.dumps(alert.to_payload(), ensure_ascii=False)))
    assert again == alert
    assert alert.created_at == datetime(2025, 11, 7, 2, 15, tzinfo=timezone.utc)
    assert alert.created_at.tzinfo is timezone.utc
    assert alert.facts[1] == ("Effective", "2025-11-07")
    assert alert.tags == ("relation:suspends", "code:1C914", "code:1C915", "element:Dy")
    assert alert.to_payload()["created_at"] == "2025-11-07T02:15:00+00:00"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": "moved"}, "kind", "'moved' is not one of new, changed, withdrawn, status, deadline, source_health, sink_health"),
        ({"severity": "loud"}, "severity", "'loud' is not one of info, warning, critical"),
        ({"created_at": "2025-11-07T10:15:00"}, "created_at", "must be a timezone-aware datetime"),
        ({"created_at": "yesterday"}, "created_at", "not an ISO 8601 timestamp: 'yesterday'"),
        ({"summary": "two\nlines"}, "summary", "must be one line"),
        ({"facts": [["only label"]]}, "facts", "each entry must be a (label, value) pair"),
        ({"tags": "code:1C914"}, "tags", "must be a sequence of 'kind:value' strings"),
        ({"source": ""}, "source", "must be a non-empty source slug"),
        ({"colour": "red"}, "colour", "unknown payload key"),
    ],
)
def test_invalid_payload_names_the_field(change: dict, field: str, message: str) -> None:
    with pytest.raises(InvalidAlert) as info:
        Alert.from_payload(7, {**sample_payload(), **change})
    assert info.value.field == field and info.value.alert_id == 7
    assert str(info.value).startswith(f"alert 7: {field}: {message}")


def test_missing_payload_key() -> None:
    payload = sample_payload()
    del payload["url"]
    with pytest.raises(InvalidAlert, match=r"^alert 8: url: missing from the outbox payload$"):
        Alert.from_payload(8, payload)


def test_created_at_normalized_to_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    a = Alert(1, "new", "info", "meti", None, "T", "S", "u", datetime(2026, 1, 9, 9, 0, tzinfo=tokyo))
    assert a.created_at == datetime(2026, 1, 9, 0, 0, tzinfo=timezone.utc) and a.created_at.tzinfo is timezone.utc


def test_delivery_result_constructors() -> None:
    assert DeliveryResult.success("1.2", "ok") == DeliveryResult(True, "1.2", "ok", False)
    assert DeliveryResult.failure("HTTP 500", retryable=True) == DeliveryResult(False, None, "HTTP 500", True)
