"""pipeline.core.fielddiff: table-driven cases from tests/fixtures/diff/fielddiffs.yaml plus properties."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.fielddiff import field_changes, summarize
from pipeline.core.records import (
    Attachment,
    CodeTag,
    DatedEvent,
    DocNumber,
    DocumentRecord,
    FieldChange,
    Relation,
    TextDiff,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "diff" / "fielddiffs.yaml"
CASES = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def record(spec: dict[str, Any]) -> DocumentRecord:
    """A DocumentRecord from a small YAML dict; unspecified fields take neutral defaults."""
    doc_number = spec.get("doc_number")
    return DocumentRecord(
        source=spec.get("source", "mofcom"),
        url=spec.get("url", "https://example.test/art/1.html"),
        title=spec.get("title", "关于某物项实施出口管制的公告"),
        language=spec.get("language", "zh"),
        text=spec.get("text", "正文。"),
        canonical_text=spec.get("text", "正文。"),
        content_hash=spec.get("content_hash", "0" * 64),
        doc_number=DocNumber(
            issuers=tuple(doc_number["issuers"]),
            kind=doc_number.get("kind", "year"),
            number=str(doc_number["number"]),
            year=doc_number.get("year"),
            text=doc_number.get("text", ""),
        )
        if doc_number
        else None,
        published=_date(spec.get("published")),
        signed=_date(spec.get("signed")),
        effective=_date(spec.get("effective")),
        dates=tuple(
            DatedEvent(d["type"], _date(d["date"]), d.get("clause"), d.get("evidence", ""))  # type: ignore[arg-type]
            for d in spec.get("dates", [])
        ),
        codes=tuple(CodeTag(c["scheme"], c["code"], c.get("evidence", "")) for c in spec.get("codes", [])),
        elements=tuple(spec.get("elements", [])),
        hs_codes=tuple(str(h) for h in spec.get("hs_codes", [])),
        relations=tuple(
            Relation(
                type=r["type"],
                target_key=r.get("target_key"),
                target_text=r.get("target_text", ""),
                until=_date(r.get("until")),
                clause=r.get("clause"),
                evidence=r.get("evidence", ""),
                since=_date(r.get("since")),
            )
            for r in spec.get("relations", [])
        ),
        attachments=tuple(Attachment(a["url"], a.get("title", "")) for a in spec.get("attachments", [])),
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_field_changes_cases(case: dict[str, Any]) -> None:
    old = record(case["old"]) if case["old"] is not None else None
    new = record(case["new"])
    changes = field_changes(old, new)
    assert [_as_dict(c) for c in changes] == case["changes"]
    inserted, deleted = case.get("text", [0, 0])
    assert summarize(changes, TextDiff(ops=(), inserted_chars=inserted, deleted_chars=deleted)) == case["summary"]


def _as_dict(change: FieldChange) -> dict[str, Any]:
    return {"field": change.field, "kind": change.kind, "old": change.old, "new": change.new, "summary": change.summary}


def test_summary_flags_a_timed_out_text_diff() -> None:
    assert summarize([], TextDiff(ops=(), inserted_chars=5, deleted_chars=3, timed_out=True)) == (
        "text: +5/−3 chars (coarse: diff timed out)"
    )


# --- properties -------------------------------------------------------------------------------

_days = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))
_codes = st.sampled_from(["1C914", "1C915", "3C901.a.1", "3A090", "4A090"])
_specs = st.fixed_dictionaries(
    {},
    optional={
        "title": st.sampled_from(["甲公告", "乙公告"]),
        "effective": _days,
        "published": _days,
        "dates": st.lists(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["effective", "suspended_until", "expires"]),
                    "date": _days,
                    "clause": st.sampled_from([None, "第二款", "一(一)"]),
                    "evidence": st.sampled_from(["", "自…起施行"]),
                }
            ),
            max_size=3,
        ),
        "codes": st.lists(
            st.fixed_dictionaries(
                {"scheme": st.sampled_from(["cn-dual-use", "us-eccn"]), "code": _codes, "evidence": st.text(max_size=3)}
            ),
            max_size=3,
        ),
        "elements": st.lists(st.sampled_from(["Ga", "Ge", "Sb", "Dy"]), max_size=3),
        "relations": st.lists(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["suspends", "amends"]),
                    "target_key": st.sampled_from([None, "mofcom:2025:61", "mofcom+gacc:2025:56"]),
                    "target_text": st.sampled_from(["2025年第61号", "第56号"]),
                    "until": st.none() | _days,
                }
            ),
            max_size=2,
        ),
    },
)


@settings(max_examples=200, deadline=None)
@given(_specs)
def test_property_a_record_has_no_changes_against_itself(spec: dict[str, Any]) -> None:
    assert field_changes(record(spec), record(spec)) == []
    assert field_changes(None, record(spec)) == []


@settings(max_examples=200, deadline=None)
@given(_specs, _specs)
def test_property_changes_are_deterministic_and_mirror(a: dict[str, Any], b: dict[str, Any]) -> None:
    forward = field_changes(record(a), record(b))
    assert forward == field_changes(record(a), record(b))
    backward = field_changes(record(b), record(a))
    flip = {"added": "removed", "removed": "added", "changed": "changed"}
    assert sorted((c.field, flip[c.kind], c.new, c.old) for c in forward) == sorted(
        (c.field, c.kind, c.old, c.new) for c in backward
    )
    # reordering the tuples of a record changes nothing
    shuffled = {k: list(reversed(v)) if isinstance(v, list) else v for k, v in b.items()}
    assert field_changes(record(a), record(shuffled)) == forward
