"""Texts stored once (``store.packing``, migration 0009), on SQLite and PostgreSQL: readers see the
fields and appearance content they always saw, while the rows store each copy once; the migration
packs a database written with the old layout without changing any reader's answer."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from store import Store
from store.db import PAGE_SIZE
from store.migrations import MIGRATIONS
from store.packing import pack_fields, pack_rows, unpack_rows

from tests.test_store.conftest import T0, at

URL = "https://www.mofcom.gov.cn/art/2025/art_61.html"
COPY_URL = "https://www.gov.cn/zhengce/2025/61.html"
TITLE = "商务部公告2025年第61号 关于对稀土物项实施出口管制的公告"
TEXT = "根据《中华人民共和国出口管制法》，决定对稀土物项实施出口管制。\n本公告自公布之日起正式实施。"


def _fields(source: str, url: str, text: str, **extra: Any) -> dict[str, Any]:
    """A record's ``to_json()`` shape: the four column copies, other keys around them."""
    return {"source": source, "url": url, "doc_key": "mofcom:2025:61", "title": TITLE, "published": "2025-10-09",
            "attachments": [], "text": text, **extra}


def _record(store: Store, source: str, url: str, text: str, minutes: int, fields: dict[str, Any], **kw: Any):
    return store.record_version(source=source, key="mofcom:2025:61", url=url, title=TITLE, text=text,
                                canonical_text=f"{TITLE}\n{text}", content_hash=f"h:{text}", fields=fields,
                                published=None, capture_id=None, seen_at=at(minutes), **kw)


def _raw(store: Store, sql: str) -> list[Any]:
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value  # SQLite gives text, PostgreSQL decoded JSON


def _seen(store: Store) -> list[Any]:
    """Everything readers get of versions and appearances, key order included."""
    docs = store.documents()
    out: list[Any] = []
    for doc in docs:
        for v in store.versions(doc.id or 0):
            same = (store.version_by_id(v.id or 0), store.version(doc.id or 0, v.number))
            out.append(("version", v.number, v.text, v.canonical_text, list(v.fields.items()),
                        [list(x.fields.items()) for x in same]))
        for a in store.appearances(doc.id or 0):
            one = store.appearance(doc.id or 0, a.source)
            out.append(("appearance", a.source, a.canonical_text, list(a.fields.items()),
                        one.canonical_text, list(one.fields.items())))
    out.append(("search", [(h.document_key, h.number) for h in store.search("稀土")]))
    return out


@pytest.fixture
def history(store: Store) -> Store:
    """A document with two versions on mofcom (the authority) and a copy on govcn that differs."""
    _record(store, "mofcom", URL, TEXT, 0, _fields("mofcom", URL, TEXT), authority="mofcom")
    edited = TEXT + "\n第1次修订。"
    accepted = {"by": "alice", "at": "2025-10-10T00:00:00+00:00"}
    _record(store, "mofcom", URL, edited, 60, _fields("mofcom", URL, edited, accepted=accepted), authority="mofcom")
    reprint = TEXT + "（转载）"
    _record(store, "govcn", COPY_URL, reprint, 90, _fields("govcn", COPY_URL, reprint), authority="mofcom")
    return store


def test_readers_see_every_copy_while_rows_store_each_once(history: Store) -> None:
    doc = history.document("mofcom:2025:61")
    v1, v2 = history.versions(doc.id or 0)
    assert v1.fields == _fields("mofcom", URL, TEXT)
    assert list(v2.fields) == list(_fields("mofcom", URL, TEXT)) + ["accepted"]  # key order kept
    assert v2.fields["text"] == v2.text and v2.fields["accepted"]["by"] == "alice"
    mofcom, govcn = history.appearances(doc.id or 0)
    assert (mofcom.source, mofcom.canonical_text, mofcom.fields) == ("mofcom", v2.canonical_text, v2.fields)
    assert govcn.fields == _fields("govcn", COPY_URL, TEXT + "（转载）")
    assert govcn.canonical_text == f"{TITLE}\n{TEXT}（转载）"

    rows = _raw(history, "SELECT text, canonical_text, fields FROM version ORDER BY number")
    stored = [_json(f) for _, _, f in rows]
    assert {k: stored[0][k] for k in ("source", "url", "title")} == dict.fromkeys(("source", "url", "title"), True)
    assert [text for text, _, _ in rows] == ["", ""]  # the text is deflated against the canonical text
    assert [list(f["text"]) for f in stored] == [["deflated"], ["deflated"]]
    assert all(len(f["text"]["deflated"]) < len(TEXT.encode()) / 4 for f in stored)
    assert [c for _, c, _ in rows] == [v1.canonical_text, v2.canonical_text]  # what search reads stays plain
    assert stored[1]["accepted"] == {"by": "alice", "at": "2025-10-10T00:00:00+00:00"}
    rows = _raw(history, "SELECT source, canonical_text, fields FROM appearance ORDER BY source")
    (govcn_row, mofcom_row) = rows
    assert (mofcom_row[1], _json(mofcom_row[2])) == ("", None)  # its version's content: not stored again
    assert (govcn_row[1], _json(govcn_row[2])) == (govcn.canonical_text, govcn.fields)  # a copy keeps its own


def test_values_that_differ_from_their_column_are_stored_as_given(store: Store) -> None:
    fields = {"title": None, "text": "another text", "url": URL, "n": 1}
    result = _record(store, "mofcom", URL, TEXT, 0, fields)
    assert store.version_by_id(result.version_id).fields == fields
    (stored,) = [_json(f) for (f,) in _raw(store, "SELECT fields FROM version")]
    assert stored == {"title": None, "text": "another text", "url": True, "n": 1}
    bare = _record(store, "mofcom", URL + "?2", "正文", 10, {})
    assert store.version_by_id(bare.version_id).fields == {}  # no text key: none is added
    assert _raw(store, f"SELECT text FROM version WHERE id = {bare.version_id}") == [("正文",)]


def test_a_text_that_does_not_deflate_smaller_keeps_the_plain_column(store: Store) -> None:
    result = store.record_version(source="mofcom", key="mofcom:2025:7", url=URL, title="", text="甲",
                                  canonical_text="zzz", content_hash="h", fields={"text": "甲"}, published=None,
                                  capture_id=None, seen_at=T0)
    version = store.version_by_id(result.version_id)
    assert (version.text, version.fields) == ("甲", {"text": "甲"})
    ((text, fields),) = _raw(store, f"SELECT text, fields FROM version WHERE id = {result.version_id}")
    assert (text, _json(fields)) == ("甲", {"text": True})


def test_a_value_that_is_not_a_string_where_a_column_copy_belongs_is_refused() -> None:
    for value in (True, {"deflated": "x"}, 1):
        with pytest.raises(ValueError, match=r"fields\['title'\] must be a string or None"):
            pack_fields({"title": value}, {"title": "t"})


def test_0009_packs_an_old_database_and_every_reader_sees_the_same(db_url) -> None:
    with Store.open(db_url, at=T0) as s:
        for slug in ("mofcom", "govcn"):
            s.ensure_source(slug, slug, at=T0)
        _record(s, "mofcom", URL, TEXT, 0, _fields("mofcom", URL, TEXT), authority="mofcom")
        _record(s, "mofcom", URL, TEXT + "\n二", 60, _fields("mofcom", URL, TEXT + "\n二"), authority="mofcom")
        _record(s, "govcn", COPY_URL, TEXT + "（转载）", 90, _fields("govcn", COPY_URL, TEXT + "（转载）"),
                authority="mofcom")
        with s.engine.begin() as conn:  # the layout before 0009: every copy in its row
            unpack_rows(conn)
            conn.execute(sa.text("DELETE FROM _migrations WHERE name = '0009_texts_stored_once'"))
        assert _json(_raw(s, "SELECT fields FROM version ORDER BY number")[0][0])["text"] == TEXT
        before = _seen(s)
    with Store.open(db_url, at=T0 + timedelta(days=1)) as s:  # additive: applied on open
        assert s.schema_version == MIGRATIONS.version
        assert s.migration_reports == {"0009_texts_stored_once": "stored once: the copies of 2 version(s) and "
                                                                 "1 appearance(s)"}
        assert _seen(s) == before
        assert _raw(s, "SELECT text FROM version ORDER BY number") == [("",), ("",)]
        assert _raw(s, "SELECT canonical_text FROM appearance WHERE source = 'mofcom'") == [("",)]
        with s.engine.begin() as conn:
            assert pack_rows(conn) == (0, 0)  # idempotent


def test_a_new_sqlite_database_gets_the_larger_page_size_an_old_one_keeps_its_own(tmp_path) -> None:
    with Store.open(tmp_path / "new.db", at=T0) as s, s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == PAGE_SIZE == 8192
    old = tmp_path / "old.db"

    raw = sqlite3.connect(old)
    raw.execute("PRAGMA page_size=4096")
    raw.execute("PRAGMA journal_mode=WAL")  # writes the header: the page size is fixed from here
    raw.close()
    with Store.open(old, at=T0) as s:
        s.ensure_source("mofcom", "商务部", at=T0)
        _record(s, "mofcom", URL, TEXT, 0, _fields("mofcom", URL, TEXT))
        with s.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096
        assert s.version(s.document("mofcom:2025:61").id or 0, 1).fields["text"] == TEXT
