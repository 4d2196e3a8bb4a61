"""A crawl-like writer process and a CLI-like reader process share one SQLite file without
"database is locked" errors (WAL + busy timeout + BEGIN IMMEDIATE writers)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timezone

from store import Store

T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)
WRITES = 150

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta, timezone
    from store import Store

    T0 = datetime(2025, 10, 9, 10, 0, tzinfo=timezone.utc)
    with Store.open(sys.argv[1]) as store:
        for i in range(int(sys.argv[2])):
            at = T0 + timedelta(minutes=i)
            key, url = f"mofcom:2025:{i % 10}", f"https://www.mofcom.gov.cn/art/{i % 10}.html"
            r = store.record_version(source="mofcom", key=key, url=url, title=f"公告{i}", text=f"正文{i}",
                                     canonical_text=f"正文{i}", content_hash=f"h{i}", fields={"i": i},
                                     published=None, capture_id=None, seen_at=at)
            store.record_change(document_id=r.document_id, from_version_id=r.previous_version_id,
                                to_version_id=r.version_id, kind="changed" if r.previous_version_id else "new",
                                text_diff={}, field_changes=[], summary=str(i), created_at=at)
            store.enqueue_alert(dedup_key=f"change:{i}", kind="changed", severity="info", source="mofcom",
                                doc_key=key, payload={"i": i}, created_at=at)
    print("done")
    """
)


def test_writer_process_and_reader_never_lock(tmp_path) -> None:
    path = tmp_path / "regwatch.db"
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    with Store.open(path, at=T0) as store:
        store.ensure_source("mofcom", "商务部", "https://www.mofcom.gov.cn", at=T0)
        proc = subprocess.Popen(
            [sys.executable, str(script), str(path), str(WRITES)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        reads = 0
        seen_growing = set()
        while proc.poll() is None:
            rows = store.history(limit=50)
            seen_growing.add(len(store.history(limit=WRITES)))
            store.status_summary()
            if reads % 5 == 0:  # the reader writes too, like `regwatch deliver` marking alerts
                for alert in store.pending_alerts(limit=3):
                    store.plan_deliveries(alert.id, ["legal"], T0)
                    claim = store.claim_delivery(["legal"], owner="reader", now=T0, lease_seconds=60)
                    if claim is not None:
                        store.finish_delivery(claim, outcome="sent", at=T0, external_id="1.1")
            assert all(r.document_key.startswith("mofcom:2025:") for r in rows)
            reads += 1
        out, err = proc.communicate(timeout=60)
        assert (proc.returncode, out.strip()) == (0, "done"), err
        assert "locked" not in err
        assert len(seen_growing) > 1, "the reader never saw the writer's progress: no overlap was tested"
        assert len(store.history(limit=1000)) == WRITES
        assert {d: v.latest_version for d, v in ((k, store.document(f"mofcom:2025:{k}")) for k in range(10))} == {
            k: WRITES // 10 for k in range(10)
        }
        assert len(store.alerts(limit=1000)) == WRITES
