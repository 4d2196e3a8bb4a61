"""English headlines from extracted fields (pipeline.core.headline): one row per rule."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.core.headline import headline, key_number, number_label
from pipeline.core.records import CodeTag, DocNumber, DocumentRecord, Relation

D = date


def rec(number: DocNumber | None = None, *, source: str = "mofcom", relations: tuple[Relation, ...] = (),
        codes: tuple[str, ...] = (), elements: tuple[str, ...] = (), published: date | None = None,
        effective: date | None = None) -> DocumentRecord:
    return DocumentRecord(source=source, url="https://x.test/a.html", title="标题", language="zh", text="",
                          canonical_text="", content_hash="h", doc_number=number, published=published,
                          effective=effective, codes=tuple(CodeTag("cn-dual-use", c) for c in codes),
                          elements=elements, relations=relations)


def year(issuers: str, y: int, n: int | str, text: str = "") -> DocNumber:
    return DocNumber(tuple(issuers.split("+")), "year", str(n), y, text)


def sus(key: str, until: date | None = None, *, kind: str = "suspends", clause: str | None = None,
        text: str = "") -> Relation:
    return Relation(kind, key, text, until=until, clause=clause)


N = year("mofcom+gacc", 2031, 7, "商务部 海关总署公告2031年第7号")
SIX = tuple(sus(f"mofcom+gacc:2031:{n}", D(2032, 3, 4)) for n in (1, 2, 3, 4)) + tuple(
    sus(f"mofcom:2031:{n}", D(2032, 3, 4)) for n in (5, 6))

CASES = [
    # (id, record, headline)
    ("joint suspension of six, counted", rec(N, relations=SIX),
     "MOFCOM/GACC Announcement 2031 No. 7 suspends 6 announcements until 2032-03-04"),
    ("one target is named, with its clause",
     rec(year("mofcom", 2031, 9), relations=(sus("mofcom:2030:12", D(2031, 5, 6), clause="第二款"),)),
     "MOFCOM Announcement 2031 No. 9 suspends MOFCOM Announcement 2030 No. 12 (第二款) until 2031-05-06"),
    ("an extension of the same group",
     rec(N, relations=tuple(sus(r.target_key, D(2033, 3, 4), kind="extends") for r in SIX)),
     "MOFCOM/GACC Announcement 2031 No. 7 extends the suspension of 6 announcements until 2033-03-04"),
    ("two groups, the larger first",
     rec(N, relations=(sus("mofcom:2030:1", kind="repeals"), *SIX[:3])),
     "MOFCOM/GACC Announcement 2031 No. 7 suspends 3 announcements until 2032-03-04 and repeals "
     "MOFCOM Announcement 2030 No. 1"),
    ("more than two groups are counted",
     rec(N, relations=(sus("mofcom:2030:1", kind="repeals"), sus("mofcom:2030:2", kind="amends"),
                       sus("mofcom:2030:3", kind="supersedes"))),
     "MOFCOM/GACC Announcement 2031 No. 7 repeals MOFCOM Announcement 2030 No. 1 and amends "
     "MOFCOM Announcement 2030 No. 2 and 1 more action"),
    ("mixed target kinds are documents",
     rec(N, relations=(sus("mofcom:2030:1"), sus("miit+ndrc:order:8"))),
     "MOFCOM/GACC Announcement 2031 No. 7 suspends 2 documents"),
    ("unresolved target keeps its printed citation",
     rec(N, relations=(Relation("amends", None, "《某办法》"),)),
     "MOFCOM/GACC Announcement 2031 No. 7 amends 《某办法》"),
    ("a target without key or citation", rec(N, relations=(Relation("repeals", None, ""),)),
     "MOFCOM/GACC Announcement 2031 No. 7 repeals a document"),
    ("codes counted, first three shown, effective date",
     rec(N, codes=("3C902", "3A001", "3B901.a", "3C901.a.1"), published=D(2031, 1, 2), effective=D(2031, 3, 1)),
     "MOFCOM/GACC Announcement 2031 No. 7 lists 4 control codes (3A001, 3B901.a, 3C901.a.1, …), "
     "effective 2031-03-01"),
    ("one code, effective on publication",
     rec(N, codes=("1C902.a",), published=D(2031, 1, 2), effective=D(2031, 1, 2)),
     "MOFCOM/GACC Announcement 2031 No. 7 lists 1 control code (1C902.a)"),
    ("elements without codes", rec(N, elements=("Dy", "Tb")),
     "MOFCOM/GACC Announcement 2031 No. 7 concerns Dy, Tb"),
    ("only a later effective date", rec(N, published=D(2031, 1, 2), effective=D(2031, 2, 1)),
     "MOFCOM/GACC Announcement 2031 No. 7 takes effect 2031-02-01"),
    ("nothing but the publication date", rec(year("mofcom", 2031, 3), published=D(2031, 1, 2)),
     "MOFCOM Announcement 2031 No. 3 published 2031-01-02"),
    ("通告 is a notice", rec(year("gacc", 2031, 3, "海关总署通告2031年第3号")), "GACC Notice 2031 No. 3"),
    ("joint order", rec(DocNumber(("miit", "ndrc", "mnr"), "order", "99"), source="miit", published=D(2031, 1, 2)),
     "MIIT/NDRC/MNR Order No. 99 published 2031-01-02"),
    ("agency-code number", rec(DocNumber(("miit",), "year", "12", 2031, code="工信部原"), source="miit"),
     "MIIT 工信部原 [2031] No. 12"),
    ("METI release: the date is the subject",
     rec(DocNumber(("meti",), "press", "20310405-002"), source="meti", published=D(2031, 4, 5)),
     "METI press release of 2031-04-05"),
    ("METI release with elements",
     rec(DocNumber(("meti",), "press", "20310405-002"), source="meti", published=D(2031, 4, 5), elements=("Nd",)),
     "METI press release of 2031-04-05 concerns Nd"),
    ("no number: the source and the date", rec(None, source="govcn", published=D(2031, 1, 2)),
     "gov.cn document of 2031-01-02"),
    ("no number, no date", rec(None, source="meti"), "METI document"),
    ("unknown issuer slug upper-cased", rec(year("xyz", 2031, 1)), "XYZ Announcement 2031 No. 1"),
]


@pytest.mark.parametrize(("record", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_headline(record: DocumentRecord, expected: str) -> None:
    assert headline(record) == expected


@pytest.mark.parametrize(("key", "label"), [
    ("mofcom+gacc:2031:7", "MOFCOM/GACC Announcement 2031 No. 7"),
    ("state-council:order:900", "State Council Order No. 900"),
    ("state-council:国发:2031:5", "State Council 国发 [2031] No. 5"),
    ("meti:press:20310405-002", "METI press release of 2031-04-05"),
])
def test_labels_from_keys(key: str, label: str) -> None:
    number = key_number(key)
    assert number is not None and number_label(number) == label


@pytest.mark.parametrize("key", ["", "mofcom", "mofcom:x:y", ":2031:1"])
def test_not_a_key(key: str) -> None:
    assert key_number(key) is None
