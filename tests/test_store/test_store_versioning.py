"""The versioning rule and the idempotency of every write the pipeline repeats."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from store import NotFound, Store

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)
A = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_61.html"
B = "https://exportcontrol.mofcom.gov.cn/article/zcfg/art_61.html"
K = "mofcom:2025:61"

# Each step: (key, url, text) -> (number, created, previous number or None)
SCENARIOS = {
    "same_hash_no_new_version": [
        ((K, A, "a"), (1, True, None)),
        ((K, A, "a"), (1, False, None)),
    ],
    "changed_hash_new_version": [
        ((K, A, "a"), (1, True, None)),
        ((K, A, "b"), (2, True, 1)),
        ((K, A, "b"), (2, False, 1)),
    ],
    "two_urls_one_key_no_flip_flop": [
        ((K, A, "a"), (1, True, None)),
        ((K, B, "a-copy"), (2, True, 1)),
        ((K, A, "a"), (1, False, None)),
        ((K, B, "a-copy"), (2, False, 1)),
        ((K, A, "a"), (1, False, None)),
    ],
    "revert_a_b_a_is_new_version": [
        ((K, A, "a"), (1, True, None)),
        ((K, A, "b"), (2, True, 1)),
        ((K, A, "a"), (3, True, 2)),
    ],
    "identical_copy_on_second_url": [
        ((K, A, "a"), (1, True, None)),
        ((K, B, "a"), (1, False, None)),
    ],
    "stale_copy_matching_an_old_version": [
        ((K, A, "a"), (1, True, None)),
        ((K, A, "b"), (2, True, 1)),
        ((K, B, "a"), (1, False, None)),
    ],
    "amendment_diffs_against_same_url": [
        ((K, A, "a"), (1, True, None)),
        ((K, B, "a-copy"), (2, True, 1)),
        ((K, A, "c"), (3, True, 1)),
    ],
    "keyless_identity_is_the_url": [
        ((None, A, "a"), (1, True, None)),
        ((None, A, "b"), (2, True, 1)),
    ],
    "keyless_document_adopts_its_key": [
        ((None, A, "a"), (1, True, None)),
        ((K, A, "a"), (1, False, None)),
        ((K, A, "b"), (2, True, 1)),
    ],
}


@pytest.mark.parametrize("steps", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_versioning_rule(store: Store, record, steps) -> None:
    results = [record(key, url, text, minutes=i) for i, ((key, url, text), _) in enumerate(steps)]
    doc_ids = {r.document_id for r in results}
    assert len(doc_ids) == 1
    (doc_id,) = doc_ids
    by_number = {v.number: v.id for v in store.versions(doc_id)}
    got = [(r.number, r.created, r.previous_version_id) for r in results]
    want = [(n, created, by_number[p] if p else None) for _, (n, created, p) in steps]
    assert got == want
    assert all(by_number[r.number] == r.version_id for r in results)
    doc = store.document(doc_id)
    assert doc.latest_version == max(n for _, (n, _, _) in steps)
    assert doc.last_seen == T0 + timedelta(minutes=len(steps) - 1)
    assert doc.first_seen == T0


def test_keyless_documents_at_two_urls_are_two_documents(store: Store, record) -> None:
    first, second = record(None, A, "a"), record(None, B, "a")
    assert first.document_id != second.document_id
    assert (second.number, second.created, second.document_created) == (1, True, True)


def test_alias_urls_are_recorded(store: Store, record) -> None:
    r = record(K, A, "a")
    record(K, B, "a", minutes=1, source="govcn")
    assert [(u.url, u.source) for u in store.document_urls(r.document_id)] == [(A, "mofcom"), (B, "govcn")]
    assert store.document(B).key == K
    assert store.latest_version(r.document_id, url=B) is None
    assert store.latest_version(r.document_id, url=A).number == 1


def test_record_version_rerun_is_idempotent(store: Store, record) -> None:
    record(K, A, "a")
    first = record(K, A, "b", minutes=5)
    again = record(K, A, "b", minutes=5)
    assert (again.version_id, again.number, again.previous_version_id) == (
        first.version_id, first.number, first.previous_version_id,
    )  # fmt: skip
    assert (first.created, again.created) == (True, False)
    assert [v.number for v in store.versions(first.document_id)] == [1, 2]


def test_older_sighting_does_not_move_last_seen_back(store: Store, record) -> None:
    r = record(K, A, "a", minutes=10)
    record(K, A, "a", minutes=2)
    doc = store.document(r.document_id)
    assert (doc.first_seen, doc.last_seen) == (T0 + timedelta(minutes=2), T0 + timedelta(minutes=10))


def test_record_change_is_idempotent(store: Store, record) -> None:
    v1 = record(K, A, "a")
    v2 = record(K, A, "b", minutes=1)
    args = dict(
        document_id=v2.document_id, from_version_id=v1.version_id, to_version_id=v2.version_id, kind="changed",
        text_diff={"ops": []}, field_changes=[], summary="修改", created_at=T0,
    )  # fmt: skip
    first = store.record_change(**args)
    assert store.record_change(**args) == first
    assert store.record_change(**{**args, "kind": "status"}) != first
    assert [c.kind for c in store.changes(v2.document_id)] == ["changed", "status"]
    with pytest.raises(ValueError, match="change kind must be one of new, changed, reference, withdrawn, status"):
        store.record_change(**{**args, "kind": "moved"})


def test_record_change_refuses_version_of_another_document(store: Store, record) -> None:
    mine, other = record(K, A, "a"), record("mofcom:2025:62", B, "x")
    with pytest.raises(NotFound, match=f"no version {other.version_id}; it must be a version of document"):
        store.record_change(
            document_id=mine.document_id, from_version_id=None, to_version_id=other.version_id, kind="new",
            text_diff={}, field_changes=[], summary="", created_at=T0,
        )  # fmt: skip


def test_save_capture_is_idempotent_against_the_last_capture_of_the_url(store: Store) -> None:
    def save(body: bytes, minutes: int, url: str = A) -> tuple[int, bool]:
        return store.save_capture(source="mofcom", url=url, final_url=url, status=200, headers={}, body=body,
                                  fetched_at=T0 + timedelta(minutes=minutes))  # fmt: skip

    a1 = save(b"A", 0)
    assert save(b"A", 1) == (a1[0], False)
    b1 = save(b"B", 2)
    a2 = save(b"A", 3)  # A -> B -> A: the revert is stored again
    assert (b1[1], a2[1]) == (True, True) and len({a1[0], b1[0], a2[0]}) == 3
    assert save(b"A", 4, url=B)[1] is True  # same body at another URL is another capture
    assert [store.capture_body(c.id) for c in store.pending_captures()] == [b"A", b"B", b"A", b"A"]
