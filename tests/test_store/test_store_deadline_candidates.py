"""Which documents the deadline reminders read: ``deadline_candidates`` finds the documents that
can have a status change after a day with a few queries instead of reading every document, and
``collect_deadlines`` over them gives exactly what a scan of every document gives (SQLite and
PostgreSQL). Invented announcements (numbers and dates are fixtures, not real measures); the
chain A → C → D is the one of test_store_status_chain.py.
"""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.lookup import StatusReader, collect_deadlines, deadline_candidates, deadlines_of_key
from tests.test_store.test_store_status_chain import (A, B1, B2, C, D, publish, publish_b1_and_a, publish_c,
                                                     publish_d)

OLD, LATER, UNRELATED = "mofcom:2030:3", "mofcom:2031:90", "mofcom:2031:91"


def full_scan(store, start: date) -> list:
    """The deadlines as computed before candidates: every stored or acted-on document's timeline."""
    reader = StatusReader(store)
    keys = sorted(set(store.document_keys()) | set(store.relation_targets()))
    found = [d for key in keys for d in deadlines_of_key(reader, key, start)]
    return sorted(found, key=lambda d: (d.starts, d.doc_key, d.kind))


@pytest.fixture
def chain_store(store):
    publish(store, "商务部公告2030年第3号", "关于有关事项的公告", date(2030, 2, 1), "本公告自发布之日起施行。")
    publish_b1_and_a(store)
    publish_c(store)
    publish_d(store)
    publish(store, "商务部公告2031年第90号", "关于实施有关措施的公告", date(2031, 12, 1),
            "现将有关事项公告如下：", "本公告自2032年3月1日起施行。")
    publish(store, "商务部公告2031年第91号", "关于有关事项的公告", date(2031, 12, 2), "本公告自发布之日起施行。")
    return store


def test_candidates_are_the_documents_with_deadlines(chain_store) -> None:
    start = date(2032, 2, 1)  # after every publication: only the extended suspension and a future effective date
    with_deadlines = {d.doc_key for d in full_scan(chain_store, start)}
    assert with_deadlines == {B1, B2, LATER}
    # plus the chain that carries the move: D states D3 itself, C and A are the links D → C → A → B1/B2
    assert set(deadline_candidates(chain_store, start)) == with_deadlines | {D, C, A}
    # B1 and B2 are found although nothing targeting them is dated after start: the extension of
    # the extension (D) of their suspender (A) moved their end date
    assert {B1, B2}.isdisjoint(chain_store.dated_keys(start)[0] | chain_store.dated_keys(start)[1])


def test_old_and_unrelated_documents_are_not_read(chain_store) -> None:
    start = date(2031, 11, 20)
    candidates = set(deadline_candidates(chain_store, start))
    assert candidates == {B1, B2, A, C, D, LATER, UNRELATED}  # UNRELATED: published after start
    assert OLD not in candidates
    assert {d.doc_key for d in full_scan(chain_store, start)} == {B1, B2, LATER}


@pytest.mark.parametrize("start", [date(2029, 1, 1), date(2031, 3, 1), date(2031, 10, 31), date(2031, 11, 11),
                                   date(2032, 1, 6), date(2032, 2, 1), date(2032, 7, 1)])
def test_collect_deadlines_equals_the_full_scan(chain_store, start) -> None:
    assert collect_deadlines(chain_store, start) == full_scan(chain_store, start)
