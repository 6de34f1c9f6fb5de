"""Several instances on one store: feed leases, delivery claims, heartbeats (both engines)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.alerts.decide import StoryDesk, StoryPolicy, routed
from monitor.model import Alert, AlertKind, FeedState, PollResult
from monitor.store import Store, open_store
from tests.factories import T0, alert
from tests.stores import ENGINES, new_target

LEASE = 60.0


@pytest.fixture(params=ENGINES)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two store objects on one database, as two instances would open it."""
    target = new_target(request.param, tmp_path, request)
    a, b = open_store(target, pool_size=4), open_store(target, pool_size=4)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def by_channel(a: Alert) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    return (f"c{int(a.id.split(':')[1]) % 3}",), (), ()


def desk() -> StoryDesk:
    """Story decisions with their own fold cache (alert ids repeat across tests)."""
    return StoryDesk(StoryPolicy(), by_channel)


def enqueue(store: Store, n: int) -> None:
    """n stand-alone alerts, each with one pending row on channel c0, c1 or c2."""
    base = alert()
    for i in range(n):
        a = replace(base, id=f"health:{i}", kind=AlertKind.SOURCE_DOWN, item=None)
        store.record_alert(routed(a, by_channel), T0)


def run_together(*jobs: Callable[[], None]) -> None:
    threads = [threading.Thread(target=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)


def test_a_due_feed_is_leased_to_one_instance(pair: tuple[Store, Store]) -> None:
    """A new feed is claimable; while the lease lives nobody else (nor its owner) claims it."""
    a, b = pair
    assert a.claim_feed("un-news", "a", T0, LEASE) is True
    assert b.claim_feed("un-news", "b", T0, LEASE) is False
    assert a.claim_feed("un-news", "a", T0, LEASE) is False
    assert "un-news" in b.feed_states()
    assert [(x.kind, x.name, x.owner) for x in b.leases()] == [("feed", "un-news", "a")]


def test_a_feed_not_yet_due_is_not_claimed(pair: tuple[Store, Store]) -> None:
    """next_poll in the future keeps the feed unclaimed, unless the caller ignores the schedule."""
    a, b = pair
    a.save_poll(
        PollResult("f", "fetched", FeedState("f", next_poll=T0 + timedelta(minutes=10))), desk(), T0
    )
    assert b.claim_feed("f", "b", T0, LEASE) is False
    assert b.claim_feed("f", "b", T0 + timedelta(minutes=10), LEASE) is True
    assert a.claim_feed("f", "a", T0, LEASE, due_only=False) is False  # b's lease still holds


def test_an_expired_feed_lease_is_taken_over(pair: tuple[Store, Store]) -> None:
    """When the holder died, its lease ends after lease_seconds and another instance claims."""
    a, b = pair
    assert a.claim_feed("f", "a", T0, LEASE)
    assert b.claim_feed("f", "b", T0 + timedelta(seconds=LEASE - 1), LEASE) is False
    assert b.claim_feed("f", "b", T0 + timedelta(seconds=LEASE), LEASE) is True
    assert [x.owner for x in a.leases()] == ["b"]


def test_save_poll_ends_the_lease_with_the_result(pair: tuple[Store, Store]) -> None:
    """Writing the poll's result releases the lease in the same transaction."""
    a, b = pair
    assert a.claim_feed("f", "a", T0, LEASE)
    state = FeedState("f", last_success=T0, next_poll=T0 + timedelta(minutes=5))
    a.save_poll(PollResult("f", "fetched", state, (), ()), desk(), T0)
    assert b.leases() == []
    assert b.claim_feed("f", "b", T0 + timedelta(minutes=5), LEASE) is True


def test_racing_instances_claim_each_feed_once(pair: tuple[Store, Store]) -> None:
    """Four threads over two store objects claim 40 feeds: each feed goes to exactly one."""
    names = [f"feed-{i}" for i in range(40)]
    won: list[str] = []
    lock = threading.Lock()

    def worker(store: Store, owner: str) -> None:
        for name in names:
            if store.claim_feed(name, owner, T0, LEASE):
                with lock:
                    won.append(name)

    a, b = pair
    run_together(
        *(lambda s=s, o=o: worker(s, o) for s, o in [(a, "a1"), (a, "a2"), (b, "b1"), (b, "b2")])
    )
    assert sorted(won) == sorted(names)


def test_claimed_deliveries_go_to_one_instance(pair: tuple[Store, Store]) -> None:
    """Rows claimed by one instance are not handed to another until sent or expired."""
    a, b = pair
    enqueue(a, 3)
    claimed = a.claim_deliveries("a", T0, LEASE)
    assert sorted(d.alert_id for d in claimed) == ["health:0", "health:1", "health:2"]
    assert b.claim_deliveries("b", T0, LEASE) == []
    a.mark_sent([d.id for d in claimed], T0)
    assert b.claim_deliveries("b", T0 + timedelta(hours=1), LEASE) == []
    assert b.outbox_counts()["sent"] == 3


def test_a_channel_waits_behind_its_claimed_or_waiting_row(pair: tuple[Store, Store]) -> None:
    """A later row of a channel is not claimed while an earlier one is claimed or not due."""
    a, b = pair
    enqueue(a, 6)  # c0: health:0, health:3; c1: 1, 4; c2: 2, 5
    first = a.claim_deliveries("a", T0, LEASE, limit=1)
    assert [d.alert_id for d in first] == ["health:0"]
    got = b.claim_deliveries("b", T0, LEASE)
    assert [d.alert_id for d in got] == ["health:1", "health:2", "health:4", "health:5"]
    b.mark_sent([d.id for d in got], T0)
    a.mark_retry(first[0].id, T0 + timedelta(minutes=5), "HTTP 503")
    assert b.claim_deliveries("b", T0 + timedelta(minutes=1), LEASE) == []
    later = b.claim_deliveries("b", T0 + timedelta(minutes=5), LEASE)
    assert [d.alert_id for d in later] == ["health:0", "health:3"]


def test_an_expired_claim_is_taken_over(pair: tuple[Store, Store]) -> None:
    """A claim whose instance died ends after the lease; another instance then sends the row."""
    a, b = pair
    enqueue(a, 1)
    (row,) = a.claim_deliveries("a", T0, 30)
    assert b.claim_deliveries("b", T0 + timedelta(seconds=29), 30) == []
    (again,) = b.claim_deliveries("b", T0 + timedelta(seconds=30), 30)
    assert again.id == row.id
    assert [(x.kind, x.owner) for x in a.leases()] == [("delivery", "b")]


def test_racing_instances_send_each_row_once_in_channel_order(pair: tuple[Store, Store]) -> None:
    """Four senders over two stores drain 60 rows: each sent once, each channel in order."""
    a, b = pair
    enqueue(a, 60)
    sent: list[tuple[str, int]] = []
    lock = threading.Lock()

    def sender(store: Store, owner: str) -> None:
        while True:
            rows = store.claim_deliveries(owner, T0, LEASE, limit=4)
            if not rows and store.outbox_counts()["pending"] == 0:
                return
            for d in rows:
                with lock:
                    sent.append((d.channel, d.id))
                store.mark_sent([d.id], T0)

    run_together(
        *(lambda s=s, o=o: sender(s, o) for s, o in [(a, "a1"), (a, "a2"), (b, "b1"), (b, "b2")])
    )
    assert len(sent) == 60 and max(Counter(i for _, i in sent).values()) == 1
    for channel in ("c0", "c1", "c2"):
        ids = [i for c, i in sent if c == channel]
        assert ids == sorted(ids)


def test_heartbeats_list_live_instances_and_release_all(pair: tuple[Store, Store]) -> None:
    """Instances seen since a time are listed; release_all frees what a stopping one held."""
    a, b = pair
    a.heartbeat("a", "host-1", 101, T0, T0)
    b.heartbeat("b", "host-2", 202, T0, T0)
    a.heartbeat("a", "host-1", 101, T0, T0 + timedelta(minutes=1))
    (live,) = b.instances(T0 + timedelta(seconds=30))
    assert (live.owner, live.host, live.pid, live.started, live.last_seen) == (
        "a",
        "host-1",
        101,
        T0,
        T0 + timedelta(minutes=1),
    )
    enqueue(a, 1)
    a.claim_feed("f", "a", T0, LEASE)
    a.claim_deliveries("a", T0, LEASE)
    assert {x.kind for x in b.leases()} == {"feed", "delivery"}
    assert a.release_all("a") == 2
    assert b.leases() == []
    assert a.prune(T0 + timedelta(seconds=30)) == 0 and [i.owner for i in a.instances(T0)] == ["a"]


def test_run_once_does_not_repoll_what_another_instance_polled(pair: tuple[Store, Store]) -> None:
    """With not_since, a feed polled by another instance during this run is not claimed."""
    a, b = pair
    run_start = T0
    assert a.claim_feed("f", "a", T0, LEASE, due_only=False, not_since=run_start)
    polled = PollResult("f", "fetched", FeedState("f", last_attempt=T0 + timedelta(seconds=1)))
    a.save_poll(polled, desk(), T0 + timedelta(seconds=2))
    later = T0 + timedelta(seconds=3)
    assert not b.claim_feed("f", "b", later, LEASE, due_only=False, not_since=run_start)
    next_run = T0 + timedelta(minutes=10)
    assert b.claim_feed("f", "b", next_run, LEASE, due_only=False, not_since=next_run)


def test_pending_for_leaves_out_rows_another_instance_is_sending(
    pair: tuple[Store, Store],
) -> None:
    """Rows claimed by a live other instance are on their way, not "still queued" for me."""
    a, b = pair
    enqueue(a, 3)
    assert a.pending_for("a", T0) == 3
    claimed = b.claim_deliveries("b", T0, LEASE)
    assert len(claimed) == 3
    assert a.pending_for("a", T0) == 0
    assert a.pending_for("a", T0 + timedelta(seconds=LEASE + 1)) == 3  # b's claims expired


def test_pending_for_leaves_out_rows_created_after_my_last_drain(pair: tuple[Store, Store]) -> None:
    """Rows another instance creates after my last drain began are its own to send."""
    a, _ = pair
    enqueue(a, 2)
    assert a.pending_for("a", T0, before=T0 - timedelta(seconds=1)) == 0
    assert a.pending_for("a", T0, before=T0 + timedelta(seconds=1)) == 2


def test_each_channel_is_claimed_on_its_own(pair: tuple[Store, Store]) -> None:
    """due_channels names the channels with due rows; a claim of one channel takes only its
    rows, so two channels drain side by side."""
    a, b = pair
    enqueue(a, 6)
    assert a.due_channels(T0) == ["c0", "c1", "c2"]
    got = a.claim_deliveries("a", T0, LEASE, channel="c1")
    assert [d.alert_id for d in got] == ["health:1", "health:4"]
    other = b.claim_deliveries("b", T0, LEASE, channel="c2")
    assert [d.alert_id for d in other] == ["health:2", "health:5"]
    a.mark_retry(got[0].id, T0 + timedelta(minutes=5), "HTTP 503")
    a.mark_sent([got[1].id], T0)
    assert "c1" not in a.due_channels(T0)


def test_queued_deliveries_show_what_waits(pair: tuple[Store, Store]) -> None:
    """Pending and held rows, oldest first, with the alert's title, attempts, last error and
    next attempt; sent and dead rows are not listed."""
    a, b = pair
    enqueue(a, 3)
    first, second, third = a.claim_deliveries("a", T0, LEASE)
    a.mark_retry(first.id, T0 + timedelta(minutes=5), "HTTP 503 from webhook 'ops'")
    a.mark_sent([second.id], T0)
    a.mark_dead(third.id, "HTTP 404", T0)
    digest = replace(alert(), id="health:held", kind=AlertKind.SOURCE_DOWN, item=None)
    a.record_alert(routed(digest, lambda _: ((), ("mail",), ())), T0)
    (pending, held) = b.queued_deliveries()
    assert (pending.delivery.alert_id, pending.delivery.status) == ("health:0", "pending")
    assert pending.title == alert().title
    assert pending.delivery.attempts == 1
    assert pending.delivery.last_error == "HTTP 503 from webhook 'ops'"
    assert pending.delivery.next_attempt == T0 + timedelta(minutes=5)
    assert (held.delivery.alert_id, held.delivery.channel, held.delivery.status) == (
        "health:held",
        "mail",
        "held",
    )
