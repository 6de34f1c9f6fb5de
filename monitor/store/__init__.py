"""EDGE: the one Store interface of pipeline, delivery and CLI; SQLite or PostgreSQL behind it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from monitor.model import Alert, Delivery, FeedState
from monitor.pipeline import PollResult

# (alert) -> channel names to deliver it to, and the names held for a digest
Router = Callable[[Alert], tuple[tuple[str, ...], tuple[str, ...]]]


@dataclass(frozen=True)
class StoryPolicy:
    """How the store clusters stories while it records a poll."""

    window: float = 72 * 3600.0
    similarity: float = 88.0
    corroboration: int = 3


@dataclass
class SaveOutcome:
    """What save_poll did, for logs, metrics and run --once's exit code."""

    new_items: int = 0
    created: list[str] = field(default_factory=list)  # alert ids
    attached: list[str] = field(default_factory=list)  # alert ids that gained a source
    suppressed: list[str] = field(default_factory=list)
    corroborated: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class InstanceInfo:
    """One monitor process sharing the store, as its last heartbeat described it."""

    owner: str
    host: str
    pid: int
    started: datetime
    last_seen: datetime


@dataclass(frozen=True)
class Lease:
    """Work one instance holds: a feed it polls (kind 'feed') or a delivery it sends."""

    kind: str  # feed | delivery
    name: str  # the feed name, or "<channel>#<outbox id>"
    owner: str
    until: datetime


class Tx(Protocol):
    """One open transaction of an engine: q() returns rows, x() returns the row count.
    SQL uses `?` placeholders on every engine."""

    def q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def x(self, sql: str, params: Sequence[Any] = ()) -> int: ...


class Store(Protocol):
    def close(self) -> None: ...
    def feed_states(self) -> dict[str, FeedState]: ...
    def feed_state(self, name: str) -> FeedState: ...
    def seen_keys(self, feed: str, keys: Collection[str]) -> set[str]: ...
    def save_state(self, state: FeedState) -> None: ...
    def set_silent(self, name: str, flag: bool) -> None: ...
    def save_poll(
        self, result: PollResult, router: Router, policy: StoryPolicy, now: datetime
    ) -> SaveOutcome: ...
    def record_alert(self, alert: Alert, router: Router, now: datetime) -> bool: ...
    def load_alert(self, alert_id: str) -> Alert | None: ...
    def due_deliveries(self, now: datetime, limit: int = 100) -> list[Delivery]: ...
    def held_deliveries(self, channel: str) -> list[Delivery]: ...
    def mark_sent(self, delivery_ids: Sequence[int], now: datetime) -> None: ...
    def mark_retry(self, delivery_id: int, next_attempt: datetime, error: str) -> None: ...
    def mark_dead(self, delivery_id: int, error: str, now: datetime) -> None: ...
    def first_attempt(self, delivery_id: int) -> datetime | None: ...
    def retry(self, now: datetime, include_dead: bool) -> int: ...
    def outbox_counts(self) -> dict[str, int]: ...
    def dead_deliveries(self, limit: int = 20) -> list[Delivery]: ...
    def suppressed_alerts(self, limit: int = 20) -> list[Alert]: ...
    def hit_counts(self, since: datetime, until: datetime, by: str) -> dict[str, int]: ...
    def job_once(self, job: str, period_key: str) -> bool: ...
    def prune(self, before: datetime) -> int: ...
    def writable(self) -> bool: ...
    def info(self) -> dict[str, Any]: ...
    # several instances: leases on feeds and deliveries, heartbeats (store/leases.py)
    def claim_feed(
        self,
        name: str,
        owner: str,
        now: datetime,
        lease_seconds: float,
        *,
        due_only: bool = True,
        slack: float = 0.0,
        not_since: datetime | None = None,
    ) -> bool: ...
    def release_feed(self, name: str, owner: str) -> None: ...
    def claim_deliveries(
        self, owner: str, now: datetime, lease_seconds: float, limit: int = 100
    ) -> list[Delivery]: ...
    def release_deliveries(self, ids: Sequence[int], owner: str) -> None: ...
    def pending_for(self, owner: str, now: datetime, before: datetime | None = None) -> int: ...
    def release_all(self, owner: str) -> int: ...
    def heartbeat(
        self, owner: str, host: str, pid: int, started: datetime, now: datetime
    ) -> None: ...
    def instances(self, since: datetime) -> list[InstanceInfo]: ...
    def leases(self) -> list[Lease]: ...
    # moving state between engines (store/transfer.py, monitor/dbcopy.py)
    def has_state(self) -> bool: ...
    def export_rows(self, table: str, batch: int) -> Iterator[list[tuple[Any, ...]]]: ...
    def import_rows(self, table: str, rows: Sequence[tuple[Any, ...]]) -> int: ...


def open_store(path_or_url: str, *, pool_size: int = 4) -> Store:
    """Open (and migrate) the store named by a SQLite path or a postgresql:// URL."""
    if path_or_url.startswith(("postgresql://", "postgres://")):
        from monitor.store.postgres import PostgresStore

        store: Store = PostgresStore(path_or_url, pool_size=pool_size)
        return store
    from monitor.store.sqlite import SqliteStore

    return SqliteStore(path_or_url)
