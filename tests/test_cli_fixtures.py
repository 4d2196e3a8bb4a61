"""``regwatch fixtures save/rerun``: a stored capture becomes a page fixture the page class re-reads."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.cli import main
from pipeline.process import process_pending
from store import Store


def test_save_then_rerun(tmp_path: Path, capsys, page_tools) -> None:
    db = tmp_path / "f.db"
    with Store.open(db) as store:
        page_tools.register_sources(store)
        page_tools.save(store, "2025-72-gonggao", at=page_tools.T0)
        process_pending(store, now=page_tools.T0)
    out_dir = tmp_path / "pages"
    assert main(["--db", str(db), "fixtures", "save", "mofcom:2025:72", "--case", "c72", "--dir", str(out_dir)]) == 0
    case = out_dir / "mofcom" / "MofcomNoticePage" / "c72"
    original, meta = page_tools.read("mofcom", "MofcomNoticePage", "2025-72-gonggao")
    assert (case / "body.html").read_bytes() == original
    saved = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    assert (saved["url"], saved["status"]) == (meta["url"], 200)
    capsys.readouterr()

    assert main(["fixtures", "rerun", str(case)]) == 0
    parsed = json.loads(capsys.readouterr().out)
    assert parsed["doc_number_text"] == "商务部公告2025年第72号" and parsed["source"] == "mofcom"

    assert main(["--db", str(db), "fixtures", "save", "mofcom:2025:72", "--case", "c72", "--dir", str(out_dir)]) == 1
    assert "already exists" in capsys.readouterr().err


def test_rerun_refuses_a_directory_that_is_not_a_case(tmp_path: Path, capsys) -> None:
    assert main(["fixtures", "rerun", str(tmp_path)]) == 1
    assert "is not a fixture case" in capsys.readouterr().err
