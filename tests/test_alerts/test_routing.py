"""Routing table from YAML: every case reaches exactly the expected sinks, in order."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alerts.base import Alert
from alerts.errors import RouteConfigError
from alerts.routing import Route, load_routes, route, sink_names_used

TABLE = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "fixtures" / "alerts" / "routing.yaml").read_text(encoding="utf-8")
)
ROUTES = load_routes(TABLE["routes"])


@pytest.mark.parametrize("case", sorted(TABLE["cases"]), ids=sorted(TABLE["cases"]))
def test_route_case(case: str) -> None:
    spec = TABLE["cases"][case]
    alert = Alert.from_payload(1, {**TABLE["base_alert"], **spec["alert"]})
    assert route(alert, ROUTES, TABLE["default"]) == spec["expected"]


@pytest.mark.parametrize("case", sorted(TABLE["errors"]), ids=sorted(TABLE["errors"]))
def test_route_config_error(case: str) -> None:
    spec = TABLE["errors"][case]
    with pytest.raises(RouteConfigError) as info:
        load_routes(spec["routes"])
    assert str(info.value) == spec["message"]


def test_empty_default_is_rejected_even_when_a_route_matches() -> None:
    alert = Alert.from_payload(1, {**TABLE["base_alert"], "kind": "source_health", "doc_key": None})
    with pytest.raises(RouteConfigError, match=r"^default: must be a non-empty string"):
        route(alert, ROUTES, [])


def test_no_routes_means_default() -> None:
    alert = Alert.from_payload(1, TABLE["base_alert"])
    assert route(alert, load_routes(None), ["console", "console", "jsonl"]) == ["console", "jsonl"]


def test_route_accepts_single_strings_and_normalizes() -> None:
    r = Route(when={"source": "mofcom", "severity": "warning"}, to="legal")
    assert r.when == {"source": ("mofcom",), "severity": "warning"} and r.to == ("legal",)


def test_sink_names_used_lists_every_target_once() -> None:
    assert sink_names_used(ROUTES, TABLE["default"]) == ["console", "ops", "legal", "archive", "customs", "japan"]
