"""Migration 0008 (capture.checked_at / pruned_at) and what the crawl's re-check cadence reads
(``Store.last_checked``), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from store import Store

from tests.test_store.conftest import T0, at

A = "https://www.mofcom.gov.cn/art/2025/art_a.html"
B = "https://www.mofcom.gov.cn/art/2025/art_b.html"


def save(store: Store, url: str, body: bytes, minutes: int, *, final_url: str | None = None, status: int = 200,
         kind: str = "detail") -> tuple[int, bool]:
    return store.save_capture(source="mofcom", url=url, final_url=final_url or url, status=status, headers={},
                              body=body, fetched_at=at(minutes), kind=kind)


def test_an_unchanged_fetch_moves_checked_at_and_last_checked_reads_it(store: Store) -> None:
    first, created = save(store, A, b"<html>a</html>", 0)
    assert created
    assert save(store, A, b"<html>a</html>", 60) == (first, False)
    assert save(store, A, b"<html>a</html>", 30) == (first, False)  # an older fetch never moves it back
    save(store, B, b"<html>b</html>", 10, final_url=B + "?moved")
    save(store, "https://www.mofcom.gov.cn/gone.html", b"404", 5, status=404)
    save(store, "https://www.mofcom.gov.cn/list.html", b"<ul>", 5, kind="list")
    checked = store.last_checked([A, B, B + "?moved", "https://www.mofcom.gov.cn/gone.html",
                                  "https://www.mofcom.gov.cn/list.html", "https://www.mofcom.gov.cn/new.html"])
    assert checked == {A: at(60), B: at(10), B + "?moved": at(10)}  # 200 detail captures only


def test_0008_adds_the_columns_to_an_older_database(db_url) -> None:
    with Store.open(db_url, at=T0) as s:
        s.ensure_source("mofcom", "商务部", at=T0)
        cap, _ = save(s, A, b"<html>a</html>", 0)
        with s.engine.begin() as conn:
            for column in ("checked_at", "pruned_at"):
                conn.execute(sa.text(f"ALTER TABLE capture DROP COLUMN {column}"))
            conn.execute(sa.text("DELETE FROM _migrations WHERE name = '0008_capture_checks'"))
    with Store.open(db_url, at=T0 + timedelta(days=1)) as s:  # additive: applied on open
        columns = {c["name"] for c in sa.inspect(s.engine).get_columns("capture")}
        assert {"checked_at", "pruned_at"} <= columns
        assert s.last_checked([A]) == {A: at(0)}  # never fetched again: checked when it was fetched
        assert save(s, A, b"<html>a</html>", 90) == (cap, False)
        assert s.last_checked([A]) == {A: at(90)}


# -- retention ------------------------------------------------------------------------------------

DAY = 24 * 60


def _version(store: Store, capture_id: int, text: str, minutes: int) -> None:
    store.record_version(source="mofcom", key="mofcom:2025:61", url=A, title="决定", text=text, canonical_text=text,
                         content_hash=f"h:{text}", fields={"text": text}, published=None, capture_id=capture_id,
                         seen_at=at(minutes))


def test_prune_drops_only_old_bodies_nothing_needed(store: Store) -> None:
    from store import StoreError

    a1, _ = save(store, A, b"<html>v1</html>", 0)
    _version(store, a1, "正文一", 0)
    held, _ = save(store, A, b"<html>misread</html>", 1 * DAY)
    store.mark_capture(held, "held", "lost its substance", at=at(1 * DAY))
    a2, _ = save(store, A, b"<html>v2</html>", 2 * DAY)
    _version(store, a2, "正文二", 2 * DAY)
    l1, _ = save(store, "https://www.mofcom.gov.cn/list.html", b"<ul>1</ul>", 0, kind="list")
    pending, _ = save(store, "https://www.mofcom.gov.cn/list.html", b"<ul>2</ul>", 1 * DAY, kind="list")
    l3, _ = save(store, "https://www.mofcom.gov.cn/list.html", b"<ul>3</ul>", 2 * DAY, kind="list")
    recent, _ = save(store, "https://www.mofcom.gov.cn/list.html", b"<ul>4</ul>", 40 * DAY, kind="list")
    save(store, "https://www.mofcom.gov.cn/list.html", b"<ul>5</ul>", 41 * DAY, kind="list")
    for cid in (a1, a2, l1, l3, recent):
        store.mark_capture(cid, "processed", at=at(41 * DAY))
    before, now = at(30 * DAY), at(42 * DAY)
    # a1: an older version's capture; l1, l3: old list pages. Kept: a2 (latest version, appearance,
    # latest of its URL), the held and the pending capture, and everything newer than 30 days.
    assert store.prunable_captures(before) == [a1, l1, l3]
    dry = store.prune_captures(before, at=now, dry_run=True)
    assert dry == {"captures": 3, "bytes": len(b"<html>v1</html>") + 2 * len(b"<ul>1</ul>"), "dry_run": True}
    assert store.capture_body(a1) == b"<html>v1</html>"  # a dry run changes nothing
    assert store.prune_captures(before, at=now)["captures"] == 3
    try:
        store.capture_body(a1)
    except StoreError as exc:
        assert str(exc).startswith(f"capture {a1}: its raw body was pruned on 2025-11-20")
    else:
        raise AssertionError("a pruned body must not read as empty")
    for cid in (a2, held, pending, recent):
        assert store.capture_body(cid)
    doc = store.document("mofcom:2025:61")
    assert [v.text for v in store.versions(doc.id)] == ["正文一", "正文二"]  # all versions kept
    assert store.prune_captures(before, at=now)["captures"] == 0
    store.requeue_captures()
    assert a1 not in {c.id for c in store.pending_captures()}  # nothing to re-read there
