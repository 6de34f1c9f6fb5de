"""The analysts' judgements kept as labels: items marked missed, alerts marked false
positives, read back for `labels.tsv` (the corpus format) to retrain the model on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.model.console import Listed, Missed
from monitor.store.console import LISTED, listed_rows
from monitor.store.serialize import at, ts


class LabelsSql:
    """Mixed into SqlStore (which gives `_tx`)."""

    def _tx(self) -> Any:
        raise NotImplementedError

    def find_item(self, item_key: str) -> Missed | None:
        """What the store kept of an item (a source of some alert), to mark it missed."""
        with self._tx() as tx:
            rows = tx.q(
                "SELECT feed, item_key, title, link, summary FROM sources WHERE item_key = ? "
                "ORDER BY added LIMIT 1",
                (item_key,),
            )
        return (
            Missed(rows[0][0], rows[0][1], rows[0][2], rows[0][4] or "", rows[0][3])
            if rows
            else None
        )

    def mark_missed(self, m: Missed, now: datetime) -> None:
        with self._tx() as tx:
            tx.x(
                "INSERT INTO missed (feed, item_key, title, summary, link, note, marked_by, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (feed, item_key) "
                "DO UPDATE SET note = excluded.note, marked_by = excluded.marked_by, "
                "created = excluded.created",
                (m.feed, m.item_key, m.title, m.summary, m.link, m.note, m.marked_by, ts(now)),
            )

    def missed_items(self) -> list[Missed]:
        with self._tx() as tx:
            rows = tx.q(
                "SELECT feed, item_key, title, summary, link, note, marked_by, created FROM missed "
                "ORDER BY created"
            )
        return [
            Missed(r[0], r[1], r[2], r[3] or "", r[4], r[5] or "", r[6], at(r[7])) for r in rows
        ]

    def false_positives(self, limit: int = 100000) -> list[Listed]:
        with self._tx() as tx:
            rows = tx.q(
                f"SELECT {LISTED} FROM alerts WHERE state = 'false_positive' "
                "ORDER BY created LIMIT ?",
                (limit,),
            )
            return listed_rows(tx, rows)
