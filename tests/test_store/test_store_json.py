"""JSON columns keep CJK text as UTF-8 (not \\uXXXX escapes): half the bytes for Chinese fields."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from store import Store

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)


def test_fields_are_stored_as_utf8_and_read_back(db_url) -> None:
    fields = {"title": "关于对稀土物项实施出口管制的公告", "codes": [{"code": "1C902", "where": "附件"}]}
    with Store.open(db_url, at=T0) as store:
        store.ensure_source("mofcom", "商务部", at=T0)
        result = store.record_version(source="mofcom", key="mofcom:2025:1", url="https://mofcom.example/1",
                                      title="公告", text="稀土", canonical_text="稀土", content_hash="h1",
                                      fields=fields, published=None, capture_id=None, seen_at=T0)
        with store.engine.connect() as conn:
            raw = conn.execute(sa.text("SELECT CAST(fields AS TEXT) FROM version WHERE id = :id"),
                               {"id": result.version_id}).scalar_one()
        assert "稀土物项" in raw and "\\u" not in raw
        assert store.version_by_id(result.version_id).fields == fields
