"""Block Kit and plain rendering against stored expected output, plus Slack-limit properties."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.base import KINDS, SEVERITIES, Alert
from alerts.render import (
    BLOCKS_MAX,
    FIELD_TEXT_MAX,
    FIELDS_PER_SECTION,
    HEADER_MAX,
    MESSAGE_BUDGET,
    SECTION_TEXT_MAX,
    to_block_kit,
    to_plain,
)

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "alerts" / "render"
NAMES = sorted(p.name.removesuffix(".alert.json") for p in CASES.glob("*.alert.json"))


def load_alert(name: str) -> Alert:
    case = json.loads((CASES / f"{name}.alert.json").read_text(encoding="utf-8"))
    return Alert.from_payload(case["id"], case["payload"])


def text_objects(blocks: list[dict]) -> list[dict]:
    out = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"])
        out += block.get("fields", []) + block.get("elements", [])
    return out


@pytest.mark.parametrize("name", NAMES)
def test_block_kit_matches_fixture(name: str) -> None:
    expected = json.loads((CASES / f"{name}.blocks.json").read_text(encoding="utf-8"))
    assert to_block_kit(load_alert(name)) == expected


@pytest.mark.parametrize("name", NAMES)
def test_plain_matches_fixture(name: str) -> None:
    expected = (CASES / f"{name}.plain.txt").read_text(encoding="utf-8")
    assert to_plain(load_alert(name)) + "\n" == expected


@pytest.mark.parametrize("name", NAMES)
def test_block_kit_within_slack_limits(name: str) -> None:
    check_limits(to_block_kit(load_alert(name)))


def check_limits(message: dict) -> None:
    blocks = message["blocks"]
    assert message["text"].strip()
    assert len(blocks) <= BLOCKS_MAX
    assert sum(len(o["text"]) for o in text_objects(blocks)) <= MESSAGE_BUDGET
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= HEADER_MAX
        if block["type"] == "section":
            assert len(block.get("fields", [])) <= FIELDS_PER_SECTION
            assert all(len(f["text"]) <= FIELD_TEXT_MAX for f in block.get("fields", []))
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= SECTION_TEXT_MAX
        if block["type"] == "context":
            assert all(0 < len(e["text"]) <= SECTION_TEXT_MAX for e in block["elements"])


def test_long_diff_is_truncated_with_hint() -> None:
    blocks = to_block_kit(load_alert("changed_long_diff"))["blocks"]
    note = blocks[-1]["elements"][0]["text"]
    assert note.startswith("…truncated (") and note.endswith("see `regwatch diff miit+ndrc+mnr:order:71`")
    diff_sections = [b for b in blocks if b["type"] == "section" and b.get("text", {}).get("text", "").startswith("```")]
    assert len(diff_sections) >= 2


def test_many_facts_are_capped_with_count() -> None:
    blocks = to_block_kit(load_alert("many_facts"))["blocks"]
    fields = [f["text"] for b in blocks for f in b.get("fields", [])]
    assert len(fields) == 30 and fields[-1] == "*…*\n6 more not shown"


def test_plain_strips_terminal_escapes() -> None:
    alert = load_alert("source_health")
    evil = Alert(**{**alert.__dict__, "title": "ok\x1b]0;pwned\x07 \u202etxt.exe"})
    assert to_plain(evil).splitlines()[0] == "■ SOURCE HEALTH [critical]  meti — ok\ufffd]0;pwned\ufffd \ufffdtxt.exe"


def test_english_headline_is_shown_escaped_in_every_rendering() -> None:
    alert = Alert(**{**load_alert("source_health").__dict__, "kind": "status", "doc_key": "mofcom:2031:1",
                     "headline": "MOFCOM Announcement 2031 No. 2 suspends <!channel> & \x1b[31m1 more"})
    plain = to_plain(alert).splitlines()
    assert plain[1] == "  MOFCOM Announcement 2031 No. 2 suspends <!channel> & \ufffd[31m1 more"
    message = to_block_kit(alert)
    assert message["blocks"][2] == {"type": "section", "text": {
        "type": "mrkdwn", "text": "*MOFCOM Announcement 2031 No. 2 suspends &lt;!channel&gt; &amp; [31m1 more*"}}
    assert message["text"].endswith(" · MOFCOM Announcement 2031 No. 2 suspends &lt;!channel&gt; &amp; [31m1 more")
    assert Alert.from_payload(alert.id, alert.to_payload()) == alert
    assert "headline" not in load_alert("source_health").to_payload()  # absent, not null, when there is none


untrusted = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=400)


@settings(max_examples=150, deadline=None, database=None)
@given(
    kind=st.sampled_from(KINDS),
    severity=st.sampled_from(SEVERITIES),
    title=untrusted,
    summary=untrusted.map(lambda s: s.replace("\n", " ").replace("\r", " ")),
    facts=st.lists(st.tuples(untrusted, untrusted), max_size=40),
    diff=st.one_of(st.none(), st.text(max_size=20_000)),
    links=st.lists(st.tuples(untrusted, untrusted), max_size=20),
    tags=st.lists(untrusted, max_size=50),
    doc_key=st.one_of(st.none(), untrusted),
    english=st.one_of(st.none(), untrusted.map(lambda s: s.replace("\n", " ").replace("\r", " "))),
)
def test_any_alert_renders_within_limits_and_escaped(kind, severity, title, summary, facts, diff, links, tags, doc_key,
                                                     english) -> None:
    alert = Alert(1, kind, severity, "src", doc_key, title, summary, "https://x.test/",
                  datetime(2025, 1, 1, tzinfo=timezone.utc), facts=facts, diff_text=diff, links=links, tags=tags,
                  headline=english)
    message = to_block_kit(alert)
    check_limits(message)
    everything = message["text"] + json.dumps(message["blocks"], ensure_ascii=False)
    # Only our own links may open a "<...>" sequence, and they always point at http(s).
    assert everything.count("<") == everything.count("<http")


if __name__ == "__main__" and sys.argv[1:] == ["--regen"]:  # review the diff before committing
    for case in NAMES:
        a = load_alert(case)
        (CASES / f"{case}.blocks.json").write_text(
            json.dumps(to_block_kit(a), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (CASES / f"{case}.plain.txt").write_text(to_plain(a) + "\n", encoding="utf-8")
