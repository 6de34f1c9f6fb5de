"""Evidence rows: one per (alert, source link), queued from the sources table, claimed by one
instance at a time, written after each attempt, read for the console and its exports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from monitor.model.evidence import PENDING, ArchiveAnswer, Capture, Evidence, EvidenceTask
from monitor.store.serialize import at, ts

_QUEUE = (
    "INSERT INTO evidence (alert_id, link, feed, state, attempts, next_attempt, created) "
    "SELECT s.alert_id, s.link, MIN(s.feed), 'pending', 0, ?, ? FROM sources s "
    "WHERE s.added >= ? AND s.link IS NOT NULL AND NOT EXISTS (SELECT 1 FROM evidence e "
    "WHERE e.alert_id = s.alert_id AND e.link = s.link) GROUP BY s.alert_id, s.link "
    "ON CONFLICT DO NOTHING"
)
_CLAIM = (
    "UPDATE evidence SET claim_owner = ?, claim_until = ? WHERE alert_id = ? AND link = ? "
    "AND state = 'pending' AND (claim_owner IS NULL OR claim_until <= ?)"
)
_RECORD = (
    "UPDATE evidence SET state = ?, attempts = attempts + 1, next_attempt = ?, "
    "fetched_at = ?, http_status = ?, final_url = ?, content_type = ?, size = ?, sha256 = ?, "
    "text = ?, raw = ?, error = ?, claim_owner = NULL, claim_until = NULL "
    "WHERE alert_id = ? AND link = ?"
)
_ARCHIVED = (
    "UPDATE evidence SET archive_status = ?, archive_url = ?, archive_error = ?, "
    "archived_at = ? WHERE alert_id = ? AND link = ?"
)
SHOWN = (
    "alert_id, link, feed, state, attempts, fetched_at, http_status, final_url, content_type, "
    "size, sha256, text, error, archive_status, archive_url, archive_error, archived_at"
)


class EvidenceSql:
    """Mixed into SqlStore (which gives `_tx`)."""

    def _tx(self) -> Any:
        raise NotImplementedError

    def queue_evidence(self, since: datetime, now: datetime) -> int:
        """A pending row for every source with a link added since `since` that has none;
        how many were queued."""
        with self._tx() as tx:
            n: int = tx.x(_QUEUE, (ts(now), ts(now), ts(since)))
        return n

    def claim_evidence(
        self, owner: str, now: datetime, lease_seconds: float, limit: int = 20
    ) -> list[EvidenceTask]:
        """Up to `limit` due pending rows, oldest due first, held by `owner` for the lease."""
        t = ts(now)
        with self._tx() as tx:
            rows = tx.q(
                "SELECT alert_id, link, feed, attempts, archived_at IS NOT NULL, claim_owner, "
                "claim_until FROM evidence WHERE state = 'pending' AND next_attempt <= ? "
                "ORDER BY next_attempt, alert_id, link LIMIT ?",
                (t, limit * 2),
            )
            out = []
            for r in rows:
                if r[5] is not None and r[6] is not None and r[6] > t:
                    continue  # another instance holds it
                if tx.x(_CLAIM, (owner, t + lease_seconds, r[0], r[1], t)) == 1:
                    out.append(EvidenceTask(r[0], r[1], r[2], int(r[3]), bool(r[4])))
                if len(out) >= limit:
                    break
        return out

    def record_evidence(
        self, task: EvidenceTask, capture: Capture, state: str, next_attempt: datetime
    ) -> None:
        """The attempt's outcome: `state` captured, pending (retried at next_attempt) or
        failed (no attempts left); the claim ends."""
        c = capture
        raw = None if c.raw is None else bytes(c.raw)
        with self._tx() as tx:
            tx.x(_RECORD, (state, ts(next_attempt), ts(c.fetched_at), c.status, c.final_url,
                           c.content_type, c.size, c.sha256, c.text, raw, c.error,
                           task.alert_id, task.link))  # fmt: skip

    def record_archive(self, task: EvidenceTask, answer: ArchiveAnswer) -> None:
        with self._tx() as tx:
            tx.x(_ARCHIVED, (answer.status, answer.url, answer.error, ts(answer.at),
                             task.alert_id, task.link))  # fmt: skip

    def evidence(self, alert_id: str) -> list[Evidence]:
        """The alert's evidence rows, in link order (no raw bytes: see evidence_raw)."""
        with self._tx() as tx:
            rows = tx.q(
                f"SELECT {SHOWN} FROM evidence WHERE alert_id = ? ORDER BY link", (alert_id,)
            )
        return [_evidence(r) for r in rows]

    def evidence_raw(self, alert_id: str, link: str) -> bytes | None:
        """The raw bytes of one source's page as captured, for an export."""
        with self._tx() as tx:
            rows = tx.q(
                "SELECT raw FROM evidence WHERE alert_id = ? AND link = ?", (alert_id, link)
            )
        return None if not rows or rows[0][0] is None else bytes(rows[0][0])


def _evidence(r: Sequence[Any]) -> Evidence:
    capture = None
    if r[5] is not None:
        capture = Capture(at(r[5]), r[6], r[7], r[8], r[9], r[10],
                          r[11], None, r[12])  # fmt: skip
    archive = None
    if r[16] is not None:
        archive = ArchiveAnswer(r[13], r[14], r[15], at(r[16]))
    return Evidence(r[0], r[1], r[2], r[3] or PENDING, int(r[4]), capture, archive)
