"""Shared test fixtures: an in-memory store, a fixed clock, a recording fake sink and page fixtures.

- ``store``: ``Store.in_memory()`` with the four sources registered (test_store overrides it).
- ``clock``: ``FixedClock`` at ``T0`` (2025-11-10 03:00 UTC); ``clock.advance(days=1)`` moves it.
- ``fake_sink``: ``fake_sink(name)`` builds a ``FakeSink`` that records every alert it is sent and
  fails on demand (``sink.fail()`` always, ``sink.fail(times=2)`` the next two sends).
- ``load_page``: ``load_page("mofcom", "MofcomNoticePage", "2025-58-standard")`` -> ``(body, meta)``.
- ``capture_page``: saves a fixture page as a capture in ``store`` and returns its id.
- ``page_tools``: the helpers behind these (``save``, ``read``, ``register_sources``, ``T0``) for
  tests that build their own (file) store; conftest modules are not importable from tests.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from alerts.base import Alert, DeliveryResult
from pipeline.clock import FixedClock
from store import Store

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
T0 = datetime(2025, 11, 10, 3, 0, tzinfo=timezone.utc)
SOURCES = (
    ("mofcom", "商务部", "https://www.mofcom.gov.cn"),
    ("miit", "工业和信息化部", "https://www.miit.gov.cn"),
    ("govcn", "中国政府网", "https://www.gov.cn"),
    ("meti", "経済産業省", "https://www.meti.go.jp"),
)


class FakeSink:
    """An alert sink that records sends; ``fail(times)`` makes the next ``times`` sends fail (None: all)."""

    kind = "fake"

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[Alert] = []
        self.attempts = 0
        self._failures: int | None = 0

    def fail(self, times: int | None = None) -> None:
        self._failures = times

    def recover(self) -> None:
        self._failures = 0

    def send(self, alert: Alert) -> DeliveryResult:
        self.attempts += 1
        if self._failures is None or self._failures > 0:
            if self._failures is not None:
                self._failures -= 1
            return DeliveryResult.failure(f"{self.name}: HTTP 503 (fake outage)", retryable=True)
        self.sent.append(alert)
        return DeliveryResult.success(f"{self.name}-{len(self.sent)}", f"sent alert {alert.id}")

    @property
    def sent_ids(self) -> list[int]:
        return [a.id for a in self.sent]


def register_sources(store: Store) -> Store:
    for slug, name, url in SOURCES:
        store.ensure_source(slug, name, url, at=T0)
    return store


def read_page(source: str, page_class: str, case: str) -> tuple[bytes, dict[str, Any]]:
    """``(body bytes, meta dict)`` of ``tests/fixtures/pages/<source>/<page_class>/<case>/``."""
    folder = PAGES / source / page_class / case
    if not (folder / "meta.json").is_file():
        raise FileNotFoundError(f"no page fixture {folder} (needs body.html and meta.json)")
    return (folder / "body.html").read_bytes(), json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def save_page(store: Store, case: str, *, at: datetime, source: str = "mofcom",
              page_class: str = "MofcomNoticePage", body: bytes | None = None, status: int | None = None,
              url: str | None = None, kind: str = "detail") -> int:
    """Save a fixture page (optionally with another body/status/url) as a capture; returns its id."""
    fixture_body, meta = read_page(source, page_class, case)
    page_url = url or meta["url"]
    capture_id, _ = store.save_capture(
        source=source, url=page_url, final_url=page_url, status=meta["status"] if status is None else status,
        headers=meta["headers"], body=fixture_body if body is None else body, fetched_at=at, kind=kind,
    )
    return capture_id


@pytest.fixture
def store() -> Iterator[Store]:
    """A fresh in-memory store with the mofcom, miit, govcn and meti sources registered."""
    s = register_sources(Store.in_memory())
    yield s
    s.close()


@pytest.fixture
def clock() -> FixedClock:
    """A clock frozen at T0 = 2025-11-10 03:00 UTC."""
    return FixedClock(T0)


@pytest.fixture
def fake_sink() -> Callable[[str], FakeSink]:
    """Factory: ``fake_sink("legal")`` -> a new recording FakeSink named ``legal``."""
    return FakeSink


@pytest.fixture
def load_page() -> Callable[[str, str, str], tuple[bytes, dict[str, Any]]]:
    """``load_page(source, page_class, case)`` -> ``(body, meta)`` from tests/fixtures/pages."""
    return read_page


@pytest.fixture
def capture_page(store: Store, clock: FixedClock) -> Callable[..., int]:
    """``capture_page(case, body=None, status=None, url=None)`` saves a MOFCOM notice fixture at clock time."""

    def _capture(case: str, **kwargs: Any) -> int:
        kwargs.setdefault("at", clock.now())
        return save_page(store, case, **kwargs)

    return _capture


@pytest.fixture(scope="session")
def page_tools() -> types.SimpleNamespace:
    """``save(store, case, at=...)``, ``read(source, cls, case)``, ``register_sources(store)``, ``T0``, ``FakeSink``."""
    return types.SimpleNamespace(save=save_page, read=read_page, register_sources=register_sources, T0=T0,
                                 FakeSink=FakeSink)
