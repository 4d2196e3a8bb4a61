"""Table-driven tests for legal status and transitions (tests/fixtures/tagging/status.yaml)."""

from datetime import date
from pathlib import Path

import pytest
import yaml

from pipeline.records import DatedEvent, Relation
from pipeline.status import legal_status, next_transition, status_timeline

CASES = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "tagging" / "status.yaml").read_text("utf-8"))


def _inputs(case: dict) -> dict:
    dates = tuple(DatedEvent(d["type"], d["date"], d.get("clause")) for d in case.get("dates", []))
    incoming = [
        (r["source"], Relation(r["type"], r.get("target"), r.get("target", ""), until=r.get("until"),
                               clause=r.get("clause"), since=r.get("since")))
        for r in case.get("incoming", [])
    ]
    return {"effective": case["effective"], "published": case["published"], "dates": dates, "incoming": incoming}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_legal_status(case: dict) -> None:
    got = legal_status(on=case["day"], **_inputs(case))
    want = case["expected"]
    assert (got.on, got.status, got.until, list(got.by), list(got.clauses)) == (
        case["day"], want["status"], want["until"], want["by"], want["clauses"])


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_next_transition(case: dict) -> None:
    got = next_transition(on=case["day"], **_inputs(case))
    assert got == (tuple(case["next"]) if case["next"] else None)


def test_timeline_of_suspended_announcement() -> None:
    rel = Relation("suspends", "mofcom+gacc:2025:56", "2025年第56号", until=date(2026, 11, 10), since=date(2025, 11, 7))
    timeline = status_timeline(start=date(2025, 10, 9), effective=date(2025, 11, 8), published=date(2025, 10, 9),
                               incoming=[("mofcom+gacc:2025:70", rel)])
    assert [(d.isoformat(), s.status) for d, s in timeline] == [
        ("2025-10-09", "not_yet_effective"), ("2025-11-08", "suspended"), ("2026-11-11", "in_force")]


def test_note_explains_suspension() -> None:
    rel = Relation("suspends", "mofcom:2024:46", "2024年第46号", until=date(2026, 11, 27), clause="二")
    got = legal_status(on=date(2026, 1, 1), effective=date(2024, 12, 3), published=None,
                       incoming=[("mofcom:2025:72", rel)])
    assert got.note == "partly_suspended (二) by mofcom:2025:72 through 2026-11-27"
