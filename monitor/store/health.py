"""The store's health, for /healthz and the heartbeat: can it take a poll's writes now, and is
it still the state that was configured."""

from __future__ import annotations

import secrets

from monitor.store.base import SqlStore


class HealthSql(SqlStore):
    """The write probe both engines share; an engine whose state can be swapped under it
    (a SQLite file) overrides `replaced`."""

    def writable(self) -> bool:
        return self.write_problem() is None

    def write_problem(self) -> str | None:
        """Why the store cannot take a poll's writes now; None when it can (/healthz).

        Two real writes: one committed row change (a read-only, locked, replaced or
        unreachable store fails it), then room for a poll's new rows, taken and given back
        (a full disk or database fails it; an update in place alone would still pass)."""
        try:
            with self._tx() as tx:
                tx.x(
                    "INSERT INTO jobs (job, period_key, ran) VALUES ('healthz', '', 1) "
                    "ON CONFLICT (job) DO UPDATE SET ran = jobs.ran + 1"
                )
            with self._tx() as tx:
                tx.x(
                    "INSERT INTO jobs (job, period_key, ran) VALUES ('healthz:room', ?, 0)",
                    (secrets.token_hex(_PROBE_BYTES // 2),),
                )
                raise _ProbeDone  # roll back: the room was there, and is given back
        except _ProbeDone:
            return None
        except Exception as exc:  # any failure means "cannot write" to /healthz
            return str(exc) or type(exc).__name__

    def replaced(self) -> str | None:
        """Why this store is no longer the configured one (only a file can be swapped)."""
        return None


_PROBE_BYTES = 64 * 1024  # a poll's worth of new rows: many pages, not one in place


class _ProbeDone(Exception):
    """Ends the write probe's second transaction with a rollback."""
