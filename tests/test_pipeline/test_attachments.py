"""Attachments are read (PDF text layer, DOCX/XLSX XML), tagged and made part of the version.

The PDFs are built here with pypdf's writer (tests/pdfs.py is loaded by path: the tests are no package).
"""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile
from pathlib import Path

import pytest

import pipeline.core.attachments as attachments_module
from pipeline.core.attachments import AttachmentText, read_attachment
from pipeline.extract import extract_page
from pipeline.process import process_pending

_spec = importlib.util.spec_from_file_location("regwatch_test_pdfs", Path(__file__).parents[1] / "pdfs.py")
pdfs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pdfs)

CORPUS = Path(__file__).parents[1] / "fixtures" / "corpus" / "govcn-zhengceku-attachment-only"
PAGE_URL = "https://www.gov.cn/zhengce/zhengceku/202508/content_7035561.htm"
PDF_URL = "https://www.gov.cn/zhengce/zhengceku/202508/W020250812536271829304.pdf"
WPS_URL = "https://www.gov.cn/zhengce/zhengceku/202508/W020250812536271829305.wps"
ANNEX = [["稀土行业规范条件（2025年本）", "一、本条件适用于稀土冶炼分离企业。"],
         ["附表 物项清单", "1C902.a 稀土永磁材料，海关商品编号 8505.11.00", "本条件自2025年9月1日起施行。"]]
OLE2 = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)


# -- reading one file -----------------------------------------------------------------------------

def test_pdf_cjk_text_layer_is_read_page_by_page() -> None:
    read = read_attachment(pdfs.text_pdf(ANNEX), filename="annex.pdf", content_type="application/pdf")
    assert (read.status, read.pages, read.note) == ("read", 2, "")
    assert read.text.splitlines() == [line for page in ANNEX for line in page]


def test_pdf_page_cap_reads_the_first_pages_and_says_so(monkeypatch) -> None:
    monkeypatch.setattr(attachments_module, "MAX_PAGES", 2)
    read = read_attachment(pdfs.text_pdf([["第一页"], ["第二页"], ["第三页"]]), filename="a.pdf")
    assert (read.status, read.pages, read.text) == ("partial", 2, "第一页\n第二页")
    assert read.note == "page cap: read the first 2 of 3 pages"


def test_pdf_time_limit_stops_between_pages() -> None:
    ticks = iter([0.0, 1.0, 25.0, 50.0])
    read = read_attachment(pdfs.text_pdf([["第一页"], ["第二页"], ["第三页"]]), filename="a.pdf",
                           clock=lambda: next(ticks))
    assert (read.status, read.pages, read.text) == ("partial", 1, "第一页")
    assert read.note == "time limit of 20 s reached: read 1 of 3 pages"


def test_size_cap(monkeypatch) -> None:
    monkeypatch.setattr(attachments_module, "MAX_BYTES", 100)
    read = read_attachment(pdfs.text_pdf([["正文"]]), filename="a.pdf")
    assert read.status == "too_large" and read.text == "" and "cap" in read.note


def test_encrypted_pdf_is_reported_not_read() -> None:
    read = read_attachment(pdfs.text_pdf([["秘密"]], password="s3cret"), filename="a.pdf")
    assert (read.status, read.text, read.note) == ("encrypted", "", "encrypted: not read (a password is needed)")


def test_encrypted_pdf_with_an_empty_user_password_is_read() -> None:
    read = read_attachment(pdfs.text_pdf([["公开"]], password=""), filename="a.pdf")
    assert (read.status, read.text) == ("read", "公开")


def test_scan_without_text_layer_is_flagged_not_empty_text() -> None:
    read = read_attachment(pdfs.image_pdf(3), filename="scan.pdf")
    assert (read.status, read.pages, read.has_text) == ("no_text_layer", 3, False)
    assert read.note.startswith("no text layer")


def test_corrupt_pdf_and_a_false_pdf_name_are_unreadable() -> None:
    assert read_attachment(b"%PDF-1.7\ngarbage", filename="a.pdf").status == "unreadable"
    assert read_attachment(b"<html>not found</html>", filename="a.pdf").status == "unreadable"


@pytest.mark.parametrize("name", ["附件.doc", "附件.wps", "附件.xls"])
def test_legacy_office_files_are_not_extracted_with_a_note(name: str) -> None:
    read = read_attachment(OLE2, filename=name)
    assert (read.status, read.text) == ("not_extracted", "")
    assert read.note == f"legacy Office/WPS file ({name[-4:]}): not extracted; open it by hand"


def _zip(parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx(body: str, prolog: str = "") -> bytes:
    return _zip({"[Content_Types].xml": "<Types/>",
                 "word/document.xml": f'<?xml version="1.0"?>{prolog}<w:document {W}><w:body>{body}</w:body></w:document>'})


def test_docx_paragraphs_and_table_cells() -> None:
    body = ("<w:p><w:r><w:t>附件1</w:t></w:r></w:p>"
            "<w:p><w:r><w:t>物项</w:t></w:r><w:r><w:tab/><w:t>3A001.a</w:t></w:r></w:p>"
            "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>1C011</w:t></w:r></w:p></w:tc></w:tr></w:tbl>")
    read = read_attachment(_docx(body), filename="清单.docx")
    assert (read.status, read.text) == ("read", "附件1\n物项\t3A001.a\n1C011")


def test_docx_entities_never_expand() -> None:
    bomb = ('<!DOCTYPE d [<!ENTITY a "AAAAAAAAAA"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>')
    read = read_attachment(_docx("<w:p><w:r><w:t>&c;</w:t></w:r></w:p>", bomb), filename="bomb.docx")
    assert (read.status, read.text) == ("unreadable", "")
    assert "DTD" in read.note
    external = '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    read = read_attachment(_docx("<w:p><w:r><w:t>&x;</w:t></w:r></w:p>", external), filename="x.docx")
    assert read.status == "unreadable" and "root" not in read.text


def test_xlsx_shared_and_inline_strings() -> None:
    s = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    data = _zip({
        "xl/workbook.xml": f"<workbook {s}/>",
        "xl/sharedStrings.xml": f"<sst {s}><si><t>编码</t></si><si><t>3C001</t></si></sst>",
        "xl/worksheets/sheet1.xml": (f'<worksheet {s}><sheetData><row><c t="s"><v>0</v></c><c t="inlineStr">'
                                     f'<is><t>名称</t></is></c></row><row><c t="s"><v>1</v></c><c><v>42</v></c>'
                                     "</row></sheetData></worksheet>"),
    })
    assert read_attachment(data, filename="清单.xlsx") == AttachmentText(
        "编码\t名称\n3C001\t42", "read", sha256=read_attachment(data).sha256)


# -- in a record ----------------------------------------------------------------------------------

def test_attachment_only_document_takes_codes_dates_and_text_from_its_pdf() -> None:
    body = (CORPUS / "input.html").read_bytes()
    plain = extract_page(body, source="govcn", url=PAGE_URL)
    read = read_attachment(pdfs.text_pdf(ANNEX), filename="a.pdf")
    record = extract_page(body, source="govcn", url=PAGE_URL,
                          attachments={PDF_URL: read, WPS_URL: read_attachment(OLE2, filename="a.wps")})
    assert plain.codes == () and plain.hs_codes == ()
    assert [(c.code, c.where) for c in record.codes] == [("1C902.a", PDF_URL)]
    assert record.hs_codes == ("8505.11.00",)
    assert record.text.startswith(plain.text)
    assert "\n\n【附件：稀土行业规范条件（2025年本）.pdf】\n稀土行业规范条件（2025年本）\n" in record.text
    assert record.content_hash != plain.content_hash
    assert ("effective", "2025-09-01") in {(d.type, d.date.isoformat()) for d in record.dates}
    assert record.doc_key == plain.doc_key == "miit:工信部原:2025:112"
    [pdf, wps] = [a.to_json() for a in record.attachments]
    assert (pdf["status"], pdf["pages"], pdf["sha256"]) == ("read", 2, read.sha256)
    assert (wps["status"], wps["note"]) == ("not_extracted",
                                            "legacy Office/WPS file (.wps): not extracted; open it by hand")
    assert record.to_json()["codes"][0]["where"] == PDF_URL


def test_a_code_in_the_body_stays_the_body_s() -> None:
    body = (CORPUS / "input.html").read_bytes().replace("印发给你们".encode(), "（3A001）印发给你们".encode())
    read = read_attachment(pdfs.text_pdf([["3A001 与 1C902.a"]]), filename="a.pdf")
    record = extract_page(body, source="govcn", url=PAGE_URL, attachments={PDF_URL: read})
    assert sorted((c.code, c.where) for c in record.codes) == [("1C902.a", PDF_URL), ("3A001", None)]


# -- in process -----------------------------------------------------------------------------------

def _save(store, url: str, body: bytes, at, kind: str, ctype: str = "text/html; charset=utf-8") -> int:
    capture_id, _ = store.save_capture(source="govcn", url=url, final_url=url, status=200,
                                       headers={"Content-Type": ctype}, body=body, fetched_at=at, kind=kind)
    return capture_id


def _codes(store, version_id: int) -> list[str]:
    return sorted(t.value for t in store.tags(version_id) if t.kind == "code")


def test_process_reads_the_attachment_captured_with_its_page(store, clock) -> None:
    page = _save(store, PAGE_URL, (CORPUS / "input.html").read_bytes(), clock.now(), "detail")
    pdf = _save(store, PDF_URL, pdfs.text_pdf(ANNEX), clock.now(), "attachment", "application/pdf")
    wps = _save(store, WPS_URL, OLE2, clock.now(), "attachment", "application/octet-stream")
    report = process_pending(store, now=clock.now())
    assert (report.processed, report.new_versions, report.skipped, report.failed) == (1, 1, 2, 0)
    doc = store.document("miit:工信部原:2025:112")
    version = store.latest_version(doc.id)
    assert (version.number, version.capture_id) == (1, page)
    assert _codes(store, version.id) == ["1C902.a"]
    assert version.fields["codes"][0]["where"] == PDF_URL
    assert "\n\n【附件：稀土行业规范条件（2025年本）.pdf】\n" in version.text
    assert [a["status"] for a in version.fields["attachments"]] == ["read", "not_extracted"]
    assert store.capture(pdf).state == store.capture(wps).state == "skipped"
    assert store.capture(pdf).error == f"attachment: read in version {version.id}"
    again = process_pending(store, now=clock.now())
    assert (again.processed, again.new_versions) == (0, 0)


def test_an_attachment_arriving_after_its_page_reprocesses_the_page(store, clock) -> None:
    page = _save(store, PAGE_URL, (CORPUS / "input.html").read_bytes(), clock.now(), "detail")
    first = process_pending(store, now=clock.now())
    assert (first.processed, first.new_versions) == (1, 1)
    doc = store.document("miit:工信部原:2025:112")
    v1 = store.latest_version(doc.id)
    assert _codes(store, v1.id) == []
    assert "status" not in v1.fields["attachments"][0]

    pdf = _save(store, PDF_URL, pdfs.text_pdf(ANNEX), clock.now(), "attachment", "application/pdf")
    report = process_pending(store, now=clock.now())
    assert (report.skipped, report.processed, report.new_versions, report.failed) == (1, 1, 1, 0)
    v2 = store.latest_version(doc.id)
    assert (v2.number, v2.capture_id) == (2, page)
    assert _codes(store, v2.id) == ["1C902.a"]
    assert v2.content_hash != v1.content_hash
    [change] = [c for c in store.changes(doc.id) if c.to_version_id == v2.id]
    assert change.kind == "changed"
    assert "1C902.a" in json.dumps(change.text_diff, ensure_ascii=False)
    assert store.capture(pdf).error == f"attachment: its page (capture {page}) is read again with it"
    assert store.capture(page).state == "processed"

    # a changed annex is a change; the same annex again is nothing
    changed = ANNEX[:1] + [["附表 物项清单", "1C902.b 稀土永磁材料"]]
    _save(store, PDF_URL, pdfs.text_pdf(changed), clock.now(), "attachment", "application/pdf")
    report = process_pending(store, now=clock.now())
    assert (report.processed, report.new_versions) == (1, 1)
    v3 = store.latest_version(doc.id)
    assert (v3.number, _codes(store, v3.id)) == (3, ["1C902.b"])
    assert (process_pending(store, now=clock.now()).processed, store.latest_version(doc.id).number) == (0, 3)


# -- inspect --------------------------------------------------------------------------------------

def _cli(capsys, *args) -> tuple[int, str, str]:
    from pipeline.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli_env(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("REGWATCH_DB", "REGWATCH_CONFIG", "REGWATCH_DEBUG", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)


def test_inspect_a_pdf_directly(capsys, tmp_path, cli_env) -> None:
    pdf = tmp_path / "annex.pdf"
    pdf.write_bytes(pdfs.text_pdf(ANNEX))
    code, out, err = _cli(capsys, "--db", tmp_path / "never.db", "inspect", pdf, "--source", "govcn", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert [(c["code"], c["where"]) for c in data["codes"]] == [("1C902.a", pdf.resolve().as_uri())]
    assert data["hs_codes"] == ["8505.11.00"]
    assert data["attachments"][0]["status"] == "read" and data["attachments"][0]["pages"] == 2
    assert data["text"].startswith("【附件：annex.pdf】\n稀土行业规范条件（2025年本）")
    code, out, err = _cli(capsys, "inspect", pdf, "--source", "govcn")
    assert code == 0 and "codes: 1C902.a" in out and "[read]" in out
    assert not (tmp_path / "never.db").exists()


def test_inspect_a_scan_warns_no_text_layer(capsys, tmp_path, cli_env) -> None:
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(pdfs.image_pdf())
    code, out, err = _cli(capsys, "inspect", pdf, "--source", "govcn")
    assert code == 0
    assert f"warning: govcn: {pdf.resolve().as_uri()}: no_text_layer: no text layer" in err
    assert "[no_text_layer: no text layer" in out


def test_inspect_page_with_saved_attachments(capsys, tmp_path, cli_env) -> None:
    folder = tmp_path / "att"
    folder.mkdir()
    (folder / "W020250812536271829304.pdf").write_bytes(pdfs.text_pdf(ANNEX))
    page = tmp_path / "page.html"
    page.write_bytes((CORPUS / "input.html").read_bytes())
    code, out, err = _cli(capsys, "inspect", page, "--source", "govcn", "--url", PAGE_URL,
                          "--attachments", folder, "--json")
    assert code == 0
    assert err == f"warning: attachment {WPS_URL}: no file {folder / 'W020250812536271829305.wps'}\n"
    data = json.loads(out)
    assert [(c["code"], c["where"]) for c in data["codes"]] == [("1C902.a", PDF_URL)]
    assert [a.get("status") for a in data["attachments"]] == ["read", None]
    code, out, err = _cli(capsys, "inspect", page, "--source", "govcn", "--attachments", tmp_path / "nope")
    assert code != 0 and "no such folder" in err


def test_relations_are_read_from_the_body_only() -> None:
    annex = [["附件 已发布措施一览", "商务部 海关总署公告2025年第56号自即日起停止实施。"]]
    read = read_attachment(pdfs.text_pdf(annex), filename="a.pdf")
    record = extract_page((CORPUS / "input.html").read_bytes(), source="govcn", url=PAGE_URL,
                          attachments={PDF_URL: read})
    assert "2025年第56号自即日起停止实施" in record.text
    assert record.relations == ()


def test_process_reads_a_docx_attachment(store, clock) -> None:
    page = (CORPUS / "input.html").read_bytes().replace(b"W020250812536271829304.pdf", b"annex.docx")
    _save(store, PAGE_URL, page, clock.now(), "detail")
    docx = _docx("<w:p><w:r><w:t>附表：3A001.b 与 1C011</w:t></w:r></w:p>")
    _save(store, PAGE_URL.rsplit("/", 1)[0] + "/annex.docx", docx, clock.now(), "attachment",
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    report = process_pending(store, now=clock.now())
    assert (report.processed, report.new_versions, report.failed) == (1, 1, 0)
    version = store.latest_version(store.document("miit:工信部原:2025:112").id)
    assert _codes(store, version.id) == ["1C011", "3A001.b"]


def test_a_body_pointing_to_its_annex_as_the_list_repeals_what_the_pdf_lists() -> None:
    """"决定废止…（目录见附件）": each document on a line of the attached PDF is repealed; without that
    sentence the same PDF acts on nothing (test above)."""
    html = (CORPUS / "input.html").read_bytes().replace(
        "印发给你们".encode(), "印发给你们。同时，决定废止2件规范性文件（目录见附件）".encode())
    annex = [["废止的规范性文件目录", "1 某行业准入条件 工业和信息化部公告2013年第29号", "2 某通知 工信部原〔2015〕211号"]]
    read = read_attachment(pdfs.text_pdf(annex), filename="a.pdf")
    record = extract_page(html, source="govcn", url=PAGE_URL, attachments={PDF_URL: read})
    assert sorted((r.type, r.target_key) for r in record.relations) == [
        ("repeals", "miit:2013:29"), ("repeals", "miit:工信部原:2015:211")]
    assert "【附件：" in record.relations[0].evidence and "目录见附件" in record.relations[0].evidence
    assert extract_page(html, source="govcn", url=PAGE_URL).relations == ()  # the annex unread: nothing guessed
