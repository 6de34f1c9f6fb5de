"""`monitor db copy`: a SQLite state moved into PostgreSQL alerts on nothing already seen."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.alerts.decide import StoryDesk, StoryPolicy, routed
from monitor.cli.db import copy_state
from monitor.errors import StoreError
from monitor.model import Alert, FeedState, PollResult
from monitor.model.console import Filters
from monitor.store import Store, open_store
from tests.factories import T0, alert, item
from tests.pg import PgServer
from tests.stores import due


def to_ops(a: Alert) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    return ("ops",), ("digest",), ()


def desk() -> StoryDesk:
    return StoryDesk(StoryPolicy(), to_ops)


@pytest.fixture
def sqlite_state(tmp_path: Path) -> Iterator[Store]:
    """A SQLite state after a few polls: items seen, alerts, sources, hits, outbox rows."""
    store = open_store(str(tmp_path / "state.db"))
    stories = [
        ("g:1", "https://x.org/1", "Dozens of civilians killed in shelling of market in El Fasher"),
        ("g:2", "https://x.org/2", "Villagers killed as army burns homes in Rakhine"),
    ]
    for key, link, title in stories:
        a = alert(item(key=key, link=link, title=title))
        state = FeedState("un-news", etag='"v1"', last_success=T0, next_poll=T0)
        result = PollResult("un-news", "fetched", state, (a.item,), (a,))  # type: ignore[arg-type]
        store.save_poll(result, desk(), T0)
    quiet = tuple(item(f"q:{i}", "bbc", f"Weather report {i}") for i in range(1200))
    store.save_poll(PollResult("bbc", "fetched", FeedState("bbc"), quiet, ()), desk(), T0)
    (first, *_rest) = due(store, T0)
    store.mark_sent([first.id], T0)
    store.job_once("escalation", "2026-11-20")
    yield store
    store.close()


def test_copy_to_postgres_keeps_everything_seen(sqlite_state: Store, pg_server: PgServer) -> None:
    """After the copy no item is new, alerts exist once, the outbox counts are the same."""
    dst = open_store(pg_server.new_database())
    try:
        copied = copy_state(sqlite_state, dst, batch=500)
        assert copied["seen"] == 1202 and copied["alerts"] == 2
        assert dst.seen_keys("bbc", [f"q:{i}" for i in range(1200)]) == {
            f"q:{i}" for i in range(1200)
        }
        assert dst.outbox_counts() == sqlite_state.outbox_counts()
        assert dst.feed_states() == sqlite_state.feed_states()
        assert dst.job_once("escalation", "2026-11-20") is False
        again = alert(item(key="g:1", link="https://x.org/1"))
        state = FeedState("un-news")
        out = dst.save_poll(
            PollResult("un-news", "fetched", state, (again.item,), (again,)),  # type: ignore[arg-type]
            desk(),
            T0 + timedelta(minutes=5),
        )
        assert (out.new_items, out.created) == (0, [])
        loaded = dst.load_alert(again.id)
        assert loaded is not None and [s.item_key for s in loaded.sources] == ["g:1"]
    finally:
        dst.close()


def test_copy_keeps_channel_order_and_new_rows_follow(
    sqlite_state: Store, pg_server: PgServer
) -> None:
    """Copied outbox rows keep their order, and rows created afterwards come after them."""
    dst = open_store(pg_server.new_database())
    try:
        copy_state(sqlite_state, dst)
        before = [d.alert_id for d in due(sqlite_state, T0)]
        assert [d.alert_id for d in due(dst, T0)] == before
        late = replace(alert(), id="health:late", item=None)
        dst.record_alert(routed(late, to_ops), T0)
        assert [d.alert_id for d in due(dst, T0)] == [*before, "health:late"]
    finally:
        dst.close()


def test_copy_refuses_a_target_with_state(sqlite_state: Store, tmp_path: Path) -> None:
    """A target that already records feeds or alerts is refused; nothing is written."""
    dst = open_store(str(tmp_path / "other.db"))
    try:
        dst.save_poll(PollResult("mine", "fetched", FeedState("mine")), desk(), T0)
        with pytest.raises(StoreError, match="empty database"):
            copy_state(sqlite_state, dst)
        assert list(dst.feed_states()) == ["mine"] and dst.outbox_counts()["pending"] == 0
    finally:
        dst.close()


def test_copy_carries_alert_and_source_languages(tmp_path: Path, pg_server: PgServer) -> None:
    """An Arabic alert moved into PostgreSQL is still Arabic: the list's `lang` filter finds
    it and its report keeps its language."""
    src = open_store(str(tmp_path / "state.db"))
    dst = open_store(pg_server.new_database())
    try:
        it = replace(item(key="g:ar", link="https://x.org/ar", title="مجزرة في الفاشر"), lang="ar")
        a = alert(it)
        src.save_poll(
            PollResult("un-news", "fetched", FeedState("un-news"), (it,), (a,)), desk(), T0
        )
        copy_state(src, dst)
        (found,) = dst.list_alerts(Filters(lang="ar")).rows
        assert found.alert.lang == "ar" and [s.lang for s in found.alert.sources] == ["ar"]
    finally:
        src.close()
        dst.close()
