"""No false legal alerts: a capture that lost its substance is held as a suspected misread.

Observed (issue 7): a GBK page served as ``charset=ISO-8859-1``, a page whose article container
was present but empty, and a page nested too deeply for the parser each became a new version and
sent "doc number removed; effective date removed; 5 codes removed", flipping ``status-of``.
Each is reproduced here through ``process_pending`` on a store that already holds the good
version; the decoding / tree fixes read two of them right, and the misread check holds whatever
still reads wrong (shown by putting the old, wrong reader back).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from parsel import Selector

import crawlers.pages.base as page_base
import crawlers.pages.encoding as encoding
from pipeline.cli import main
from pipeline.errors import UserError
from pipeline.extract import extract_text
from pipeline.lookup import status_of
from pipeline.misread import suspected_misread
from pipeline.process import accept_capture, process_pending
from pipeline.core.records import record_from_json
from store import NotFound, Store

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "mofcom" / "MofcomNoticePage"
GOOD = PAGES / "2025-58-standard"
KEY = "mofcom+gacc:2025:58"
URL = json.loads((GOOD / "meta.json").read_text(encoding="utf-8"))["url"]
CONTAINER = '<div class="art-con art-con-bottonmLine">'
BEFORE_EFFECTIVE = date(2025, 11, 1)  # effective 2025-11-08: not yet effective; a misread says "in force"


def good_html() -> str:
    return (GOOD / "body.html").read_text(encoding="utf-8")


def _article_bounds(html: str) -> tuple[int, int]:
    return html.index(CONTAINER) + len(CONTAINER), html.index('</div>\n  <div class="art-print">')


def gbk_as_latin1() -> tuple[bytes, dict[str, str]]:
    html = good_html().replace('<meta charset="utf-8">', '<meta charset="gbk">')
    return html.encode("gbk"), {"Content-Type": "text/html; charset=ISO-8859-1"}


def empty_container() -> tuple[bytes, dict[str, str]]:
    html = good_html()
    start, end = _article_bounds(html)
    return (html[:start] + "\n" + html[end:]).encode(), {"Content-Type": "text/html"}


def deeply_nested(depth: int = 5000) -> tuple[bytes, dict[str, str]]:
    html = good_html()
    start, end = _article_bounds(html)
    return (html[:start] + "<div>" * depth + html[start:end] + "</div>" * depth + html[end:]).encode(), {}


VARIANTS = {"gbk-as-iso-8859-1": gbk_as_latin1, "empty-container": empty_container, "nested-5000": deeply_nested}


@pytest.fixture
def good(store, clock, capture_page):
    """The store holding the good version of MOFCOM+GACC 2025:58 (v1), its alerts already queued."""
    capture_page("2025-58-standard")
    report = process_pending(store, now=clock.now())
    assert (report.new_versions, report.held) == (1, 0)
    clock.advance(days=1)
    return store


def save_variant(store, clock, name: str) -> int:
    body, headers = VARIANTS[name]()
    capture_id, created = store.save_capture(source="mofcom", url=URL, final_url=URL, status=200, headers=headers,
                                             body=body, fetched_at=clock.now())
    assert created
    return capture_id


def state(store) -> dict:
    doc = store.document(KEY)
    return {"versions": [v.content_hash for v in store.versions(doc.id)], "changes": len(store.changes(doc.id)),
            "status": status_of(store, KEY, BEFORE_EFFECTIVE).status}


def misread_alerts(store) -> list:
    return [a for a in store.alerts(limit=100) if a.dedup_key.startswith("misread:")]


def assert_held(store, capture_id: int, before: dict, report, *words: str) -> str:
    assert (report.held, report.new_versions, report.processed) == (1, 0, 0)
    assert state(store) == before  # no version, no change row, status-of unchanged
    capture = store.capture(capture_id)
    assert capture.state == "held"
    assert all(w in capture.error for w in words), capture.error
    assert not [a for a in store.alerts(limit=100) if a.kind == "changed"]
    [alert] = misread_alerts(store)
    assert (alert.kind, alert.severity, alert.dedup_key, alert.source) == (
        "source_health", "warning", f"misread:{capture_id}", "mofcom")
    assert URL in alert.payload["summary"] and capture.error in alert.payload["summary"]
    assert [report.held_reasons[0].count(s) for s in (URL, f"--accept {capture_id}")] == [1, 1]
    return capture.error


# -- the three observed pages, read right now ----------------------------------------------------

@pytest.mark.parametrize("name", ["gbk-as-iso-8859-1", "nested-5000"])
def test_page_that_used_to_be_misread_is_read_right_and_changes_nothing(good, clock, name: str) -> None:
    before = state(good)
    alerts = len(good.alerts(limit=100))
    capture_id = save_variant(good, clock, name)
    report = process_pending(good, now=clock.now())
    assert (report.processed, report.unchanged, report.new_versions, report.held, report.failed) == (1, 1, 0, 0, 0)
    assert state(good) == before
    assert good.capture(capture_id).state == "processed"
    assert len(good.alerts(limit=100)) == alerts


def test_empty_article_container_is_held(good, clock) -> None:
    before = state(good)
    capture_id = save_variant(good, clock, "empty-container")
    reason = assert_held(good, capture_id, before, process_pending(good, now=clock.now()),
                         "empty body", "div.art-con.art-con-bottonmLine", "the last version had")
    assert reason.startswith("empty body: article container")


def test_a_held_capture_is_superseded_when_the_page_later_reads_normally(good, clock, capture_page) -> None:
    held = save_variant(good, clock, "empty-container")
    assert process_pending(good, now=clock.now()).held == 1
    clock.advance(hours=3)
    fine = capture_page("2025-58-standard", body=good_html().encode() + b"\n")  # the page reads fine again
    report = process_pending(good, now=clock.now())
    assert (report.held, report.unchanged) == (0, 1)
    assert good.held_captures() == []  # `status` no longer lists it
    superseded = good.capture(held)
    assert superseded.state == "skipped" and superseded.error.startswith(f"superseded by capture {fine}")


# -- the same pages through the old, wrong readers: the misread check holds them -----------------

def test_gbk_page_read_as_latin1_is_held(good, clock, monkeypatch) -> None:
    monkeypatch.setattr(encoding, "MOJIBAKE_SHARE", 1.01)  # the old decoder: the header charset always wins
    before = state(good)
    capture_id = save_variant(good, clock, "gbk-as-iso-8859-1")
    assert_held(good, capture_id, before, process_pending(good, now=clock.now()), "mojibake")


def test_deep_page_truncated_by_the_parser_is_held(good, clock, monkeypatch) -> None:
    def old_tree(text: str, *, url: str, source: str | None = None):  # parsel as is: text past level 2048 dropped
        return Selector(text=text, type="html", base_url=url), ()

    monkeypatch.setattr(page_base, "html_tree", old_tree)
    before = state(good)
    capture_id = save_variant(good, clock, "nested-5000")
    assert_held(good, capture_id, before, process_pending(good, now=clock.now()), "empty body")


# -- releasing a held capture ----------------------------------------------------------------------

def test_accept_makes_the_version_and_records_who_accepted(good, clock) -> None:
    capture_id = save_variant(good, clock, "empty-container")
    process_pending(good, now=clock.now())
    held_reason = good.capture(capture_id).error
    assert process_pending(good, now=clock.now()).processed == 0  # a held capture is not retried by itself
    clock.advance(hours=1)
    report = accept_capture(good, capture_id, now=clock.now(), by="alice")
    assert (report.processed, report.new_versions, report.held) == (1, 1, 0)
    capture = good.capture(capture_id)
    assert capture.state == "processed"
    assert capture.error == f"accepted by alice at {clock.now().isoformat()} despite a suspected misread: {held_reason}"
    doc = good.document(KEY)
    latest = good.latest_version(doc.id)
    assert (latest.number, latest.capture_id, latest.text) == (2, capture_id, "")
    assert latest.fields["accepted"] == {"by": "alice", "at": clock.now().isoformat(), "suspected": held_reason}
    [change] = [c for c in good.changes(doc.id) if c.kind == "changed"]
    assert change.to_version_id == latest.id
    body, headers = empty_container()  # empty again, another byte or two: the last version is empty too
    again, _ = good.save_capture(source="mofcom", url=URL, final_url=URL, status=200, headers=headers,
                                 body=body + b"<!-- -->", fetched_at=clock.now())
    report = process_pending(good, now=clock.now())
    assert (report.unchanged, report.held) == (1, 0) and good.capture(again).state == "processed"
    with pytest.raises(UserError) as err:  # accepted once; not held any more
        accept_capture(good, capture_id, now=clock.now(), by="alice")
    assert "not held" in str(err.value) and "state is processed" in str(err.value)
    with pytest.raises(NotFound):
        accept_capture(good, 9999, now=clock.now(), by="alice")


def test_accepted_mojibake_capture_is_recorded_as_read(good, clock, monkeypatch) -> None:
    monkeypatch.setattr(encoding, "MOJIBAKE_SHARE", 1.01)
    capture_id = save_variant(good, clock, "gbk-as-iso-8859-1")
    process_pending(good, now=clock.now())
    report = accept_capture(good, capture_id, now=clock.now(), by="bob")
    assert report.new_versions == 1 and good.capture(capture_id).error.startswith("accepted by bob at ")


def test_empty_article_of_a_new_document_never_becomes_a_version(store, clock) -> None:
    body, headers = empty_container()
    capture_id, _ = store.save_capture(source="mofcom", url=URL, final_url=URL, status=200, headers=headers,
                                       body=body, fetched_at=clock.now())
    report = process_pending(store, now=clock.now())
    assert (report.failed, report.new_versions, report.held) == (1, 0, 0)
    capture = store.capture(capture_id)
    assert capture.state == "failed" and "holds no text" in capture.error and URL in capture.error
    assert store.history(limit=10) == []


def test_page_with_a_few_invalid_bytes_makes_the_right_version(good, clock, capture_page) -> None:
    edited = good_html().replace("本公告自2025年11月8日起正式实施", "本公告自2025年12月1日起正式实施")
    body = edited.encode().replace("，".encode(), b"\xff" + "，".encode(), 2)
    capture_id, _ = good.save_capture(source="mofcom", url=URL, final_url=URL, status=200, headers={},
                                      body=body, fetched_at=clock.now())
    report = process_pending(good, now=clock.now())
    assert (report.new_versions, report.held, report.failed) == (1, 0, 0)
    doc = good.document(KEY)
    latest = good.latest_version(doc.id)
    record = record_from_json(latest.fields)
    assert (latest.capture_id, record.doc_key, str(record.effective)) == (capture_id, KEY, "2025-12-01")
    assert latest.text.count("\ufffd") == 2
    assert status_of(good, KEY, date(2025, 11, 20)).status == "not_yet_effective"


def test_fully_garbage_body_fails_clearly(good, clock) -> None:
    garbage = bytes((i * 97 + 131) % 128 + 128 for i in range(5000))
    html = good_html()
    start, end = _article_bounds(html)
    body = html[:start].encode() + garbage + html[end:].encode()
    capture_id, _ = good.save_capture(source="mofcom", url=URL, final_url=URL, status=200, headers={},
                                      body=body, fetched_at=clock.now())
    before = state(good)
    report = process_pending(good, now=clock.now())
    assert (report.failed, report.held, report.new_versions) == (1, 0, 0)
    assert state(good) == before
    error = good.capture(capture_id).error
    assert "no encoding decodes the body" in error and URL in error


# -- CLI: status lists held captures, process --accept releases them -----------------------------

def cli(capsys, *args: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_status_shows_held_captures_and_process_accept_releases(capsys, tmp_path, page_tools, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("REGWATCH_NOW", "2025-11-11T03:00:00+00:00")
    for name in ("REGWATCH_DB", "REGWATCH_CONFIG", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "m.db"
    with Store.open(path) as store:
        page_tools.register_sources(store)
        page_tools.save(store, "2025-58-standard", at=page_tools.T0)
        process_pending(store, now=page_tools.T0)
        body, headers = empty_container()
        held_id, _ = store.save_capture(source="mofcom", url=URL, final_url=URL, status=200, headers=headers,
                                        body=body, fetched_at=page_tools.T0 + timedelta(days=1))
    code, out, err = cli(capsys, "--db", path, "process")
    assert code == 0
    assert out.startswith("processed 0 captures: 0 new documents, 0 new versions, 0 unchanged, 0 failed, "
                          "1 held as suspected misreads, 1 alerts queued;")
    assert f"capture {held_id} held as a suspected misread" in err and f"--accept {held_id}" in err

    code, out, _ = cli(capsys, "--db", path, "status")
    assert code == 0 and "captures held as suspected misreads" in out and "1 held as suspected misreads)" in out
    [row] = [line for line in out.splitlines() if line.startswith(f"│ {held_id} ")]
    assert "mofcom" in row and URL in row and "empty body" in row
    code, out, _ = cli(capsys, "--db", path, "status", "--json")
    [held] = json.loads(out)["held_captures"]
    assert (held["id"], held["url"], held["reason"].split(":")[0]) == (held_id, URL, "empty body")

    code, out, err = cli(capsys, "--db", path, "process", "--accept", held_id + 100)
    assert code == 1 and f"no capture {held_id + 100}" in err
    code, out, err = cli(capsys, "--db", path, "process", "--accept", held_id, "--by", "carol")
    assert code == 0 and out.startswith(f"accepted capture {held_id}: 1 new versions,")
    code, out, err = cli(capsys, "--db", path, "process", "--accept", held_id)
    assert code == 1 and f"capture {held_id} is not held" in err
    code, out, _ = cli(capsys, "--db", path, "status", "--json")
    assert json.loads(out)["held_captures"] == []
    with Store.open(path) as store:
        assert store.capture(held_id).error.startswith("accepted by carol at 2025-11-11T03:00:00+00:00")


# -- the pure check -------------------------------------------------------------------------------

BODY = ("商务部 海关总署公告2031年第58号\n根据《中华人民共和国出口管制法》有关规定，决定对下列物项实施出口管制。\n"
        "一、对3A001 重量能量密度大于等于300瓦时/千克的锂离子电池实施管制。\n二、对3C902 人造石墨负极材料实施管制。\n"
        "三、出口经营者应当依照有关规定向商务部申请许可，并在出口报关时向海关出具两用物项出口许可证件。\n"
        "四、出口经营者未经许可出口、超出许可范围出口或者有其他违法情形的，由商务部、海关总署等部门依照有关法律、"
        "行政法规的规定给予行政处罚；构成犯罪的，依法追究刑事责任。\n"
        "五、本公告自2031年11月8日起正式实施。\n商务部 海关总署\n2031年10月9日")


def record(text: str = BODY, **kwargs):
    return extract_text(text, source="mofcom", url="https://www.mofcom.gov.cn/a.html", published=date(2031, 10, 9),
                        **kwargs)


def test_good_record_and_ordinary_edits_are_not_misreads() -> None:
    good = record()
    assert good.doc_key == "mofcom+gacc:2031:58" and len(good.codes) == 2 and str(good.effective) == "2031-11-08"
    assert [d.type for d in good.dates] == ["published", "effective", "signed"]
    assert suspected_misread(None, good) is None
    assert suspected_misread(good, good) is None
    assert suspected_misread(good, record(BODY.replace("11月8日", "12月1日"))) is None
    assert suspected_misread(good, record(BODY.replace("二、对3C902 人造石墨负极材料实施管制。\n", ""))) is None
    half = "\n".join(BODY.split("\n")[:5])  # about half the text kept, number and codes still there
    assert suspected_misread(good, record(half)) is None


def test_empty_body() -> None:
    reason = suspected_misread(record(), record(""))
    assert reason == (f"empty body (the last version had {sum(1 for c in BODY if not c.isspace())} characters); "
                      "doc number mofcom+gacc:2031:58, 2 dates and 2 codes all vanished")
    assert suspected_misread(None, record("")) == "empty body"
    assert suspected_misread(record(""), record("")) is None  # it was empty before too


def test_body_mostly_gone_and_substance_vanished() -> None:
    reason = suspected_misread(record(), record("页面正在维护，请稍后访问。"))
    before = sum(1 for c in BODY if not c.isspace())
    assert reason == (f"body text mostly gone (13 characters, the last version had {before}); "
                      "doc number mofcom+gacc:2031:58, 2 dates and 2 codes all vanished")


def test_substance_vanished_with_the_text_length_kept() -> None:
    prose = "根据有关法律法规规定，现就有关事项说明如下，请各有关单位认真贯彻执行。" * 5
    reason = suspected_misread(record(), record(prose))
    assert reason == "doc number mofcom+gacc:2031:58, 2 dates and 2 codes all vanished"
    only_codes = record("一、对3A001实施管制。\n二、对3C902实施管制。" + prose)
    assert suspected_misread(only_codes, record(prose)) is None  # one kind of substance only: not enough to hold


def test_mojibake() -> None:
    latin = BODY.encode("gbk").decode("cp1252", "replace")
    reason = suspected_misread(record(), record(latin))
    assert reason is not None and "mojibake: 100% of the non-ASCII text" in reason and "(the last version: 0%)" in reason
    assert "mojibake" in (suspected_misread(None, record(latin)) or "")  # a Chinese source printing Latin-1 runs
    hangul = BODY.encode("gbk").decode("cp949", "replace")  # GBK read as Korean: another script, not Latin-1
    assert "no longer reads as Chinese/Japanese" in (suspected_misread(record(), record(hangul)) or "")
    assert "no longer reads as Chinese/Japanese" in (suspected_misread(None, record(hangul)) or "")
    symbols = BODY.replace("300瓦时/千克", "≥300 W·h/kg (μ ± 5 %, ℃, ①②③)")  # symbols are not another script
    assert suspected_misread(record(), record(symbols)) is None
    few = BODY.replace("锂离子电池", "锂离子电池\ufffd")  # one replaced byte is not a misread
    assert suspected_misread(record(), record(few)) is None


def test_another_language_is_only_checked_for_an_empty_body() -> None:
    english = record("MOFCOM and GACC Announcement No. 58 of 2031. Export control on lithium batteries.",
                     language="en", title="MOFCOM and GACC Announcement No. 58 of 2031")
    assert suspected_misread(record(), english) is None
    assert suspected_misread(record(), record("", language="en")) is not None


def test_docstring_examples() -> None:
    import doctest

    import pipeline.misread

    result = doctest.testmod(pipeline.misread)
    assert result.failed == 0 and result.attempted > 0
