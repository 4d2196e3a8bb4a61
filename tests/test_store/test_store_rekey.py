"""Migration 0004 (issue 8): a database written with the old key rule is re-keyed per DOMAIN.md B.2.

The old rule keyed ``工信部原〔2026〕9号`` and ``工信部科〔2026〕9号`` both ``miit:2026:9``, so one document
held versions of two. The database here is built the way the old pipeline wrote it (every
migration but 0004; old-form keys in documents, version fields, appearances, tags, relations and
alerts; canonical texts of the old rule), then upgraded with ``regwatch db upgrade``'s registry,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from pipeline.core.docnumber import rekey
from pipeline.extract import extract_text
from pipeline.migrations import KEY_RULES
from pipeline.migrations import MIGRATIONS as BOUND
from pipeline.core.normalize import content_hash, match_text
from pipeline.core.records import DocumentRecord, record_from_json
from store import MIGRATIONS, Migrations, NotFound, SchemaTooOld, Store, StoreError
from store.rekey import run_rekey

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)
REKEY = "0004_rekey_agency_codes"
OLD_SCHEMA = Migrations(MIGRATIONS.migrations[:MIGRATIONS.names.index(REKEY)])  # what regwatch wrote before 0004
URL_A = "https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2026/art_aaaa.html"
URL_B = "https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2026/art_bbbb.html"
URL_C = "https://www.gov.cn/zhengce/content/2024-02/01/content_c.htm"
URL_D = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2026/art_dddd.html"
URL_G = "https://www.gov.cn/zhengce/zhengceku/202603/content_b.htm"
TEXT_A = ("工信部原〔2026〕9号\n关于开展稀土试点工作的通知\n各有关单位：\n现将 有关事项通知如下，物项编号1C902。\n"
          "《稀土指令性生产计划管理暂行办法》（工信部原〔2012〕285号）同时废止。\n本通知自印发之日起施行。")
TEXT_A2 = TEXT_A.replace("1C902。", "1C902、1C903。")  # a real edit of A, same URL
TEXT_B = "工信部科〔2026〕9号\n关于公布科技试点名单的通知\n现将名单予以公布。"
TEXT_C = "国发〔2024〕5号\n国务院关于印发有关规定的通知\n现予印发。"
TEXT_D = "商务部公告2026年第3号\n关于暂停实施有关措施的公告\n工信部原〔2026〕9号自2026年3月1日起暂停实施。"
OLD_A, NEW_A, NEW_B = "miit:2026:9", "miit:工信部原:2026:9", "miit:工信部科:2026:9"
OLD_C, NEW_C = "state-council:2024:5", "state-council:国发:2024:5"


def _old_key(key: str | None) -> str | None:
    """The key the old rule gave: the agency code dropped."""
    if key is None:
        return None
    parts = key.split(":")
    return f"{parts[0]}:{parts[2]}:{parts[3]}" if len(parts) == 4 else key


def _old_canonical(title: str | None, text: str) -> str:
    """The old canonical rule: matching form, no blank lines, spaces between CJK characters kept."""
    return "\n".join(line for line in match_text(f"{title or ''}\n{text}").split("\n") if line)


def _old_fields(record: DocumentRecord) -> dict[str, Any]:
    fields = record.to_json()
    fields["doc_key"] = _old_key(fields["doc_key"])
    for r in fields["relations"]:
        r["target_key"] = _old_key(r["target_key"])
    return fields


def _record(source: str, url: str, text: str, published: date) -> DocumentRecord:
    return extract_text(text, source=source, url=url, published=published, title=text.split("\n")[1])


def _record_old(store: Store, record: DocumentRecord, minutes: int, authority: str | None = None):
    fields = _old_fields(record)
    canonical = _old_canonical(record.title, record.text)
    return store.record_version(
        source=record.source, key=fields["doc_key"], url=record.url, title=record.title or "", text=record.text,
        canonical_text=canonical, content_hash=content_hash(canonical), fields=fields,
        published=record.published, capture_id=None, seen_at=T0 + timedelta(minutes=minutes), authority=authority,
    )  # fmt: skip


def _store_old(store: Store, record: DocumentRecord, minutes: int, *, previous: int | None = None,
               fake_diff: bool = False) -> int:
    """Write one version the way the old process stage did; returns its version id."""
    fields = _old_fields(record)
    key = fields["doc_key"]
    result = _record_old(store, record, minutes, authority=record.source)
    assert result.created
    tags = [{"kind": "code", "scheme": c.scheme, "value": c.code} for c in record.codes]
    store.replace_tags(result.version_id, [*tags, {"kind": "doc_number", "value": key}])
    store.replace_relations(result.version_id, key, [
        {k: r[k] for k in ("type", "target_key", "target_text", "until", "since", "clause", "evidence")}
        for r in fields["relations"]
    ])
    diff = {"ops": [[1, "名单"]], "inserted_chars": 30, "deleted_chars": 80} if fake_diff else {}
    store.record_change(
        document_id=result.document_id, from_version_id=previous, to_version_id=result.version_id,
        kind="changed" if previous else "new", text_diff=diff, field_changes=[], created_at=T0,
        summary="title changed; text: +30/−80 chars" if previous else "new document",
    )  # fmt: skip
    store.enqueue_alert(dedup_key=f"version:{result.version_id}", kind="changed" if previous else "new",
                        severity="info", source=record.source, doc_key=key, payload={}, created_at=T0)
    return result.version_id


@pytest.fixture
def old_db(db_url) -> dict[str, int]:
    """A schema-2 database as the old rule wrote it; returns version ids by name."""
    with Store.open(db_url, migrations=OLD_SCHEMA, at=T0) as old:
        for slug, name in (("miit", "工业和信息化部"), ("govcn", "中国政府网"), ("mofcom", "商务部")):
            old.ensure_source(slug, name, f"https://{slug}.example", at=T0)
        a = _record("miit", URL_A, TEXT_A, date(2026, 3, 2))
        assert (a.doc_key, [r.target_key for r in a.relations]) == (NEW_A, ["miit:工信部原:2012:285"])
        ids = {"a1": _store_old(old, a, 0)}
        ids["b"] = _store_old(old, _record("miit", URL_B, TEXT_B, date(2026, 3, 3)), 10, previous=ids["a1"],
                              fake_diff=True)  # merged by the old key: a fake "change" of A
        copy = _record_old(old, _record("govcn", URL_G, TEXT_B, date(2026, 3, 3)), 15, authority="miit")
        assert copy.copy and not copy.created  # gov.cn's reprint of B: an appearance of the merged document
        ids["a2"] = _store_old(old, _record("miit", URL_A, TEXT_A2, date(2026, 3, 2)), 20, previous=ids["a1"])
        ids["c"] = _store_old(old, _record("govcn", URL_C, TEXT_C, date(2024, 2, 1)), 30)
        ids["c2"] = _store_old(old, _record("govcn", URL_C, TEXT_C.replace("现予印发", "现予 印发"), date(2024, 2, 1)),
                               35, previous=ids["c"])  # the old rule's fake version: one space inserted
        ids["d"] = _store_old(old, _record("mofcom", URL_D, TEXT_D, date(2026, 3, 1)), 40)
        # relations written without a citation text: one resolvable (C was never merged), one not
        old.replace_relations(ids["d"], "mofcom:2026:3", [
            {"type": "suspends", "target_key": OLD_A, "target_text": "工信部原〔2026〕9号", "since": "2026-03-01"},
            {"type": "amends", "target_key": OLD_A, "target_text": ""},
            {"type": "implements", "target_key": OLD_C, "target_text": ""},
        ])
        old.enqueue_alert(dedup_key=f"deadline:{OLD_C}:in_force>repealed:2026-06-01:lead7", kind="deadline",
                          severity="warning", source="govcn", doc_key=OLD_C, payload={}, created_at=T0)
        old.enqueue_alert(dedup_key=f"status:{OLD_A}:suspends:None:None:mofcom:2026:3", kind="status",
                          severity="critical", source="mofcom", doc_key=OLD_A, payload={}, created_at=T0)
        merged = old.document(OLD_A)
        assert [v.url for v in old.versions(merged.id)] == [URL_A, URL_B, URL_A]
        assert [(a.source, a.reference) for a in old.appearances(merged.id)] == [("miit", True), ("govcn", False)]
        assert REKEY not in old.schema_state().applied
        ids["merged_doc"] = merged.id
    return ids


def _snapshot(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return [conn.execute(sa.text(f'SELECT * FROM "{table}" ORDER BY id')).all()
                for table in ("document", "document_url", "version", "change", "tag", "relation", "alert")]


def test_old_keys_are_migrated_and_merged_documents_split(db_url, old_db) -> None:
    with pytest.raises(SchemaTooOld, match="0004_rekey_agency_codes"):
        Store.open(db_url)  # not additive: every other command asks for `regwatch db upgrade`
    with pytest.raises(StoreError, match="re-keys documents with the pipeline's document-number rules"):
        Store.open(db_url, upgrade=True)  # the store alone cannot run it

    with Store.open(db_url, migrations=BOUND, upgrade=True, at=T0 + timedelta(days=1)) as s:
        report = s.migration_reports["0004_rekey_agency_codes"]
        assert report.splitlines() == [
            f"re-keyed 1 document ({OLD_C} → {NEW_C}); split 1 merged document",
            f"  split merged document {OLD_A} into {NEW_A} (v1, v3), {NEW_B} (v2)",
            "re-keyed 4 relation targets, 2 relation sources, 6 alerts",
            "canonical text recomputed for 3 versions (1 now equal to the version before them: whitespace-only edits)",
            f"  kept as it was: relation of mofcom:2026:3 → {OLD_A} (no citation text; the old key merged "
            f"{NEW_A}, {NEW_B})",
            f"  kept as it was: 1 alert about {OLD_A} (the old key merged {NEW_A}, {NEW_B})",
        ]
        with pytest.raises(NotFound):
            s.document(OLD_A)

        # the merged document keeps A's versions (renumbered), B is a document of its own
        a, b = s.document(NEW_A), s.document(NEW_B)
        assert a.id == old_db["merged_doc"] and b.id != a.id
        assert [(v.id, v.number, v.url, v.text) for v in s.versions(a.id)] == [
            (old_db["a1"], 1, URL_A, TEXT_A), (old_db["a2"], 2, URL_A, TEXT_A2)]
        assert [(v.id, v.number, v.url, v.text) for v in s.versions(b.id)] == [(old_db["b"], 1, URL_B, TEXT_B)]
        assert (a.latest_version, a.canonical_url, a.title) == (2, URL_A, "关于开展稀土试点工作的通知")
        assert (b.latest_version, b.canonical_url, b.source, b.title) == (1, URL_B, "miit", "关于公布科技试点名单的通知")
        assert (b.first_seen, b.last_seen) == (T0 + timedelta(minutes=10), T0 + timedelta(minutes=10))
        assert [u.url for u in s.document_urls(a.id)] == [URL_A]
        assert [u.url for u in s.document_urls(b.id)] == [URL_B, URL_G]

        # appearances: one per (document, source), each with what that source last showed of it
        fresh_b_copy = _record("govcn", URL_G, TEXT_B, date(2026, 3, 3))
        got = {(x.document_id, x.source): x for x in s.appearances(a.id) + s.appearances(b.id)}
        assert {k: (x.reference, x.url) for k, x in got.items()} == {
            (a.id, "miit"): (True, URL_A), (b.id, "miit"): (True, URL_B), (b.id, "govcn"): (False, URL_G)}
        assert got[(a.id, "miit")].version_id == old_db["a2"] and got[(b.id, "miit")].version_id == old_db["b"]
        copy = got[(b.id, "govcn")]
        assert (copy.fields["doc_key"], copy.content_hash) == (NEW_B, fresh_b_copy.content_hash)

        # changes: B's fake diff against A is gone, it is a new document; A's real edit keeps its diff
        [b_new] = s.changes(b.id)
        assert (b_new.kind, b_new.from_version_id, b_new.to_version_id, b_new.text_diff) == (
            "new", None, old_db["b"], {})
        assert b_new.summary == f"new document (split from {OLD_A} when keys gained agency codes)"
        assert [(c.kind, c.from_version_id, c.to_version_id) for c in s.changes(a.id)] == [
            ("new", None, old_db["a1"]), ("changed", old_db["a1"], old_db["a2"])]
        assert [(r.document_key, r.kind, r.from_number, r.to_number) for r in s.history(key=NEW_A)] == [
            (NEW_A, "changed", 1, 2), (NEW_A, "new", None, 1)]

        # tags, stored records and relations carry the new keys
        def doc_number_tags(vid: int) -> list[str]:
            return [t.value for t in s.tags(vid) if t.kind == "doc_number"]

        assert [doc_number_tags(old_db[n]) for n in ("a1", "b", "a2", "c", "c2")] == [
            [NEW_A], [NEW_B], [NEW_A], [NEW_C], [NEW_C]]
        c1, c2 = s.versions(s.document(NEW_C).id)
        assert c1.content_hash == c2.content_hash and c2.text != c1.text  # kept, now seen as equal
        assert [t.value for t in s.tags(old_db["a2"]) if t.kind == "code"] == ["1C902", "1C903"]
        records = {n: record_from_json(s.version_by_id(old_db[n]).fields) for n in ("a1", "b", "c", "d")}
        assert [records[n].doc_key for n in ("a1", "b", "c", "d")] == [NEW_A, NEW_B, NEW_C, "mofcom:2026:3"]
        assert [r.target_key for r in records["a1"].relations] == ["miit:工信部原:2012:285"]
        assert [r.target_key for r in records["d"].relations] == [NEW_A]
        assert [(r.source_key, r.type, r.target_key) for r in s.relations_from(NEW_A)] == [
            (NEW_A, "repeals", "miit:工信部原:2012:285")]
        assert [(r.source_key, r.type) for r in s.relations_to(NEW_A)] == [("mofcom:2026:3", "suspends")]
        assert [(r.source_key, r.type) for r in s.relations_to(NEW_C)] == [("mofcom:2026:3", "implements")]
        assert [r.type for r in s.relations_to(OLD_A)] == ["amends"]  # unresolvable: kept, and reported

        # the outbox follows: an alert about a version names its own document; a sent reminder is
        # not sent again under the new key
        alerts = {a.dedup_key: a.doc_key for a in s.alerts(limit=100)}
        assert alerts[f"version:{old_db['b']}"] == NEW_B and alerts[f"version:{old_db['a2']}"] == NEW_A
        assert alerts[f"deadline:{NEW_C}:in_force>repealed:2026-06-01:lead7"] == NEW_C
        assert alerts[f"status:{OLD_A}:suspends:None:None:mofcom:2026:3"] == OLD_A
        assert not [k for k in alerts if re.search(rf"{OLD_C}(?::|$)", k)]

        # canonical texts follow the current rule: the same page seen again makes no new version
        fresh = _record("miit", URL_A, TEXT_A2.replace("现将 有关", "现将有关"), date(2026, 3, 2))
        assert s.version_by_id(old_db["a2"]).content_hash == fresh.content_hash
        again = s.record_version(
            source="miit", key=fresh.doc_key, url=URL_A, title=fresh.title or "", text=fresh.text,
            canonical_text=fresh.canonical_text, content_hash=fresh.content_hash, fields=fresh.to_json(),
            published=fresh.published, capture_id=None, seen_at=T0 + timedelta(days=2),
        )  # fmt: skip
        assert (again.created, again.document_id, again.number) == (False, a.id, 2)
        assert [h.document_key for h in s.search("科技试点")] == [NEW_B]  # the index was rebuilt

        # running it again changes nothing
        before = _snapshot(s)
        assert s.upgrade() == []
        with s.engine.begin() as conn:
            again_report = run_rekey(conn, KEY_RULES)
        assert str(again_report) == "re-keyed 0 documents; split 0 merged documents"
        assert _snapshot(s) == before
    with Store.open(db_url, migrations=BOUND, upgrade=True) as s:
        assert s.migration_reports == {} and s.schema_state().applied == MIGRATIONS.names


def test_a_fresh_database_records_the_migration_without_running_it(db_url) -> None:
    with Store.open(db_url, at=T0) as s:  # the store's own registry: nothing to run on a new database
        assert s.schema_state().applied == MIGRATIONS.names and s.migration_reports == {}


def test_a_taken_key_is_a_conflict_not_a_merge(db_url) -> None:
    """If the new key already names another document, nothing is merged: both stay, and it is reported."""
    with Store.open(db_url, migrations=OLD_SCHEMA, at=T0) as old:
        old.ensure_source("miit", "工业和信息化部", at=T0)
        _store_old(old, _record("miit", URL_B, TEXT_B, date(2026, 3, 3)), 0)
        squatter = old.record_version(  # a document some other writer already keyed the new way
            source="miit", key=NEW_B, url=URL_A, title="x", text="x", canonical_text="x", content_hash="x",
            fields={}, published=None, capture_id=None, seen_at=T0,
        )  # fmt: skip
    with Store.open(db_url, migrations=BOUND, upgrade=True) as s:
        assert f"  conflict, left as it was: {OLD_A} would become {NEW_B}, but {NEW_B} is already another " \
               "document's key" in s.migration_reports["0004_rekey_agency_codes"].splitlines()
        assert s.document(OLD_A).id != s.document(NEW_B).id == squatter.document_id


def test_key_rules_keep_keys_that_did_not_change() -> None:
    assert rekey("mofcom+gacc:2025:56", "商务部 海关总署公告2025年第56号") == "mofcom+gacc:2025:56"
    assert rekey("meti:press:20251009-001", "https://www.meti.go.jp/press/2025/10/20251009001/x.html") == (
        "meti:press:20251009-001")
    assert KEY_RULES.target_key("mofcom:2025:62", "62号") == "mofcom:2025:62"  # a list item is never a code number
    assert KEY_RULES.target_key(OLD_A, "工信部科〔2026〕9号") == NEW_B
    assert KEY_RULES.target_key(OLD_A, " ") is None


def test_db_upgrade_command_says_what_it_did(db_url, old_db, capsys) -> None:
    from pipeline.cli import main

    capsys.readouterr()
    assert main(["--db", str(db_url) if isinstance(db_url, str) else db_url.render_as_string(False),
                 "db", "upgrade"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"0004_rekey_agency_codes: re-keyed 1 document ({OLD_C} → {NEW_C}); split 1 merged document"
    assert out[1] == f"  split merged document {OLD_A} into {NEW_A} (v1, v3), {NEW_B} (v2)"
    assert out[-1].endswith(f"is at schema version {MIGRATIONS.version}")
