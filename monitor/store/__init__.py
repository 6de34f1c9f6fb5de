"""EDGE: the store's interfaces by role (what the poller, delivery, admin commands,
instances and the console use; `Store` is their union) over SQLite or PostgreSQL. The store
persists: story decisions reach it as a `StoryDecisions` object, routing as channel names."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from monitor.model import (
    Alert,
    Corroboration,
    Delivery,
    FeedState,
    FiledReport,
    Placement,
    PollResult,
    Routed,
)
from monitor.model.console import Detail, Filters, Listed, Missed, Page, Silence
from monitor.model.evidence import ArchiveAnswer, Capture, Evidence, EvidenceTask
from monitor.model.search import ItemPage, ItemQuery
from monitor.store.people import PeopleStore as PeopleStore
from monitor.store.people import Person as Person
from monitor.store.reviews import Waiting as Waiting


class StoryDecisions(Protocol):
    """The pure story decisions save_poll takes inside its transaction, on the rows it read
    after the story lock (monitor.alerts.decide.StoryDesk)."""

    @property
    def window(self) -> float:
        """Seconds back that recent stories are read for `place`."""
        ...

    def place(
        self,
        candidates: Sequence[Alert],
        recent: Sequence[Alert],
        existing: Collection[str],
        reports: Mapping[str, Sequence[FiledReport]] | None = None,
    ) -> Sequence[Placement]: ...

    def corroborate(self, story: Alert, now: datetime) -> Corroboration | None: ...


@dataclass
class SaveOutcome:
    """What save_poll did, for logs, metrics and run --once's exit code."""

    new_items: int = 0
    created: list[str] = field(default_factory=list)  # alert ids
    attached: list[str] = field(default_factory=list)  # alert ids that gained a source
    suppressed: list[str] = field(default_factory=list)
    corroborated: list[str] = field(default_factory=list)
    unrouted: dict[str, str] = field(default_factory=dict)  # alert id -> why no channel


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


@dataclass(frozen=True)
class Queued:
    """A delivery not sent yet (pending, or held for a digest) and its alert's title."""

    delivery: Delivery
    title: str


class Tx(Protocol):
    """One open transaction of an engine: q() returns rows, x() returns the row count.
    SQL uses `?` placeholders on every engine."""

    def q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def x(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    def xm(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many rows (executemany: one pipelined batch on PostgreSQL)."""
        ...


class PollStore(Protocol):
    """What one poll of one feed needs: its lease, its state, seen items, the atomic save."""

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
    def claim_state(
        self,
        name: str,
        owner: str,
        now: datetime,
        lease_seconds: float,
        *,
        due_only: bool = True,
        slack: float = 0.0,
        not_since: datetime | None = None,
    ) -> FeedState | None: ...
    def release_feed(self, name: str, owner: str) -> None: ...
    def feed_state(self, name: str) -> FeedState: ...
    def seen_keys(self, feed: str, keys: Collection[str]) -> set[str]: ...
    def save_poll(
        self, result: PollResult, stories: StoryDecisions, now: datetime
    ) -> SaveOutcome: ...
    def active_silences(self, now: datetime) -> list[Silence]: ...


class OutboxStore(Protocol):
    """What delivery needs: claimed outbox rows, their alerts, and what became of them."""

    def claim_deliveries(
        self,
        owner: str,
        now: datetime,
        lease_seconds: float,
        limit: int = 100,
        *,
        channel: str | None = None,
    ) -> list[Delivery]: ...
    def due_channels(self, now: datetime) -> list[str]: ...
    def release_deliveries(self, ids: Sequence[int], owner: str) -> None: ...
    def load_alert(self, alert_id: str) -> Alert | None: ...
    def mark_sent(self, delivery_ids: Sequence[int], now: datetime) -> None: ...
    def mark_retry(self, delivery_id: int, next_attempt: datetime, error: str) -> None: ...
    def mark_dead(self, delivery_id: int, error: str, now: datetime) -> None: ...
    def first_attempt(self, delivery_id: int) -> datetime | None: ...


class AdminStore(Protocol):
    """What housekeeping, status and the admin commands need (db copy included)."""

    def close(self) -> None: ...
    def feed_states(self) -> dict[str, FeedState]: ...
    def set_silent(self, name: str, flag: bool) -> None: ...
    def record_alert(self, alert: Routed, now: datetime) -> bool: ...
    def load_alert(self, alert_id: str) -> Alert | None: ...
    def held_deliveries(self, channel: str) -> list[Delivery]: ...
    def mark_sent(self, delivery_ids: Sequence[int], now: datetime) -> None: ...
    def retry(self, now: datetime, include_dead: bool) -> int: ...
    def outbox_counts(self) -> dict[str, int]: ...
    def dead_deliveries(self, limit: int = 20) -> list[Delivery]: ...
    def queued_deliveries(self, limit: int = 100) -> list[Queued]: ...
    def suppressed_alerts(self, limit: int = 20) -> list[Alert]: ...
    def unrouted_alerts(self, limit: int = 20) -> list[tuple[Alert, str]]: ...
    def hit_counts(self, since: datetime, until: datetime, by: str) -> dict[str, int]: ...
    def job_once(self, job: str, period_key: str) -> bool: ...
    def prune(self, before: datetime) -> int: ...
    def writable(self) -> bool: ...
    def write_problem(self) -> str | None: ...
    def replaced(self) -> str | None: ...
    def info(self) -> dict[str, Any]: ...
    # moving state between engines (store/transfer.py, cli/db.py)
    def has_state(self) -> bool: ...
    def export_rows(self, table: str, batch: int) -> Iterator[list[tuple[Any, ...]]]: ...
    def import_rows(self, table: str, rows: Sequence[tuple[Any, ...]]) -> int: ...


class InstanceStore(Protocol):
    """Instances sharing the store: heartbeats, the leases they hold, their work in flight."""

    def heartbeat(
        self, owner: str, host: str, pid: int, started: datetime, now: datetime
    ) -> None: ...
    def instances(self, since: datetime) -> list[InstanceInfo]: ...
    def leases(self) -> list[Lease]: ...
    def release_all(self, owner: str) -> int: ...
    def pending_for(self, owner: str, now: datetime, before: datetime | None = None) -> int: ...


class ConsoleStore(Protocol):
    """What the analysts' console reads and writes: the alert list and one alert's page,
    triage, silences, labels (monitor/store/console.py)."""

    def list_alerts(self, f: Filters) -> Page: ...
    def alert_detail(self, alert_id: str) -> Detail | None: ...
    def set_state(
        self, alert_id: str, state: str, actor: str, note: str, now: datetime
    ) -> bool: ...
    def assign(self, alert_id: str, assignee: str | None, actor: str, now: datetime) -> bool: ...
    def add_note(self, alert_id: str, author: str, text: str, now: datetime) -> bool: ...
    def add_silence(self, s: Silence) -> None: ...
    def silences(self, now: datetime, since: datetime) -> list[Silence]: ...
    def active_silences(self, now: datetime) -> list[Silence]: ...
    def silence(self, silence_id: str) -> Silence | None: ...
    def expire_silence(self, silence_id: str, actor: str, now: datetime) -> Silence | None: ...
    def find_item(self, item_key: str) -> Missed | None: ...
    def mark_missed(self, m: Missed, now: datetime) -> None: ...
    def missed_items(self) -> list[Missed]: ...
    def false_positives(self, limit: int = 100000) -> list[Listed]: ...


class SearchStore(Protocol):
    """Every item kept for the retention period, searched (store/items.py)."""

    def search_items(self, q: ItemQuery) -> ItemPage: ...


class EvidenceStore(Protocol):
    """Each alert source's page as captured after the alert (store/evidence.py)."""

    def queue_evidence(self, since: datetime, now: datetime) -> int: ...
    def claim_evidence(
        self, owner: str, now: datetime, lease_seconds: float, limit: int = 20
    ) -> list[EvidenceTask]: ...
    def record_evidence(
        self, task: EvidenceTask, capture: Capture, state: str, next_attempt: datetime
    ) -> None: ...
    def record_archive(self, task: EvidenceTask, answer: ArchiveAnswer) -> None: ...
    def evidence(self, alert_id: str) -> list[Evidence]: ...
    def evidence_raw(self, alert_id: str, link: str) -> bytes | None: ...


class ReviewStore(Protocol):
    """The review queue of channels with `review = true` (store/reviews.py): what waits,
    a person's decision on it, and the timeout that sends a critical alert unreviewed."""

    def waiting_reviews(self, limit: int = 50, offset: int = 0) -> list[Waiting]: ...
    def waiting_count(self) -> int: ...
    def decide_review(
        self,
        alert_id: str,
        decision: str,
        actor: str,
        note: str,
        now: datetime,
        released: Mapping[str, str],
    ) -> tuple[str, ...]: ...
    def expire_reviews(self, channel: str, older_than: datetime, now: datetime) -> list[str]: ...


class Store(
    PollStore,
    OutboxStore,
    AdminStore,
    InstanceStore,
    ConsoleStore,
    PeopleStore,
    ReviewStore,
    SearchStore,
    EvidenceStore,
    Protocol,
):
    """Every role at once: what the engines implement and open_store() returns."""


def open_store(path_or_url: str, *, pool_size: int = 4, create: bool = True) -> Store:
    """Open (and migrate) the store named by a SQLite path or a postgresql:// URL. With
    create=False (read-only commands) a missing state is a StoreError saying where it looked."""
    if path_or_url.startswith(("postgresql://", "postgres://")):
        from monitor.store.postgres import PostgresStore

        store: Store = PostgresStore(path_or_url, pool_size=pool_size, create=create)
        return store
    from monitor.store.sqlite import SqliteStore

    return SqliteStore(path_or_url, create=create)
