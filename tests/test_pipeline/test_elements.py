"""Table-driven tests for the element tagger (tests/fixtures/tagging/elements.yaml)."""

from pathlib import Path

import pytest
import yaml

from pipeline.core.tagging.elements import ELEMENTS, extract_element_groups, extract_elements

CASES = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "tagging" / "elements.yaml").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_extract_elements(case: dict) -> None:
    assert extract_elements(case["text"]) == case["expected"]


def test_groups_report_rare_earths_separately() -> None:
    assert extract_element_groups("中重稀土相关物项") == ["REE"]
    assert extract_element_groups("レアアース") == ["REE"]
    assert extract_element_groups("镓和锗") == []


def test_every_listed_name_maps_back_to_its_symbol() -> None:
    for symbol, languages in ELEMENTS.items():
        for names in languages:
            for name in names:
                assert extract_elements(name) == [symbol], name


def test_raw_text_is_normalised() -> None:
    assert extract_elements("ＧＡＬＬＩＵＭ") == ["Ga"]
