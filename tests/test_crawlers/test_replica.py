"""The MOFCOM replica server: openresty-like headers, the jpaas unit API, states and fault behaviours."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import replace
from typing import Any

import pytest

from crawlers.pages.hanweb import UnitQuery, unit_api_url
from crawlers.pages.mofcom import MofcomColumnShell, MofcomListFragment
from crawlers.replica import BEHAVIOURS, ReplicaServer, site_path

SHELL = "/zwgk/zcfb/index.html"


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def api(server: ReplicaServer, page_no: int, **overrides: str) -> tuple[int, dict[str, Any]]:
    status, headers, _ = get(server.base_url + SHELL)
    shell_url = server.base_url + SHELL
    query = MofcomColumnShell(shell_url, get(shell_url)[2], {}).query()
    url = unit_api_url(shell_url, replace(query, **overrides),
                       page_no=page_no)
    cookie = headers["Set-Cookie"].split(";")[0]
    code, _, body = get(url, Referer=shell_url, Cookie=cookie)
    return code, json.loads(body) if body.startswith(b"{") else {"raw": body.decode()}


def test_shell_headers_like_openresty_and_conditional_get(mofcom_replica: ReplicaServer) -> None:
    status, headers, body = get(mofcom_replica.base_url + SHELL)
    assert (status, headers["Server"], headers["Content-Type"]) == (200, "openresty", "text/html")
    assert headers["ETag"].startswith('W/"') and headers["Last-Modified"].endswith("GMT")
    assert "wzws_sid=" in headers["Set-Cookie"]
    assert get(mofcom_replica.base_url + SHELL, **{"If-None-Match": headers["ETag"]})[0] == 304
    assert b"queryData=" in body


def test_unit_api_pages_count_and_errors(mofcom_replica: ReplicaServer) -> None:
    code, page1 = api(mofcom_replica, 1)
    assert code == 200 and page1["success"] is True
    fragment = MofcomListFragment(mofcom_replica.base_url + "/api?x", json.dumps(page1).encode(), {})
    assert (fragment.count, len(fragment.entries())) == (18, 15)
    assert len(MofcomListFragment("http://h/u", json.dumps(api(mofcom_replica, 2)[1]).encode(), {}).entries()) == 3
    assert api(mofcom_replica, 3)[1]["data"]["html"].count("<li>") == 0
    assert api(mofcom_replica, 1, page_id="0" * 32)[1] == {"success": False, "message": "参数错误", "data": None}
    bare = unit_api_url(mofcom_replica.base_url + SHELL, UnitQuery("a", "b", "c", "d"), page_no=1)
    assert get(bare)[0] == 412  # no Referer, no WAF cookie
    conn = http.client.HTTPConnection("127.0.0.1", mofcom_replica.port, timeout=5)
    conn.request("POST", bare, headers={"Referer": "x"})
    assert conn.getresponse().status == 500  # "不支持的HTTP方法"
    conn.close()


def test_states_overlay_base(mofcom_replica: ReplicaServer) -> None:
    assert mofcom_replica.states() == ["base", "2", "demo-0", "demo-1", "demo-2", "demo-3", "demo-4", "demo-broken",
                                       "faults", "withdrawn", "withdrawn-layout", "withdrawn-waf"]
    mofcom_replica.set_state("2")
    assert api(mofcom_replica, 1)[1]["data"]["html"].count('count="19"') == 1
    with pytest.raises(ValueError, match="unknown state 'nope'"):
        mofcom_replica.set_state("nope")


def test_withdrawal_states_remove_one_page_and_break_the_list_or_the_page(mofcom_replica: ReplicaServer) -> None:
    """The states of tests/test_pipeline/test_withdrawals.py: 商务部公告2025年第27号 leaves the list and its
    page answers 404 (or 412); ``withdrawn-layout`` also serves list items without links (``_site.json``)."""
    removed = "/zwgk/zcfb/art/2025/art_cafde955dab531ac4c42fd6ca8e7a9c7.html"
    assert get(mofcom_replica.base_url + removed)[0] == 200
    for state, status, links in (("withdrawn", 404, 15), ("withdrawn-layout", 404, 0), ("withdrawn-waf", 412, 15)):
        mofcom_replica.set_state(state)
        html = api(mofcom_replica, 1)[1]["data"]["html"]
        assert ('count="17"' in html, removed in html, html.count("<a href")) == (True, False, links), state
        assert get(mofcom_replica.base_url + removed)[0] == status, state
    mofcom_replica.set_state("base")  # the overrides end with their state
    html = api(mofcom_replica, 1)[1]["data"]["html"]
    assert html.count("<a href") == 15 and 'count="18"' in html
    assert get(mofcom_replica.base_url + removed)[0] == 200


def test_a_state_extends_another(mofcom_replica: ReplicaServer) -> None:
    """``demo-broken`` extends ``demo-3`` (its list and the edited No.58) and breaks the list items;
    ``demo-4`` extends ``demo-3`` with a longer list of its own."""
    edited = "/zwgk/zcfb/art/2025/art_1aeba4fb358b98298b62eda62106d2de.html"
    mofcom_replica.set_state("demo-3")
    html3 = api(mofcom_replica, 1)[1]["data"]["html"]
    page3 = get(mofcom_replica.base_url + edited)[2]
    assert "3C901.b" in page3.decode() and html3.count("<a href") == 15
    mofcom_replica.set_state("demo-broken")
    assert mofcom_replica.chain == ["demo-broken", "demo-3"] and "extends" not in mofcom_replica.config
    broken = api(mofcom_replica, 1)[1]["data"]["html"]
    assert broken.count("<a href") == 0 and 'count="21"' in broken and 'count="21"' in html3
    assert get(mofcom_replica.base_url + edited)[2] == page3
    mofcom_replica.set_state("demo-4")
    assert 'count="22"' in api(mofcom_replica, 1)[1]["data"]["html"] and get(mofcom_replica.base_url + edited)[2] == page3
    mofcom_replica.set_state("base")
    assert "3C901.b" not in get(mofcom_replica.base_url + edited)[2].decode()


def test_a_state_that_extends_itself_is_refused(tmp_path) -> None:
    import shutil

    site = tmp_path / "site"
    shutil.copytree(site_path("mofcom"), site, ignore=shutil.ignore_patterns("state-*"))
    for name, parent in (("a", "b"), ("b", "a")):
        (site / f"state-{name}").mkdir()
        (site / f"state-{name}" / "_site.json").write_text(json.dumps({"extends": parent}), encoding="utf-8")
    server = ReplicaServer(site)
    with pytest.raises(ValueError, match="state 'a' extends itself"):
        server.set_state("a")


@pytest.mark.parametrize(("behaviour", "status", "body"), [
    ("412", 412, "请开启JavaScript"),
    ("403", 403, "请开启JavaScript"),
    ("202-empty", 202, ""),
    ("empty-200", 200, ""),
    ("ssi-error", 200, "[an error occurred while processing this directive]"),
    ("404", 404, "404 Not Found"),
])
def test_fault_behaviours_by_query_and_injection(mofcom_replica: ReplicaServer, behaviour: str, status: int,
                                                 body: str) -> None:
    code, _, raw = get(f"{mofcom_replica.base_url}{SHELL}?__replica={behaviour}")
    assert code == status and body in raw.decode()
    mofcom_replica.inject(SHELL, behaviour)
    assert get(mofcom_replica.base_url + SHELL)[0] == status
    assert get(mofcom_replica.base_url + SHELL)[0] == 200  # injected once only


def test_redirect_offsite_points_at_another_host_name(mofcom_replica: ReplicaServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", mofcom_replica.port, timeout=5)
    try:
        conn.request("GET", SHELL + "?__replica=redirect-offsite")
        response = conn.getresponse()
        assert (response.status, response.getheader("Location")) == (
            302, f"http://localhost:{mofcom_replica.port}{SHELL}?__replica=redirect-offsite")
    finally:
        conn.close()
    mofcom_replica.inject(SHELL, "redirect-offsite")
    assert mofcom_replica.reply("GET", SHELL, {}).headers["Location"] == f"http://localhost:{mofcom_replica.port}{SHELL}"


def test_reset_and_gbk_page(mofcom_replica: ReplicaServer) -> None:
    assert "reset" in BEHAVIOURS
    mofcom_replica.inject(SHELL, "reset")
    with pytest.raises((ConnectionResetError, urllib.error.URLError, http.client.RemoteDisconnected)):
        get(mofcom_replica.base_url + SHELL)
    assert mofcom_replica.requests[-1].behaviour == "reset"
    mofcom_replica.set_state("faults")
    with pytest.raises((ConnectionResetError, urllib.error.URLError, http.client.RemoteDisconnected)):
        get(mofcom_replica.base_url + SHELL)  # state "faults": the shell resets its first connection
    listing = api(mofcom_replica, 1)[1]["data"]["html"]
    gbk_path = next(part.split('"')[0] for part in listing.split('href="')[1:] if "67号" in part)
    _, headers, raw = get(mofcom_replica.base_url + gbk_path)
    assert headers["Content-Type"] == "text/html" and b"charset" not in raw[:2000]
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "两用物项出口许可证件管理" in raw.decode("gb18030")
    assert f"http://localhost:{mofcom_replica.port}/" in listing  # the off-host link for spider tests


def test_binds_loopback_only_and_cli_serves() -> None:
    with pytest.raises(ValueError, match="loopback only"):
        ReplicaServer(site_path("mofcom"), host="0.0.0.0")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "crawlers.replica", "mofcom", "--port", str(port), "--state", "2"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert f"http://127.0.0.1:{port}" in proc.stdout.readline()
        assert get(f"http://127.0.0.1:{port}{SHELL}")[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def test_one_off_fetches_obey_robots_txt_like_the_crawler() -> None:
    """``inspect URL`` / ``sources test`` refuse a page the site's robots.txt disallows (the crawler
    would not fetch it either); a site without robots.txt allows everything."""
    import pipeline.fetch
    from pipeline.errors import UserError
    from pipeline.fetch import fetch_page

    with ReplicaServer(site_path("govcn")) as replica:
        page = replica.base_url + "/zhengce/zuixin/"
        pipeline.fetch._ROBOTS.clear()
        assert fetch_page(page, source="govcn")[2] in (200, 404)  # base state: robots.txt allows it
        replica.set_state("robots")
        pipeline.fetch._ROBOTS.clear()
        with pytest.raises(UserError, match="robots.txt of 127.0.0.1:[0-9]+ disallows it"):
            fetch_page(page, source="govcn")
        assert [r.path for r in replica.requests].count("/robots.txt") == 2  # once per host and process
    pipeline.fetch._ROBOTS.clear()
