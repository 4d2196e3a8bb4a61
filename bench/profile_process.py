"""The process-stage workload to profile (run: ``py-spy record -f raw -o out.txt -- python -m bench.profile_process 300``).

N new MOFCOM captures (distinct documents: ``bench.suite_process.capture_bodies``) processed into a
fresh SQLite file; prints documents/s. ``bench/profiles/process.txt`` is a summary of such a profile.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.suite_process import capture_bodies
from pipeline.process import process_pending
from store import Store

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "profile.db") as store:
        store.ensure_source("mofcom", "MOFCOM", "https://www.mofcom.gov.cn", at=T0)
        for url, body in capture_bodies(n, 0):
            store.save_capture(source="mofcom", url=url, final_url=url, status=200, headers={}, body=body,
                               fetched_at=T0, kind="detail")
        started = time.perf_counter()
        report = process_pending(store, now=T0)
        print(f"process {n} captures: {report.new_documents / (time.perf_counter() - started):.1f} new documents/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
