"""EDGE: send due outbox rows -> sent | retry later (backoff, Retry-After) | dead, in order."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from monitor.channels.base import Channel as Channel  # the one protocol, also for runtime
from monitor.errors import DeliveryError
from monitor.log import redact
from monitor.model import Delivery
from monitor.store import OutboxStore

log = structlog.get_logger("monitor.deliver")
BASE_DELAY = 15.0
MAX_DELAY = 3600.0


class Channels(Protocol):
    """What a drain reads of the live bundle (monitor.service.bundle.Bundle)."""

    @property
    def channels(self) -> Mapping[str, Channel]: ...
    @property
    def rate_limits(self) -> Mapping[str, float]: ...


@dataclass(frozen=True)
class ChannelSet:
    """A fixed set of channels, for callers without a reloadable bundle."""

    channels: Mapping[str, Channel]
    rate_limits: Mapping[str, float] = field(default_factory=dict)

    def __call__(self) -> ChannelSet:
        return self


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, channel: str, outcome: str) -> None:
        per = self.by_channel.setdefault(channel, {})
        per[outcome] = per.get(outcome, 0) + 1
        if outcome == "sent":
            self.sent += 1
        elif outcome == "retry":
            self.retried += 1
        else:
            self.dead += 1


@dataclass
class Deliverer:
    """Drains the outbox. One instance per daemon; it remembers each channel's last send.
    Channels and rate limits come from `live`, read once per drain (a reload swaps them)."""

    store: OutboxStore
    live: Callable[[], Channels]
    now: Callable[[], datetime]
    retry_max_age: float = 48 * 3600.0
    sleep: Callable[[float], Any] = time.sleep
    mono: Callable[[], float] = time.monotonic
    stop: threading.Event = field(default_factory=threading.Event)
    rng: random.Random = field(default_factory=random.Random)
    on_outcome: Callable[[str, str], None] = lambda channel, outcome: None
    owner: str = "local"
    claim_lease: float = 300.0  # a claimed row left unsent this long is taken over
    _last_send: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def drain(self, limit: int = 20) -> Report:
        """Send what is due now; never marks a row sent before its channel confirmed it."""
        report = Report()
        with self._lock:  # one drain at a time keeps per-channel order
            current = self.live()
            failed: set[str] = set()
            untried: list[int] = []
            for row in self.store.claim_deliveries(self.owner, self.now(), self.claim_lease, limit):
                if self.stop.is_set() or row.channel in failed:
                    untried.append(row.id)  # an earlier row of this channel waits: keep order
                elif not self._deliver(current, row, report):
                    failed.add(row.channel)
            if untried:
                self.store.release_deliveries(untried, self.owner)
        return report

    def _deliver(self, current: Channels, row: Delivery, report: Report) -> bool:
        channel = current.channels.get(row.channel)
        alert = self.store.load_alert(row.alert_id)
        if channel is None or alert is None:
            why = "channel no longer configured" if channel is None else "alert missing"
            self._dead(row, why, report)
            return True
        self._pace(row.channel, current.rate_limits.get(row.channel, 0.0))
        try:
            result = channel.send(channel.build(alert))
        except DeliveryError as exc:
            exc.reason = redact(exc.reason)  # it is stored and shown: never a token from a URL
            return self._failed(row, exc, report)
        except Exception as exc:  # a bug in a channel must not kill the delivery job
            return self._failed(row, DeliveryError(f"{type(exc).__name__}", retryable=True), report)
        self.store.mark_sent([row.id], self.now())
        self._outcome(row, "sent", report, detail=result.detail[:100])
        return True

    def _outcome(self, row: Delivery, outcome: str, report: Report, **fields: object) -> None:
        """Count, export and log one delivery attempt's outcome."""
        report.count(row.channel, outcome)
        self.on_outcome(row.channel, outcome)
        event, level = {
            "sent": ("alert.delivered", log.info),
            "retry": ("delivery.retry", log.warning),
            "dead": ("delivery.dead", log.error),
        }[outcome]
        level(event, alert=row.alert_id, channel=row.channel, attempts=row.attempts + 1, **fields)

    def _pace(self, channel: str, gap: float) -> None:
        """Per-channel rate limit: wait until the channel's minimum gap has passed."""
        last = self._last_send.get(channel)
        if gap > 0 and last is not None:
            wait = gap - (self.mono() - last)
            if wait > 0:
                self.sleep(wait)
        self._last_send[channel] = self.mono()

    def _failed(self, row: Delivery, exc: DeliveryError, report: Report) -> bool:
        now = self.now()
        first = self.store.first_attempt(row.id) if row.attempts else now
        age = (now - (first or now)).total_seconds()
        if not exc.retryable:
            self._dead(row, exc.reason, report)
            return True  # a dead row no longer holds up the channel
        if age >= self.retry_max_age:
            self._dead(row, f"gave up after {age / 3600:.1f}h: {exc.reason}", report)
            return True
        delay = self._backoff(row.attempts, exc.retry_after)
        self.store.mark_retry(row.id, now + timedelta(seconds=delay), exc.reason)
        self._outcome(row, "retry", report, reason=exc.reason, retry_in=round(delay, 1))
        return False

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        """Exponential with full jitter, at least what the receiver asked for."""
        ceiling = min(BASE_DELAY * 2 ** min(attempts, 16), MAX_DELAY)
        delay = ceiling / 2 + self.rng.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(min(retry_after, MAX_DELAY * 6), 0.0)
        return float(delay)

    def _dead(self, row: Delivery, reason: str, report: Report) -> None:
        self.store.mark_dead(row.id, reason, self.now())
        self._outcome(row, "dead", report, reason=reason)
