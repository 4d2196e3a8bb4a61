"""Table-driven tests for the control-code tagger (tests/fixtures/tagging/codes.yaml)."""

from pathlib import Path

import pytest
import yaml

from pipeline.core.tagging.codes import extract_codes

CASES = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "tagging" / "codes.yaml").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_extract_codes(case: dict) -> None:
    tags = extract_codes(case["text"], language=case.get("language", "zh"))
    assert [f"{t.scheme}:{t.code}" for t in tags] == case["expected"]
    by_code = {t.code: t.evidence for t in tags}
    for code, sentence in case.get("evidence", {}).items():
        assert by_code[code] == sentence


def test_idempotent_on_normalised_text() -> None:
    from pipeline.core.normalize import match_text

    raw = "（管制编码：１Ｅ９０２．ａ）"
    assert extract_codes(raw) == extract_codes(match_text(raw))
