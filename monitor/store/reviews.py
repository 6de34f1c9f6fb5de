"""Review holds: outbox rows in status `review` wait for a person (approve releases them to
their channel, reject marks the alert a false positive and sends it nowhere), or for their
channel's review_timeout (a critical alert then goes out marked unreviewed).

Which status an approved row takes, which channels have a timeout and when it has passed
are the caller's decisions (the config); here they are applied, each in one transaction.
Two people deciding at once, or two instances expiring at once, race on the conditional
`UPDATE ... WHERE status = 'review'`: the one whose update changes the row wins, and only
the winner writes history. Rows are always updated in id order, so no two of these
transactions can wait on each other's locks in a cycle (PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.model import Severity
from monitor.model.console import DECISIONS
from monitor.store.serialize import at, ts

if TYPE_CHECKING:
    from monitor.store import Tx

RELEASE_STATUSES = ("pending", "held")  # what an approved row may become
_CHUNK = 400  # ids per IN (...) list, well under every engine's parameter limit
_MOVE = "UPDATE outbox SET status = ?, next_attempt = ? WHERE id = ? AND status = 'review'"


@dataclass(frozen=True)
class Waiting:
    """One alert waiting for review: the channels holding it, and since when (the time its
    first review row was queued)."""

    alert_id: str
    title: str
    severity: Severity
    kind: str
    channels: tuple[str, ...]
    since: datetime


class ReviewSql:
    """The review SQL both engines share (a mixin of SqlStore, which supplies `_tx`)."""

    def _tx(self) -> AbstractContextManager[Tx]:
        raise NotImplementedError

    def waiting_reviews(self, limit: int = 50, offset: int = 0) -> list[Waiting]:
        """Alerts with rows waiting for review, oldest first (a queue), a page at a time."""
        with self._tx() as tx:
            rows = tx.q(
                "SELECT w.alert_id, w.since, a.kind, a.severity, a.title, a.body FROM "
                "(SELECT alert_id, MIN(created) AS since FROM outbox WHERE status = 'review' "
                "GROUP BY alert_id) w JOIN alerts a ON a.id = w.alert_id "
                "ORDER BY w.since, w.alert_id LIMIT ? OFFSET ?",
                (limit, offset),
            )
            channels = _channels_of(tx, [r[0] for r in rows])
        return [
            Waiting(r[0], _title(r[4], r[5]), Severity(int(r[3])), r[2], channels[r[0]], at(r[1]))
            for r in rows
        ]

    def waiting_count(self) -> int:
        """How many alerts wait for review (an alert held for two channels counts once)."""
        with self._tx() as tx:
            rows = tx.q("SELECT COUNT(DISTINCT alert_id) FROM outbox WHERE status = 'review'")
        return int(rows[0][0])

    def decide_review(
        self,
        alert_id: str,
        decision: str,
        actor: str,
        note: str,
        now: datetime,
        released: Mapping[str, str],
    ) -> tuple[str, ...]:
        """Approve (each waiting row takes the status `released` gives its channel, "pending"
        when it gives none, due now) or reject (rows `rejected`, the alert's state
        `false_positive`) the alert's waiting rows; history (and the note, when there is one)
        records who did it. Returns the channels decided: () when nothing was waiting, or
        when someone else decided first. ValueError on a decision or status not known."""
        if decision not in DECISIONS:
            raise ValueError(f'decision "{decision}" is not one of {", ".join(DECISIONS)}')
        with self._tx() as tx:
            rows = _waiting_rows(tx, "alert_id = ?", (alert_id,))
            decided = tuple(
                channel
                for row_id, _, channel in rows
                if tx.x(_MOVE, (_target(decision, channel, released), ts(now), row_id)) == 1
            )
            if decided:
                _record(tx, alert_id, actor, f"review.{decision}", decided, note, now)
            if decided and decision == "reject":
                tx.x(
                    "UPDATE alerts SET state = 'false_positive', updated = ? WHERE id = ?",
                    (ts(now), alert_id),
                )
        return decided

    def expire_reviews(self, channel: str, older_than: datetime, now: datetime) -> list[str]:
        """The channel's rows waiting since before `older_than` whose alert is critical
        become due now, marked unreviewed; returns their alert ids (less severe alerts keep
        waiting for a person)."""
        expired: list[str] = []
        with self._tx() as tx:
            rows = _waiting_rows(
                tx,
                "channel = ? AND created < ? AND alert_id IN "
                "(SELECT id FROM alerts WHERE severity >= ?)",
                (channel, ts(older_than), int(Severity.CRITICAL)),
            )
            for row_id, alert_id, _ in rows:
                if tx.x(
                    "UPDATE outbox SET status = 'pending', unreviewed = 1, next_attempt = ? "
                    "WHERE id = ? AND status = 'review'",
                    (ts(now), row_id),
                ):
                    _record(tx, alert_id, "monitor", "review.timeout", (channel,), "", now)
                    expired.append(alert_id)
        return expired


def _waiting_rows(tx: Tx, where: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """(id, alert_id, channel) of rows in review matching `where`, in id order."""
    return tx.q(
        f"SELECT id, alert_id, channel FROM outbox WHERE status = 'review' AND {where} ORDER BY id",
        params,
    )


def _target(decision: str, channel: str, released: Mapping[str, str]) -> str:
    if decision == "reject":
        return "rejected"
    status = released.get(channel, "pending")
    if status not in RELEASE_STATUSES:
        raise ValueError(f'channel {channel}: "{status}" is not one of pending, held')
    return status


def _record(
    tx: Tx,
    alert_id: str,
    actor: str,
    action: str,
    channels: Sequence[str],
    note: str,
    now: datetime,
) -> None:
    """A history row (detail: JSON with the channels and the note), and the note itself."""
    detail = json.dumps({"channels": list(channels), "note": note}, ensure_ascii=False)
    tx.x(
        "INSERT INTO history (alert_id, actor, action, detail, created) VALUES (?, ?, ?, ?, ?)",
        (alert_id, actor, action, detail, ts(now)),
    )
    if note.strip():
        tx.x(
            "INSERT INTO notes (alert_id, author, text, created) VALUES (?, ?, ?, ?)",
            (alert_id, actor, note, ts(now)),
        )


def _channels_of(tx: Tx, alert_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The channels each alert waits in, in queue order."""
    found: dict[str, list[str]] = {i: [] for i in alert_ids}
    for start in range(0, len(alert_ids), _CHUNK):
        chunk = list(alert_ids[start : start + _CHUNK])
        rows = tx.q(
            "SELECT alert_id, channel FROM outbox WHERE status = 'review' "
            f"AND alert_id IN ({', '.join('?' * len(chunk))}) ORDER BY id",
            chunk,
        )
        for alert_id, channel in rows:
            found[alert_id].append(channel)
    return {i: tuple(c) for i, c in found.items()}


def _title(column: str | None, body: str) -> str:
    """The alert's title: its column where filled, else the one in its stored body."""
    return column or str(json.loads(body).get("title", ""))
