"""Appearances: copies on other sources never become versions; the authoritative copy takes over
without a diff; migration 0005 backfills appearances of a database made with the 0001/0002 schema."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from store import MIGRATIONS, Appearance, Migration, Migrations, NotFound, Store
from store.appearances import backfill_appearances
from store.fulltext import create_fulltext
from store.models import TABLES, Document, DocumentUrl, Recheck, Version, WithdrawalCheck

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)
K = "mofcom:2025:61"
M = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_61.html"
M2 = "https://exportcontrol.mofcom.gov.cn/article/zcfg/art_61.html"
G = "https://www.gov.cn/zhengce/zhengceku/202510/content_61.htm"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def rec(record, source: str, url: str, text: str, minutes: int, authority: str | None = "mofcom", key: str | None = K):
    return record(key, url, text, minutes=minutes, source=source, authority=authority)


def roles(store: Store, doc_id: int) -> dict[str, tuple[bool, str, int | None]]:
    return {a.source: (a.reference, a.content_hash, a.version_id) for a in store.appearances(doc_id)}


def test_a_copy_never_becomes_a_version(store: Store, record) -> None:
    v1 = rec(record, "mofcom", M, "a", 0)
    copy = rec(record, "govcn", G, "a (reprint)", 1)
    assert (copy.created, copy.copy, copy.reference, copy.number, copy.version_id) == (False, True, False, 1,
                                                                                       v1.version_id)
    assert (copy.appearance_created, copy.previous_version_id) == (True, None)
    again = rec(record, "govcn", G, "a (reprint, edited)", 2)
    assert (again.created, again.copy, again.appearance_created) == (False, True, False)
    assert [v.number for v in store.versions(v1.document_id)] == [1]
    assert roles(store, v1.document_id) == {"mofcom": (True, "hash:a", v1.version_id),
                                            "govcn": (False, "hash:a (reprint, edited)", None)}
    govcn = store.appearance(v1.document_id, "govcn")
    assert (govcn.url, govcn.first_seen, govcn.last_seen, govcn.canonical_text) == (G, at(1), at(2),
                                                                                    "a (reprint, edited)")
    assert govcn.fields == {"text": "a (reprint, edited)"}
    assert [(u.url, u.source) for u in store.document_urls(v1.document_id)] == [(M, "mofcom"), (G, "govcn")]


def test_a_copy_identical_to_a_version_names_it(store: Store, record) -> None:
    v1 = rec(record, "mofcom", M, "a", 0)
    rec(record, "govcn", G, "a", 1)
    assert roles(store, v1.document_id)["govcn"] == (False, "hash:a", v1.version_id)


def test_authoritative_copy_arriving_later_becomes_the_reference_silently(store: Store, record) -> None:
    founder = rec(record, "govcn", G, "a (reprint)", 0)
    assert (founder.created, founder.document_created, founder.appearance_created) == (True, True, True)
    take = rec(record, "mofcom", M, "a", 1)
    assert (take.created, take.reference, take.copy, take.number, take.previous_version_id) == (
        True, True, False, 2, founder.version_id)
    doc_id = founder.document_id
    assert roles(store, doc_id) == {"govcn": (False, "hash:a (reprint)", founder.version_id),
                                    "mofcom": (True, "hash:a", take.version_id)}
    assert store.document(doc_id).title == "公告 a"
    # the same capture again: nothing new, and no second takeover
    again = rec(record, "mofcom", M, "a", 1)
    assert (again.created, again.reference, again.version_id) == (False, False, take.version_id)
    # the copy changes: still only its appearance
    assert rec(record, "govcn", G, "a (reprint 2)", 2).copy
    # a real change on the authoritative copy is a version diffed against the reference
    real = rec(record, "mofcom", M, "b", 3)
    assert (real.created, real.reference, real.number, real.previous_version_id) == (True, False, 3, take.version_id)


def test_identical_authoritative_copy_takes_over_without_a_version(store: Store, record) -> None:
    founder = rec(record, "govcn", G, "a", 0)
    take = rec(record, "mofcom", M, "a", 1)
    assert (take.created, take.reference, take.version_id, take.number) == (False, True, founder.version_id, 1)
    assert {s: r for s, (r, _, _) in roles(store, founder.document_id).items()} == {"govcn": False, "mofcom": True}
    assert rec(record, "govcn", G, "a (edited on gov.cn)", 2).copy  # gov.cn is a copy from now on
    real = rec(record, "mofcom", M, "b", 3)
    assert (real.created, real.reference, real.number, real.previous_version_id) == (True, False, 2,
                                                                                      founder.version_id)


def test_without_an_authority_the_founding_source_stays_the_reference(store: Store, record) -> None:
    first = rec(record, "govcn", G, "a", 0, authority=None)
    assert rec(record, "mofcom", M, "b", 1, authority=None).copy
    assert rec(record, "govcn", G, "c", 2, authority=None).created
    assert {s: r for s, (r, _, _) in roles(store, first.document_id).items()} == {"govcn": True, "mofcom": False}


def test_second_url_on_the_reference_source_keeps_the_per_url_rule(store: Store, record) -> None:
    v1 = rec(record, "mofcom", M, "a", 0)
    other = rec(record, "mofcom", M2, "a-copy", 1)
    assert (other.created, other.copy, other.number) == (True, False, 2)  # as before appearances
    [appearance] = store.appearances(v1.document_id)
    assert (appearance.source, appearance.url, appearance.reference) == ("mofcom", M2, True)


def test_keyless_pages_are_their_own_appearance(store: Store, record) -> None:
    a = rec(record, "govcn", G, "x", 0, key=None)
    b = rec(record, "mofcom", M, "x", 1, key=None)
    assert a.document_id != b.document_id and b.created and b.document_created
    assert [(x.source, x.reference) for x in store.appearances(a.document_id)] == [("govcn", True)]


def test_an_older_sighting_does_not_replace_newer_content(store: Store, record) -> None:
    v1 = rec(record, "mofcom", M, "a", 0)
    rec(record, "govcn", G, "new copy", 10)
    rec(record, "govcn", G, "old copy", 5)
    govcn = store.appearance(v1.document_id, "govcn")
    assert (govcn.content_hash, govcn.first_seen, govcn.last_seen) == ("hash:new copy", at(5), at(10))


def test_appearance_status_and_lookup_errors(store: Store, record) -> None:
    v1 = rec(record, "mofcom", M, "a", 0)
    rec(record, "govcn", G, "a copy", 1)
    govcn = store.appearance(v1.document_id, "govcn")
    assert store.set_appearance_status(govcn.id, "withdrawn").status == "withdrawn"
    assert store.appearance(v1.document_id, "govcn").status == "withdrawn"
    rec(record, "govcn", G, "a copy", 2)  # seen again: active again
    assert store.appearance(v1.document_id, "govcn").status == "active"
    with pytest.raises(ValueError, match="appearance status must be one of active, withdrawn; got 'gone'"):
        store.set_appearance_status(govcn.id, "gone")
    with pytest.raises(NotFound, match=f"^no appearance '{K} on miit'; it appears on govcn, mofcom$"):
        store.appearance(v1.document_id, "miit")
    with pytest.raises(NotFound, match="^no appearance 999"):
        store.set_appearance_status(999, "active")


# -- migration 0005 ----------------------------------------------------------------------------


def _schema_0002(conn: sa.Connection) -> None:
    """What the 0001/0002 baseline built: every table but ``appearance`` (and the later re-check tables
    that refer to it), plus the full-text index."""
    later = (Appearance, Recheck, WithdrawalCheck)
    tables = [t.__table__ for t in TABLES if t not in later]  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(conn, tables=tables)
    create_fulltext(conn)


OLD = Migrations([Migration("0001_initial_schema", _schema_0002), MIGRATIONS.migrations[1]])
APPEARANCES = next(m for m in MIGRATIONS.migrations if m.name == "0005_appearances")
UPGRADED = Migrations([*MIGRATIONS.migrations[:2], APPEARANCES])
MIIT = "https://www.miit.gov.cn/zwgk/zcwj/art/2025/art_71.html"
GOV = "https://www.gov.cn/zhengce/zhengceku/202508/content_71.htm"


def _old_database(db_url) -> dict[str, int]:
    """The observed state, written as the old code did: gov.cn's reprint became version 2 of the MIIT
    order; No.61 was seen on MOFCOM and (identical, so without a version) on gov.cn; No.62 only once."""
    with Store.open(db_url, migrations=OLD, at=T0) as old:
        for slug in ("mofcom", "miit", "govcn"):
            old.ensure_source(slug, slug, at=T0)
        caps = {}
        for name, source, url, minutes in (("miit", "miit", MIIT, 0), ("gov", "govcn", GOV, 60),
                                           ("gov-again", "govcn", GOV, 120), ("m61", "mofcom", M, 0),
                                           ("g61", "govcn", G, 30), ("failed", "govcn", G, 90)):
            caps[name], _ = old.save_capture(source=source, url=url, final_url=url, status=200, headers={},
                                             body=f"{name}".encode(), fetched_at=at(minutes))
            old.mark_capture(caps[name], "failed" if name == "failed" else "processed", at=at(minutes))
        with old.engine.begin() as conn:
            docs = {}
            for name, key, source, url, first, last, latest, title in (
                ("71", "miit+ndrc+mnr:order:71", "miit", MIIT, 0, 120, 2, "令第71号"),
                ("61", K, "mofcom", M, 0, 30, 1, "公告61"),
                ("62", "mofcom:2025:62", "mofcom", "https://www.mofcom.gov.cn/62.html", 5, 5, 1, "公告62"),
            ):
                docs[name] = conn.execute(sa.insert(Document.__table__).values(  # type: ignore[attr-defined]
                    key=key, canonical_url=url, source=source, title=title, first_seen=at(first),
                    last_seen=at(last), latest_version=latest, status="active")).inserted_primary_key[0]
            for doc, url, source in (("71", MIIT, "miit"), ("71", GOV, "govcn"), ("61", M, "mofcom"),
                                     ("61", G, "govcn"), ("62", "https://www.mofcom.gov.cn/62.html", "mofcom")):
                conn.execute(sa.insert(DocumentUrl.__table__).values(  # type: ignore[attr-defined]
                    document_id=docs[doc], url=url, source=source))
            versions = {}
            for name, doc, number, source, url, capture, minutes in (
                ("71v1", "71", 1, "miit", MIIT, caps["miit"], 0), ("71v2", "71", 2, "govcn", GOV, caps["gov"], 60),
                ("61v1", "61", 1, "mofcom", M, caps["m61"], 0),
                ("62v1", "62", 1, "mofcom", "https://www.mofcom.gov.cn/62.html", None, 5),
            ):
                versions[name] = conn.execute(sa.insert(Version.__table__).values(  # type: ignore[attr-defined]
                    document_id=docs[doc], number=number, capture_id=capture, source=source, url=url,
                    title=f"title {name}", text=f"text {name}", canonical_text=f"text {name}",
                    content_hash=f"h{name}", fields={"n": name}, published=None,
                    created_at=at(minutes))).inserted_primary_key[0]
        assert "appearance" not in sa.inspect(old.engine).get_table_names()
        return {**{f"doc{k}": v for k, v in docs.items()}, **versions, **{f"cap-{k}": v for k, v in caps.items()}}


def test_migration_0005_backfills_appearances_from_the_old_schema(db_url) -> None:
    ids = _old_database(db_url)
    with Store.open(db_url, migrations=UPGRADED, at=at(200)) as s:  # additive: applied on open
        assert s.schema_state().applied == UPGRADED.names
        got = {(a.document_id, a.source): a for a in s.appearances(ids["doc71"]) + s.appearances(ids["doc61"])
               + s.appearances(ids["doc62"])}
        assert sorted((d, src) for d, src in got) == sorted([
            (ids["doc71"], "miit"), (ids["doc71"], "govcn"), (ids["doc61"], "mofcom"), (ids["doc61"], "govcn"),
            (ids["doc62"], "mofcom")])
        miit, gov = got[(ids["doc71"], "miit")], got[(ids["doc71"], "govcn")]
        # the old fake version 2 is gov.cn's: it stays the reference until MIIT is seen again
        assert (miit.reference, gov.reference) == (False, True)
        assert (miit.url, miit.first_seen, miit.last_seen, miit.capture_id, miit.version_id) == (
            MIIT, at(0), at(0), ids["cap-miit"], ids["71v1"])
        assert (gov.url, gov.first_seen, gov.last_seen, gov.capture_id, gov.version_id) == (
            GOV, at(60), at(120), ids["cap-gov-again"], ids["71v2"])
        assert (miit.content_hash, miit.canonical_text, miit.fields, miit.title) == (
            "h71v1", "text 71v1", {"n": "71v1"}, "title 71v1")
        m61, g61 = got[(ids["doc61"], "mofcom")], got[(ids["doc61"], "govcn")]
        assert (m61.reference, m61.version_id, m61.first_seen, m61.last_seen) == (True, ids["61v1"], at(0), at(0))
        # an identical copy never made a version: its text is unknown until its next capture
        assert (g61.reference, g61.version_id, g61.content_hash, g61.canonical_text) == (False, None, "", "")
        assert (g61.url, g61.first_seen, g61.last_seen, g61.capture_id) == (G, at(30), at(30), ids["cap-g61"])
        m62 = got[(ids["doc62"], "mofcom")]  # no capture: times from the document itself
        assert (m62.reference, m62.first_seen, m62.last_seen, m62.capture_id) == (True, at(5), at(5), None)
        assert all(a.status == "active" for a in got.values())

        # after the upgrade MIIT's next sighting takes over without an amendment
        r = s.record_version(source="miit", key="miit+ndrc+mnr:order:71", url=MIIT, title="令第71号",
                             text="text 71v1", canonical_text="text 71v1", content_hash="h71v1", fields={},
                             published=None, capture_id=None, seen_at=at(300), authority="miit")  # fmt: skip
        assert (r.created, r.reference, r.number, r.previous_version_id) == (True, True, 3, ids["71v2"])
        with s.engine.begin() as conn:  # running the backfill again adds nothing
            assert backfill_appearances(conn) == 0
        assert len(s.appearances(ids["doc71"])) == 2


def test_fresh_database_has_the_appearance_table(db_url) -> None:
    with Store.open(db_url, at=T0) as s:
        assert "0005_appearances" in s.schema_state().applied
        columns = {c["name"] for c in sa.inspect(s.engine).get_columns("appearance")}
        assert {"document_id", "source", "url", "first_seen", "last_seen", "status", "reference", "capture_id",
                "version_id", "content_hash", "canonical_text", "fields"} <= columns
        assert APPEARANCES.additive
