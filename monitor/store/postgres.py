"""EDGE: the PostgreSQL engine: psycopg 3 over a connection pool, for instances sharing work.

The SQL is the engine-neutral SQL of `base` (written with `?`); this module only opens
transactions, serialises what must not interleave with advisory locks, and keeps the
schema version in a table (SQLite keeps it in PRAGMA user_version).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import structlog
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from monitor.errors import StoreError
from monitor.store.base import Tx
from monitor.store.health import HealthSql
from monitor.store.leases import LeaseSql
from monitor.store.schema import SCHEMA_VERSION, migrate
from monitor.store.transfer import TransferSql

# Advisory lock keys (one bigint namespace per database): arbitrary, fixed, distinct.
MIGRATION_LOCK = 0x6D6F6E0001
log = structlog.get_logger("monitor.store")
STORY_LOCK = 0x6D6F6E0002
OUTBOX_LOCK = 0x6D6F6E0003


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """Our `?` placeholders as psycopg's `%s` (our SQL holds no literal `?`)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _PgTx:
    def __init__(self, cur: psycopg.Cursor[Any]) -> None:
        self.cur = cur

    def q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cur.execute(_pg_sql(sql), params)
        return self.cur.fetchall()

    def x(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.cur.execute(_pg_sql(sql), params)
        return self.cur.rowcount

    def xm(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cur.executemany(_pg_sql(sql), rows)


class PostgresStore(LeaseSql, TransferSql, HealthSql):
    """State in one PostgreSQL database, shared safely by several monitor instances."""

    dialect = "postgres"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(
        self, url: str, *, pool_size: int = 4, connect_timeout: float = 10.0, create: bool = True
    ) -> None:
        super().__init__()
        self.url = url
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            open=False,
            name="monitor-store",
            timeout=connect_timeout,
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreError(f"{safe_url(url)}: cannot connect to PostgreSQL ({exc})") from exc
        try:
            if not create:
                self._must_exist()
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    @contextmanager
    def _tx(self) -> Iterator[_PgTx]:
        # The pool's context commits on a clean exit and rolls back on an exception.
        with self._pool.connection() as conn, conn.cursor() as cur:
            yield _PgTx(cur)

    def _lock_stories(self, tx: Tx) -> None:
        """Two instances must not decide stories at once. One lock for all stories, not one
        per rule: a candidate joins a story only if it repeats every report filed under it,
        and two candidates firing no common rule (so sharing no per-rule lock) may both
        want one story; each would miss the other. Only polls with candidates take it."""
        tx.q("SELECT pg_advisory_xact_lock(?)", (STORY_LOCK,))

    def _lock_outbox(self, tx: Tx) -> None:
        """One claimer at a time sees the outbox, so per-channel order holds across instances."""
        tx.q("SELECT pg_advisory_xact_lock(?)", (OUTBOX_LOCK,))

    def _must_exist(self) -> None:
        """A read-only command finds a monitor schema, or creates nothing and says so."""
        with self._tx() as tx:
            found = tx.q("SELECT to_regclass('schema_version') IS NOT NULL")[0][0]
        if not found:
            raise StoreError(
                f"{safe_url(self.url)}: no monitor state in this database (nothing was "
                "created); check [state] url_env, or run `monitor run` once to create it"
            )

    def _migrate(self) -> None:
        """Apply forward migrations once, whoever of several starting instances gets here first."""
        with self._tx() as tx:
            tx.q("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
            tx.x("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            rows = tx.q("SELECT version FROM schema_version")
            version = int(rows[0][0]) if rows else 0
            migrate(tx, version, self.dialect, safe_url(self.url))
            if not rows:
                tx.x("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif version != SCHEMA_VERSION:
                tx.x("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        self._text_index()

    def _text_index(self) -> None:
        """The console's `q` (search LIKE '%word%') through a trigram index where pg_trgm can
        be had: a word in 1 % of 100,000 alerts otherwise reads 5,000 rows (80 ms), a word in
        none reads them all. An accelerator, not a schema step: without the extension (no
        right to create it) the same query answers, slower, and the log says why."""
        try:
            with self._tx() as tx:
                if tx.q("SELECT to_regclass('alerts_search_trgm') IS NOT NULL")[0][0]:
                    return
                tx.q("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
                tx.x("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                tx.x(
                    "CREATE INDEX IF NOT EXISTS alerts_search_trgm ON alerts "
                    "USING gin (search gin_trgm_ops)"
                )
        except psycopg.Error as exc:
            log.warning("store.no_text_index", why=f"{type(exc).__name__}: {exc}"[:300])

    def schema_version(self) -> int:
        with self._tx() as tx:
            return int(tx.q("SELECT version FROM schema_version")[0][0])

    def info(self) -> dict[str, Any]:
        """Where the state lives, without the password."""
        return {"engine": "postgres", "url": safe_url(self.url), "schema": self.schema_version()}

    def close(self) -> None:
        self._pool.close()


def safe_url(url: str) -> str:
    """The connection target for logs and `status`: host, port, database and user only."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = str(parts.get("host") or "localhost")
    port = f":{parts['port']}" if parts.get("port") else ""
    db = parts.get("dbname") or ""
    if host.startswith("/"):  # a Unix socket folder
        return f"postgresql://{user}/{db}?host={host}{port}"
    return f"postgresql://{user}{host}{port}/{db}"
