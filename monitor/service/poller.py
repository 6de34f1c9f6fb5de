"""EDGE: one poll of one feed: claim -> state -> fetch -> pipeline.process -> save -> log."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import requests
import structlog

from monitor import pipeline
from monitor.alerts.decide import StoryDesk, StoryPolicy, StoryRefs
from monitor.errors import FetchError
from monitor.model import FeedSpec, Fetched, ParsedFeed, PollResult, Router
from monitor.pipeline import MatcherLike
from monitor.reader.fetch import FetchPolicy, fetch
from monitor.reader.pool import ParsePool
from monitor.store import PollStore, SaveOutcome

log = structlog.get_logger("monitor.poll")


@dataclass
class PollSettings:
    backfill: float | None
    max_backoff: float
    feed_down_after: float
    story: StoryPolicy
    per_host: int = 2
    lease: float = 120.0  # seconds a claimed feed stays ours: fetch + parse deadlines + margin


@dataclass
class Poller:
    """Everything a feed job needs; the daemon swaps matcher/router on reload."""

    store: PollStore
    session: requests.Session
    policy: FetchPolicy
    parser: ParsePool
    matcher: MatcherLike
    router: Router
    settings: PollSettings
    now: Callable[[], datetime]
    owner: str = "local"
    on_poll: Callable[[PollResult, SaveOutcome, Fetched], None] = lambda r, s, f: None
    _folds: StoryRefs = field(default_factory=StoryRefs)  # lasts across reloads: keyed by alert
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
            self.settings.lease,
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
        """Poll one feed: state -> fetch -> process -> save -> log. Never raises for feed
        trouble (the feed is the failure boundary). save_poll writes the result, health
        notices included, and ends this instance's lease in one transaction."""
        state = self.store.feed_state(spec.name)
        # The poll's time is when it started, so the next poll is due one interval after
        # this one began, whatever the fetch took (the scheduler counts the same way).
        now = self.now()
        with self._host_slot(spec.url):
            fetched = fetch(self.session, spec, state, self.policy)
        result = pipeline.process(
            spec, state, fetched, self._parse(spec), self._seen(spec), self.matcher,
            self._policy(), now,
        )  # fmt: skip
        saved = self.store.save_poll(result, self._desk(), now)
        self._log(spec, result, saved, fetched)
        self.on_poll(result, saved, fetched)
        return result, saved

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        """No one server gets more than per_host concurrent requests from us."""
        host = urlsplit(url).netloc
        with self._hosts_lock:
            if host not in self._hosts:
                self._hosts[host] = threading.BoundedSemaphore(self.settings.per_host)
            return self._hosts[host]

    def _parse(self, spec: FeedSpec) -> pipeline.Parse:
        """The parse pool, logging a parser crash (process() turns it into a failed poll)."""

        def parse(body: bytes, headers: dict[str, str], url: str) -> ParsedFeed:
            try:
                return self.parser.parse(body, headers, url)
            except FetchError:
                raise
            except Exception:
                log.exception("feed.parse_crashed", feed=spec.name)
                raise

        return parse

    def _seen(self, spec: FeedSpec) -> pipeline.Seen:
        return lambda keys: self.store.seen_keys(spec.name, keys)

    def _policy(self) -> pipeline.PollPolicy:
        s = self.settings
        return pipeline.PollPolicy(s.backfill, s.max_backoff, s.feed_down_after, self.router)

    def _desk(self) -> StoryDesk:
        """The story decisions for save_poll: today's policy and router, the lasting folds."""
        return StoryDesk(self.settings.story, self.router, self._folds)

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
