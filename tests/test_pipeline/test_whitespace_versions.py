"""Whitespace inserted into Chinese text is not a change (issue 8): no new version, no alert;
a real character change still is. Through ``process_pending`` on an in-memory store."""

from __future__ import annotations

import pytest

from pipeline.core.normalize import canonical_text, content_hash, match_text
from pipeline.process import process_pending

CASE = "2025-58-standard"
KEY = "mofcom+gacc:2025:58"
SENTENCE = "出口经营者出口上述物项，应当依照有关规定向商务部申请许可"


def _edited(load_page, old: str, new: str) -> bytes:
    body, _ = load_page("mofcom", "MofcomNoticePage", CASE)
    text = body.decode("utf-8")
    assert text.count(old) == 1
    return text.replace(old, new).encode("utf-8")


@pytest.mark.parametrize(
    "inserted",
    [
        "出口经营者 出口上述物项，应当依照有关规定向商务部申请许可",  # ASCII space between two Han
        "出口经营者\u00a0出口上述物项，应当依照有关规定向商务部申请许可",  # NBSP
        "出口经营者&nbsp;出口上述物项，应当依照有关规定向商务部申请许可",  # NBSP as an HTML entity
        "出口经营者出口上述物项 ，应当依照\u200b有关规定向商务部\ufeff申请许可",  # before CJK punctuation; zero-width
        "出口经营者出口上述物项， 应当依照\u2060有关\u200d规定向商务部申请许可",  # after CJK punctuation; joiners
    ],
    ids=["space", "nbsp", "nbsp-entity", "space-before-punct-zwsp-bom", "space-after-punct-joiners"],
)
def test_whitespace_between_cjk_makes_no_version_and_no_alert(store, clock, capture_page, load_page,
                                                              inserted) -> None:
    capture_page(CASE)
    first = process_pending(store, now=clock.now())
    assert (first.new_documents, first.new_versions) == (1, 1)
    alerts_before = sorted(a.dedup_key for a in store.alerts(limit=100))
    clock.advance(days=1)

    capture_page(CASE, body=_edited(load_page, SENTENCE, inserted))
    report = process_pending(store, now=clock.now())

    assert (report.processed, report.new_versions, report.unchanged, report.alerts) == (1, 0, 1, 0)
    doc = store.document(KEY)
    assert doc.latest_version == 1
    assert sorted(a.dedup_key for a in store.alerts(limit=100)) == alerts_before
    assert [r.kind for r in store.history(key=KEY)] == ["new"]


def test_a_real_character_change_still_makes_a_version_and_an_alert(store, clock, capture_page, load_page) -> None:
    capture_page(CASE)
    process_pending(store, now=clock.now())
    clock.advance(days=1)
    # one space inserted *and* one character changed (商务部 → 商务局): only the character counts
    capture_page(CASE, body=_edited(load_page, SENTENCE, "出口经营者 出口上述物项，应当依照有关规定向商务局申请许可"))
    report = process_pending(store, now=clock.now())

    assert (report.new_versions, report.unchanged, report.alerts) == (1, 0, 1)
    doc = store.document(KEY)
    change = store.changes(doc.id)[-1]
    assert change.kind == "changed"
    assert (change.text_diff["inserted_chars"], change.text_diff["deleted_chars"]) == (1, 1)
    assert change.summary.endswith("text: +1/−1 chars")
    [alert] = [a for a in store.alerts(limit=100) if a.kind == "changed"]
    assert alert.doc_key == KEY
    v2 = store.version(doc.id, 2)
    assert "出口经营者 出口上述物项" in v2.text  # the original text is kept as published


def test_latin_words_keep_their_spaces() -> None:
    assert canonical_text("Export Control Law") != canonical_text("ExportControlLaw")
    assert canonical_text("出口 管制 法") == canonical_text("出口管制法") == "出口管制法"
    assert canonical_text("《出口管制法》 第二条") == canonical_text("《出口管制法》第二条")
    assert content_hash(canonical_text("物项\u00a0编号")) == content_hash(canonical_text("物项编号"))
    # a space between a Chinese word and a code or a number is typography that diffs keep
    assert canonical_text("物项 3C901.b") == "物项 3C901.b"


def test_canonical_and_match_forms_are_idempotent() -> None:
    text = "商务部\u3000 海关总署公告２０２５年第５６号 ，\u200b第 二 条\n\n Export  Control\u00a0Law "
    assert canonical_text(canonical_text(text)) == canonical_text(text) == (
        "商务部海关总署公告2025年第56号,第二条\nExport Control Law")
    assert match_text(match_text(text)) == match_text(text)
    assert match_text("1C\u200b902") == "1C902"  # zero-width characters never split a code
