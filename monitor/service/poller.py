"""EDGE: one poll of one feed: claim -> state -> fetch -> pipeline.process -> save -> log."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

import requests
import structlog

from monitor import pipeline
from monitor.alerts.decide import StoryDesk, StoryPolicy, StoryRefs
from monitor.errors import FetchError
from monitor.model import FeedSpec, FeedState, Fetched, ParsedFeed, PollResult, Router
from monitor.pipeline import MatcherLike
from monitor.reader.fetch import FetchPolicy, fetch
from monitor.reader.pool import ParsePool
from monitor.service.articles import ArticleFetcher
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
    """Everything a feed job needs. Matcher, routing and settings come from the live bundle,
    read once per poll, so a reload never changes them in the middle of one."""

    store: PollStore
    session: requests.Session
    policy: FetchPolicy
    parser: ParsePool
    live: Callable[[], Polling]
    now: Callable[[], datetime]
    owner: str = "local"
    on_poll: Callable[[PollResult, SaveOutcome, Fetched], None] = lambda r, s, f: None
    on_article: Callable[[str, str], None] = lambda feed, outcome: None  # (feed, outcome)
    _folds: StoryRefs = field(default_factory=StoryRefs)  # lasts across reloads: keyed by alert
    _hosts: dict[str, threading.BoundedSemaphore] = field(default_factory=dict)
    _hosts_lock: threading.Lock = field(default_factory=threading.Lock)
    # feed -> the state of a failed poll the store could not record: the next poll starts
    # from it (backoff keeps growing) and records it with its own result
    _unsaved: dict[str, FeedState] = field(default_factory=dict)
    _articles: ArticleFetcher | None = None

    def __post_init__(self) -> None:
        self._articles = ArticleFetcher(
            self.session,
            self.policy,
            lambda url: self._host_slot(url, self.live().poll.per_host),
            self.now,
            self.on_article,
            extract=self.parser.extract,
        )

    def claim(
        self, spec: FeedSpec, *, due_only: bool = True, not_since: datetime | None = None
    ) -> FeedState | None:
        """Lease the feed so that no other instance sharing the store polls it meanwhile;
        its stored state when we hold it now, None when not."""
        return self.store.claim_state(
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
        stored = self.claim(spec, due_only=due_only, not_since=not_since)
        if stored is None:
            return None
        try:
            return self.poll(spec, stored)
        except BaseException:
            self.store.release_feed(spec.name, self.owner)
            raise

    def poll(
        self, spec: FeedSpec, stored: FeedState | None = None
    ) -> tuple[PollResult, SaveOutcome]:
        """Poll one feed: state -> fetch -> process -> save -> log. Never raises for feed
        trouble (the feed is the failure boundary). save_poll writes the result, health
        notices included, and ends this instance's lease in one transaction. `stored` is the
        state the claim read (read here when not given)."""
        b = self.live()
        state = self._state(spec.name, stored)
        # The poll's time is when it started, so the next poll is due one interval after
        # this one began, whatever the fetch took (the scheduler counts the same way).
        now = self.now()
        with self._host_slot(spec.url, b.poll.per_host):
            fetched = fetch(self.session, spec, state, self.policy)
        articles = self._articles.for_feed(spec) if spec.fetch_articles and self._articles else None
        result = pipeline.process(
            spec, state, fetched, self._parse(spec), self._seen(spec), b.matcher,
            self._policy(b), now, articles,
        )  # fmt: skip
        try:
            saved = self.store.save_poll(result, self._desk(b, result), now)
            self._unsaved.pop(spec.name, None)
        except Exception as exc:  # a poll that cannot be stored is a failed poll
            result, saved = self._not_stored(spec, state, exc, b, now)
        self._log(spec, result, saved, fetched)
        self.on_poll(result, saved, fetched)
        return result, saved

    def _state(self, name: str, stored: FeedState | None) -> FeedState:
        """The store's state of the feed, or a newer one only this process knows of."""
        if stored is None:
            stored = self.store.feed_state(name)
        mine = self._unsaved.get(name)
        if mine is None or mine.last_attempt is None:
            return stored
        # another instance sharing the store may have polled and recorded it since
        later = stored.last_attempt is not None and stored.last_attempt > mine.last_attempt
        return stored if later else mine

    def _not_stored(
        self, spec: FeedSpec, state: FeedState, exc: Exception, b: Polling, now: datetime
    ) -> tuple[PollResult, SaveOutcome]:
        """Nothing of the poll was written (its items stay new for the next one): record it as
        a failed poll, counted and backed off, with the store's error. A state row updated in
        place often still fits where new rows do not; when even that fails, the failure is
        kept in memory and written by the next poll that can write."""
        log.error("feed.not_stored", feed=spec.name, error=f"{type(exc).__name__}: {exc}")
        result = pipeline.failed(spec, state, f"state store: {exc}", now, b.poll.max_backoff)
        try:
            self.store.save_poll(result, self._desk(b, result), now)
            self._unsaved.pop(spec.name, None)
        except Exception:
            self._unsaved[spec.name] = result.state
            with contextlib.suppress(Exception):  # the lease then expires by itself
                self.store.release_feed(spec.name, self.owner)
        return result, SaveOutcome()

    def _host_slot(self, url: str, per_host: int) -> threading.BoundedSemaphore:
        """No one server gets more than per_host concurrent requests from us."""
        host = urlsplit(url).netloc
        with self._hosts_lock:
            if host not in self._hosts:
                self._hosts[host] = threading.BoundedSemaphore(per_host)
            return self._hosts[host]

    def _parse(self, spec: FeedSpec) -> pipeline.Parse:
        """The parse pool, logging a parser crash (process() turns it into a failed poll)."""

        def parse(body: bytes, headers: dict[str, str], url: str) -> ParsedFeed:
            try:
                if spec.type == "rss":
                    return self.parser.parse(body, headers, url)
                return self.parser.parse_as(spec.type, spec.selectors, body, headers, url)
            except FetchError:
                raise
            except Exception:
                log.exception("feed.parse_crashed", feed=spec.name)
                raise

        return parse

    def _seen(self, spec: FeedSpec) -> pipeline.Seen:
        return lambda keys: self.store.seen_keys(spec.name, keys)

    @staticmethod
    def _policy(b: Polling) -> pipeline.PollPolicy:
        s = b.poll
        return pipeline.PollPolicy(s.backfill, s.max_backoff, s.feed_down_after, b.router)

    def _desk(self, b: Polling, result: PollResult) -> StoryDesk:
        """The story decisions for save_poll: the bundle's policy and router, lasting folds,
        and the silences active now (read only when the poll has alerts to place)."""
        now = self.now()
        silences = tuple(self.store.active_silences(now)) if result.alerts else ()
        return StoryDesk(b.poll.story, b.router, self._folds, silences, now)

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
        for alert_id, why in saved.unrouted.items():  # recorded, but nothing will send it
            bound.warning("alert.unrouted", alert=alert_id, why=why)
