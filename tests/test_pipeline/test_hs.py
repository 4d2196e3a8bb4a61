"""Table-driven tests for the HS-code tagger (tests/fixtures/tagging/hs.yaml)."""

from pathlib import Path

import pytest
import yaml

from pipeline.core.tagging.hs import extract_hs_codes

CASES = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "tagging" / "hs.yaml").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_extract_hs_codes(case: dict) -> None:
    assert extract_hs_codes(case["text"]) == case["expected"]
