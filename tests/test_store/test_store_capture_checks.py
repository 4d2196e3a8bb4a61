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
