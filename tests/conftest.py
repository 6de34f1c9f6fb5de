"""Shared fixtures. Feed-server helpers live in tests/feedserver.py; import from there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import pg
from tests.feedserver import FeedServer, feed_server


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    """A scriptable feed server on 127.0.0.1 (see tests/feedserver.py)."""
    with feed_server() as server:
        yield server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    """One real PostgreSQL for the whole session (see tests/pg.py); skips when none starts."""
    server, reason = pg.start()
    if server is None:
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()
