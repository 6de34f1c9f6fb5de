"""`monitor db copy`: move a state (e.g. SQLite) into an empty store (e.g. PostgreSQL).

Copies what keeps the new store from alerting again on what was already handled: seen
items, feed state (validators, schedule, health), alerts with their sources, matched-item
hits (escalation baselines), the outbox with its statuses, and the periodic jobs' marks.
Leases, claims and instances are left behind: they belong to running processes. Stop the
monitor on the source while copying; nothing here takes a snapshot across tables.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.errors import StoreError
from monitor.store import Store
from monitor.store.transfer import TABLES


def copy_state(
    src: Store,
    dst: Store,
    *,
    batch: int = 1000,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Copy every table of `src` into the empty `dst`, `batch` rows at a time; returns the
    rows inserted per table. Refuses (StoreError) when `dst` already records feeds or alerts."""
    if dst.has_state():
        raise StoreError(
            f"the target store already holds feeds or alerts ({dst.info().get('url', '')}); "
            "copy only into an empty database"
        )
    copied: dict[str, int] = {}
    for table in TABLES:
        copied[table] = 0
        for rows in src.export_rows(table, batch):
            copied[table] += dst.import_rows(table, rows)
            if progress:
                progress(table, copied[table])
    return copied
