"""The pure chain of one poll, written out: parsed feed -> items -> matches -> candidate alerts."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from monitor.alerts.stories import build_alert
from monitor.model import Alert, FeedSpec, FeedState, Fetched, Item, Match, ParsedFeed
from monitor.reader.normalize import normalize_entries


class MatcherLike(Protocol):
    """What the pipeline needs of a compiled watchlist (monitor.match.Matcher)."""

    def countries(self, item: Item) -> tuple[str, ...]: ...

    def match(self, item: Item) -> tuple[Match, ...]: ...


@dataclass(frozen=True)
class PollResult:
    """Everything one poll decided; the store writes it in one transaction."""

    feed: str
    outcome: str  # fetched | not_modified | unchanged | failed
    state: FeedState
    items: tuple[Item, ...] = ()  # new items, to record as seen
    alerts: tuple[Alert, ...] = ()  # candidate alerts for new items within the backfill window
    error: str | None = None
    entries: int = 0
    bozo: str | None = None


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def failed(
    spec: FeedSpec,
    state: FeedState,
    error: str,
    now: datetime,
    max_backoff: float,
    retry_after: float | None = None,
) -> PollResult:
    """A failed poll: count it, keep the error, back off exponentially (capped), never park."""
    failures = state.consecutive_failures + 1
    delay = min(spec.interval * 2 ** min(failures - 1, 20), max_backoff)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_backoff))
    new_state = replace(
        state,
        last_attempt=now,
        last_error=error[:500],
        consecutive_failures=failures,
        failing_since=state.failing_since or now,
        next_poll=now + timedelta(seconds=delay),
    )
    return PollResult(spec.name, "failed", new_state, error=error)


def succeeded(spec: FeedSpec, state: FeedState, fetched: Fetched, now: datetime) -> FeedState:
    return replace(
        state,
        etag=fetched.etag or (None if fetched.status == 200 else state.etag),
        last_modified=fetched.last_modified
        or (None if fetched.status == 200 else state.last_modified),
        last_attempt=now,
        last_success=now,
        last_error=None,
        consecutive_failures=0,
        failing_since=None,
        next_poll=now + timedelta(seconds=spec.interval),
    )


def not_modified(spec: FeedSpec, state: FeedState, fetched: Fetched, now: datetime) -> PollResult:
    """A 304 (or an identical body): nothing new, nothing parsed."""
    outcome = "not_modified" if fetched.status == 304 else "unchanged"
    return PollResult(spec.name, outcome, succeeded(spec, state, fetched, now))


def process(
    spec: FeedSpec,
    state: FeedState,
    fetched: Fetched,
    parsed: ParsedFeed,
    items: Sequence[Item],
    known: Collection[str],
    matcher: MatcherLike,
    now: datetime,
    backfill: float | None,
) -> PollResult:
    """Items not yet known -> matches -> candidate alerts, and the feed's next state."""
    new = tuple(_tag_countries(i, matcher) for i in items if i.key not in known)
    alerts = tuple(_alerts(new, matcher, now, _cutoff(state, now, backfill)))
    next_state = replace(
        succeeded(spec, state, fetched, now),
        body_hash=body_hash(fetched.body or b""),
        items_seen=state.items_seen + len(new),
        last_new_item=now if new else state.last_new_item,
    )
    return PollResult(spec.name, "fetched", next_state, new, alerts, None, len(items), parsed.bozo)


def usable(parsed: ParsedFeed) -> str | None:
    """Why a parsed document cannot be used (None when it can): a bozo feed with entries is used."""
    if parsed.entries:
        return None
    if not parsed.is_feed:
        return "not a feed (no RSS or Atom found)"
    if parsed.bozo:
        return f"unparseable feed: {parsed.bozo}"
    return None


def items_of(
    parsed: ParsedFeed, spec: FeedSpec, fetched: Fetched, now: datetime
) -> tuple[Item, ...]:
    return normalize_entries(parsed.entries, spec, fetched.url, now)


def _cutoff(state: FeedState, now: datetime, backfill: float | None) -> datetime | None:
    """On a feed's first poll, only items published within the backfill window alert."""
    if not state.first_poll or backfill is None:
        return None
    return now - timedelta(seconds=backfill)


def _tag_countries(item: Item, matcher: MatcherLike) -> Item:
    return replace(item, countries=matcher.countries(item))


def _alerts(
    items: Sequence[Item], matcher: MatcherLike, now: datetime, cutoff: datetime | None
) -> list[Alert]:
    out = []
    for item in items:
        if cutoff is not None and (item.date_estimated or item.published < cutoff):
            continue  # first poll: old (or undated) items are recorded without alerting
        matches = matcher.match(item)
        if matches:
            out.append(build_alert(item, matches, now))
    return out
