"""ConsoleSink and JsonlSink outputs, asserted exactly."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest

from alerts.base import Alert
from alerts.console import ConsoleSink
from alerts.errors import SinkConfigError
from alerts.jsonl import JsonlSink

RENDER = Path(__file__).resolve().parents[1] / "fixtures" / "alerts" / "render"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def load_alert(name: str) -> Alert:
    case = json.loads((RENDER / f"{name}.alert.json").read_text(encoding="utf-8"))
    return Alert.from_payload(case["id"], case["payload"])


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


# ----------------------------------------------------------------------------- console


def test_console_plain_output_is_exact() -> None:
    out = io.StringIO()
    sink = ConsoleSink.from_config("dry", {"kind": "console"}, stream=out, environ={})
    result = sink.send(load_alert("new_joint_notice"))
    assert result.ok and result.external_id is None and result.detail == "printed alert 101"
    assert out.getvalue() == (
        "▲ NEW [warning]  mofcom  mofcom+gacc:2025:70 — 商务部 海关总署公告2025年第70号 关于暂停实施部分出口管制措施的公告\n"
        "  Suspends the export-control measures of announcement 2025 No.61 until 2026-11-10.\n"
        "  Published: 2025-11-07\n"
        "  Effective: 2025-11-07\n"
        "  Suspended until: 2026-11-10\n"
        "  Suspends: mofcom:2025:61\n"
        "  Codes: 1C914, 1C915\n"
        "  Tags: relation:suspends, code:1C914, code:1C915, element:Dy\n"
        "  https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_0123456789abcdef.html\n"
        "  Attachment (PDF): https://www.mofcom.gov.cn/files/annex.pdf?id=1&lang=zh\n"
        "\n"
    )


def test_console_diff_is_cut_at_max_diff_lines() -> None:
    out = io.StringIO()
    ConsoleSink.from_config("dry", {"kind": "console", "max_diff_lines": 3}, stream=out, environ={}).send(
        load_alert("changed_long_diff")
    )
    assert out.getvalue().splitlines()[-6:] == [
        "  Diff:",
        "      第1条 本条为未改动的上下文文字，用于测试截断。",
        "      第2条 本条为未改动的上下文文字，用于测试截断。",
        "      第3条 本条为未改动的上下文文字，用于测试截断。",
        "    …477 more lines, see `regwatch diff miit+ndrc+mnr:order:71`",
        "",
    ]


@pytest.mark.parametrize(
    ("color", "stream", "environ", "expected"),
    [
        ("auto", io.StringIO(), {}, False),
        ("auto", FakeTty(), {}, True),
        ("auto", FakeTty(), {"NO_COLOR": "1"}, False),
        ("auto", FakeTty(), {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
        ("never", FakeTty(), {}, False),
        (False, FakeTty(), {}, False),
        ("always", io.StringIO(), {"NO_COLOR": "1"}, True),
        (True, io.StringIO(), {}, True),
    ],
)
def test_console_color_decision(color, stream, environ, expected) -> None:
    sink = ConsoleSink.from_config("dry", {"kind": "console", "color": color}, stream=stream, environ=environ)
    assert sink.color is expected


def test_console_color_output_is_plain_plus_ansi() -> None:
    alert = load_alert("changed_long_diff")
    plain, colored = io.StringIO(), FakeTty()
    ConsoleSink("a", stream=plain, color=False).send(alert)
    ConsoleSink("b", stream=colored, color=True).send(alert)
    assert "\x1b[1;36m▲" not in colored.getvalue()
    assert colored.getvalue().startswith("\x1b[1;36m● CHANGED  miit")  # bold cyan head for info
    assert "\x1b[32m" in colored.getvalue() and "\x1b[31m" in colored.getvalue()  # + green, - red
    assert ANSI.sub("", colored.getvalue()) == plain.getvalue()


def test_console_color_never_interprets_scraped_markup() -> None:
    alert = load_alert("injection")
    out = FakeTty()
    ConsoleSink("b", stream=out, color=True).send(alert)
    assert "<b>Label</b>: <!subteam^S123|legal> & co" in ANSI.sub("", out.getvalue())


def test_console_bad_option() -> None:
    with pytest.raises(SinkConfigError, match=r"^sink 'dry': color: must be one of auto, always, never, got 'rainbow'$"):
        ConsoleSink.from_config("dry", {"kind": "console", "color": "rainbow"})


def test_console_write_error_is_a_retryable_failure() -> None:
    result = ConsoleSink("dry", stream=_Broken()).send(load_alert("source_health"))
    assert not result.ok and result.retryable and result.detail.startswith("console dry: cannot write:")


class _Broken(io.StringIO):
    def write(self, s: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


# ----------------------------------------------------------------------------- jsonl


def test_jsonl_appends_one_exact_line_per_alert(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "alerts.jsonl"
    sink = JsonlSink.from_config("archive", {"kind": "jsonl", "path": str(path)})
    first = sink.send(load_alert("source_health"))
    second = sink.send(load_alert("new_joint_notice"))
    data = path.read_bytes()
    lines = data.decode("utf-8").splitlines()
    assert first.ok and first.external_id == f"{path}#0"
    assert second.ok and second.external_id == f"{path}#{len(lines[0].encode()) + 1}"
    assert lines[0] == (
        '{"id": 404, "kind": "source_health", "severity": "critical", "source": "meti", "doc_key": null, '
        '"title": "3 consecutive crawl failures", '
        '"summary": "LayoutChanged: div.art-title h1 matched 0 elements on the list page.", '
        '"url": "https://www.meti.go.jp/press/index.html", "created_at": "2026-01-08T18:30:00+00:00", '
        '"facts": [], "diff_text": null, "links": [], "tags": []}'
    )
    assert '"title": "商务部 海关总署公告2025年第70号' in lines[1]  # ensure_ascii=False
    assert data.endswith(b"\n") and len(lines) == 2
    assert Alert.from_payload(101, {k: v for k, v in json.loads(lines[1]).items() if k != "id"}) == load_alert(
        "new_joint_notice"
    )


def test_jsonl_one_write_call_per_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, b: calls.append(bytes(b)) or real_write(fd, b))
    JsonlSink("a", tmp_path / "a.jsonl").send(load_alert("changed_long_diff"))
    assert len(calls) == 1 and calls[0].endswith(b"\n") and calls[0].count(b"\n") == 1


def test_jsonl_short_write_is_rolled_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.jsonl"
    sink = JsonlSink("a", path)
    sink.send(load_alert("source_health"))
    before = path.read_bytes()
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, b: real_write(fd, b[:10]))
    result = sink.send(load_alert("new_joint_notice"))
    assert not result.ok and result.retryable
    assert re.fullmatch(r"jsonl a: short write to .*a\.jsonl \(10/\d+ bytes\), rolled back", result.detail)
    assert path.read_bytes() == before


def test_jsonl_repairs_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"id": 1, "kind": "ne')  # an earlier crash mid-line
    result = JsonlSink("a", path).send(load_alert("source_health"))
    lines = path.read_bytes().split(b"\n")
    assert result.external_id == f"{path}#22"
    assert lines[0] == b'{"id": 1, "kind": "ne' and json.loads(lines[1])["id"] == 404 and lines[2] == b""


def test_jsonl_fsync_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    JsonlSink.from_config("a", {"kind": "jsonl", "path": str(tmp_path / "a.jsonl"), "fsync": True}).send(
        load_alert("source_health")
    )
    JsonlSink.from_config("b", {"kind": "jsonl", "path": str(tmp_path / "b.jsonl")}).send(load_alert("source_health"))
    assert len(synced) == 1


def test_jsonl_path_is_a_directory_is_not_retryable(tmp_path: Path) -> None:
    result = JsonlSink("a", tmp_path).send(load_alert("source_health"))
    assert not result.ok and not result.retryable
    assert result.detail == f"jsonl a: cannot append to {tmp_path}: Is a directory (fix the path or its permissions, then redeliver)"


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"kind": "jsonl"}, "sink 'out': path: missing; set path: /var/lib/regwatch/alerts.jsonl"),
        ({"kind": "jsonl", "path": 3}, "sink 'out': path: must be a string, got int"),
        ({"kind": "jsonl", "path": "a", "fsync": "maybe"}, "sink 'out': fsync: must be true or false, got 'maybe'"),
        ({"kind": "jsonl", "path": "a", "pth": "b"}, "sink 'out': pth: unknown option; known options: fsync, kind, path"),
    ],
)
def test_jsonl_config_errors(cfg: dict, message: str) -> None:
    with pytest.raises(SinkConfigError) as info:
        JsonlSink.from_config("out", cfg)
    assert str(info.value) == message
