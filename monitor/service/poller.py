"""EDGE: one poll of one feed: fetch -> parse -> pipeline -> store, plus feed health."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

import requests
import structlog

from monitor import pipeline
from monitor.alerts import health
from monitor.errors import FetchError
from monitor.model import FeedSpec, FeedState, Fetched
from monitor.pipeline import MatcherLike, PollResult
from monitor.reader.fetch import FetchPolicy, fetch
from monitor.reader.pool import ParsePool
from monitor.store import Router, SaveOutcome, Store, StoryPolicy

log = structlog.get_logger("monitor.poll")


@dataclass
class PollSettings:
    backfill: float | None
    max_backoff: float
    feed_down_after: float
    story: StoryPolicy
    per_host: int = 2
    lease: float = 120.0  # seconds a claimed feed stays ours: fetch + parse deadlines + margin


class Polling(Protocol):
    """What a poll reads of the live bundle (monitor.service.bundle.Bundle)."""

    @property
    def matcher(self) -> MatcherLike: ...
    @property
    def router(self) -> Router: ...
    @property
    def poll(self) -> PollSettings: ...


@dataclass
class Poller:
    """Everything a feed job needs; matcher, routing and settings come from the live bundle,
    read once per poll, so a reload never changes them in the middle of one."""

    store: Store
    session: requests.Session
    policy: FetchPolicy
    parser: ParsePool
    live: Callable[[], Polling]
    now: Callable[[], datetime]
    owner: str = "local"
    on_poll: Callable[[PollResult, SaveOutcome, Fetched], None] = lambda r, s, f: None
    _hosts: dict[str, threading.BoundedSemaphore] = field(default_factory=dict)
    _hosts_lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(
        self, spec: FeedSpec, *, due_only: bool = True, not_since: datetime | None = None
    ) -> bool:
        """Lease the feed so that no other instance sharing the store polls it meanwhile."""
        return self.store.claim_feed(
            spec.name,
            self.owner,
            self.now(),
            self.live().poll.lease,
            due_only=due_only,
            slack=min(spec.interval / 4, spec.jitter + 1.0),
            not_since=not_since,
        )

    def poll_claimed(
        self, spec: FeedSpec, *, due_only: bool = True, not_since: datetime | None = None
    ) -> tuple[PollResult, SaveOutcome] | None:
        """Claim, then poll; None when another instance holds the feed, polled it since
        not_since, or (with due_only) it is not due yet."""
        if not self.claim(spec, due_only=due_only, not_since=not_since):
            return None
        try:
            return self.poll(spec)
        except BaseException:
            self.store.release_feed(spec.name, self.owner)
            raise

    def poll(self, spec: FeedSpec) -> tuple[PollResult, SaveOutcome]:
        """Poll one feed; never raises for feed trouble (the feed is the failure boundary).
        save_poll writes the result and ends this instance's lease in one transaction."""
        b = self.live()
        state = self.store.feed_state(spec.name)
        # The poll's time is when it started, so the next poll is due one interval after
        # this one began, whatever the fetch took (the scheduler counts the same way).
        now = self.now()
        with self._host_slot(spec.url, b.poll.per_host):
            fetched = fetch(self.session, spec, state, self.policy)
        result = self._result(b, spec, state, fetched, now)
        result = self._health(b, spec, state, result, now)
        saved = self.store.save_poll(result, b.router, b.poll.story, now)
        self._log(spec, result, saved, fetched)
        self.on_poll(result, saved, fetched)
        return result, saved

    def _host_slot(self, url: str, per_host: int) -> threading.BoundedSemaphore:
        """No one server gets more than per_host concurrent requests from us."""
        host = urlsplit(url).netloc
        with self._hosts_lock:
            if host not in self._hosts:
                self._hosts[host] = threading.BoundedSemaphore(per_host)
            return self._hosts[host]

    def _result(
        self, b: Polling, spec: FeedSpec, state: FeedState, fetched: Fetched, now: datetime
    ) -> PollResult:
        s = b.poll
        if fetched.error:
            return pipeline.failed(
                spec, state, fetched.error, now, s.max_backoff, fetched.retry_after
            )
        if fetched.not_modified:
            return pipeline.not_modified(spec, state, fetched, now)
        assert fetched.body is not None
        if state.body_hash and pipeline.body_hash(fetched.body) == state.body_hash:
            return pipeline.not_modified(spec, state, fetched, now)  # server ignores validators
        try:
            parsed = self.parser.parse(fetched.body, fetched.headers, fetched.url)
        except FetchError as exc:
            return pipeline.failed(spec, state, exc.reason, now, s.max_backoff)
        except Exception as exc:  # the feed is the failure boundary, whatever the parser did
            log.exception("feed.parse_crashed", feed=spec.name)
            reason = f"parse failed: {type(exc).__name__}"
            return pipeline.failed(spec, state, reason, now, s.max_backoff)
        problem = pipeline.usable(parsed)
        if problem:
            return pipeline.failed(spec, state, problem, now, s.max_backoff)
        items = pipeline.items_of(parsed, spec, fetched, now)
        known = self.store.seen_keys(spec.name, [i.key for i in items])
        return pipeline.process(
            spec, state, fetched, parsed, items, known, b.matcher, now, s.backfill
        )

    def _health(
        self, b: Polling, spec: FeedSpec, before: FeedState, result: PollResult, now: datetime
    ) -> PollResult:
        """One "source down" alert after failing for feed_down_after, one "source back" after."""
        st = result.state
        if result.outcome == "failed" and st.failing_since and not st.down_alerted:
            down_for = (now - st.failing_since).total_seconds()
            if down_for >= b.poll.feed_down_after:
                self.store.record_alert(health.down(spec, st, now), b.router, now)
                return replace(result, state=replace(st, down_alerted=True))
        if result.items and before.silent_alerted:
            back = health.heard(spec, now)
            self.store.record_alert(back, b.router, now)
            result = replace(result, state=replace(result.state, silent_alerted=False))
            st = result.state
        if result.outcome != "failed" and before.down_alerted:
            self.store.record_alert(health.back(spec, before, now), b.router, now)
            return replace(result, state=replace(st, down_alerted=False))
        return result

    def _log(self, spec: FeedSpec, r: PollResult, saved: SaveOutcome, fetched: Fetched) -> None:
        bound = log.bind(feed=spec.name, elapsed=round(fetched.elapsed, 3))
        if r.outcome == "failed":
            bound.warning(
                "feed.failed",
                error=r.error,
                failures=r.state.consecutive_failures,
                next_poll=r.state.next_poll.isoformat() if r.state.next_poll else None,
            )
        elif r.outcome in ("not_modified", "unchanged"):
            bound.info("feed.not_modified", how=r.outcome)
        else:
            bound.info(
                "feed.fetched",
                entries=r.entries,
                new=saved.new_items,
                alerts=len(saved.created),
                bozo=r.bozo,
            )
        if saved.new_items and r.state.items_seen != len(r.items):
            for item in r.items:  # (a feed's first poll is summarised by feed.fetched)
                bound.info("item.new", key=item.key[:120], title=item.title[:160], link=item.link)
        for alert_id in saved.created:
            bound.info("alert.created", alert=alert_id, suppressed=alert_id in saved.suppressed)
        for alert_id in saved.attached:
            bound.info("alert.source_added", alert=alert_id)
