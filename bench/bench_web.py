"""Response times of the web view's pages on a large database (run: ``python bench/bench_web.py``).

Builds a temporary SQLite database: the MOFCOM fixture announcements processed normally (so
No.58 has two versions and No.70 suspends it), then ``--docs`` synthetic documents bulk-inserted
(``--versions`` versions each, default 1, with one change per version and one code tag on the
latest; short Chinese text, or ``--text-chars`` characters of it, so the full-text index is real). Then every page is requested in-process through Starlette's TestClient and the best of
``--repeat`` runs is printed in milliseconds. Nothing is asserted; compare figures between commits.

``/deadlines`` reads the legal-status timeline of every document (like ``regwatch deadlines``),
so it grows with the database; the other pages read a bounded number of rows.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from starlette.testclient import TestClient

from pipeline.clock import FixedClock
from pipeline.process import process_pending
from pipeline.web import create_app
from store import Store
from store.models import Change, Document, Tag, Version

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "fixtures" / "pages" / "mofcom" / "MofcomNoticePage"
CASES = ("2024-46-standard", "2025-18-table", "2025-58-standard", "2025-70-ergodic", "2025-72-gonggao")
T0 = datetime(2025, 11, 10, 3, 0, tzinfo=timezone.utc)
K58 = "mofcom+gacc:2025:58"


def _save(store: Store, case: str, at: datetime) -> None:
    meta = json.loads((PAGES / case / "meta.json").read_text(encoding="utf-8"))
    store.save_capture(source="mofcom", url=meta["url"], final_url=meta["url"], status=meta["status"],
                       headers=meta["headers"], body=(PAGES / case / "body.html").read_bytes(), fetched_at=at)


def build(path: Path | str, n_docs: int, versions: int = 1, text_chars: int = 0) -> None:
    """The fixture announcements, then ``n_docs`` synthetic documents with ``versions`` versions
    each (the last one is the latest; one change per version, one code tag on the latest) whose
    text is padded with Chinese filler to about ``text_chars`` characters (0: the short text)."""
    with Store.open(path) as store:
        store.ensure_source("mofcom", "商务部", "https://www.mofcom.gov.cn", at=T0)
        for case in CASES:
            _save(store, case, T0)
        process_pending(store, now=T0)
        _save(store, "2025-58-edited-state2", T0 + timedelta(days=1))
        process_pending(store, now=T0 + timedelta(days=1))
        template = store.latest_version(store.document(K58).id)
        engine = store.engine
    fields = dict(template.fields)
    batch = 5000
    with engine.begin() as conn:
        next_id = conn.execute(sa.select(sa.func.max(Version.id))).scalar() + 1
        next_doc = conn.execute(sa.select(sa.func.max(Document.id))).scalar() + 1
        for start in range(0, n_docs, batch):
            docs, rows, changes, tags = [], [], [], []
            for i in range(start, min(n_docs, start + batch)):
                doc_id = next_doc + i
                key = f"mofcom:{1000 + i // 1000}:{i % 1000 + 1}"
                at = T0 - timedelta(minutes=n_docs - i)
                url = f"https://www.mofcom.gov.cn/zwgk/zcfb/art/synthetic/art_{i:08x}.html"
                title = f"商务部公告{1000 + i // 1000}年第{i % 1000 + 1}号 关于对物项{i}实施出口管制的公告。"[:30]
                docs.append({"id": doc_id, "key": key, "canonical_url": url, "source": "mofcom", "title": title,
                             "first_seen": at, "last_seen": at, "latest_version": versions, "status": "active"})
                for number in range(1, versions + 1):
                    version_id = next_id + i * versions + number - 1
                    text = _text(i, number, text_chars)
                    rows.append({"id": version_id, "document_id": doc_id, "number": number, "source": "mofcom",
                                 "url": url, "title": title, "text": text, "canonical_text": text,
                                 "content_hash": f"h{i}.{number}", "created_at": at,
                                 "fields": {**fields, "doc_key": key, "url": url, "title": title}})
                    changes.append({"document_id": doc_id, "to_version_id": version_id,
                                    "from_version_id": version_id - 1 if number > 1 else None,
                                    "kind": "new" if number == 1 else "changed", "text_diff": {},
                                    "field_changes": [], "summary": "new document" if number == 1 else "edited",
                                    "created_at": at})
                tags.append({"version_id": next_id + i * versions + versions - 1, "kind": "code",
                             "scheme": "cn-dual-use", "value": f"1C{i % 1000:03d}", "evidence": ""})
            conn.execute(sa.insert(Document), docs)
            conn.execute(sa.insert(Version), rows)
            conn.execute(sa.insert(Change), changes)
            conn.execute(sa.insert(Tag), tags)


_FILLER = "出口经营者应当依照有关规定向国务院商务主管部门申请许可，并如实提供相关材料。"


def _text(i: int, number: int, chars: int) -> str:
    """Version ``number`` of synthetic document ``i``: its number and code, then filler to ``chars``."""
    head = f"商务部公告{1000 + i // 1000}年第{i % 1000 + 1}号 关于对物项{i}实施出口管制的公告。编号{i:06d}。"
    if number > 1:
        head += f"第{number}次修订。"
    return head + (_FILLER * (max(0, chars - len(head)) // len(_FILLER) + 1))[: max(0, chars - len(head))]


PAGES_TO_TIME = (
    "/", "/?code=1C042", "/?kind=changed", "/?since=2025-11-11", f"/doc/{K58}", f"/doc/{K58}/diff/1..2",
    f"/doc/{K58}/diff/1..2?view=inline", "/doc/mofcom:1050:7", "/search?q=稀土", "/search?q=编号012345",
    "/alerts", "/sources", "/?format=json", "/deadlines?on=2026-11-01",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000, help="synthetic documents to add")
    parser.add_argument("--versions", type=int, default=1, help="versions per synthetic document")
    parser.add_argument("--text-chars", type=int, default=0, help="characters of text per version (0: short)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], help="paths not to time (e.g. /deadlines?on=2026-11-01)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        started = time.perf_counter()
        build(path, args.docs, args.versions, args.text_chars)
        print(f"built {args.docs} synthetic documents in {time.perf_counter() - started:.1f} s")
        store = Store.open_read_only(path)
        client = TestClient(create_app(store, clock=FixedClock(T0 + timedelta(days=2))))
        for url in PAGES_TO_TIME:
            if url in args.skip:
                continue
            best, status = float("inf"), 0
            for _ in range(args.repeat):
                t = time.perf_counter()
                status = client.get(url).status_code
                best = min(best, time.perf_counter() - t)
            print(f"{best * 1000:9.1f} ms  {status}  {url}")
        store.close()


if __name__ == "__main__":
    main()
