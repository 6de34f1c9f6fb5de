"""A feed's row: its columns, read into a FeedState and written back (the poll's save)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from monitor.model import FeedState
from monitor.store import Tx
from monitor.store.serialize import from_ts, ts

FEED_COLUMNS = [
    "name",
    "etag",
    "last_modified",
    "body_hash",
    "last_success",
    "last_attempt",
    "last_error",
    "consecutive_failures",
    "failing_since",
    "next_poll",
    "items_seen",
    "last_new_item",
    "down_alerted",
    "silent_alerted",
    "next_poll_reason",
    "declared_refresh",
    "declared_source",
]
_TIME_COLUMNS = {"last_success", "last_attempt", "failing_since", "next_poll", "last_new_item"}


def _feed_state(row: Sequence[Any]) -> FeedState:
    values = dict(zip(FEED_COLUMNS, row, strict=True))
    for col in _TIME_COLUMNS:
        values[col] = from_ts(values[col])
    values["down_alerted"] = bool(values["down_alerted"])
    values["silent_alerted"] = bool(values["silent_alerted"])
    return FeedState(**values)


def _state_values(s: FeedState) -> list[Any]:
    values = [getattr(s, c) for c in FEED_COLUMNS]
    values = [ts(v) if isinstance(v, datetime) else v for v in values]
    values[FEED_COLUMNS.index("down_alerted")] = int(s.down_alerted)
    values[FEED_COLUMNS.index("silent_alerted")] = int(s.silent_alerted)
    return values


_LEASE_ENDS = ", lease_owner = NULL, lease_until = NULL"


def _update_state(s: FeedState) -> tuple[str, list[Any]]:
    """The UPDATE writing a polled feed's state and ending the lease held on it."""
    sets = ", ".join(f"{c} = ?" for c in FEED_COLUMNS[1:])
    return f"UPDATE feeds SET {sets}{_LEASE_ENDS} WHERE name = ?", [*_state_values(s)[1:], s.name]


def _upsert_state(tx: Tx, s: FeedState, *, release_lease: bool = False) -> None:
    """Write a feed's state; a poll's result also ends the lease its instance held on the feed."""
    values = _state_values(s)
    cols = ", ".join(FEED_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in FEED_COLUMNS[1:])
    updates += _LEASE_ENDS if release_lease else ""
    tx.x(
        f"INSERT INTO feeds ({cols}) VALUES ({', '.join('?' * len(FEED_COLUMNS))}) "
        f"ON CONFLICT (name) DO UPDATE SET {updates}",
        values,
    )
