"""Store contract: the same behaviour on every engine (parametrised over tests/stores.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from monitor.alerts.decide import StoryDesk, StoryPolicy, routed
from monitor.match.fold import Texts
from monitor.model import (
    Alert,
    AlertKind,
    FeedSpec,
    FeedState,
    Item,
    Match,
    PollResult,
    Severity,
)
from monitor.reader.fetch import FetchPolicy
from monitor.reader.pool import ParsePool
from monitor.service.poller import Poller, PollSettings
from monitor.store import SaveOutcome, Store, open_store
from monitor.store.schema import SCHEMA_VERSION
from monitor.store.serialize import alert_to_dict
from tests.factories import T0, alert, item, match
from tests.stores import ENGINES, create_at_version, due, new_target, open_engine

POLICY = StoryPolicy(window=72 * 3600, similarity=88, corroboration=3)


def to_ops(a: Alert) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    return ("ops",), (), ()


def desk() -> StoryDesk:
    """Story decisions with their own fold cache (alert ids repeat across tests)."""
    return StoryDesk(POLICY, to_ops)


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_engine(request.param, tmp_path, request)


def two_stories(title: str, summary: str, **second: Any) -> tuple[Item, Item]:
    """The factory's story and a second one sharing neither its link nor its wording."""
    first = item(key="g:1", link="https://x.org/1")
    return first, item(key="g:2", link="https://x.org/2", title=title, summary=summary, **second)


def poll(feed: str, *alerts: Alert, items: tuple = ()) -> PollResult:
    its = items or tuple(a.item for a in alerts if a.item)
    return PollResult(feed, "fetched", FeedState(feed, last_success=T0), its, alerts)


def test_feed_state_round_trips(store: Store) -> None:
    """What a poll leaves of a feed (validators, failures, times) is read back unchanged."""
    st = FeedState(
        "f",
        etag='"x"',
        last_modified="Wed, 01 Jan 2025 00:00:00 GMT",
        last_success=T0,
        consecutive_failures=2,
        last_error="HTTP 500",
        next_poll=T0 + timedelta(minutes=10),
        items_seen=7,
        down_alerted=True,
    )
    store.save_poll(PollResult("f", "failed", st), desk(), T0)
    assert store.feed_state("f") == st
    assert store.feed_states() == {"f": st}
    assert store.feed_state("unknown") == FeedState("unknown")


def test_items_are_new_exactly_once(store: Store) -> None:
    """An item recorded by one poll is known to the next; only new items count."""
    it = item()
    first = store.save_poll(poll("un-news", items=(it,)), desk(), T0)
    again = store.save_poll(poll("un-news", items=(it,)), desk(), T0)
    assert (first.new_items, again.new_items) == (1, 0)
    assert store.seen_keys("un-news", [it.key, "g:other"]) == {it.key}


def test_alert_and_outbox_written_with_the_item(store: Store) -> None:
    """A new matching item gives one alert and one pending delivery per routed channel."""
    a = alert()
    out = store.save_poll(poll("un-news", a), desk(), T0)
    assert out.created == [a.id]
    rows = due(store, T0)
    assert [(d.alert_id, d.channel, d.status) for d in rows] == [(a.id, "ops", "pending")]
    loaded = store.load_alert(a.id)
    assert loaded is not None and loaded.title == a.title and loaded.severity == Severity.HIGH
    assert loaded.matches[0].hits[0].text == "killed"


def test_same_story_from_three_feeds_is_one_alert_with_corroboration(store: Store) -> None:
    """Three feeds reporting one story: one alert, three sources, one corroboration notice."""
    a1 = alert(item(feed="un-news", key="g:1", link="https://news.un.org/a"))
    a2 = alert(
        item(
            feed="ohchr",
            key="g:9",
            link="https://ohchr.org/b",
            title="Civilians killed in shelling of El Fasher market, UN rights office says",
        )
    )
    a3 = alert(
        item(
            feed="bbc",
            key="g:5",
            link="https://bbc.co.uk/c",
            title="Sudan: dozens of civilians killed as shelling hits El Fasher market",
        )
    )
    outs = [
        store.save_poll(poll(a.item.feed, a), desk(), T0 + timedelta(hours=i))
        for i, a in enumerate((a1, a2, a3))
    ]
    assert outs[0].created == [a1.id] and outs[1].created == [] and outs[2].created == []
    assert outs[2].corroborated == [a1.id + ".corroborated"]
    story = store.load_alert(a1.id)
    assert story is not None and {s.feed for s in story.sources} == {"un-news", "ohchr", "bbc"}
    kinds = [store.load_alert(d.alert_id).kind for d in due(store, T0 + timedelta(days=1))]
    assert kinds == [AlertKind.MATCH, AlertKind.CORROBORATION]


def test_different_story_same_rule_is_a_new_alert(store: Store) -> None:
    """An unrelated report under the same rule is not swallowed by clustering."""
    first, second = two_stories(
        "Villagers killed as army burns homes in Rakhine",
        "Witnesses describe soldiers firing on fleeing families.",
        countries=("MM",),
    )
    a1, a2 = alert(first), alert(second)
    store.save_poll(poll("f", a1), desk(), T0)
    out = store.save_poll(poll("f", a2), desk(), T0)
    assert out.created == [a2.id]


def test_same_link_twice_is_one_alert(store: Store) -> None:
    """Two feeds carrying the same link create one alert (unique id), the second a source."""
    a1 = alert(item(feed="a", key="g:1"))
    a2 = alert(item(feed="b", key="g:7", title="Completely different wording of the headline"))
    store.save_poll(poll("a", a1), desk(), T0)
    out = store.save_poll(poll("b", a2), desk(), T0)
    assert a1.id == a2.id and out.created == [] and out.attached == [a1.id]


def test_cooldown_suppresses_but_records(store: Store) -> None:
    """A rule with a cooldown suppresses a second story for the same country; still recorded."""
    m = match(cooldown=6 * 3600)
    first, second = two_stories(
        "Another attack on a village", "Separate incident elsewhere in the region."
    )
    a1, a2 = alert(first, m), alert(second, m, now=T0 + timedelta(hours=1))
    store.save_poll(poll("f", a1), desk(), T0)
    out = store.save_poll(poll("f", a2), desk(), T0 + timedelta(hours=1))
    assert out.suppressed == [a2.id]
    assert len(due(store, T0 + timedelta(days=1))) == 1
    assert store.outbox_counts()["suppressed"] == 1
    assert [a.id for a in store.suppressed_alerts()] == [a2.id]


def test_outbox_retry_dead_and_requeue(store: Store) -> None:
    """Rows back off, go dead, are counted, and `retry --dead` makes them due again."""
    a = alert()
    store.save_poll(poll("f", a), desk(), T0)
    (row,) = due(store, T0)
    store.mark_retry(row.id, T0 + timedelta(minutes=5), "HTTP 503")
    assert due(store, T0) == []
    assert [d.id for d in due(store, T0 + timedelta(minutes=5))] == [row.id]
    store.mark_dead(row.id, "HTTP 404", T0)
    assert store.outbox_counts()["dead"] == 1
    assert store.dead_deliveries()[0].last_error == "HTTP 404"
    assert store.retry(T0, include_dead=False) == 0
    assert store.retry(T0, include_dead=True) == 1
    assert [d.id for d in due(store, T0)] == [row.id]
    store.mark_sent([row.id], T0)
    assert store.outbox_counts()["sent"] == 1 and due(store, T0) == []


def test_channel_order_is_kept_behind_a_waiting_row(store: Store) -> None:
    """A later alert is not due on a channel while an earlier one waits for its retry."""
    first, second = two_stories(
        "Other story", "Elsewhere entirely, nothing alike.", countries=("MM",)
    )
    a1, a2 = alert(first), alert(second)
    store.save_poll(poll("f", a1, a2), desk(), T0)
    first, _second = due(store, T0)
    store.mark_retry(first.id, T0 + timedelta(minutes=1), "timeout")
    assert due(store, T0) == []


def test_digest_rows_are_held(store: Store) -> None:
    """Alerts routed to a digest channel wait as 'held' until the digest is sent."""
    a = alert()
    store.save_poll(poll("f", a), StoryDesk(POLICY, lambda _: ((), ("mail",), ())), T0)
    assert due(store, T0) == []
    (held,) = store.held_deliveries("mail")
    store.mark_sent([held.id], T0)
    assert store.held_deliveries("mail") == []


def test_record_alert_once(store: Store) -> None:
    """Stand-alone alerts (health, escalation) with the same id are recorded once."""
    a = replace(alert(), id="health:x:down:1", kind=AlertKind.SOURCE_DOWN, item=None)
    assert store.record_alert(routed(a, to_ops), T0) is True
    assert store.record_alert(routed(a, to_ops), T0) is False
    assert len(due(store, T0)) == 1


def test_hit_counts_and_prune(store: Store) -> None:
    """Matched items are counted per country for escalation; pruning forgets old seen items."""
    store.save_poll(poll("f", alert()), desk(), T0)
    assert store.hit_counts(T0 - timedelta(hours=1), T0 + timedelta(hours=1), "country") == {
        "SD": 1
    }
    assert store.prune(T0 + timedelta(seconds=1)) == 1
    assert store.seen_keys("un-news", ["g:1"]) == set()


def test_job_once_per_period(store: Store) -> None:
    """A periodic job runs once per period key across everyone sharing the store."""
    assert store.job_once("escalation", "2026-11-20") is True
    assert store.job_once("escalation", "2026-11-20") is False
    assert store.job_once("escalation", "2026-11-21") is True


def test_alerts_recorded_before_sources_were_table_only_still_load(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """An alert an older monitor stored with its sources in the body loads with them, once."""
    target = new_target(engine, tmp_path, request)
    both, body_only = alert(item(key="g:1")), alert(item(key="g:2", link="https://x.org/2"))
    rows = [_old_alert_row(a) for a in (both, body_only)]
    (s,) = both.sources
    rows.append(
        "INSERT INTO sources (alert_id, feed, item_key, title, link, published, added) VALUES "
        f"('{both.id}', '{s.feed}', '{s.item_key}', 'old', NULL, {T0.timestamp()}, 0)"
    )
    create_at_version(engine, target, SCHEMA_VERSION, *rows)
    store = open_store(target)
    try:
        loaded = [store.load_alert(a.id) for a in (both, body_only)]
    finally:
        store.close()
    assert [[x.title for x in a.sources] for a in loaded if a] == [["old"], [body_only.title]]


def _old_alert_row(a: Alert) -> str:
    body = json.dumps(alert_to_dict(a)).replace("'", "''")  # sources in the body, as before
    return (
        "INSERT INTO alerts (id, kind, created, severity, rule_ids, countries, body) VALUES "
        f"('{a.id}', 'match', {T0.timestamp()}, 3, 'civilians-killed', 'SD', '{body}')"
    )


class SaveFails:
    """A store whose poll write fails (the process dies between the fetch and the commit)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def save_poll(self, *args: Any) -> SaveOutcome:
        raise RuntimeError("disk full")


class Refused(requests.adapters.BaseAdapter):
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        raise requests.ConnectionError("refused")

    def close(self) -> None:
        pass


def test_a_poll_that_is_not_saved_records_no_health_notice(store: Store) -> None:
    """The "source down" notice is written with the poll or not at all: a failed save leaves
    none behind, so a retried poll cannot announce the outage twice under two ids."""
    spec = FeedSpec("un-news", "http://un.example/feed", 600)
    failing = FeedState("un-news", failing_since=T0 - timedelta(hours=7), consecutive_failures=9)
    store.save_poll(PollResult("un-news", "failed", failing), desk(), T0)
    session = requests.Session()
    session.mount("http://", Refused())
    settings = PollSettings(None, 3600.0, 6 * 3600.0, POLICY)
    bundle = SimpleNamespace(matcher=NoRules(), router=to_ops, poll=settings)
    poller = Poller(
        SaveFails(store), session, FetchPolicy("test"), ParsePool(0), lambda: bundle, lambda: T0
    )
    not_saved, _ = poller.poll(spec)  # a poll that cannot be stored is a failed poll
    assert not_saved.outcome == "failed" and not_saved.error == "state store: disk full"
    assert not not_saved.notices and store.outbox_counts()["pending"] == 0
    poller.store = store
    result, _ = poller.poll(spec)
    assert [n.alert.kind for n in result.notices] == [AlertKind.SOURCE_DOWN]
    assert store.feed_state("un-news").down_alerted and store.outbox_counts()["pending"] == 1


class NoRules:
    def texts(self, item: Item) -> Texts:
        return {}

    def countries(self, item: Item, texts: Texts | None = None) -> tuple[str, ...]:
        return ()

    def match(self, item: Item, texts: Texts | None = None) -> tuple[Match, ...]:
        return ()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
