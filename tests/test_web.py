"""``pipeline.web``: every page through Starlette's TestClient with real output asserted, JSON at the
same URLs, escaping of hostile page text, the security headers, read-only access and the ack endpoint.

The database is built like tests/test_cli.py's: five MOFCOM announcements on T0, then the edited
No.58 page (one code and one element added) a day later. No.70 suspends No.58 until 2026-11-10.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from pipeline.cli import main
from pipeline.clock import FixedClock
from pipeline.process import process_pending
from pipeline.web import TOKEN_HEADER, create_app, diff_url, doc_url
from store import Store

BASE = ("2024-46-standard", "2025-18-table", "2025-58-standard", "2025-70-ergodic", "2025-72-gonggao")
K58, K70, K72 = "mofcom+gacc:2025:58", "mofcom+gacc:2025:70", "mofcom:2025:72"
TITLE_72 = "关于暂停实施商务部公告2024年第46号第二款的公告"
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>\u202eexe.pdf'
TOKEN = "s3cret-token-0123456789"


def build(url, tools, *, title_72: str | None = None) -> None:
    """The shared fixture database at ``url`` (``title_72`` replaces No.72's title in its page)."""
    with Store.open(url) as store:
        tools.register_sources(store)
        for case in BASE:
            body = None
            if case == "2025-72-gonggao" and title_72 is not None:
                body = tools.read("mofcom", "MofcomNoticePage", case)[0].replace(
                    TITLE_72.encode("utf-8"), html.escape(title_72).encode("utf-8"))  # as text, not markup
            tools.save(store, case, at=tools.T0, body=body)
        process_pending(store, now=tools.T0)
        tools.save(store, "2025-58-edited-state2", at=tools.T0 + timedelta(days=1))
        process_pending(store, now=tools.T0 + timedelta(days=1))


@pytest.fixture(scope="module")
def web_db(tmp_path_factory: pytest.TempPathFactory, page_tools) -> Path:
    path = tmp_path_factory.mktemp("web") / "web.db"
    build(path, page_tools)
    return path


@pytest.fixture(scope="module")
def client(web_db: Path, page_tools):
    store = Store.open_read_only(web_db)
    with TestClient(create_app(store, clock=FixedClock(page_tools.T0 + timedelta(days=2)))) as c:
        yield c
    store.close()


def rows_of(html: str, table_class: str) -> list[str]:
    """The ``<tr>`` elements of the first ``<table class=...>``, as text without tags, spaces squeezed."""
    found = re.search(rf'<table class="{table_class}">(.*?)</table>', html, re.S)
    assert found, f"no table {table_class}"
    body = found[1].split("<tbody>", 1)[-1]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in re.findall(r"<tr.*?</tr>", body, re.S)]


# -- changes ---------------------------------------------------------------------------------


def test_changes_newest_first_with_links_to_document_and_diff(client) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    rows = rows_of(r.text, "changes")
    assert [row.split()[2:4] for row in rows] == [
        ["changed", K58], ["new", K72], ["new", K70], ["new", K58], ["new", "mofcom+gacc:2025:18"],
        ["new", "mofcom:2024:46"]]
    assert rows[0].startswith("2025-11-11 03:00 changed") and "1 code added" in rows[0]
    assert f'href="{doc_url(K58)}"' in r.text and f'href="/doc/{K58}/diff/1..2"' in r.text
    assert "商务部 海关总署公告2025年第58号 公布对锂电池和人造石墨负极材料相关物项实施出口管制的决定" in r.text


def test_changes_filters(client) -> None:
    def keys(**params) -> list[tuple[str, str]]:
        return [(row["kind"], row["doc_key"]) for row in client.get("/", params={**params, "format": "json"}).json()]

    assert keys(kind="changed") == [("changed", K58)]
    assert keys(code="3c901.B") == [("changed", K58), ("new", K58)]  # any version tagged, case-insensitive
    assert keys(element="Mn") == [("changed", K58), ("new", K58)]
    assert keys(since="2025-11-11") == [("changed", K58)]
    assert keys(until="2025-11-10") == keys()[1:]  # inclusive day: everything of T0
    assert keys(source="meti") == []
    assert keys(limit="2") == keys()[:2]
    html = client.get("/", params={"kind": "changed"}).text
    assert '<option value="changed" selected>' in html and len(rows_of(html, "changes")) == 1


def test_changes_json_has_the_history_shape(client) -> None:
    data = client.get("/", headers={"Accept": "application/json"}).json()
    assert set(data[0]) == {"created_at", "kind", "doc_key", "source", "url", "title", "from_version", "to_version",
                            "summary", "field_changes"}
    assert (data[0]["created_at"], data[0]["from_version"], data[0]["to_version"]) == (
        "2025-11-11T03:00:00+00:00", 1, 2)
    assert {"field": "code", "kind": "added", "old": None, "new": "3C901.b",
            "summary": "code 3C901.b added"} in data[0]["field_changes"]
    assert client.get("/?format=json").json() == data


def test_bad_filter_is_a_clear_400(client) -> None:
    r = client.get("/", params={"since": "11/10/2025"})
    assert r.status_code == 400 and "since=&#39;11/10/2025&#39; is not a date" in r.text and "YYYY-MM-DD" in r.text
    assert client.get("/", params={"limit": "0", "format": "json"}).json() == {
        "error": "limit=0 is out of range", "hint": "use 1 to 1000"}


# -- document ----------------------------------------------------------------------------------


def test_document_page_fields_timeline_appearances_versions(client) -> None:
    r = client.get(doc_url(K58))
    assert r.status_code == 200
    html = r.text
    assert "<title>mofcom+gacc:2025:58 · regwatch</title>" in html
    assert ('<p class="headline" lang="en">MOFCOM/GACC Announcement 2025 No. 58 lists 5 control codes '
            '(3A001, 3B901.a, 3C901.a.1, …), effective 2025-11-08</p>') in html
    assert "公布对锂电池和人造石墨负极材料相关物项实施出口管制的决定" in html
    assert re.search(r'Status on <time>2025-11-12</time>: <span class="status status-suspended">suspended</span> '
                     r'until <time>2026-11-10</time> by <a class="key" href="/doc/mofcom\+gacc:2025:70">', html)
    assert rows_of(html, "timeline") == [
        "2025-10-09 not yet effective its own dates",
        f"2025-11-08 suspended until 2026-11-10 {K70}",
        f"2026-11-11 in force {K70}"]
    assert "3C901.b" in rows_of(html, "codes")[-1] or any("3C901.b" in row for row in rows_of(html, "codes"))
    [appearance] = rows_of(html, "appearances")
    assert appearance.startswith("mofcom reference, authoritative active 2025-11-10 03:00 2025-11-11 03:00 https://")
    assert 'href="https://www.mofcom.gov.cn/zwgk/zcfb/art/2025/art_1aeba4fb358b98298b62eda62106d2de.html"' in html
    assert [row.split()[0] for row in rows_of(html, "versions")] == ["v1", "v2"]
    assert f'href="{diff_url(K58, 1, 2)}"' in html


def test_document_status_on_another_day_and_json(client) -> None:
    html = client.get(doc_url(K58), params={"on": "2026-12-01"}).text
    assert 'Status on <time>2026-12-01</time>: <span class="status status-in_force">in force</span>' in html
    data = client.get(doc_url(K58), params={"format": "json"}).json()
    assert data["doc_key"] == K58 and data["version"] == 2 and data["fetched"] is True
    assert data["headline"].startswith("MOFCOM/GACC Announcement 2025 No. 58 lists 5 control codes")
    assert client.get(doc_url(K70), params={"format": "json"}).json()["headline"] == (
        "MOFCOM/GACC Announcement 2025 No. 70 suspends 6 announcements until 2026-11-10")
    assert [v["number"] for v in data["versions"]] == [1, 2]
    assert [(t["day"], t["status"], t["cause"]) for t in data["timeline"]] == [
        ("2025-10-09", "not_yet_effective", None), ("2025-11-08", "suspended", K70), ("2026-11-11", "in_force", K70)]
    assert data["status"]["status"] == "suspended" and data["appearances"][0]["authoritative"] is True


def test_document_key_quoted_or_not_routes_the_same(client) -> None:
    plain = client.get(f"/doc/{K58}", params={"format": "json"}).json()
    assert client.get("/doc/" + quote(K58, safe=""), params={"format": "json"}).json() == plain
    cjk = "miit:工信部原:2012:285"
    assert doc_url(cjk) == "/doc/miit:%E5%B7%A5%E4%BF%A1%E9%83%A8%E5%8E%9F:2012:285"
    for url in (doc_url(cjk), f"/doc/{cjk}"):
        r = client.get(url, params={"format": "json"})
        assert r.status_code == 404 and r.json()["error"] == f"no document '{cjk}'"
    r = client.get(diff_url(cjk, 1, 2), params={"format": "json"})  # the diff route, not a document "…/diff/1..2"
    assert r.status_code == 404 and r.json()["error"] == f"no document '{cjk}'"


def test_document_known_only_from_the_documents_acting_on_it(client) -> None:
    key = "mofcom+gacc:2025:55"  # never fetched; No.70 suspends it
    html = client.get(doc_url(key)).text
    assert "Not fetched: known from documents that act on it." in html
    assert re.search(r'<li><a class="key" href="/doc/mofcom\+gacc:2025:70"><bdi>mofcom\+gacc:2025:70</bdi></a> '
                     r'suspends it until <time>2026-11-10</time></li>', html)
    assert f"2026-11-11 in force {K70}" in rows_of(html, "timeline")
    data = client.get(doc_url(key), params={"format": "json"}).json()
    assert data["fetched"] is False and data["status"]["status"] == "suspended"
    assert [(r["from"], r["type"]) for r in data["relations_in"]] == [(K70, "suspends")]


def test_unknown_document_is_404_with_hint(client) -> None:
    r = client.get("/doc/mofcom:2099:1")
    assert r.status_code == 404 and "no document &#39;mofcom:2099:1&#39;" in r.text and "Hint:" in r.text


# -- diff --------------------------------------------------------------------------------------


def test_diff_side_by_side_marks_insertions_with_field_changes_on_top(client) -> None:
    r = client.get(diff_url(K58, 1, 2))
    assert r.status_code == 200
    html = r.text
    assert html.index('id="field-changes"') < html.index('id="text"')
    assert re.search(r'<li class="fc-added"><bdi>code 3C901.b added</bdi></li>', html)
    assert "+27 / −0 characters" in html
    inserted = re.findall(r"<ins>(.*?)</ins>", html, re.S)
    assert inserted and sum(len(t) for t in inserted) == 27 and "3C901.b" in "".join(inserted)
    assert "<del>" not in html
    changed = re.findall(r'<tr class="changed"><td class="old">(.*?)</td><td class="new">(.*?)</td></tr>', html, re.S)
    assert changed and all("<ins>" in new and "<ins>" not in old for old, new in changed)


def test_diff_inline_and_reverse(client) -> None:
    html = client.get(diff_url(K58, 1, 2), params={"view": "inline"}).text
    inline = re.search(r'<div class="inline">(.*?)</div>', html, re.S)[1]
    assert "<ins>" in inline and "公布对锂电池" in inline
    back = client.get(diff_url(K58, 2, 1), params={"view": "inline"}).text
    deleted = re.findall(r"<del>(.*?)</del>", back, re.S)
    assert sum(len(t) for t in deleted) == 27 and "<ins>" not in back
    assert "code 3C901.b removed" in back


def test_diff_json_and_errors(client) -> None:
    data = client.get(diff_url(K58, 1, 2), params={"format": "json"}).json()
    assert (data["doc_key"], data["from_version"], data["to_version"], data["inserted_chars"],
            data["deleted_chars"]) == (K58, 1, 2, 27, 0)
    assert "{+" in data["inline"] and data["unified"].startswith("@@")
    assert [c["summary"] for c in data["field_changes"]] == ["code 3C901.b added", "element Mn added"]
    r = client.get(f"/doc/{K58}/diff/1..9", params={"format": "json"})
    assert r.status_code == 404 and "version" in r.json()["error"]
    r = client.get(f"/doc/{K58}/diff/1-2", params={"format": "json"})
    assert r.status_code == 400 and r.json()["error"] == "'1-2' is not a version range"


# -- deadlines, search, alerts, sources ------------------------------------------------------------


def test_deadlines_around_a_day(client, web_db: Path, capsys) -> None:
    html = client.get("/deadlines", params={"on": "2026-11-01", "days": "30"}).text
    rows = rows_of(html, "deadlines")
    assert f"2026-11-10 in 9 day(s) {K58} suspended until 2026-11-10 in force {K70}" in rows
    assert rows[-1] == "2026-11-27 in 26 day(s) mofcom:2024:46 partly suspended [ 第二款 ] until 2026-11-27 in force " \
                       f"{K72}"
    data = client.get("/deadlines", params={"on": "2026-11-01", "days": "30", "format": "json"}).json()
    assert (K58, "2026-11-10", 9, "in_force") in [(d["doc_key"], d["day"], d["days_left"], d["after"]["status"])
                                                 for d in data]
    capsys.readouterr()
    assert main(["--db", str(web_db), "deadlines", "--on", "2026-11-01", "--days", "30", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == data  # the same data as the CLI
    assert "No deadlines between" in client.get("/deadlines", params={"on": "2030-01-01"}).text


def test_search(client) -> None:
    html = client.get("/search", params={"q": "稀土"}).text
    assert 'href="/doc/mofcom+gacc:2025:18"' in html and "中重稀土" in html
    data = client.get("/search", params={"q": "３Ｃ９０１", "format": "json"}).json()  # folded like the CLI
    assert K58 in [h["doc_key"] for h in data]
    assert "Nothing matches" in client.get("/search", params={"q": "不存在的词语"}).text
    assert client.get("/search", params={"q": "  ", "format": "json"}).json() == []


def test_alerts_state_per_sink(client) -> None:
    data = client.get("/alerts", params={"format": "json"}).json()
    assert data["sinks"] == {"console": {"pending": 13}} and data["ack_enabled"] is False
    assert len(data["alerts"]) == 13 and {d["sink"] for a in data["alerts"] for d in a["deliveries"]} == {"console"}
    html = client.get("/alerts").text
    assert "console" in html and "pending 13" in html and "--allow-ack" in html


def test_sources_health(client) -> None:
    html = client.get("/sources").text
    mofcom = [row for row in rows_of(html, "sources") if row.startswith("mofcom")]
    assert mofcom and mofcom[0].endswith("5 6")  # documents, versions
    data = client.get("/sources", params={"format": "json"}).json()
    assert data["sources"]["mofcom"]["documents"] == 5 and data["totals"]["changes"] == 6


# -- safety -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", f"/doc/{K58}", f"/doc/{K58}/diff/1..2", "/deadlines", "/search?q=x",
                                  "/alerts", "/sources", "/doc/nope:1", "/static/style.css", "/no/such/page"])
def test_security_headers_on_every_response(client, path: str) -> None:
    r = client.get(path)
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    if r.headers["content-type"].startswith("text/html"):
        assert "<script" not in r.text.lower() and " on" + "load=" not in r.text


def test_static_css_is_served_locally(client) -> None:
    r = client.get("/static/style.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css") and "ins {" in r.text
    assert 'href="/static/style.css"' in client.get("/").text and "//" not in client.get("/").text.split(
        "<link", 1)[1].split(">", 1)[0]


def test_hostile_page_text_is_escaped_and_bidi_isolated(tmp_path: Path, page_tools) -> None:
    path = tmp_path / "hostile.db"
    build(path, page_tools, title_72=HOSTILE)
    store = Store.open_read_only(path)
    try:
        client = TestClient(create_app(store, clock=FixedClock(page_tools.T0)))
        assert HOSTILE in client.get(doc_url(K72), params={"format": "json"}).json()["title"]  # really stored
        for url in ("/", doc_url(K72), "/search?q=exe.pdf", "/alerts"):
            html = client.get(url).text
            assert "<script>" not in html and "<img" not in html, url
            assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html, url
            assert "\u202e" not in html and "[U+202E]exe.pdf" in html, url  # shown, so it reverses nothing
            at = html.index("[U+202E]")
            assert html.rfind("<bdi", 0, at) > html.rfind("</bdi>", 0, at), url  # and isolated from its neighbours
    finally:
        store.close()


def test_the_web_store_refuses_writes(web_db: Path) -> None:
    store = Store.open_read_only(web_db)
    try:
        with pytest.raises(sa.exc.OperationalError, match="readonly"):
            store.ensure_source("evil", "evil")
        assert [s.slug for s in store.sources()] == ["govcn", "meti", "miit", "mofcom"]
    finally:
        store.close()


@pytest.mark.pg
def test_postgres_read_only_and_click_path(pg_url_factory, page_tools) -> None:
    url = pg_url_factory()
    build(url, page_tools)
    store = Store.open_read_only(url)
    try:
        with pytest.raises(sa.exc.DBAPIError, match="read-only"):
            store.ensure_source("evil", "evil")
        client = TestClient(create_app(store, clock=FixedClock(page_tools.T0 + timedelta(days=2))))
        _click_from_changes_to_diff(client)
    finally:
        store.close()


def test_sqlite_click_path(client) -> None:
    _click_from_changes_to_diff(client)


def _click_from_changes_to_diff(client: TestClient) -> None:
    """Follow the links a reader would: change list → document → its v1→v2 diff."""
    changes = client.get("/").text
    doc_link = re.search(r'<a class="key" href="([^"]+)"><bdi>mofcom\+gacc:2025:58</bdi></a>', changes)[1]
    document = client.get(doc_link).text
    assert f"2025-11-08 suspended until 2026-11-10 {K70}" in rows_of(document, "timeline")
    diff_link = re.search(r'<a class="difflink" href="([^"]+)">v1→v2</a>', document)[1]
    diff = client.get(diff_link).text
    assert "code 3C901.b added" in diff and "<ins>" in diff


# -- acknowledging ------------------------------------------------------------------------------------


def test_ack_is_forbidden_unless_enabled_and_tokened(web_db: Path, tmp_path: Path, page_tools) -> None:
    import shutil

    path = tmp_path / "ack.db"
    shutil.copy(web_db, path)
    ro, rw = Store.open_read_only(path), Store.open(path)
    try:
        alert_id = rw.alerts(limit=1)[0].id
        plain = TestClient(create_app(ro))
        assert plain.post(f"/alerts/{alert_id}/ack", headers={TOKEN_HEADER: TOKEN}).status_code == 403
        assert plain.get(f"/alerts/{alert_id}/ack").status_code == 405
        app = create_app(ro, clock=FixedClock(page_tools.T0), allow_ack=True, token=TOKEN, ack_store=rw)
        client = TestClient(app)
        assert client.post(f"/alerts/{alert_id}/ack").status_code == 403
        r = client.post(f"/alerts/{alert_id}/ack", headers={TOKEN_HEADER: TOKEN + "x"})
        assert r.status_code == 403 and r.json()["error"] == "missing or wrong token"
        assert rw.alert(alert_id).acked_at is None
        r = client.post(f"/alerts/{alert_id}/ack", headers={TOKEN_HEADER: TOKEN}, json={"by": "alice", "note": "ok"})
        assert r.status_code == 200 and r.json() == {"id": alert_id, "acked_at": "2025-11-10T03:00:00+00:00",
                                                      "acked_by": "alice", "ack_note": "ok"}
        assert rw.alert(alert_id).acked_by == "alice"
        html = client.get("/alerts").text
        assert "by <bdi>alice</bdi>" in html
        assert client.post("/alerts/99999/ack", headers={TOKEN_HEADER: TOKEN}).status_code == 404
    finally:
        ro.close()
        rw.close()
    with pytest.raises(ValueError, match="token"):
        create_app(ro, allow_ack=True, token="", ack_store=rw)


def test_cli_web_refuses_ack_without_a_token(capsys, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RW_WEB_TOKEN", raising=False)
    db = str(tmp_path / "x.db")
    assert main(["--db", db, "web", "--allow-ack"]) == 1
    assert "--allow-ack needs --token-env NAME" in capsys.readouterr().err
    assert main(["--db", db, "web", "--allow-ack", "--token-env", "RW_WEB_TOKEN"]) == 1
    assert "RW_WEB_TOKEN is unset or shorter than 16 characters" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["pipeline.web.app", "pipeline.web.htmldiff"])
def test_doctests(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# -- alerts link to the web view ----------------------------------------------------------------------


def test_alerts_link_to_the_web_page_when_base_url_is_configured(tmp_path: Path, page_tools) -> None:
    import json as _json

    from alerts.base import Alert
    from alerts.render import to_block_kit
    from pipeline.config import load_config
    from pipeline.outbox import Routing

    config_path = tmp_path / "schedules.yaml"
    config_path.write_text("web:\n  base_url: https://regwatch.example.com/\n", encoding="utf-8")
    routing = Routing.from_config(load_config(config_path))
    assert routing.web_base_url == "https://regwatch.example.com/"
    with Store.open(tmp_path / "links.db") as store:
        page_tools.register_sources(store)
        page_tools.save(store, "2025-58-standard", at=page_tools.T0)
        process_pending(store, now=page_tools.T0, routing=routing)
        [alert] = [a for a in store.alerts() if a.doc_key == K58 and a.kind == "new"]
        assert alert.payload["links"] == [["Open in regwatch", f"https://regwatch.example.com/doc/{K58}"]]
        message = _json.dumps(to_block_kit(Alert.from_payload(alert.id, alert.payload)), ensure_ascii=False)
        assert f"<https://regwatch.example.com/doc/{K58}|Open in regwatch>" in message
    with Store.open(tmp_path / "nolinks.db") as store:  # not configured: no link
        page_tools.register_sources(store)
        page_tools.save(store, "2025-58-standard", at=page_tools.T0)
        process_pending(store, now=page_tools.T0)
        assert all(not a.payload.get("links") for a in store.alerts())
    bad = tmp_path / "bad.yaml"
    bad.write_text("web:\n  base_url: regwatch.example.com\n", encoding="utf-8")
    from pipeline.config import ConfigError

    with pytest.raises(ConfigError, match=r"web.base_url: .*must start with http:// or https://"):
        load_config(bad)


def test_a_transitional_period_ending_is_a_row_of_its_own(tmp_path: Path, page_tools) -> None:
    path = tmp_path / "t.db"
    with Store.open(path) as store:
        page_tools.register_sources(store)
        body = page_tools.read("mofcom", "MofcomNoticePage", "2025-58-standard")[0].replace(
            "本公告自2025年11月8日起正式实施。".encode(), "本公告自2025年11月8日起正式实施，过渡期至2026年3月31日。".encode())
        page_tools.save(store, "2025-58-standard", at=page_tools.T0, body=body)
        process_pending(store, now=page_tools.T0)
    ro = Store.open_read_only(path)
    with TestClient(create_app(ro, clock=FixedClock(page_tools.T0))) as c:
        rows = rows_of(c.get("/deadlines", params={"on": "2026-03-01", "days": "60"}).text, "deadlines")
        data = c.get("/deadlines", params={"on": "2026-03-01", "days": "60", "format": "json"}).json()
    ro.close()
    assert rows == [f"2026-03-31 in 30 day(s) {K58} transitional period ends: the old rules no longer apply from 2026-04-01"]
    assert [(d["kind"], d["day"], d["days_left"]) for d in data] == [("transition", "2026-03-31", 30)]
