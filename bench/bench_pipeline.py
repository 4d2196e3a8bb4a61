"""Throughput and memory of extraction and the process stage (run: ``python bench/bench_pipeline.py``).

Figures printed:
- ``extract``: pages/s and ms/page for every detail-page fixture under tests/fixtures/pages (all four
  sources), and for a synthetic 1 MB announcement with an annex table of 5,000 code rows;
- ``process``: captures/s for N MOFCOM captures (half of them edited versions) through
  ``process_pending`` on a temporary SQLite file, with peak Python memory (tracemalloc).
Nothing is asserted; compare the figures between commits.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

from pipeline.extract import extract_page
from pipeline.process import process_pending
from store import Store

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "fixtures" / "pages"
DETAIL_CLASSES = {"MofcomNoticePage", "MiitNoticePage", "GovcnPolicyPage", "MetiPressPage"}
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _detail_cases() -> list[tuple[str, bytes, dict]]:
    cases = []
    for meta_path in sorted(PAGES.glob("*/*/*/meta.json")):
        case = meta_path.parent
        if case.parent.name not in DETAIL_CLASSES:
            continue
        expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
        body = next((p for p in case.iterdir() if p.name.startswith("body.")), None)
        if body is None or "error" in expected:
            continue
        cases.append((case.parts[-3], body.read_bytes(), json.loads(meta_path.read_text(encoding="utf-8"))))
    return cases


def _big_page() -> bytes:
    rows = "".join(f"<tr><td>{i}</td><td>{(i % 9) + 1}C9{i % 100:02d}.a</td><td>物项{i}</td><td>2805.30</td></tr>"
                   for i in range(5000))
    paras = "".join(f"<p>第{i}条 出口经营者应当依照有关规定向主管部门申请许可。</p>" for i in range(3000))
    html = (f'<html><head><meta name="ArticleTitle" content="商务部公告2031年第1号"></head><body>'
            f'<div class="art-con art-con-bottonmLine"><p>商务部公告2031年第1号</p>{paras}'
            f"<table>{rows}</table><p>本公告自2031年3月1日起施行。</p></div></body></html>")
    return html.encode()


def bench_extract(repeat: int) -> None:
    cases = _detail_cases()
    start = time.perf_counter()
    for _ in range(repeat):
        for source, body, meta in cases:
            extract_page(body, source=source, url=meta["url"], headers=meta.get("headers") or {},
                         status=meta.get("status", 200))
    elapsed = time.perf_counter() - start
    n = len(cases) * repeat
    print(f"extract  fixtures     {n:5d} pages  {n / elapsed:8.1f} pages/s  {1000 * elapsed / n:7.2f} ms/page")
    big = _big_page()
    url = "https://www.mofcom.gov.cn/zwgk/zcfb/art/2031/art_x.html"
    start = time.perf_counter()
    record = extract_page(big, source="mofcom", url=url)
    elapsed = time.perf_counter() - start
    tracemalloc.start()  # a second, traced run: tracing slows the code, so it is not timed
    extract_page(big, source="mofcom", url=url)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"extract  1 MB page    {len(big) / 1e6:5.2f} MB   {1000 * elapsed:8.1f} ms  "
          f"{len(record.codes)} codes  peak {peak / 1e6:.1f} MB")


def bench_process(n: int) -> None:
    source, body, meta = next(c for c in _detail_cases() if c[0] == "mofcom")
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "bench.db") as store:
        store.ensure_source("mofcom", "MOFCOM", "https://www.mofcom.gov.cn", at=T0)
        for i in range(n):
            url = meta["url"].replace(".html", f"-{i // 2}.html")
            edited = body.replace("。".encode(), f"。{i}".encode(), 1) if i % 2 else body
            store.save_capture(source="mofcom", url=url, final_url=url, status=200, headers={}, body=edited,
                               fetched_at=T0, kind="detail")
        start = time.perf_counter()
        report = process_pending(store, now=T0)
        elapsed = time.perf_counter() - start
    print(f"process  {n:5d} captures  {n / elapsed:8.1f} captures/s  {report.new_versions} versions  "
          f"{report.alerts} alerts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="passes over the page fixtures")
    parser.add_argument("--captures", type=int, default=200, help="captures for the process benchmark")
    args = parser.parse_args()
    bench_extract(args.repeat)
    bench_process(args.captures)


if __name__ == "__main__":
    main()
