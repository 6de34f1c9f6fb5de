"""Leases, so that several instances share one store without doing any work twice.

A feed is polled by the instance that claimed it; the lease ends in the transaction that
writes the poll's result (`save_poll`), or when it expires because its instance died.
An outbox row is sent by the instance that claimed it; `mark_sent`, `mark_retry` and
`mark_dead` end the claim, and an expired claim is taken over by whoever claims next.
Rows of one channel are claimed in creation order only: a row waits while an earlier row
of its channel is claimed by someone or not yet due, so alerts reach a channel in order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from monitor.model import Delivery, FeedState
from monitor.store import InstanceInfo, Lease, Queued
from monitor.store.base import (
    FEED_COLUMNS,
    OUTBOX_COLUMNS,
    OUTBOX_WIDTH,
    SqlStore,
    Tx,
    _delivery,
    _feed_state,
)
from monitor.store.serialize import at, ts

_OUTBOX_AS_O = ", ".join(f"o.{c.strip()}" for c in OUTBOX_COLUMNS.split(","))
_CLAIM_ROW = (
    "UPDATE outbox SET claim_owner = ?, claim_until = ? WHERE id = ? AND status = 'pending' "
    "AND (claim_owner IS NULL OR claim_until IS NULL OR claim_until <= ?)"
)


class LeaseSql(SqlStore):
    """The lease SQL both engines share; engines tune it with `skip_locked` and `_lock_outbox`."""

    # PostgreSQL: " FOR UPDATE SKIP LOCKED" (a row another claimer holds is passed over,
    # not waited for). SQLite: "" (BEGIN IMMEDIATE already serialises writers).
    skip_locked = ""

    def _lock_outbox(self, tx: Tx) -> None:
        """Serialise outbox claims across writers (a no-op where writes already serialise)."""

    # -- feeds -------------------------------------------------------------------------
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
    ) -> bool:
        """Lease the feed to `owner` (see claim_state); True if `owner` now holds it."""
        claimed = self.claim_state(
            name, owner, now, lease_seconds, due_only=due_only, slack=slack, not_since=not_since
        )
        return claimed is not None

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
    ) -> FeedState | None:
        """Lease the feed to `owner` when no one holds a live lease on it (and, with due_only,
        when it is due within `slack` seconds; with not_since, when nobody polled it since
        then); the feed's state when `owner` now holds it, None otherwise. A live lease blocks
        its owner too. The slack lets a job that fires a little before the stored next_poll
        (timer drift, jitter) still poll, while another instance's job that fires
        mid-interval does not; not_since keeps `run --once` from polling again what another
        instance polled during this run. The state comes back from the claiming UPDATE itself
        (RETURNING), one statement: a warm poll is this and save_poll's one UPDATE."""
        t = ts(now)
        due = "AND (next_poll IS NULL OR next_poll <= ?) " if due_only else ""
        fresh = "AND (last_attempt IS NULL OR last_attempt < ?) " if not_since else ""
        sql = (
            "UPDATE feeds SET lease_owner = ?, lease_until = ? WHERE name IN ("
            f"SELECT name FROM feeds WHERE name = ? {due}{fresh}"
            "AND (lease_owner IS NULL OR lease_until IS NULL OR lease_until <= ?)"
            f"{self.skip_locked}) RETURNING {', '.join(FEED_COLUMNS)}"
        )
        params = (
            owner,
            t + lease_seconds,
            name,
            *((t + slack,) if due_only else ()),
            *((ts(not_since),) if not_since else ()),
            t,
        )
        rows = self._one(sql, params)
        new = "INSERT INTO feeds (name) VALUES (?) ON CONFLICT (name) DO NOTHING RETURNING name"
        if not rows and self._one(new, (name,)):  # a feed's first claim: its row is new
            rows = self._one(sql, params)
        return _feed_state(rows[0]) if rows else None

    def release_feed(self, name: str, owner: str) -> None:
        """Give a feed back without a result (a poll abandoned at shutdown)."""
        with self._tx() as tx:
            tx.x(
                "UPDATE feeds SET lease_owner = NULL, lease_until = NULL "
                "WHERE name = ? AND lease_owner = ?",
                (name, owner),
            )

    # -- outbox ------------------------------------------------------------------------
    def claim_deliveries(
        self,
        owner: str,
        now: datetime,
        lease_seconds: float,
        limit: int = 100,
        *,
        channel: str | None = None,
    ) -> list[Delivery]:
        """Claim up to `limit` due pending rows (of `channel` only, when given) for `owner`
        until now + lease_seconds, in id order, never past a channel's first row that is
        claimed or not yet due."""
        t = ts(now)
        claimed: list[Delivery] = []
        blocked: set[str] = set()
        only = "AND channel = ? " if channel is not None else ""
        with self._tx() as tx:
            self._lock_outbox(tx)
            rows = tx.q(
                f"SELECT {OUTBOX_COLUMNS}, claim_owner, claim_until FROM outbox "
                f"WHERE status = 'pending' {only}ORDER BY id",
                (channel,) if channel is not None else (),
            )
            for row in rows:
                d = _delivery(row[:OUTBOX_WIDTH])
                if d.channel in blocked:
                    continue
                owner_, until = row[OUTBOX_WIDTH:]
                held = owner_ is not None and until is not None and until > t
                # The conditional UPDATE re-checks the row: a claim lost to a concurrent
                # claimer blocks the channel rather than letting a later row overtake it.
                if held or row[5] > t or tx.x(_CLAIM_ROW, (owner, t + lease_seconds, d.id, t)) != 1:
                    blocked.add(d.channel)
                    continue
                claimed.append(d)
                if len(claimed) >= limit:
                    break
        return claimed

    def due_channels(self, now: datetime) -> list[str]:
        """The channels with a pending row due by `now` (each is drained on its own)."""
        with self._tx() as tx:
            rows = tx.q(
                "SELECT DISTINCT channel FROM outbox WHERE status = 'pending' "
                "AND next_attempt <= ? ORDER BY channel",
                (ts(now),),
            )
        return [r[0] for r in rows]

    def queued_deliveries(self, limit: int = 100) -> list[Queued]:
        """Deliveries not sent yet (pending, or held for a digest), oldest first, each with
        its alert's title: what `monitor status` lists so an operator sees what waits."""
        with self._tx() as tx:
            rows = tx.q(
                f"SELECT {_OUTBOX_AS_O}, a.body FROM outbox o LEFT JOIN alerts a "
                "ON a.id = o.alert_id WHERE o.status IN ('pending', 'held') ORDER BY o.id LIMIT ?",
                (limit,),
            )
        return [Queued(_delivery(r[:OUTBOX_WIDTH]), _title(r[OUTBOX_WIDTH])) for r in rows]

    def release_deliveries(self, ids: Sequence[int], owner: str) -> None:
        """End claims on rows this owner claimed but did not attempt (channel held, stopping)."""
        with self._tx() as tx:
            for i in ids:
                tx.x(
                    "UPDATE outbox SET claim_owner = NULL, claim_until = NULL "
                    "WHERE id = ? AND claim_owner = ?",
                    (i, owner),
                )

    def pending_for(self, owner: str, now: datetime, before: datetime | None = None) -> int:
        """Pending deliveries that no other live instance is working through right now (and,
        with `before`, created before then): what `run --once` must call "still queued".
        A channel another instance holds claims on is being drained by it, in order; rows
        another instance created after our last drain began are that instance's to send."""
        t = ts(now)
        with self._tx() as tx:
            rows = tx.q(
                "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND created < ? "
                "AND channel NOT IN (SELECT channel FROM outbox WHERE status = 'pending' "
                "AND claim_owner IS NOT NULL AND claim_owner != ? AND claim_until > ?)",
                (ts(before) if before else t + 1e9, owner, t),
            )
        return int(rows[0][0])

    def release_all(self, owner: str) -> int:
        """End every lease and claim `owner` holds (clean shutdown); returns how many."""
        with self._tx() as tx:
            feeds = tx.x(
                "UPDATE feeds SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?",
                (owner,),
            )
            rows = tx.x(
                "UPDATE outbox SET claim_owner = NULL, claim_until = NULL WHERE claim_owner = ?",
                (owner,),
            )
        return feeds + rows

    # -- instances ---------------------------------------------------------------------
    def heartbeat(self, owner: str, host: str, pid: int, started: datetime, now: datetime) -> None:
        """Record that instance `owner` is alive at `now`."""
        with self._tx() as tx:
            tx.x(
                "INSERT INTO instances (owner, host, pid, started, last_seen) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (owner) DO UPDATE SET "
                "host = excluded.host, pid = excluded.pid, last_seen = excluded.last_seen",
                (owner, host, pid, ts(started), ts(now)),
            )

    def instances(self, since: datetime) -> list[InstanceInfo]:
        """Instances whose last heartbeat is at or after `since`, oldest start first."""
        with self._tx() as tx:
            rows = tx.q(
                "SELECT owner, host, pid, started, last_seen FROM instances "
                "WHERE last_seen >= ? ORDER BY started, owner",
                (ts(since),),
            )
        return [InstanceInfo(r[0], r[1], int(r[2]), at(r[3]), at(r[4])) for r in rows]

    def leases(self) -> list[Lease]:
        """Every lease held on a feed or a pending delivery, live or expired (see `until`)."""
        with self._tx() as tx:
            feeds = tx.q(
                "SELECT name, lease_owner, lease_until FROM feeds "
                "WHERE lease_owner IS NOT NULL ORDER BY name"
            )
            rows = tx.q(
                "SELECT channel, id, claim_owner, claim_until FROM outbox "
                "WHERE claim_owner IS NOT NULL AND status = 'pending' ORDER BY id"
            )
        return [Lease("feed", r[0], r[1], at(r[2])) for r in feeds] + [
            Lease("delivery", f"{r[0]}#{r[1]}", r[2], at(r[3])) for r in rows
        ]


def _title(body: str | None) -> str:
    """The title in an alert's stored body ("" when the alert is gone)."""
    return str(json.loads(body).get("title", "")) if body else ""
