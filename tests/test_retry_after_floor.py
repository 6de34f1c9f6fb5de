"""`Retry-After: 0` (or an HTTP-date gone by) cannot make anything spin: a receiver's hint
lengthens the outbox's backoff but never shortens it below its floor, and a feed answering
so is not polled again before its interval."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.store.sqlite import SqliteStore
from tests.channel_servers import Reply, http_receiver
from tests.clock import FakeClock
from tests.e2e import env_with, run_monitor
from tests.factories import T0
from tests.feedfiles import write_config
from tests.feedserver import FeedServer, Response
from tests.test_deliver import deliverer, enqueue

PAST = "Wed, 21 Oct 2015 07:28:00 GMT"


@pytest.mark.parametrize("hint", ["0", PAST])
def test_retry_after_zero_does_not_make_the_outbox_spin(tmp_path: Path, hint: str) -> None:
    """A receiver answering 503 with Retry-After: 0 for 48 h gets about a hundred attempts
    (the backoff's), not one per drain, and the row ends dead as any other."""
    store = SqliteStore(tmp_path / "state.db")
    enqueue(store, 1)
    clock = FakeClock(T0)
    try:
        with http_receiver(default=Reply(503, b"", {"Retry-After": hint})) as rx:
            d = deliverer(store, rx.url(), clock)
            for _ in range(300):
                d.drain()
                rows = [q.delivery for q in store.queued_deliveries()]
                if not rows:
                    break
                clock.advance_to(max(clock.now(), rows[0].next_attempt))
            attempts = len(rx.requests)
        assert store.outbox_counts()["dead"] == 1
        assert attempts < 120, f"{attempts} attempts in 48 h"  # the backoff alone: about 100
    finally:
        store.close()


def test_retry_after_zero_waits_at_least_seconds(tmp_path: Path) -> None:
    """The first retry after `Retry-After: 0` is still several seconds away."""
    store = SqliteStore(tmp_path / "state.db")
    enqueue(store, 1)
    try:
        with http_receiver([Reply(429, b"", {"Retry-After": "0"})]) as rx:
            deliverer(store, rx.url(), FakeClock(T0)).drain()
        (queued,) = store.queued_deliveries()
        row = queued.delivery
        assert row.next_attempt >= T0 + timedelta(seconds=5)
    finally:
        store.close()


@pytest.mark.parametrize("hint", ["0", PAST])
def test_a_feed_saying_retry_after_zero_is_polled_after_its_interval(
    tmp_path: Path, feeds: FeedServer, hint: str
) -> None:
    """`monitor status` shows the next poll of a feed that answered 429 Retry-After: 0 an
    interval away (10 minutes), not now."""
    url = feeds.serve("/f", Response(429, headers={"Retry-After": hint}))
    cfg = write_config(tmp_path, {"news": url})
    before = datetime.now(UTC)
    assert run_monitor(["run", "--once", "-c", str(cfg)], env_with()).returncode == 1
    done = run_monitor(["status", "--json", "-c", str(cfg)], env_with())
    (feed,) = json.loads(done.stdout)["feeds"]
    next_poll = datetime.fromisoformat(feed["next_poll"].replace("Z", "+00:00"))
    assert next_poll >= before + timedelta(minutes=9)
