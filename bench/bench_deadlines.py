"""Deadline reminders on a large store (run: ``python bench/bench_deadlines.py [--docs 1000 10000]``).

A synthetic store of N MOFCOM-keyed documents written straight through the store (no extraction):
one in 20 is a suspension notice of the two documents before it (half of the windows already
over), one in 100 extends an earlier suspension notice, one in 50 takes effect after its
publication; publications spread over ten years. Figures printed for ``collect_deadlines`` as of a
day near the end of the range, beside the baseline measured in the same run: the full scan it
replaced (every stored or acted-on document's timeline), kept here as ``full_scan``. Both must
report the same deadlines (checked). Nothing is asserted about time; compare the columns.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from pipeline.core.deadlines import Deadline, PASSED_GRACE_DAYS
from pipeline.lookup import StatusReader, collect_deadlines, deadline_candidates, deadlines_of_key
from store import Store

T0 = datetime(2031, 1, 1, tzinfo=timezone.utc)
FIRST = date(2021, 1, 1)
TODAY = date(2031, 1, 1)


def full_scan(store: Store, start: date) -> list[Deadline]:
    """The baseline: ``collect_deadlines`` before candidates (reads every document)."""
    reader = StatusReader(store)
    keys = sorted(set(store.document_keys()) | set(store.relation_targets()))
    found = [d for key in keys for d in deadlines_of_key(reader, key, start)]
    return sorted(found, key=lambda d: (d.starts, d.doc_key, d.kind))


def _key(i: int) -> str:
    return f"mofcom:{2021 + i * 10 // _key.n}:{i + 1}"  # type: ignore[attr-defined]


def build(store: Store, n: int) -> None:
    _key.n = n  # type: ignore[attr-defined]
    store.ensure_source("mofcom", "MOFCOM", "https://www.mofcom.gov.cn", at=T0)
    span = (TODAY - FIRST).days + 60
    for i in range(n):
        key, published = _key(i), FIRST + timedelta(days=i * span // n)
        dates = [{"type": "published", "date": published.isoformat(), "clause": None, "evidence": ""}]
        relations = []
        effective = published
        if i % 50 == 7:
            effective = published + timedelta(days=90)
        dates.append({"type": "effective", "date": effective.isoformat(), "clause": None, "evidence": ""})
        if i % 20 == 19:
            until = published + timedelta(days=120 if i % 40 == 19 else 400)
            relations = [{"type": "suspends", "target_key": _key(j), "target_text": "", "until": until.isoformat(),
                          "since": published.isoformat(), "clause": None, "evidence": ""} for j in (i - 1, i - 2)]
        elif i % 100 == 53:
            until = published + timedelta(days=300)
            relations = [{"type": "extends", "target_key": _key(i - 14), "target_text": "",
                          "until": until.isoformat(), "since": None, "clause": None, "evidence": ""}]
        fields = {"doc_key": key, "published": published.isoformat(), "effective": effective.isoformat(),
                  "dates": dates, "relations": relations, "text": f"公告{i}"}
        result = store.record_version(
            source="mofcom", key=key, url=f"https://www.mofcom.gov.cn/art/{i}.html", title=f"公告{i}",
            text=f"公告{i}", canonical_text=f"公告{i}", content_hash=f"h{i}", fields=fields, published=published,
            capture_id=None, seen_at=T0)
        store.replace_tags(result.version_id, [{"kind": "date", "scheme": d["type"], "value": d["date"]}
                                               for d in dates])
        store.replace_relations(result.version_id, key, relations)


def measure(fn: Callable[[], list[Deadline]]) -> tuple[float, float, list[Deadline]]:
    start = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - start
    tracemalloc.start()  # a second, traced run: tracing slows the code, so it is not timed
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak, out


def bench(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "bench.db", at=T0) as store:
        t = time.perf_counter()
        build(store, n)
        built = time.perf_counter() - t
        start = TODAY - timedelta(days=PASSED_GRACE_DAYS + 1)
        new_s, new_peak, new = measure(lambda: collect_deadlines(store, start))
        old_s, old_peak, old = measure(lambda: full_scan(store, start))
        assert new == old, "collect_deadlines differs from the full scan"
        read = len(deadline_candidates(store, start))
    print(f"deadlines {n:6d} docs (built in {built:5.1f} s)  {len(new):4d} deadlines  "
          f"candidates {read:5d}  "
          f"collect {1000 * new_s:8.1f} ms  peak {new_peak / 1e6:6.1f} MB  |  "
          f"baseline full scan {1000 * old_s:8.1f} ms  peak {old_peak / 1e6:6.1f} MB  "
          f"({old_s / new_s:5.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[1000, 10000], help="store sizes")
    args = parser.parse_args()
    for n in args.docs:
        bench(n)


if __name__ == "__main__":
    main()
