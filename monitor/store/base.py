"""The SQL both engines share: feed state, seen items, alerts with sources, the outbox.

Engines supply a transaction (`_tx`) whose `q`/`x` take `?` placeholders; everything else
lives here once. The story decisions taken inside save_poll's transaction are the caller's.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from monitor.model import Alert, Delivery, FeedState, PollResult, Routed
from monitor.store import SaveOutcome, StoryDecisions
from monitor.store import Tx as Tx
from monitor.store import items as _items
from monitor.store import reports as _reports
from monitor.store import stories as _stories
from monitor.store.console import ConsoleSql
from monitor.store.evidence import EvidenceSql
from monitor.store.feedrows import FEED_COLUMNS as FEED_COLUMNS
from monitor.store.feedrows import _feed_state as _feed_state
from monitor.store.feedrows import _update_state, _upsert_state
from monitor.store.items import ItemsSql
from monitor.store.labels import LabelsSql
from monitor.store.people import PeopleSql
from monitor.store.reviews import ReviewSql
from monitor.store.serialize import alert_from_dict, at, from_ts, ts

OUTBOX_COLUMNS = (
    "id, alert_id, channel, status, attempts, next_attempt, created, last_error, unreviewed"
)
OUTBOX_WIDTH = len(OUTBOX_COLUMNS.split(","))  # a row's first columns are these, _delivery's


class SqlStore(ConsoleSql, EvidenceSql, ItemsSql, LabelsSql, PeopleSql, ReviewSql):
    """Store logic over any engine that gives a transaction with q() and x()."""

    def __init__(self) -> None:
        self._alerts = _stories.AlertCache()
        self._reports = _reports.ReportCache()

    def _tx(self) -> AbstractContextManager[Tx]:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement in a transaction of its own, its rows (engines may do it cheaper)."""
        with self._tx() as tx:
            return tx.q(sql, params)

    def _lock_stories(self, tx: Tx) -> None:
        """Serialise story decisions across writers (a no-op where writes already serialise)."""

    # -- feeds -----------------------------------------------------------------
    def feed_states(self) -> dict[str, FeedState]:
        with self._tx() as tx:
            rows = tx.q(f"SELECT {', '.join(FEED_COLUMNS)} FROM feeds")
        return {r[0]: _feed_state(r) for r in rows}

    def feed_state(self, name: str) -> FeedState:
        with self._tx() as tx:
            rows = tx.q(f"SELECT {', '.join(FEED_COLUMNS)} FROM feeds WHERE name = ?", (name,))
        return _feed_state(rows[0]) if rows else FeedState(name)

    def set_silent(self, name: str, flag: bool) -> None:
        """Only the silence flag: housekeeping must not overwrite a concurrent poll's state."""
        with self._tx() as tx:
            tx.x("UPDATE feeds SET silent_alerted = ? WHERE name = ?", (int(flag), name))

    def seen_keys(self, feed: str, keys: Collection[str]) -> set[str]:
        found: set[str] = set()
        with self._tx() as tx:
            for marks, chunk in _stories.in_chunks(list(keys)):
                sql = f"SELECT key FROM seen WHERE feed = ? AND key IN ({marks})"
                found.update(r[0] for r in tx.q(sql, (feed, *chunk)))
        return found

    # -- one poll, one transaction ---------------------------------------------
    def save_poll(self, result: PollResult, stories: StoryDecisions, now: datetime) -> SaveOutcome:
        """Record health notices, feed state, seen items, alerts and outbox rows atomically;
        the candidates of items new to the store are placed by `stories`."""
        out = SaveOutcome()
        if not (result.notices or result.items or result.alerts):
            # a warm poll (304, same body, most failures) writes only its feed's row: one
            # UPDATE, its own transaction; the row is there unless the feed was never claimed
            sql, values = _update_state(result.state)
            if self._one(sql + " RETURNING name", values):
                return out
        with self._tx() as tx:
            for notice in result.notices:
                if _stories.insert_alert(tx, notice, now):
                    _stories.note_unrouted(notice, out)
            _upsert_state(tx, result.state, release_lease=True)
            fresh = {i.key for i in result.items if _insert_seen(tx, i.feed, i.key, now)}
            out.new_items = len(fresh)
            candidates = [a for a in result.alerts if a.item and a.item.key in fresh]
            alert_ids = self._place(tx, candidates, stories, now, out) if candidates else {}
            new = [i for i in result.items if i.key in fresh]
            _items.record(tx, new, result.scores, alert_ids, now)
        return out

    def _place(
        self,
        tx: Tx,
        candidates: list[Alert],
        stories: StoryDecisions,
        now: datetime,
        out: SaveOutcome,
    ) -> dict[str, str]:
        """Place the candidates; the alert (story) each one's item went to, by item key."""
        # one lock for every story: a candidate must repeat every report of the story it
        # joins, and two candidates firing no common rule may both want one story
        self._lock_stories(tx)
        recent = self._alerts.recent(tx, now.timestamp() - stories.window)
        # a story a candidate may join: one of its rules fired, or (a report in another
        # language, alerts/stories.py) one of its themes; each needs the story's reports
        related = _reports.Related(candidates)
        near = [a.id for a in recent if related(a)]
        reports = self._reports.reports(tx, near)
        known = _stories.existing(tx, [a.id for a in candidates])
        went: dict[str, str] = {}
        for placement in stories.place(candidates, recent, known, reports):
            _stories.apply(tx, placement, stories, self._alerts, now, out)
            alert = placement.alert.alert
            if alert.item is not None:
                went[alert.item.key] = placement.story or alert.id
        return went

    def record_alert(self, alert: Routed, now: datetime) -> bool:
        """Insert a stand-alone alert (health, escalation, test) and its outbox rows once."""
        with self._tx() as tx:
            return _stories.insert_alert(tx, alert, now)

    def load_alert(self, alert_id: str) -> Alert | None:
        with self._tx() as tx:
            return _stories.load_alert(tx, alert_id)

    # -- outbox ------------------------------------------------------------------
    def held_deliveries(self, channel: str) -> list[Delivery]:
        return self._deliveries("status = 'held' AND channel = ? ORDER BY id", (channel,))

    def mark_sent(self, delivery_ids: Sequence[int], now: datetime) -> None:
        with self._tx() as tx:
            for i in delivery_ids:
                tx.x(
                    "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                    "first_attempt = COALESCE(first_attempt, ?), last_error = NULL, "
                    "claim_owner = NULL WHERE id = ?",
                    (ts(now), ts(now), i),
                )

    def mark_retry(self, delivery_id: int, next_attempt: datetime, error: str) -> None:
        with self._tx() as tx:
            tx.x(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ?, "
                "first_attempt = COALESCE(first_attempt, ?), claim_owner = NULL WHERE id = ?",
                (ts(next_attempt), error[:500], ts(next_attempt), delivery_id),
            )

    def mark_dead(self, delivery_id: int, error: str, now: datetime) -> None:
        with self._tx() as tx:
            tx.x(
                "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ?, "
                "first_attempt = COALESCE(first_attempt, ?), claim_owner = NULL WHERE id = ?",
                (error[:500], ts(now), delivery_id),
            )

    def first_attempt(self, delivery_id: int) -> datetime | None:
        with self._tx() as tx:
            rows = tx.q("SELECT first_attempt, created FROM outbox WHERE id = ?", (delivery_id,))
        return from_ts(rows[0][0] or rows[0][1]) if rows else None

    def retry(self, now: datetime, include_dead: bool) -> int:
        """Make pending (and optionally dead) deliveries due now; returns how many."""
        statuses = "('pending', 'dead')" if include_dead else "('pending')"
        with self._tx() as tx:
            return tx.x(
                f"UPDATE outbox SET status = 'pending', next_attempt = ?, first_attempt = NULL "
                f"WHERE status IN {statuses}",
                (ts(now),),
            )

    def outbox_counts(self) -> dict[str, int]:
        with self._tx() as tx:
            rows = tx.q("SELECT status, COUNT(*) FROM outbox GROUP BY status")
            suppressed = tx.q("SELECT COUNT(*) FROM alerts WHERE suppressed IS NOT NULL")
            unrouted = tx.q("SELECT COUNT(*) FROM alerts WHERE unrouted IS NOT NULL")
        counts = {"pending": 0, "held": 0, "review": 0, "sent": 0, "dead": 0}
        counts.update({r[0]: int(r[1]) for r in rows})
        counts["suppressed"] = int(suppressed[0][0])
        counts["unrouted"] = int(unrouted[0][0])
        return counts

    def dead_deliveries(self, limit: int = 20) -> list[Delivery]:
        return self._deliveries("status = 'dead' ORDER BY id DESC LIMIT ?", (limit,))

    def _deliveries(self, where: str, params: Sequence[Any]) -> list[Delivery]:
        with self._tx() as tx:
            rows = tx.q(f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE {where}", params)
        return [_delivery(r) for r in rows]

    def suppressed_alerts(self, limit: int = 20) -> list[Alert]:
        with self._tx() as tx:
            rows = tx.q(
                "SELECT body FROM alerts WHERE suppressed IS NOT NULL "
                "ORDER BY created DESC LIMIT ?",
                (limit,),
            )
            return [_stories.with_sources(tx, alert_from_dict(json.loads(r[0]))) for r in rows]

    def unrouted_alerts(self, limit: int = 20) -> list[tuple[Alert, str]]:
        """The latest alerts that went to no channel, each with why."""
        with self._tx() as tx:
            rows = tx.q(
                "SELECT body, unrouted FROM alerts WHERE unrouted IS NOT NULL "
                "ORDER BY created DESC LIMIT ?",
                (limit,),
            )
        return [(alert_from_dict(json.loads(r[0])), r[1]) for r in rows]

    # -- escalation, jobs, housekeeping -------------------------------------------
    def hit_counts(self, since: datetime, until: datetime, by: str) -> dict[str, int]:
        """Matched items per country (by='country') or theme (by='theme') in [since, until)."""
        column = "country" if by == "country" else "theme"
        with self._tx() as tx:
            rows = tx.q(
                f"SELECT {column}, COUNT(DISTINCT feed || ' ' || item_key) FROM hits "
                f"WHERE created >= ? AND created < ? AND {column} != '' GROUP BY {column}",
                (ts(since), ts(until)),
            )
        return {r[0]: int(r[1]) for r in rows}

    def job_once(self, job: str, period_key: str) -> bool:
        """True exactly once per (job, period) across every process sharing the store."""
        with self._tx() as tx:
            tx.x(
                "INSERT INTO jobs (job, period_key, ran) VALUES (?, '', 0) "
                "ON CONFLICT (job) DO NOTHING",
                (job,),
            )
            return (
                tx.x(
                    "UPDATE jobs SET period_key = ?, ran = ? WHERE job = ? AND period_key != ?",
                    (period_key, 0, job, period_key),
                )
                == 1
            )

    def prune(self, before: datetime) -> int:
        """Forget seen and kept items and old hits; alerts and undelivered rows are kept."""
        with self._tx() as tx:
            n = tx.x("DELETE FROM seen WHERE first_seen < ?", (ts(before),))
            tx.x("DELETE FROM items WHERE seen < ?", (ts(before),))
            tx.x("DELETE FROM hits WHERE created < ?", (ts(before),))
            tx.x("DELETE FROM outbox WHERE status = 'sent' AND sent_at < ?", (ts(before),))
            tx.x("DELETE FROM instances WHERE last_seen < ?", (ts(before),))
        return n


# -- module-level helpers: all take the open transaction --------------------------
def _insert_seen(tx: Tx, feed: str, key: str, now: datetime) -> bool:
    sql = "INSERT INTO seen (feed, key, first_seen) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    return tx.x(sql, (feed, key, ts(now))) == 1


def _delivery(row: Sequence[Any]) -> Delivery:
    return Delivery(
        id=int(row[0]),
        alert_id=row[1],
        channel=row[2],
        status=row[3],
        attempts=int(row[4]),
        next_attempt=at(row[5]),
        created=at(row[6]),
        last_error=row[7],
        unreviewed=bool(row[8]),
    )
