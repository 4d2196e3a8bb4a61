"""Feed parsers: gov.cn JSON lists and METI Atom, including hostile XML (entity expansion, XXE)."""

from __future__ import annotations

import codecs
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from crawlers.errors import ChallengePage, EmptyPage
from crawlers.pages import feeds
from crawlers.pages.base import ListingEntry
from crawlers.pages.feeds import MalformedFeed, MetiAtomFeed, feed_last_updated, parse_govcn_json, parse_meti_atom

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
ATOM = (PAGES / "meti" / "MetiAtomFeed" / "new-info" / "body.xml").read_bytes()
BILLION_LAUGHS = (PAGES / "meti" / "MetiAtomFeed" / "billion-laughs" / "body.xml").read_bytes()
ZUIXIN = (PAGES / "govcn" / "GovcnJsonFeed" / "zuixinzhengce" / "body.json").read_bytes()
FEED_URL = "https://www.gov.cn/zhengce/zuixin/ZUIXINZHENGCE.json"
UTC = timezone.utc


def _atom(*entries: str, feed_updated: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>経済産業省 | 新着情報</title>{feed_updated}{''.join(entries)}</feed>").encode()


def test_meti_atom_entries_keep_feed_order_and_printed_stamps() -> None:
    entries = parse_meti_atom(ATOM)
    assert [e.date_text for e in entries] == [
        "2026-01-09T17:00:00Z", "2026-01-09T10:30:00Z", "2026-01-08T01:00:00Z", "2025-12-19T11:00:00Z"]
    assert entries[2] == ListingEntry("https://www.meti.go.jp/press/2025/01/20260108099/20260108099.html", "",
                                      "2026-01-08T01:00:00Z")


def test_meti_atom_relative_link_is_made_absolute() -> None:
    assert parse_meti_atom(ATOM)[3].url == "https://www.meti.go.jp/press/2025/12/20251219003/20251219003.html"


def test_feed_last_updated_is_newest_entry_stamp_when_feed_has_none() -> None:
    assert feed_last_updated(ATOM) == datetime(2026, 1, 9, 17, 0, tzinfo=UTC)


def test_feed_last_updated_prefers_newer_feed_level_stamp_and_reads_naive_as_jst() -> None:
    body = _atom("<entry><link href='/a.html'/><updated>2026-06-18T09:00:00+09:00</updated></entry>",
                 feed_updated="<updated>2026-06-19T10:00:00</updated>")
    got = feed_last_updated(body)
    assert got == datetime(2026, 6, 19, 1, 0, tzinfo=UTC)
    assert got.utcoffset() == timedelta(hours=9)


def test_feed_without_entries_has_no_last_updated() -> None:
    assert parse_meti_atom(_atom()) == []
    assert feed_last_updated(_atom()) is None


def test_page_class_wrapper_matches_functions() -> None:
    page = MetiAtomFeed("https://www.meti.go.jp/ml_index_release_atom.xml", ATOM, {}, status=200)
    assert page.entries() == parse_meti_atom(ATOM)
    assert page.last_updated() == datetime(2026, 1, 9, 17, 0, tzinfo=UTC)


def test_billion_laughs_is_refused_not_expanded() -> None:
    with pytest.raises(MalformedFeed, match="DTD"):
        parse_meti_atom(BILLION_LAUGHS)
    with pytest.raises(MalformedFeed, match="DTD"):
        feed_last_updated(BILLION_LAUGHS)


def test_safe_parser_itself_does_not_expand_entities() -> None:
    # Second line of defence, should the DTD pre-check ever be bypassed.
    root = etree.fromstring(b'<!DOCTYPE x [<!ENTITY a "EXPANDED">]><x>&a;</x>', parser=feeds._parser())
    assert "EXPANDED" not in "".join(root.itertext())


def test_external_entity_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET", encoding="utf-8")
    body = (f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file://{secret}">]>'
            f'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&x;</title><link href="/a"/></entry></feed>')
    with pytest.raises(MalformedFeed) as info:
        parse_meti_atom(body.encode())
    assert "TOPSECRET" not in str(info.value)


def test_utf16_doctype_is_refused() -> None:
    body = codecs.BOM_UTF16_LE + BILLION_LAUGHS.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16-le")
    with pytest.raises(MalformedFeed, match="DTD"):
        parse_meti_atom(body)


@pytest.mark.parametrize(("body", "message"), [
    (b"<rss version='2.0'><channel/></rss>", "expected Atom <feed>"),
    (b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>t</title></entry>", "not well-formed"),
    (b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>t</title></entry></feed>", "has no <link href>"),
    (b"<feed xmlns='http://www.w3.org/2005/Atom'><updated>9 Jan 2026</updated></feed>", "not an ISO 8601"),
], ids=["rss-root", "truncated", "entry-without-link", "bad-stamp"])
def test_malformed_atom_names_the_problem(body: bytes, message: str) -> None:
    with pytest.raises(MalformedFeed, match=message):
        parse_meti_atom(body) if message != "not an ISO 8601" else feed_last_updated(body)


def test_empty_atom_body_is_empty_page() -> None:
    with pytest.raises(EmptyPage):
        parse_meti_atom(b"  \n")


def test_govcn_json_rows_in_file_order_with_relative_urls_resolved() -> None:
    entries = parse_govcn_json(ZUIXIN, FEED_URL)
    assert len(entries) == 5
    assert entries[3] == ListingEntry("https://www.gov.cn/zhengce/content/202510/content_7044120.htm",
                                      "国务院办公厅关于进一步做好稀土行业管理工作的通知", "2025-10-17")


def test_govcn_json_accepts_str_and_bom() -> None:
    assert parse_govcn_json(codecs.BOM_UTF8 + ZUIXIN, FEED_URL) == parse_govcn_json(ZUIXIN.decode(), FEED_URL)


@pytest.mark.parametrize(("body", "error", "message"), [
    ('{"TITLE": "x"}', MalformedFeed, "top level is dict"),
    ('[{"TITLE": "稀土管理条例", "DOCRELPUBTIME": "2024-06-29"}]', MalformedFeed, "row 0 lacks URL"),
    ('[{"TITLE": "a", "URL": "/a.htm"}, "oops"]', MalformedFeed, "row 1 lacks TITLE, URL"),
    ('[{"TITLE": "a", "URL": "/a.htm"},', MalformedFeed, r"not valid JSON \(Expecting value: line 1"),
    ("", EmptyPage, "empty JSON feed"),
    ("<html><script>document.cookie='a=b';location.reload()</script></html>", ChallengePage, "challenge"),
], ids=["object", "missing-url", "non-object-row", "truncated", "empty", "challenge"])
def test_govcn_json_errors_are_clear(body: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message) as info:
        parse_govcn_json(body, FEED_URL)
    assert FEED_URL in str(info.value)
