"""Lookups ``process`` uses to read attachments with their page, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

T0 = datetime(2025, 10, 9, 1, 0, tzinfo=UTC)
PDF = "https://www.gov.cn/zhengce/zhengceku/202508/W0208_123%E9%99%84.pdf"
PAGE = "https://www.gov.cn/zhengce/zhengceku/202508/content_70.htm"


def _save(store, url: str, body: bytes, minutes: int, kind: str, final_url: str | None = None) -> int:
    capture_id, _ = store.save_capture(source="govcn", url=url, final_url=final_url or url, status=200, headers={},
                                       body=body, fetched_at=T0 + timedelta(minutes=minutes), kind=kind)
    return capture_id


def test_latest_capture_by_url_or_final_url_and_kind(store) -> None:
    old = _save(store, PDF, b"%PDF-1 old", 0, "attachment")
    new = _save(store, PDF, b"%PDF-1 new", 5, "attachment")
    moved = _save(store, "https://www.gov.cn/old.pdf", b"%PDF-1 moved", 1, "attachment", final_url=PDF + "x")
    assert store.latest_capture(PDF).id == new != old
    assert store.latest_capture(PDF + "x", kind="attachment").id == moved
    assert store.latest_capture(PDF, kind="detail") is None
    assert store.latest_capture("https://www.gov.cn/none.pdf") is None


def test_versions_listing_attachment_match_the_url_exactly(store) -> None:
    def record(url: str, attachments: list[str], minutes: int):
        fields = {"text": url, "attachments": [{"url": a, "title": "附件"} for a in attachments]}
        return store.record_version(source="govcn", key=None, url=url, title="通知", text=url, canonical_text=url,
                                    content_hash=f"h:{url}:{minutes}", fields=fields, published=None,
                                    capture_id=None, seen_at=T0 + timedelta(minutes=minutes))

    first = record(PAGE, [PDF], 0)
    second = record(PAGE, [PDF, PDF + "2"], 1)
    record("https://www.gov.cn/other.htm", [PDF.replace("_", "x")], 2)  # LIKE's _ must not match any character
    assert [v.id for v in store.versions_listing_attachment(PDF)] == [second.version_id, first.version_id]
    assert [v.id for v in store.versions_listing_attachment(PDF + "2")] == [second.version_id]
    assert store.versions_listing_attachment(PDF[:-4]) == []
    raw = record("https://www.gov.cn/raw.htm", ["https://www.gov.cn/附件 1.pdf"], 3)  # unescaped, as some pages link
    assert [v.id for v in store.versions_listing_attachment("https://www.gov.cn/附件 1.pdf")] == [raw.version_id]
