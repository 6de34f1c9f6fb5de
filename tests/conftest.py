"""Shared fixtures: the loopback feed server and the session's PostgreSQL.

Every helper is written once, in the module named by what it owns (import the names from it):
- loopback.py: the threaded 127.0.0.1 server both HTTP servers build on; closed_port()
- feedserver.py: FeedServer, the one feed server (scripted paths, publish() for live feeds)
- feedfiles.py: rss(), item(), story(), and write_config() for every config a test writes
- channel_servers.py: the webhook/Slack receiver and the SMTP sink
- factories.py: items, matches and alerts (alert() as built, make_alert() as rendered)
- clock.py: FakeClock, the one hand-moved clock
- e2e.py: `monitor` as a subprocess or daemon, and the Newsroom of changing feeds
- runtimes.py: the Runtime built in-process from a config
- pg.py / stores.py: the PostgreSQL server and the store engines of the contract tests
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.feedserver import FeedServer, feed_server
from tests.pg import PgServer
from tests.pg import start as start_postgres


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    """A scriptable feed server on 127.0.0.1 (see tests/feedserver.py)."""
    with feed_server() as server:
        yield server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One real PostgreSQL for the whole session (see tests/pg.py); skips when none starts."""
    server, reason = start_postgres()
    if server is None:
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()
