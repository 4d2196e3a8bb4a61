"""Withdrawals: a page that left every list and whose URL keeps answering 404/410 is withdrawn.

The crawl re-checks, on a slower cadence, the known detail URLs of a source that were not on any
of its lists in that run (``defaults.withdrawal_recheck_hours``, at most
``defaults.withdrawal_max_rechecks`` per run; ``crawlers.spiders.base``) and records each answer.
This stage applies the answers (:func:`check_withdrawals`, run by ``regwatch process`` and the
daemon's cycle after the captures are processed):

* An answer counts only when its run shows that the source's lists still parse: the run finished
  ``ok`` or ``partial``, read list entries and met no layout change or WAF challenge
  (:func:`run_counts`). A WAF page, a network error, a 5xx or a timeout at the URL itself is never
  recorded as an answer. So none of them counts, and none resets the count.
* A 404/410 adds one to the appearance's consecutive gone count; a readable page resets it
  (:func:`count_gone`); one answer per run and appearance.
* After ``defaults.withdrawal_after_checks`` consecutive gone answers (in as many runs) the
  appearance becomes ``withdrawn``; when every appearance of a document is withdrawn, the
  document is, and one ``withdrawn`` alert is queued (dedup key: document and the answer that
  completed the withdrawal, so a later withdrawal of the same document alerts again).
* A page read again (a re-check, a list, or a new capture made by ``process``) makes its
  appearance active again, and its document with it; an info ``status`` alert says so.

Each document's decision is stored in one unit of work: the answers' states, the appearance and
document statuses and the alert commit together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from pipeline.core.classify import AlertRequest
from pipeline.outbox import Routing, enqueue_request
from store import Store

GONE_STATUSES = (404, 410)
COUNTING_RUNS = ("ok", "partial")
BLIND_ERRORS = frozenset({"layout", "challenge"})  # a run that met these cannot tell a gone page from a blind reader


@dataclass(frozen=True, slots=True)
class CheckState:
    """The re-check state of one appearance (``store.models.WithdrawalCheck`` as values)."""

    url: str = ""
    gone_count: int = 0
    last_status: int | None = None
    last_checked_at: datetime | None = None
    last_run_id: int | None = None
    gone_since: datetime | None = None
    withdrawn_at: datetime | None = None
    withdrawn_by: int | None = None
    returned_at: datetime | None = None

    @classmethod
    def of(cls, row: Any) -> CheckState:
        """The state stored in a ``WithdrawalCheck`` row (None: never re-checked)."""
        if row is None:
            return cls()
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    @property
    def withdrawn(self) -> bool:
        """True while a withdrawal decided here stands (not read again since)."""
        return self.withdrawn_at is not None and (self.returned_at is None or self.returned_at < self.withdrawn_at)


@dataclass(frozen=True, slots=True)
class Answer:
    """What a re-checked URL answered in one run."""

    run_id: int
    url: str
    status: int
    outcome: str  # gone | found
    checked_at: datetime
    id: int = 0


def run_counts(status: str, errors: Sequence[Mapping[str, Any]], stats: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether answers recorded in a run count, and why not: only a run whose lists still parse.

    Example:
        >>> run_counts("ok", [], {"list_entries": 17})
        (True, '')
        >>> run_counts("failed", [{"kind": "layout"}], {"list_entries": 0})
        (False, 'the run failed')
        >>> run_counts("partial", [{"kind": "challenge"}], {"list_entries": 17})
        (False, 'the run met challenge errors')
        >>> run_counts("ok", [], {})
        (False, 'the run read no list entries')
    """
    if status not in COUNTING_RUNS:
        return False, {"failed": "the run failed", "killed": "the run was killed"}.get(status, f"the run is {status}")
    blind = sorted({str(e.get("kind")) for e in errors} & BLIND_ERRORS)
    if blind:
        return False, f"the run met {', '.join(blind)} errors"
    if int(stats.get("list_entries") or 0) <= 0:
        return False, "the run read no list entries"
    return True, ""


def count_gone(state: CheckState, answer: Answer, *, counts: bool) -> CheckState:
    """The state after one answer: a 404/410 adds one to the gone count, a readable page resets it.

    An answer of a run that does not count, or of a run already applied, changes nothing. A gone
    answer at another URL than the one counted so far starts the count again.

    Example:
        >>> from datetime import timezone
        >>> t = datetime(2025, 11, 11, tzinfo=timezone.utc)
        >>> s = count_gone(CheckState(), Answer(5, "u", 404, "gone", t), counts=True)
        >>> (s.gone_count, s.last_status, s.gone_since == t)
        (1, 404, True)
        >>> count_gone(s, Answer(6, "u", 404, "gone", t), counts=False).gone_count
        1
        >>> count_gone(s, Answer(6, "u", 200, "found", t), counts=True).gone_count
        0
    """
    if not counts or (state.last_run_id is not None and answer.run_id <= state.last_run_id):
        return state
    moved = replace(state, url=answer.url, last_status=answer.status, last_checked_at=answer.checked_at,
                    last_run_id=answer.run_id)
    if answer.outcome == "gone":
        again = state.gone_count > 0 and state.url == answer.url
        return replace(moved, gone_count=state.gone_count + 1 if again else 1,
                       gone_since=state.gone_since if again else answer.checked_at)
    if answer.outcome == "found":
        return replace(moved, gone_count=0, gone_since=None)
    return state


def seen_again(state: CheckState, now: datetime) -> CheckState:
    """The state of a withdrawn appearance that was read again: the count starts from zero.

    Example:
        >>> from datetime import timezone
        >>> t = datetime(2025, 11, 14, tzinfo=timezone.utc)
        >>> seen_again(CheckState(gone_count=3, withdrawn_at=t), t).gone_count
        0
    """
    return replace(state, gone_count=0, gone_since=None, returned_at=now)


def appearance_verdict(status: str, state: CheckState, *, threshold: int) -> str | None:
    """``withdraw``, ``restore`` or None for an appearance with ``status`` and re-check ``state``.

    Example:
        >>> appearance_verdict("active", CheckState(gone_count=3, last_status=404), threshold=3)
        'withdraw'
        >>> appearance_verdict("active", CheckState(gone_count=2, last_status=404), threshold=3) is None
        True
        >>> appearance_verdict("withdrawn", CheckState(gone_count=0, last_status=200), threshold=3)
        'restore'
    """
    if status == "active" and state.gone_count >= threshold:
        return "withdraw"
    if status == "withdrawn" and state.gone_count == 0 and state.last_status is not None \
            and state.last_status not in GONE_STATUSES:
        return "restore"
    return None


def document_verdict(status: str, appearance_statuses: Iterable[str]) -> str | None:
    """``withdraw`` when every appearance of an active document is withdrawn; ``restore`` when a
    withdrawn document has an active appearance again; else None.

    Example:
        >>> document_verdict("active", ["withdrawn", "withdrawn"]), document_verdict("active", ["withdrawn", "active"])
        ('withdraw', None)
        >>> document_verdict("withdrawn", ["active"])
        'restore'
    """
    statuses = list(appearance_statuses)
    if not statuses:
        return None
    if status == "active" and all(s == "withdrawn" for s in statuses):
        return "withdraw"
    if status == "withdrawn" and any(s == "active" for s in statuses):
        return "restore"
    return None


@dataclass(frozen=True, slots=True)
class Gone:
    """One withdrawn appearance, as the alert tells it."""

    source: str
    url: str
    last_seen: datetime
    state: CheckState


def _day(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d") if at else "?"


def withdrawn_alert(*, document_id: int, doc_key: str | None, title: str, gone: Sequence[Gone],
                    episode: int) -> AlertRequest:
    """The ``withdrawn`` alert of a document whose every appearance is withdrawn.

    Example:
        >>> from datetime import timezone
        >>> t = datetime(2025, 11, 13, tzinfo=timezone.utc)
        >>> g = Gone("mofcom", "https://www.mofcom.gov.cn/a.html", t, CheckState(gone_count=3, last_status=404,
        ...          gone_since=t, last_checked_at=t))
        >>> a = withdrawn_alert(document_id=4, doc_key="mofcom:2025:27", title="公告", gone=[g], episode=31)
        >>> (a.dedup_key, a.kind, a.severity, a.title)
        ('withdrawn:4:31', 'withdrawn', 'warning', 'mofcom:2025:27 withdrawn: 公告')
    """
    label = doc_key or (gone[0].url if gone else str(document_id))
    first = gone[0]
    statuses = sorted({str(g.state.last_status) for g in gone if g.state.last_status})
    where = ", ".join(sorted({g.source for g in gone}))
    facts: list[tuple[str, str]] = []
    for g in gone:
        prefix = f"{g.source}: " if len(gone) > 1 else ""
        facts += [(f"{prefix}URL", g.url), (f"{prefix}Last seen", g.last_seen.isoformat()),
                  (f"{prefix}Checks", f"{g.state.gone_count} × HTTP {g.state.last_status or '?'}, "
                                      f"{_day(g.state.gone_since)} → {_day(g.state.last_checked_at)}")]
    return AlertRequest(
        dedup_key=f"withdrawn:{document_id}:{episode}", kind="withdrawn", severity="warning", source=first.source,
        doc_key=doc_key, title=f"{label} withdrawn: {title}" if title else f"{label} withdrawn",
        summary=(f"{label} is no longer on any list of {where} and its page answered HTTP {'/'.join(statuses)} "
                 f"in {min(g.state.gone_count for g in gone)} checks in a row; it was last seen "
                 f"{_day(max(g.last_seen for g in gone))}. Check whether it was revoked or moved."),
        url=first.url, facts=tuple(facts[:10]), tags=("withdrawn", *(f"withdrawn:{g.source}" for g in gone)),
    )


def returned_alert(*, document_id: int, doc_key: str | None, title: str, source: str, url: str,
                   episode: int) -> AlertRequest:
    """An info ``status`` alert: a document reported withdrawn can be read again.

    Example:
        >>> returned_alert(document_id=4, doc_key="mofcom:2025:27", title="公告", source="mofcom",
        ...                url="https://www.mofcom.gov.cn/a.html", episode=31).title
        'mofcom:2025:27 is back on mofcom: 公告'
    """
    label = doc_key or url
    return AlertRequest(
        dedup_key=f"returned:{document_id}:{episode}", kind="status", severity="info", source=source,
        doc_key=doc_key, title=f"{label} is back on {source}: {title}" if title else f"{label} is back on {source}",
        summary=f"{label} was reported withdrawn; its page at {url} can be read again, so it is active again.",
        url=url, facts=(("URL", url), ("Source", source)), tags=("withdrawn:returned",),
    )


@dataclass
class WithdrawalReport:
    """What one :func:`check_withdrawals` did."""

    counted: int = 0  # answers applied
    ignored: int = 0  # answers of runs that do not count
    gone: int = 0  # answers that added to a gone count
    withdrawn_appearances: int = 0
    withdrawn_documents: int = 0
    restored_appearances: int = 0
    restored_documents: int = 0
    alerts: int = 0
    ignored_because: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def add(self, other: WithdrawalReport) -> None:
        for name, value in other.__dict__.items():
            if isinstance(value, dict):
                for key, n in value.items():
                    self.ignored_because[key] = self.ignored_because.get(key, 0) + n
            else:
                setattr(self, name, getattr(self, name) + value)


def check_withdrawals(store: Store, now: datetime, *, threshold: int, routing: Routing | None = None,
                      source: str | None = None) -> WithdrawalReport:
    """Apply the re-check answers of finished runs and decide withdrawals (see the module doc).

    Idempotent: every answer is applied once, and alerts are deduplicated, so running it again
    changes nothing. ``source`` limits it to one source's answers.

    Example:
        report = check_withdrawals(store, clock.now(), threshold=config.defaults.withdrawal_after_checks,
                                   routing=Routing.from_config(config))
    """
    report = WithdrawalReport()
    pending: dict[int, list[Any]] = defaultdict(list)
    for answer in store.pending_rechecks(source=source):
        pending[answer.document_id].append(answer)
    # withdrawn documents a new capture made active again (``process`` reactivates the appearance)
    withdrawn = [d.id for d in store.documents_with_status("withdrawn", with_active_appearance=True)
                 if d.id is not None]
    for document_id in sorted(set(pending) | set(withdrawn)):
        one = WithdrawalReport()
        with store.unit_of_work():
            _decide(store, document_id, pending.get(document_id, []), now, threshold, routing, one)
        report.add(one)  # counted only once its unit of work is stored
    return report


def _decide(store: Store, document_id: int, answers: Sequence[Any], now: datetime, threshold: int,
            routing: Routing | None, report: WithdrawalReport) -> None:
    by_appearance: dict[int, list[Any]] = defaultdict(list)
    for answer in answers:
        by_appearance[answer.appearance_id].append(answer)
    checks = store.withdrawal_checks(document_id)
    appearances = store.appearances(document_id)
    for appearance in appearances:
        app_id = appearance.id or 0
        before = state = CheckState.of(checks.get(app_id))
        if appearance.status == "active" and state.withdrawn:
            state = seen_again(state, now)  # a new capture (process) made it active again: count anew
        found_at, last_gone = None, None
        for answer in by_appearance.get(app_id, []):
            counts, why = run_counts(answer.run_status, answer.run_errors, answer.run_stats)
            new = count_gone(state, Answer(answer.run_id, answer.url, answer.status, answer.outcome,
                                           answer.checked_at, answer.id), counts=counts)
            if counts and new is state:
                counts, why = False, "a later run was applied first"
            store.mark_recheck(answer.id, "counted" if counts else "ignored", at=now)
            if not counts:
                report.ignored += 1
                report.ignored_because[why] = report.ignored_because.get(why, 0) + 1
                continue
            report.counted += 1
            if answer.outcome == "gone":
                report.gone += 1
                last_gone = answer.id
            elif answer.outcome == "found":
                found_at = answer.checked_at
            state = new
        verdict = appearance_verdict(appearance.status, state, threshold=threshold)
        if verdict == "withdraw":
            if last_gone is None:  # the threshold was lowered: the episode is the last gone answer stored
                last_gone = max((r.id or 0 for r in store.rechecks(app_id)
                                 if r.outcome == "gone" and r.applied == "counted"), default=0)
            state = replace(state, withdrawn_at=now, withdrawn_by=last_gone)
            store.set_appearance_status(app_id, "withdrawn")
            report.withdrawn_appearances += 1
        elif verdict == "restore":
            state = seen_again(state, now)
            store.set_appearance_status(app_id, "active")
            report.restored_appearances += 1
        if found_at is not None:
            store.appearance_seen(app_id, found_at)
        if state != before:
            store.save_withdrawal_check(app_id, at=now, **asdict(state))
    _decide_document(store, document_id, now, routing, report)


def _decide_document(store: Store, document_id: int, now: datetime, routing: Routing | None,
                     report: WithdrawalReport) -> None:
    doc = store.document(document_id)
    appearances = store.appearances(document_id)
    verdict = document_verdict(doc.status, [a.status for a in appearances])
    if verdict is None:
        return
    checks = {app_id: CheckState.of(row) for app_id, row in store.withdrawal_checks(document_id).items()}
    episode = max((c.withdrawn_by or 0 for c in checks.values()), default=0)
    if verdict == "withdraw":
        store.set_document_status(document_id, "withdrawn")
        report.withdrawn_documents += 1
        gone = [Gone(a.source, a.url, a.last_seen, checks.get(a.id or 0, CheckState())) for a in appearances]
        request = withdrawn_alert(document_id=document_id, doc_key=doc.key, title=doc.title, gone=gone,
                                  episode=episode)
    else:
        store.set_document_status(document_id, "active")
        report.restored_documents += 1
        back = next(a for a in appearances if a.status == "active")
        request = returned_alert(document_id=document_id, doc_key=doc.key, title=doc.title, source=back.source,
                                 url=back.url, episode=episode)
    report.alerts += enqueue_request(store, request, now, routing)


__all__ = ["Answer", "CheckState", "WithdrawalReport", "appearance_verdict", "check_withdrawals", "count_gone",
           "document_verdict", "returned_alert", "run_counts", "seen_again", "withdrawn_alert"]
