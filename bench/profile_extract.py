"""The extraction workload to profile (run: ``py-spy record -f raw -o out.txt -- python -m bench.profile_extract mofcom 1500``).

``mofcom N``: ``extract_page`` over N MOFCOM captures (``bench.suite_process.capture_bodies``, the
``extract only`` baseline of the process figures); ``all|mofcom-corpus|miit|govcn|meti N``: every
detail page of the extraction corpus (tests/fixtures/corpus) of that source, N times. Prints the
best ms/page over batches (the least disturbed by other processes on a shared machine).
``bench/profiles/extract.txt`` is a summary of such profiles.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pipeline.extract import extract_page

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "corpus"


def pages(kind: str) -> list[tuple[bytes, str, str, dict | None]]:
    if kind == "mofcom":
        from bench.suite_process import capture_bodies

        return [(body, "mofcom", url, None) for url, body in capture_bodies(20, 0)]
    out = []
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta["kind"] == "page" and kind in ("all", meta["source"], f"{meta['source']}-corpus"):
            out.append(((folder / "input.html").read_bytes(), meta["source"], meta["url"], meta.get("headers")))
    return out


def main(kind: str, rounds: int) -> None:
    batch = pages(kind)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for body, source, url, headers in batch:
            extract_page(body, source=source, url=url, headers=headers)
        best = min(best, (time.perf_counter() - started) / len(batch))
    print(f"extract {kind}: {len(batch)} pages x {rounds}: best {1000 * best:.2f} ms/page = {1 / best:.0f} pages/s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "mofcom", int(sys.argv[2]) if len(sys.argv) > 2 else 40)
