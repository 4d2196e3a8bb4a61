"""The process stage's database work per capture: one write transaction, one INSERT for all its tags."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import event

from pipeline.process import process_pending
from store import Store

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
PAGE = Path(__file__).resolve().parents[1] / "fixtures/pages/mofcom/MofcomNoticePage/2024-46-standard/body.html"
URL = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2024/art_b260d4842ffb6ff1985c806700ceb425-{}.html"


def test_one_write_transaction_and_one_tag_insert_per_new_document(tmp_path) -> None:
    body = PAGE.read_bytes()
    with Store.open(tmp_path / "regwatch.db") as store:
        store.ensure_source("mofcom", "商务部", "https://www.mofcom.gov.cn", at=T0)
        for i in range(4):  # four announcements: the fixture with its number changed
            store.save_capture(source="mofcom", url=URL.format(i), final_url=URL.format(i), status=200, headers={},
                               body=body.replace("2024年第46号".encode(), f"2024年第{900 + i}号".encode()),
                               fetched_at=T0, kind="detail")
        statements: list[str] = []
        event.listen(store.engine, "before_cursor_execute",
                     lambda conn, cursor, sql, params, context, many: statements.append(" ".join(sql.split())))
        report = process_pending(store, now=T0)
        assert (report.new_documents, report.processed) == (4, 4)
        assert sum(s == "BEGIN IMMEDIATE" for s in statements) == 4
        assert sum(bool(re.match(r"INSERT INTO tag\b", s)) for s in statements) == 4
        # existence checks read ids, never a whole row: a capture's body is read once (to parse it), a
        # version's text and fields never (they are what was just written); a fresh alert is written once
        assert sum(bool(re.search(r"capture\.body\b", s)) for s in statements if s.startswith("SELECT")) == 4
        assert not [s for s in statements if s.startswith("SELECT") and "version.text" in s]
        assert not [s for s in statements if re.match(r"UPDATE alert\b", s)]
        assert sum(bool(re.match(r"SELECT source\.", s)) for s in statements) == 4  # once per unit of work
        assert all(len(store.tags(v.id)) > 1 for doc in ("mofcom:2024:900", "mofcom:2024:903")
                   for v in store.versions(store.document(doc).id))
