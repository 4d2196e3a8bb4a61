"""Shared crawler-test fixtures: the packaged MOFCOM replica server on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crawlers.replica import ReplicaServer, site_path


@pytest.fixture
def mofcom_replica() -> Iterator[ReplicaServer]:
    """The packaged MOFCOM replica on a free loopback port, state ``base``."""
    with ReplicaServer(site_path("mofcom")) as server:
        yield server
