"""One poll decided by pipeline.process from plain values: no server, no database."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import timedelta

import pytest

from monitor import pipeline
from monitor.errors import FetchError
from monitor.match.fold import Texts
from monitor.model import (
    Alert,
    AlertKind,
    FeedSpec,
    FeedState,
    Fetched,
    Item,
    Match,
    ParsedFeed,
    PollResult,
    RawEntry,
)
from tests.factories import T0, match

SPEC = FeedSpec("un-news", "http://un.example/feed", 600)
BODY = b"<rss>...</rss>"
HOUR = 3600.0


def to_ops(alert: Alert) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    return ("ops",), ("digest",), ()


POLICY = pipeline.PollPolicy(
    backfill=None, max_backoff=HOUR, feed_down_after=6 * HOUR, router=to_ops
)


class Rules:
    """Fires one rule on items whose title says "killed"; Sudan for titles naming it."""

    def texts(self, item: Item) -> Texts:
        return {}

    def countries(self, item: Item, texts: Texts | None = None) -> tuple[str, ...]:
        return ("SD",) if "Sudan" in item.title else ()

    def match(self, item: Item, texts: Texts | None = None) -> tuple[Match, ...]:
        return (match(),) if "killed" in item.title else ()


def entry(guid: str, title: str, age: float = 0.0, dated: bool = True) -> RawEntry:
    published = T0 - timedelta(seconds=age) if dated else None
    return RawEntry(guid, f"https://un.example/{guid}", title, "", published)


def document(*entries: RawEntry, bozo: str | None = None, is_feed: bool = True) -> pipeline.Parse:
    def parse(body: bytes, headers: dict[str, str], url: str) -> ParsedFeed:
        return ParsedFeed(tuple(entries), bozo=bozo, is_feed=is_feed)

    return parse


def raises(exc: Exception) -> pipeline.Parse:
    def parse(body: bytes, headers: dict[str, str], url: str) -> ParsedFeed:
        raise exc

    return parse


def knows(*keys: str) -> pipeline.Seen:
    def seen(asked: Sequence[str]) -> Collection[str]:
        return set(keys) & set(asked)

    return seen


def ok(status: int = 200, body: bytes | None = BODY, **kw: object) -> Fetched:
    return Fetched(SPEC.name, SPEC.url, status, body, {}, **kw)  # type: ignore[arg-type]


def run(
    fetched: Fetched,
    parse: pipeline.Parse | None = None,
    state: FeedState | None = None,
    seen: pipeline.Seen | None = None,
    policy: pipeline.PollPolicy = POLICY,
) -> PollResult:
    before = state or FeedState(SPEC.name, last_success=T0 - timedelta(hours=1))
    parse, seen = parse or document(), seen or knows()
    return pipeline.process(SPEC, before, fetched, parse, seen, Rules(), policy, T0)


def test_a_failed_fetch_backs_off_and_keeps_the_error() -> None:
    """Each failure doubles the delay up to max_backoff; Retry-After can lengthen it."""
    state = FeedState(SPEC.name, consecutive_failures=2, failing_since=T0 - timedelta(hours=1))
    got = run(ok(None, None, error="HTTP 503"), state=state)
    assert (got.outcome, got.error, got.state.consecutive_failures) == ("failed", "HTTP 503", 3)
    assert got.state.next_poll == T0 + timedelta(seconds=2400)
    assert got.state.failing_since == T0 - timedelta(hours=1)
    later = run(ok(None, None, error="HTTP 429", retry_after=3000.0), state=state)
    assert later.state.next_poll == T0 + timedelta(seconds=3000)
    capped = run(ok(None, None, error="HTTP 429", retry_after=9e9), state=state)
    assert capped.state.next_poll == T0 + timedelta(seconds=HOUR)


def test_a_304_is_not_modified_and_parses_nothing() -> None:
    """A 304 keeps the validators, resets failures and never calls the parser."""
    state = FeedState(SPEC.name, etag='"v1"', consecutive_failures=4, failing_since=T0)
    got = run(ok(304, None), raises(AssertionError("parsed")), state=state)
    assert got.outcome == "not_modified" and got.state.etag == '"v1"'
    assert got.state.consecutive_failures == 0 and got.state.next_poll == T0 + timedelta(minutes=10)


def test_the_same_body_again_is_unchanged() -> None:
    """A server ignoring validators but sending the same bytes: nothing parsed, nothing new."""
    state = FeedState(SPEC.name, body_hash=pipeline.body_hash(BODY), last_success=T0)
    got = run(ok(), raises(AssertionError("parsed")), state=state)
    assert (got.outcome, got.items) == ("unchanged", ())


def test_a_parser_refusal_fails_the_feed_with_its_reason() -> None:
    """FetchError from the parser (e.g. XML entities) fails the poll with that reason."""
    got = run(ok(), raises(FetchError("document declares XML entities")))
    assert (got.outcome, got.error) == ("failed", "document declares XML entities")


def test_a_parser_crash_fails_the_feed_naming_the_exception() -> None:
    """Whatever the parser raises, the poll is a failed value, not an exception."""
    got = run(ok(), raises(OverflowError("huge")))
    assert (got.outcome, got.error) == ("failed", "parse failed: OverflowError")


@pytest.mark.parametrize(
    ("parsed", "error"),
    [
        (document(is_feed=False), "not a feed (no RSS or Atom found)"),
        (document(bozo="mismatched tag"), "unparseable feed: mismatched tag"),
    ],
)
def test_an_unusable_document_fails_the_feed(parsed: pipeline.Parse, error: str) -> None:
    """An HTML page, or a broken document without entries, fails the poll."""
    assert (run(ok(), parsed).outcome, run(ok(), parsed).error) == ("failed", error)


def test_new_items_are_tagged_matched_and_become_candidate_alerts() -> None:
    """Only unseen items count; they get countries, and those matching a rule an alert."""
    parse = document(
        entry("1", "Civilians killed in Sudan"),
        entry("2", "Weather report"),
        entry("3", "Old news: soldiers killed"),
        bozo="undefined entity",
    )
    got = run(ok(), parse, seen=knows("g:3"))
    assert got.outcome == "fetched" and got.entries == 3 and got.bozo == "undefined entity"
    assert [(i.key, i.countries) for i in got.items] == [("g:1", ("SD",)), ("g:2", ())]
    (candidate,) = got.alerts
    assert candidate.kind == AlertKind.MATCH and candidate.item == got.items[0]
    assert got.state.items_seen == 2 and got.state.last_new_item == T0
    assert got.state.body_hash == pipeline.body_hash(BODY) and got.notices == ()


def test_a_first_poll_alerts_only_within_the_backfill_window() -> None:
    """On a feed's first poll, old and undated items are recorded without alerting."""
    parse = document(
        entry("new", "Civilians killed", age=HOUR),
        entry("old", "Civilians killed again", age=3 * 86400),
        entry("undated", "Civilians killed, date unknown", dated=False),
    )
    policy = replace(POLICY, backfill=86400.0)
    first = run(ok(), parse, state=FeedState(SPEC.name), policy=policy)
    assert len(first.items) == 3 and [a.item.key for a in first.alerts if a.item] == ["g:new"]
    later = run(ok(), parse, policy=policy)
    assert len(later.alerts) == 3


def test_a_feed_down_long_enough_gets_one_routed_down_notice() -> None:
    """Past feed_down_after a failing feed raises "source down" once, with its channels."""
    failing = FeedState(SPEC.name, failing_since=T0 - timedelta(hours=7), consecutive_failures=9)
    got = run(ok(None, None, error="HTTP 503"), state=failing)
    (notice,) = got.notices
    assert notice.alert.kind == AlertKind.SOURCE_DOWN and "HTTP 503" in notice.alert.text
    assert (notice.send, notice.hold) == (("ops",), ("digest",)) and got.state.down_alerted
    again = run(ok(None, None, error="HTTP 503"), state=got.state)
    assert again.notices == () and again.state.down_alerted


def test_a_recent_failure_is_not_yet_down() -> None:
    """Failing for less than feed_down_after raises nothing."""
    failing = FeedState(SPEC.name, failing_since=T0 - timedelta(hours=1))
    got = run(ok(None, None, error="HTTP 503"), state=failing)
    assert got.notices == () and not got.state.down_alerted


def test_a_feed_that_answers_again_gets_one_back_notice() -> None:
    """After a "down" notice, the next successful poll (even a 304) says "back"."""
    down = FeedState(SPEC.name, failing_since=T0 - timedelta(hours=8), down_alerted=True)
    got = run(ok(304, None), state=down)
    assert [n.alert.kind for n in got.notices] == [AlertKind.SOURCE_BACK]
    assert "8.0h" in got.notices[0].alert.text and not got.state.down_alerted


def test_a_silent_feed_publishing_again_is_heard() -> None:
    """A feed called silent that has new items gets "publishes again"; without items, not."""
    silent = FeedState(SPEC.name, last_success=T0 - timedelta(hours=1), silent_alerted=True)
    got = run(ok(), document(entry("1", "Weather report")), state=silent)
    assert [n.alert.id for n in got.notices] == [f"health:un-news:heard:{int(T0.timestamp())}"]
    assert got.state.silent_alerted is False
    quiet = run(ok(), document(entry("1", "Weather report")), state=silent, seen=knows("g:1"))
    assert quiet.notices == () and quiet.state.silent_alerted
