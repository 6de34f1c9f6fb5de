"""Delivery job against real loopback receivers: retries, Retry-After, dead rows, order, hangs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from monitor.alerts.decide import StoryDesk, StoryPolicy
from monitor.channels import make_channel
from monitor.channels.webhook import WebhookSettings
from monitor.config import ChannelConfig
from monitor.deliver import ChannelSet, Deliverer
from monitor.model import FeedState, PollResult
from monitor.store.sqlite import SqliteStore
from tests.channel_servers import Reply, http_receiver
from tests.clock import FakeClock
from tests.factories import T0, alert, item
from tests.stores import due


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "state.db")
    yield s
    s.close()


def enqueue(store: SqliteStore, n: int, channel: str = "ops") -> list[str]:
    """n distinct stories, each routed to `channel`, in creation order."""
    ids = []
    for i in range(n):
        a = alert(
            item(
                key=f"g:{i}",
                link=f"https://x.org/{i}",
                countries=(f"C{i}",),
                title=f"Story number {i} about an attack on a village {i * 'x'}",
                summary=f"Unrelated summary {i}.",
            )
        )
        result = PollResult("f", "fetched", FeedState("f", last_success=T0), (a.item,), (a,))
        desk = StoryDesk(StoryPolicy(corroboration=0), lambda _: ((channel,), (), ()))
        store.save_poll(result, desk, T0)
        ids.append(a.id)
    return ids


def deliverer(
    store: SqliteStore,
    url: str,
    clock: FakeClock,
    timeout: float = 5.0,
    sleeps: list[float] | None = None,
    rate_limit: float = 0.0,
) -> Deliverer:
    settings = WebhookSettings(url, timeout, secret="whsec_c2VjcmV0")
    cfg = ChannelConfig("ops", "webhook", settings=settings)
    session = requests.Session()
    channel = make_channel(cfg, session=session, now=clock)
    record = sleeps if sleeps is not None else []
    channels = ChannelSet({"ops": channel}, {"ops": rate_limit})
    return Deliverer(store, channels, clock, sleep=record.append, mono=clock.monotonic)


def posted_ids(requests_: list) -> list[str]:
    return [json.loads(r.body)["id"] for r in requests_]


def test_503_then_accept_delivers_each_once_in_order(store: SqliteStore) -> None:
    """A receiver failing the first posts with 503 gets every alert once, in creation order."""
    ids = enqueue(store, 3)
    clock = FakeClock(T0)
    with http_receiver([Reply(503), Reply(503)]) as rx:
        d = deliverer(store, rx.url(), clock)
        for _ in range(10):
            d.drain()
            clock.advance(3600)
        accepted = [r for r in rx.requests]
    assert store.outbox_counts()["sent"] == 3
    ok_posts = posted_ids(accepted)[2:]
    assert ok_posts == ids
    assert posted_ids(accepted)[:2] == [ids[0], ids[0]]  # the head waited; nothing overtook it


def test_retry_after_is_honoured(store: SqliteStore) -> None:
    """A 429 with Retry-After: 120 makes the next attempt wait exactly that long."""
    enqueue(store, 1)
    clock = FakeClock(T0)
    with http_receiver([Reply(429, b"slow down", {"Retry-After": "120"})]) as rx:
        d = deliverer(store, rx.url(), clock)
        d.drain()
        (row,) = due(store, T0 + timedelta(seconds=120))
        assert due(store, T0 + timedelta(seconds=119)) == []
        clock.advance(120)
        assert d.drain().sent == 1
        assert len(rx.requests) == 2
    assert row.last_error and "429" in row.last_error


def test_404_is_dead_at_once_and_visible(store: SqliteStore) -> None:
    """A 404 is permanent: the row is dead after one attempt and counted."""
    enqueue(store, 1)
    with http_receiver(default=Reply(404, b"no such hook")) as rx:
        report = deliverer(store, rx.url(), FakeClock(T0)).drain()
        assert len(rx.requests) == 1
    assert report.dead == 1
    assert store.outbox_counts()["dead"] == 1
    assert "404" in (store.dead_deliveries()[0].last_error or "")


def test_hanging_receiver_times_out_and_is_retried(store: SqliteStore) -> None:
    """A receiver that never answers is cut off by the timeout; the row stays pending."""
    enqueue(store, 1)
    clock = FakeClock(T0)
    with http_receiver([Reply(200, delay=30)]) as rx:
        d = deliverer(store, rx.url(), clock, timeout=0.5)
        report = d.drain()
        assert report.retried == 1 and store.outbox_counts()["pending"] == 1
        clock.advance(3600)
        assert d.drain().sent == 1
    assert store.outbox_counts() == {
        "pending": 0,
        "held": 0,
        "review": 0,
        "sent": 1,
        "dead": 0,
        "suppressed": 0,
        "unrouted": 0,
    }


def test_gives_up_after_the_retry_bound(store: SqliteStore) -> None:
    """A receiver down for longer than retry_max_age ends dead, not retried for ever."""
    enqueue(store, 1)
    clock = FakeClock(T0)
    with http_receiver(default=Reply(503)) as rx:
        d = deliverer(store, rx.url(), clock)
        d.retry_max_age = 6 * 3600
        for _ in range(20):
            d.drain()
            clock.advance(3600)
    assert store.outbox_counts()["dead"] == 1
    assert "gave up" in (store.dead_deliveries()[0].last_error or "")


def test_webhook_id_is_the_alert_id_on_every_retry(store: SqliteStore) -> None:
    """Every attempt carries the same webhook-id, so receivers can drop resends."""
    (aid,) = enqueue(store, 1)
    clock = FakeClock(T0)
    with http_receiver([Reply(500)]) as rx:
        d = deliverer(store, rx.url(), clock)
        d.drain()
        clock.advance(3600)
        d.drain()
        assert [r.headers["webhook-id"] for r in rx.requests] == [aid, aid]


def test_rate_limit_spaces_sends(store: SqliteStore) -> None:
    """A channel with rate_limit=1s waits between two sends: the clock stands still, so the
    whole gap is waited each time (the monotonic clock is injected, never read)."""
    enqueue(store, 3)
    sleeps: list[float] = []
    with http_receiver() as rx:
        d = deliverer(store, rx.url(), FakeClock(T0), sleeps=sleeps, rate_limit=1.0)
        d.drain()
        assert len(rx.requests) == 3
    assert sleeps == [1.0, 1.0]


class _FullDisk:
    """The store, except that marking the second row sent fails as a full disk does."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._marked = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def mark_sent(self, delivery_ids: list[int], now: object) -> None:
        self._marked += 1
        if self._marked == 2:
            raise sqlite3.OperationalError("database or disk is full")
        self._store.mark_sent(delivery_ids, now)  # type: ignore[arg-type]


def test_a_drain_failing_on_the_store_releases_what_it_claimed(store: SqliteStore) -> None:
    """A store error mid-drain leaves no claim behind: another instance sends the rest at
    once, not after the 5-minute claim lease."""
    ids = enqueue(store, 3)
    clock = FakeClock(T0)
    with http_receiver() as rx:
        d = deliverer(store, rx.url(), clock)
        d.store = _FullDisk(store)  # type: ignore[assignment]
        with pytest.raises(sqlite3.OperationalError):
            d.drain()
        assert [x for x in store.leases() if x.kind == "delivery"] == []
        other = deliverer(store, rx.url(), clock)
        other.owner = "other-instance"
        assert other.drain().sent == 2  # the row whose sent mark failed goes again
        assert posted_ids(rx.requests) == [ids[0], ids[1], ids[1], ids[2]]
