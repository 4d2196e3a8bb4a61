"""Source health: when a source's crawls keep failing, ops hear about it once per failure streak (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.classify import AlertRequest


def failure_streak(runs: Sequence[Any]) -> list[Any]:
    """The newest runs that failed in a row (``runs`` newest first; running ones are skipped)."""
    streak = []
    for run in runs:
        if run.status == "running":
            continue
        if run.status != "failed":
            break
        streak.append(run)
    return streak


def health_alert(source: str, runs: Sequence[Any], *, threshold: int) -> AlertRequest | None:
    """A ``source_health`` alert when the last ``threshold`` finished runs all failed, else None.

    The dedup key names the first failed run of the streak, so one streak raises one alert
    however long it lasts, and a new streak after a success raises a new one.
    """
    streak = failure_streak(runs)
    if len(streak) < threshold:
        return None
    first = streak[-1]
    errors = [e for run in streak[:threshold] for e in (run.errors or [])]
    kinds = sorted({str(e.get("kind", "error")) for e in errors}) or ["failed"]
    last = errors[0] if errors else {}
    return AlertRequest(
        dedup_key=f"health:{source}:streak:{first.id}",
        kind="source_health", severity="critical", source=source, doc_key=None,
        title=f"{source}: {len(streak)} crawls in a row failed ({', '.join(kinds)})",
        summary=f"last error: {last.get('message', 'no detail recorded')}"[:300].replace("\n", " "),
        url=str(last.get("url") or ""),
        facts=(("Source", source), ("Failed runs", str(len(streak))), ("Since", first.started_at.isoformat()),
               ("Error kinds", ", ".join(kinds))),
        tags=("health:failures", *(f"health:{k}" for k in kinds)),
    )


__all__ = ["failure_streak", "health_alert"]
