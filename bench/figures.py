"""One measured figure beside its same-run baseline and its target, and how they are printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Figure:
    """``value`` (in ``unit``) for ``what`` on ``workload``, next to ``baseline_value`` of
    ``baseline`` measured in the same run; ``target`` says what passes (``ok``), ``note`` why not."""

    what: str
    workload: str
    value: float | None
    unit: str
    baseline: str
    baseline_value: float | None
    target: str
    ok: bool | None
    note: str = ""

    def json_line(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def best_of(repeat: int, func: Callable[[], Any]) -> float:
    """The fastest of ``repeat`` runs of ``func``, in seconds (the machine is shared: the best run is the
    least disturbed one)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - started)
    return best


@dataclass(frozen=True)
class Run:
    seconds: float
    stdout: str


def run_process(args: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
                timeout: float = 900) -> Run:
    """Run a child to completion: wall seconds and stdout. Raises on failure."""
    started = time.perf_counter()
    proc = subprocess.Popen(list(args), cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {err.strip()[-500:]}")
    return Run(seconds, out)


def python_child(code: str, *args: str, cwd: Path | None = None, timeout: float = 900) -> Run:
    """``python -c code args…`` in this interpreter's environment (the repository on sys.path)."""
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    return run_process([sys.executable, "-c", code, *args], cwd=cwd, env=env, timeout=timeout)


def child_rss_mb(run_stdout: str) -> float:
    """The child's own peak RSS in MB, printed by it as its last line (``RSS_LINE``)."""
    return float(run_stdout.strip().splitlines()[-1])


# VmHWM, not getrusage's ru_maxrss: on Linux that keeps the parent's high-water mark across fork+exec
RSS_LINE = ("print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) / 1024)")


def table(figures: Sequence[Figure]) -> str:
    """The figures as a fixed-width text table."""
    rows = [("what", "workload", "value", "baseline (same run)", "target", "ok")]
    for f in figures:
        value = "-" if f.value is None else f"{f.value:,.3g} {f.unit}"
        base = "-" if f.baseline_value is None else f"{f.baseline_value:,.3g} {f.unit} {f.baseline}"
        rows.append((f.what, f.workload, value, base, f.target, {True: "yes", False: "NO", None: "?"}[f.ok]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {f.what}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


__all__ = ["Figure", "RSS_LINE", "Run", "best_of", "child_rss_mb", "python_child", "run_process", "table"]
