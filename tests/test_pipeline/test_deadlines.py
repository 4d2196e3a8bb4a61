"""Deadlines: transitions of the status timeline, which reminders are due on a day, each only once."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from pipeline.core.deadlines import Deadline, Move, deadline_alerts, deadlines_of, due_lead, transition_deadlines
from pipeline.lookup import collect_deadlines
from pipeline.process import process_pending
from pipeline.core.records import DatedEvent, LegalStatus, Relation
from pipeline.remind import check_deadlines, issuer_timezone
from pipeline.core.status import status_timeline

LEADS = [30, 7, 1, 0]


def suspension(until: date, *, announced: date | None = date(2025, 11, 7)) -> Deadline:
    before = LegalStatus(on=until, status="suspended", until=until, by=("mofcom+gacc:2031:70",))
    after = LegalStatus(on=until, status="in_force")
    return Deadline("mofcom+gacc:2031:56", date.fromordinal(until.toordinal() + 1), before, after, announced)


@pytest.mark.parametrize(("days_left", "expected"), [(45, None), (30, 30), (29, 30), (8, 30), (7, 7), (4, 7),
                                                     (1, 1), (0, 0), (-1, None)])
def test_due_lead_is_the_smallest_lead_still_ahead(days_left: int, expected: int | None) -> None:
    assert due_lead(days_left, LEADS) == expected


@pytest.mark.parametrize(
    ("today", "dedup_suffix", "severity", "title"),
    [
        (date(2031, 10, 1), None, None, None),
        (date(2031, 10, 11), "lead30", "warning", "Deadline in 30 day(s): mofcom+gacc:2031:56 suspended until "
                                                  "2031-11-10; in force from 2031-11-11"),
        (date(2031, 11, 6), "lead7", "warning", "Deadline in 4 day(s): mofcom+gacc:2031:56 suspended until "
                                                "2031-11-10; in force from 2031-11-11"),
        (date(2031, 11, 9), "lead1", "critical", "Deadline in 1 day(s): mofcom+gacc:2031:56 suspended until "
                                                 "2031-11-10; in force from 2031-11-11"),
        (date(2031, 11, 10), "lead0", "critical", "Deadline today: mofcom+gacc:2031:56 suspended until "
                                                  "2031-11-10; in force from 2031-11-11"),
        (date(2031, 11, 11), "passed", "critical", "Deadline passed: mofcom+gacc:2031:56 suspended until "
                                                   "2031-11-10; in force from 2031-11-11"),
        (date(2032, 3, 1), None, None, None),  # beyond the grace period
    ],
)
def test_reminders_around_a_suspension_end(today, dedup_suffix, severity, title) -> None:
    alerts = deadline_alerts([suspension(date(2031, 11, 10))], today=today, lead_days=LEADS)
    if dedup_suffix is None:
        assert alerts == []
        return
    (alert,) = alerts
    assert alert.dedup_key == f"deadline:mofcom+gacc:2031:56:suspended>in_force:2031-11-11:{dedup_suffix}"
    assert (alert.kind, alert.severity, alert.title, alert.doc_key) == ("deadline", severity, title,
                                                                       "mofcom+gacc:2031:56")
    assert ("By", "mofcom+gacc:2031:70") in alert.facts


def test_changes_effective_on_publication_are_not_deadlines() -> None:
    immediate = suspension(date(2031, 11, 10), announced=date(2031, 11, 11))
    assert not immediate.scheduled
    assert deadline_alerts([immediate], today=date(2031, 11, 11), lead_days=LEADS) == []


def test_document_known_only_from_relations_is_in_force_after_its_suspension() -> None:
    rel = Relation("suspends", "x:2031:2", "2031年第2号", since=date(2031, 1, 1), until=date(2031, 11, 10))
    timeline = status_timeline(start=date(2031, 1, 1), effective=None, published=None, key="x:2031:2",
                               incoming=[("x:2031:1", rel)])
    (d,) = deadlines_of("x:2031:2", timeline)
    assert (d.after.status, d.day, d.by, d.cause) == ("in_force", date(2031, 11, 10), ("x:2031:1",), "x:2031:1")


def moved(until: date, old: date, known: date) -> Deadline:
    d = suspension(until)
    return Deadline(d.doc_key, d.starts, d.before, d.after, d.announced,
                    (Move(old, until, known, "mofcom+gacc:2031:99", known),), "mofcom+gacc:2031:99")


@pytest.mark.parametrize(("today", "expected"), [
    (date(2031, 10, 30), None),  # before the move was known
    (date(2031, 11, 1), ("moved", "Deadline moved from 2031-11-10 to 2032-01-10 by mofcom+gacc:2031:99: "
                                  "mofcom+gacc:2031:56 suspended until 2032-01-10; in force from 2032-01-11")),
    (date(2031, 12, 11), ("lead30", "Deadline in 30 day(s): mofcom+gacc:2031:56 suspended until 2032-01-10; in force "
                                    "from 2032-01-11 (moved from 2031-11-10 to 2032-01-10 by mofcom+gacc:2031:99)")),
    (date(2032, 1, 11), ("passed", "Deadline passed: mofcom+gacc:2031:56 suspended until 2032-01-10; in force from "
                                   "2032-01-11 (moved from 2031-11-10 to 2032-01-10 by mofcom+gacc:2031:99)")),
])
def test_reminders_of_a_moved_date(today, expected) -> None:
    alerts = deadline_alerts([moved(date(2032, 1, 10), date(2031, 11, 10), date(2031, 11, 1))], today=today,
                             lead_days=LEADS)
    if expected is None:
        assert alerts == []
        return
    (alert,) = alerts
    assert (alert.dedup_key, alert.title) == (f"deadline:mofcom+gacc:2031:56:suspended>in_force:2032-01-11:{expected[0]}",
                                              expected[1])
    assert ("Moved", "from 2031-11-10 to 2032-01-10 by mofcom+gacc:2031:99") in alert.facts
    assert "deadline:moved" in alert.tags


def test_moved_notice_only_shortly_after_the_move() -> None:
    far = moved(date(2033, 1, 10), date(2031, 11, 10), date(2031, 11, 1))
    assert [a.dedup_key.rsplit(":", 1)[1] for a in deadline_alerts([far], today=date(2031, 12, 31), lead_days=LEADS)] \
        == ["moved"]
    assert deadline_alerts([far], today=date(2032, 1, 1), lead_days=LEADS) == []  # 61 days after it


def test_extension_moves_the_deadline_instead_of_adding_one() -> None:
    a = Relation("suspends", "x:2031:2", "2031年第2号", since=date(2031, 1, 1), until=date(2031, 11, 10))
    c = Relation("extends", "x:2031:1", "2031年第1号", until=date(2032, 1, 10))
    timeline = status_timeline(start=date(2031, 1, 1), effective=date(2030, 1, 1), published=None, key="x:2031:2",
                               incoming=[("x:2031:1", a), ("x:2031:9", c)], starts={"x:2031:9": date(2031, 10, 30)})
    (d,) = deadlines_of("x:2031:2", timeline, lambda by: date(2031, 10, 30) if "x:2031:9" in by else date(2031, 1, 1))
    assert (d.day, d.cause, d.moves) == (date(2032, 1, 10), "x:2031:9", (
        Move(date(2031, 11, 10), date(2032, 1, 10), date(2031, 10, 30), "x:2031:9", date(2031, 10, 30)),))
    assert d.scheduled


def test_issuer_calendars() -> None:
    assert issuer_timezone("meti:press:20310109-001") == "Asia/Tokyo"
    assert issuer_timezone("mofcom+gacc:2031:56") == "Asia/Shanghai"


def test_check_deadlines_queues_each_reminder_once(store, capture_page) -> None:
    for case in ("2025-70-ergodic", "2025-72-gonggao"):
        capture_page(case)
    process_pending(store, now=datetime(2025, 11, 10, 3, tzinfo=timezone.utc))
    # 2026-11-06 04:00 UTC is noon in Beijing: No.70's six suspensions end in 4 days (7-day reminders),
    # No.72's partial suspension in 21 days (30-day reminder).
    now = datetime(2026, 11, 6, 4, tzinfo=timezone.utc)
    assert check_deadlines(store, now=now, lead_days=LEADS) == 7
    assert check_deadlines(store, now=now, lead_days=LEADS) == 0  # idempotent
    keys = sorted(a.dedup_key for a in store.alerts(limit=100) if a.kind == "deadline")
    assert keys[0] == "deadline:mofcom+gacc:2025:55:suspended>in_force:2026-11-11:lead7"
    assert keys[-1] == "deadline:mofcom:2025:62:suspended>in_force:2026-11-11:lead7"
    assert "deadline:mofcom:2024:46:partly_suspended>in_force:2026-11-28:lead30" in keys
    # the next day in Beijing starts at 16:00 UTC: the calendar of the issuer decides "today"
    assert check_deadlines(store, now=datetime(2026, 11, 9, 15, 59, tzinfo=timezone.utc), lead_days=LEADS) == 6
    assert check_deadlines(store, now=datetime(2026, 11, 9, 16, 0, tzinfo=timezone.utc), lead_days=LEADS) == 6


# -- transitional periods ------------------------------------------------------------------------

def _in_force(day: date) -> LegalStatus:
    return LegalStatus(day, "in_force")


def test_a_transitional_period_is_a_deadline_reminded_at_the_lead_days() -> None:
    ev = DatedEvent("transition_until", date(2031, 6, 30), "第五条", "过渡期至2031年6月30日")
    [d] = transition_deadlines("mofcom:2031:9", [ev, ev], _in_force, announced=date(2031, 1, 5))
    assert (d.kind, d.day, d.starts, d.clause, d.scheduled) == ("transition", date(2031, 6, 30), date(2031, 7, 1), "第五条", True)
    [coming] = deadline_alerts([d], today=date(2031, 6, 26), lead_days=LEADS)
    assert coming.dedup_key == "deadline:mofcom:2031:9:transition:2031-07-01:lead7"
    assert coming.title == ("Deadline in 4 day(s): mofcom:2031:9 (第五条) transitional period until 2031-06-30; "
                            "the old rules no longer apply from 2031-07-01")
    assert dict(coming.facts)["Now"] == "transitional period (old rules apply)"
    assert "deadline:transition" in coming.tags
    [passed] = deadline_alerts([d], today=date(2031, 7, 1), lead_days=LEADS)
    assert passed.dedup_key == "deadline:mofcom:2031:9:transition:2031-07-01:passed"


def test_no_transition_deadline_for_a_document_repealed_before_its_period_ends() -> None:
    ev = DatedEvent("transition_until", date(2031, 6, 30), None, "过渡期至2031年6月30日")
    repealed = lambda day: LegalStatus(day, "repealed" if day >= date(2031, 3, 1) else "in_force")  # noqa: E731
    assert transition_deadlines("mofcom:2031:9", [ev], repealed) == []


def test_a_stored_transitional_period_reaches_deadlines_and_reminders(store, capture_page, page_tools) -> None:
    body, _ = page_tools.read("mofcom", "MofcomNoticePage", "2025-58-standard")
    body = body.replace("本公告自2025年11月8日起正式实施。".encode(),
                        "本公告自2025年11月8日起正式实施，过渡期至2026年3月31日。".encode())
    capture_page("2025-58-standard", body=body)
    process_pending(store, now=datetime(2025, 10, 10, 3, tzinfo=timezone.utc))
    [d] = [d for d in collect_deadlines(store, date(2026, 1, 1)) if d.kind == "transition"]
    assert (d.doc_key, d.day, d.starts) == ("mofcom+gacc:2025:58", date(2026, 3, 31), date(2026, 4, 1))
    now = datetime(2026, 3, 25, 4, tzinfo=timezone.utc)  # noon in Beijing, 6 days before
    assert check_deadlines(store, now=now, lead_days=LEADS) == 1
    assert check_deadlines(store, now=now, lead_days=LEADS) == 0  # each reminder once
    [alert] = [a for a in store.alerts(limit=10) if a.kind == "deadline"]
    assert alert.dedup_key == "deadline:mofcom+gacc:2025:58:transition:2026-04-01:lead7"
