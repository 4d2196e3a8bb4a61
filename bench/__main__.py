"""Every speed and memory figure of issue 11, each beside a baseline measured in the same run
(run: ``python -m bench [--docs N] [--captures N] [--quick]``).

Prints one JSON line per figure, then a table. Nothing is asserted: a figure that misses its
target is printed as it is (``ok`` false) and bench/RESULTS.md says why. Sections: short search,
CLI latency, web pages and steady state on a generated database (``bench_web.build``: 100,000
documents x 3 versions by default); process throughput, memory and storage on N MOFCOM captures;
RSS over many fast-forwarded daemon cycles; first poll and unchanged re-poll of a generated
1,000-page MOFCOM-shaped site on 127.0.0.1 (the real spider, then process), and its re-poll after 1% edits + 5 new;
the same first poll and unchanged re-poll of a generated site crawled as a configured source.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import Figure, table
from bench.suite_configured import configured_site_figures
from bench.suite_db import build_databases, cli_figures, search_figures, steady_figures, web_figures
from bench.suite_process import cycle_memory_figure, process_figures
from bench.suite_site import site_figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000, help="synthetic documents in the large database")
    parser.add_argument("--versions", type=int, default=3, help="versions per synthetic document")
    parser.add_argument("--text-chars", type=int, default=600, help="characters per synthetic version")
    parser.add_argument("--captures", type=int, default=1000, help="captures for the process figures")
    parser.add_argument("--pages", type=int, default=1000, help="announcements on the generated site")
    parser.add_argument("--cycles", type=int, default=500, help="fast-forwarded daemon cycles for RSS growth")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (the best is kept)")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run; figures not comparable)")
    args = parser.parse_args(argv)
    if args.quick:
        args.docs, args.captures, args.pages, args.cycles, args.repeat = 2000, 100, 50, 30, 1
    figures: list[Figure] = []

    def emit(new: list[Figure]) -> None:
        for figure in new:
            print(figure.json_line(), flush=True)
        figures.extend(new)

    with tempfile.TemporaryDirectory(prefix="regwatch-bench-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        big, small = build_databases(work, args.docs, args.versions, args.text_chars)
        print(f"# built {args.docs} documents x {args.versions} versions in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        emit(search_figures(big, args.repeat))
        emit(cli_figures(big, args.repeat))
        emit(web_figures(big, small, args.repeat))
        emit(steady_figures(big, small, args.repeat))
        emit(process_figures(work, args.captures))
        emit([cycle_memory_figure(small, args.cycles)])
        emit(site_figures(work, args.pages))
        emit(configured_site_figures(work, args.pages))
    print()
    print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
