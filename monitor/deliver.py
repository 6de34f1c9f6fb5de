"""EDGE: send due outbox rows -> sent | retry later (backoff, Retry-After) | dead, in order."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from monitor.channels.base import Channel as Channel  # the one protocol, also for runtime
from monitor.errors import DeliveryError
from monitor.log import redact
from monitor.model import Alert, Delivery
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

    @staticmethod
    def merged(reports: Iterable[Report]) -> Report:
        total = Report()
        for r in reports:
            total.sent, total.retried, total.dead = (
                total.sent + r.sent,
                total.retried + r.retried,
                total.dead + r.dead,
            )
            total.by_channel.update(r.by_channel)  # one report per channel: no overlap
        return total

    def count(self, channel: str, outcome: str) -> None:
        per = self.by_channel.setdefault(channel, {})
        per[outcome] = per.get(outcome, 0) + 1
        if outcome == "sent":
            self.sent += 1
        elif outcome == "retry":
            self.retried += 1
        else:
            self.dead += 1


def marked(alert: Alert | None, row: Delivery) -> Alert | None:
    """The alert as its channel renders it: one a review timeout released says so
    (`data["unreviewed"]`, read by monitor.channels.render.unreviewed)."""
    if alert is None or not row.unreviewed:
        return alert
    return replace(alert, data={**alert.data, "unreviewed": True})


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
    _locks: dict[str, threading.Lock] = field(default_factory=dict)  # one drain per channel
    _busy_lock: threading.Lock = field(default_factory=threading.Lock)
    _busy: set[str] = field(default_factory=set)  # channels kick() is draining
    _again: set[str] = field(default_factory=set)  # ... and that came due again meanwhile
    _workers: dict[str, threading.Thread] = field(default_factory=dict)

    def drain(self, limit: int = 20) -> Report:
        """Send what is due now, every channel in its own thread, and wait for all of them;
        never marks a row sent before its channel confirmed it. A channel's failure (a store
        error) is raised here once every channel is done."""
        reports = {c: Report() for c in self.store.due_channels(self.now())}
        errors: list[Exception] = []

        def one(channel: str) -> None:
            try:
                self._drain_channel(channel, limit, reports[channel])
            except Exception as exc:
                errors.append(exc)

        workers = [threading.Thread(target=one, args=(c,), daemon=True) for c in reports]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        if errors:
            raise errors[0]
        return Report.merged(reports.values())

    def kick(self, after: Callable[[Report], None] = lambda report: None) -> None:
        """Start draining every channel with due rows, each in its own thread, and return at
        once: a hanging or trickling receiver holds up only its own channel. A channel that
        is still draining drains again when it is done (what came due meanwhile)."""
        for channel in self.store.due_channels(self.now()):
            with self._busy_lock:
                if channel in self._busy:
                    self._again.add(channel)
                    continue
                self._busy.add(channel)
            worker = threading.Thread(
                target=self._run, args=(channel, after), name=f"deliver-{channel}", daemon=True
            )
            self._workers[channel] = worker
            worker.start()

    def join(self, timeout: float) -> None:
        """Wait up to `timeout` s in all for the channel drains that `kick` started."""
        deadline = self.mono() + timeout
        for worker in list(self._workers.values()):
            worker.join(max(0.0, deadline - self.mono()))

    def _run(self, channel: str, after: Callable[[Report], None]) -> None:
        while True:
            report = Report()
            try:
                self._drain_channel(channel, 20, report)
                after(report)
            except Exception:  # a broken store must not kill the channel's worker for good
                log.exception("delivery.failed", channel=channel)
            with self._busy_lock:  # one decision: a kick now either sees us busy or starts anew
                if self.stop.is_set() or channel not in self._again:
                    self._busy.discard(channel)
                    return
                self._again.discard(channel)

    def _drain_channel(self, channel: str, limit: int, report: Report) -> None:
        """Send the channel's due rows in order, batch after batch, until nothing is due or
        a row fails; one drain per channel at a time keeps the channel's order."""
        with self._lock_of(channel):
            while not self.stop.is_set() and self._batch(channel, limit, report):
                pass

    def _batch(self, channel: str, limit: int, report: Report) -> bool:
        """One claimed batch of the channel; False when it was empty or a row failed (the
        rest waits). Whatever happens, no claim is left behind: rows not done are released."""
        current = self.live()
        rows = self.store.claim_deliveries(
            self.owner, self.now(), self.claim_lease, limit, channel=channel
        )
        todo = [row.id for row in rows]
        try:
            for row in rows:
                if self.stop.is_set() or not self._deliver(current, row, report):
                    return False  # an earlier row of this channel waits: keep order
                todo.remove(row.id)
            return bool(rows)
        finally:
            if todo:
                self._release(todo)

    def _release(self, ids: list[int]) -> None:
        try:
            self.store.release_deliveries(ids, self.owner)
        except Exception:  # the store is failing: the claim lease frees them in the end
            log.exception("delivery.release_failed", rows=len(ids))

    def _lock_of(self, channel: str) -> threading.Lock:
        with self._busy_lock:
            return self._locks.setdefault(channel, threading.Lock())

    def _deliver(self, current: Channels, row: Delivery, report: Report) -> bool:
        channel = current.channels.get(row.channel)
        alert = marked(self.store.load_alert(row.alert_id), row)
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
        """Exponential with jitter; a receiver's Retry-After can lengthen the wait, never
        shorten it below the backoff's floor: `Retry-After: 0` (or a date gone by) must not
        make a row spin for the 48 h it is retried."""
        ceiling = min(BASE_DELAY * 2 ** min(attempts, 16), MAX_DELAY)
        floor = ceiling / 2
        if retry_after is not None:
            return float(max(min(retry_after, MAX_DELAY * 6), floor))
        return float(floor + self.rng.uniform(0, ceiling / 2))

    def _dead(self, row: Delivery, reason: str, report: Report) -> None:
        self.store.mark_dead(row.id, reason, self.now())
        self._outcome(row, "dead", report, reason=reason)
