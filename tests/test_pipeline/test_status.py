"""Table-driven tests for legal status and transitions (tests/fixtures/tagging/status.yaml)."""

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from pipeline.core.records import DatedEvent, Relation
from pipeline.core.status import legal_status, next_transition, status_timeline

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
    assert [(c.day.isoformat(), c.status.status, c.cause) for c in timeline] == [
        ("2025-10-09", "not_yet_effective", None), ("2025-11-08", "suspended", "mofcom+gacc:2025:70"),
        ("2026-11-11", "in_force", "mofcom+gacc:2025:70")]


def test_note_explains_suspension() -> None:
    rel = Relation("suspends", "mofcom:2024:46", "2024年第46号", until=date(2026, 11, 27), clause="二")
    got = legal_status(on=date(2026, 1, 1), effective=date(2024, 12, 3), published=None,
                       incoming=[("mofcom:2025:72", rel)])
    assert got.note == "partly_suspended (二) by mofcom:2025:72 through 2026-11-27"


# -- status over the graph of relations (invented numbers) ---------------------------------------
# A suspends B1 and B2 through D1; C (published before D1) extends A's suspension to D2; D extends
# C's to D3. Relations as the tagger gives them: extensions name only the document they extend.
B1, B2, A, C, D = "mofcom:2031:11", "mofcom:2031:12", "mofcom:2031:40", "mofcom:2031:77", "mofcom:2032:5"
D1, D2, D3 = date(2031, 11, 10), date(2032, 1, 10), date(2032, 6, 30)
EFFECTIVE = date(2031, 1, 1)
STARTS = {A: date(2031, 3, 1), C: date(2031, 10, 30), D: date(2032, 1, 5)}
CHAIN = [
    (A, Relation("suspends", B1, "2031年第11号", since=date(2031, 3, 1), until=D1)),
    (A, Relation("suspends", B2, "2031年第12号", since=date(2031, 3, 1), until=D1)),
    (C, Relation("extends", A, "2031年第40号", until=D2)),
    (D, Relation("extends", C, "2031年第77号", until=D3)),
]
ONE = timedelta(days=1)


def status(day: date, graph=CHAIN, key: str = B1, starts=STARTS):
    got = legal_status(on=day, effective=EFFECTIVE, published=EFFECTIVE, key=key, incoming=graph, starts=starts)
    return got.status, got.until, got.by


@pytest.mark.parametrize(("day", "expected"), [
    (date(2031, 2, 28), ("in_force", None, ())),
    (date(2031, 10, 29), ("suspended", D1, (A,))),  # the day before C: the end as known then
    (D1 - ONE, ("suspended", D2, (A, C))),
    (D1, ("suspended", D2, (A, C))),
    (D1 + ONE, ("suspended", D2, (A, C))),  # no gap: C was published before D1 ended
    (D2, ("suspended", D3, (A, C, D))),
    (D2 + ONE, ("suspended", D3, (A, C, D))),
    (D3, ("suspended", D3, (A, C, D))),
    (D3 + ONE, ("in_force", None, ())),
])
@pytest.mark.parametrize("key", [B1, B2])
def test_extension_chain_reaches_every_suspended_document(day, expected, key) -> None:
    assert status(day, key=key) == expected


def test_chain_without_key_infers_the_document_from_the_graph() -> None:
    got = legal_status(on=D2 + ONE, effective=EFFECTIVE, published=None, incoming=CHAIN[:1] + CHAIN[2:],
                       starts=STARTS)
    assert (got.status, got.until) == ("suspended", D3)


def test_timeline_names_the_document_behind_each_change() -> None:
    timeline = status_timeline(start=None, effective=EFFECTIVE, published=EFFECTIVE, key=B2, incoming=CHAIN,
                               starts=STARTS)
    assert [(c.day, c.status.status, c.status.until, c.cause) for c in timeline] == [
        (EFFECTIVE, "in_force", None, None),
        (date(2031, 3, 1), "suspended", D1, A),
        (date(2031, 10, 30), "suspended", D2, C),
        (date(2032, 1, 5), "suspended", D3, D),
        (D3 + ONE, "in_force", None, D),
    ]
    # a moved end date is not a transition
    assert next_transition(on=date(2031, 6, 1), effective=EFFECTIVE, published=None, key=B2, incoming=CHAIN,
                           starts=STARTS) == (D3 + ONE, "in_force")


def test_extension_published_after_the_old_end_does_not_reach_back() -> None:
    late = {**STARTS, C: date(2031, 11, 20)}
    graph = CHAIN[:3]
    assert status(D1 + ONE, graph, starts=late) == ("in_force", None, ())
    assert status(date(2031, 11, 19), graph, starts=late) == ("in_force", None, ())
    assert status(date(2031, 11, 20), graph, starts=late) == ("suspended", D2, (A, C))
    assert status(D2 + ONE, graph, starts=late) == ("in_force", None, ())


def test_extension_with_unknown_start_applies_throughout() -> None:
    assert status(date(2031, 4, 1), CHAIN[:3], starts={}) == ("suspended", D2, (A, C))


@pytest.mark.parametrize(("target", "clause", "b1", "b2"), [
    (B1, None, "in_force", "suspended"),  # 自2031年7月1日起恢复实施第11号公告
    (A, None, "in_force", "in_force"),  # 第40号公告暂停实施的措施恢复实施
    (B1, "第三条", "suspended", "suspended"),  # another clause than the suspended one: no effect
])
def test_resumption_ends_the_suspension_early(target, clause, b1, b2) -> None:
    resume = ("mofcom:2031:50", Relation("resumes", target, "…", clause=clause, since=date(2031, 7, 1)))
    graph = [*CHAIN, resume]
    assert [status(date(2031, 6, 30), graph, key=k)[0] for k in (B1, B2)] == ["suspended", "suspended"]
    assert [status(date(2031, 7, 1), graph, key=k)[0] for k in (B1, B2)] == [b1, b2]
    assert status(D3 + ONE, graph, key=B1)[0] == "in_force"


def test_resumption_in_the_timeline_and_a_later_extension_does_not_reopen_it() -> None:
    resume = ("mofcom:2031:50", Relation("resumes", B1, "…", since=date(2031, 7, 1)))
    timeline = status_timeline(start=date(2031, 6, 1), effective=EFFECTIVE, published=None, key=B1,
                               incoming=[*CHAIN, resume], starts=STARTS)
    # C extends A's period after it was lifted for B1: it acts on B2 only
    assert [(c.day, c.status.status, c.cause) for c in timeline] == [
        (date(2031, 6, 1), "suspended", None),
        (date(2031, 7, 1), "in_force", "mofcom:2031:50"),
    ]
    assert status(date(2031, 11, 1), [*CHAIN, resume], key=B2) == ("suspended", D2, (A, C))


def test_repeal_of_the_suspender_ends_the_suspension_of_everything_it_suspends() -> None:
    repeal = ("mofcom:2031:60", Relation("repeals", A, "2031年第40号", since=date(2031, 8, 1)))
    graph = [*CHAIN[:2], repeal]
    for key in (B1, B2):
        assert status(date(2031, 7, 31), graph, key=key) == ("suspended", D1, (A,))
        assert status(date(2031, 8, 1), graph, key=key) == ("in_force", None, ())
    timeline = status_timeline(start=date(2031, 7, 1), effective=EFFECTIVE, published=None, key=B1,
                               incoming=graph, starts=STARTS)
    assert [(c.day, c.status.status, c.cause) for c in timeline][1:] == [
        (date(2031, 8, 1), "in_force", "mofcom:2031:60")]


def test_repealed_extension_stops_counting() -> None:
    repeal = ("mofcom:2031:90", Relation("repeals", C, "2031年第77号", since=date(2031, 12, 1)))
    graph = [*CHAIN[:3], repeal]
    assert status(date(2031, 11, 30), graph) == ("suspended", D2, (A, C))
    assert status(date(2031, 12, 1), graph) == ("in_force", None, ())  # back to D1, which has passed


def test_relation_cycle_terminates() -> None:
    graph = [*CHAIN, (A, Relation("extends", D, "2032年第5号", until=date(2040, 1, 1)))]
    assert status(D3 + ONE, graph) == ("in_force", None, ())


def test_document_known_only_from_relations_is_inferred_back_in_force_after_a_resumption() -> None:
    resume = ("mofcom:2031:50", Relation("resumes", B1, "…", since=date(2031, 7, 1)))
    got = legal_status(on=date(2031, 7, 1), effective=None, published=None, key=B1, incoming=[*CHAIN[:1], resume],
                       starts=STARTS)
    assert (got.status, got.by) == ("in_force", (A, "mofcom:2031:50"))
    assert got.note == ("inferred: suspension by mofcom:2031:40 lifted by mofcom:2031:50 from 2031-07-01; "
                        "the document's own dates are unknown")



def test_extension_of_a_suspending_notice_does_not_suspend_it() -> None:
    # "C extends A" reads the same whether A is suspended or suspends: A itself stays in force
    assert status(D1 + ONE, CHAIN, key=A) == ("in_force", None, ())
