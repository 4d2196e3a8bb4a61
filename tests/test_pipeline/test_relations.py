"""Table-driven tests for the relation tagger (tests/fixtures/tagging/relations.yaml)."""

from pathlib import Path

import pytest
import yaml

from pipeline.core.tagging.relations import extract_relations

CASES = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "tagging" / "relations.yaml").read_text("utf-8"))
FIELDS = ("type", "target_key", "target_text", "clause", "since", "until")


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_extract_relations(case: dict) -> None:
    relations = extract_relations(
        case["text"],
        self_key=case.get("self_key"),
        default_issuers=tuple(case.get("default_issuers", ["mofcom"])),
        published=case.get("published"),
        effective=case.get("effective"),
    )
    assert [{f: getattr(r, f) for f in FIELDS} for r in relations] == case["expected"]


def test_evidence_is_the_trigger_sentence() -> None:
    [rel] = extract_relations("前言。2024年第46号公告第二款暂停实施。后记。", self_key=None,
                              default_issuers=("mofcom",), published=None)
    assert rel.evidence == "2024年第46号公告第二款暂停实施。"


def test_full_width_raw_text() -> None:
    [rel] = extract_relations("废止商务部公告２０２０年第１号。", self_key=None, default_issuers=None, published=None)
    assert rel.target_key == "mofcom:2020:1"
