"""EDGE: the SQLite engine (WAL): one connection guarded by a lock, writes as BEGIN IMMEDIATE."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from monitor.errors import StoreError
from monitor.store.health import HealthSql
from monitor.store.leases import LeaseSql
from monitor.store.schema import SCHEMA_VERSION, migrate
from monitor.store.transfer import TransferSql


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def x(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.conn.execute(sql, params).rowcount

    def xm(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)


class SqliteStore(LeaseSql, TransferSql, HealthSql):
    """State in one SQLite file; safe for the daemon's threads and for a CLI beside it."""

    dialect = "sqlite"

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        super().__init__()
        self.path = Path(path)
        self._lock = threading.RLock()
        if not create and not self.path.is_file():
            raise StoreError(
                f"{self.path.resolve()}: no state database there (nothing was created); "
                "check [state] path, or run `monitor run` once to create it"
            )
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # mode=rw: a command that must not create state cannot, even in a race
            # (as_uri percent-encodes a path holding "?", "#" or "%")
            target = f"{self.path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
            # isolation_level=None: we issue BEGIN ourselves, so every transaction is explicit.
            self._conn = sqlite3.connect(
                target, timeout=30, isolation_level=None, check_same_thread=False, uri=True
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=30000")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"{self.path}: cannot open the state database ({exc}); check [state] path "
                "and that its folder is writable"
            ) from None
        self._identity = _identity(self.path)
        self._migrate()

    def replaced(self) -> str | None:
        """Why the file at [state] path is no longer the one this process opened (None when it
        is): writes to a deleted or swapped-out file are lost at the next start."""
        now = _identity(self.path)
        if now == self._identity:
            return None
        what = "deleted" if now is None else "replaced by another file"
        return (
            f"{self.path.resolve()}: the state file was {what} under this running process; "
            "nothing more is written to the old one: restart monitor to use the file there now"
        )

    def _one(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement as its own transaction (autocommit): a write statement takes the
        write lock as it starts, like BEGIN IMMEDIATE, and one statement is atomic. It saves
        the BEGIN and COMMIT round trips, each a wait for the GIL while holding the lock."""
        problem = self.replaced()
        if problem:
            raise StoreError(problem)
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    @contextmanager
    def _tx(self) -> Iterator[_SqliteTx]:
        problem = self.replaced()
        if problem:
            raise StoreError(problem)
        with self._lock:
            # IMMEDIATE takes the write lock up front: no deadlock between two writers
            # that both started as readers (another process may share the file).
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(self._conn)
                self._conn.execute("COMMIT")
            except BaseException:
                # SQLite ends the transaction itself on some errors (SQLITE_FULL): a second
                # ROLLBACK would raise and hide the error that says what went wrong.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _migrate(self) -> None:
        with self._tx() as tx:
            version = int(tx.q("PRAGMA user_version")[0][0])
            migrate(tx, version, self.dialect, str(self.path))
            if version != SCHEMA_VERSION:
                tx.x(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def schema_version(self) -> int:
        with self._tx() as tx:
            return int(tx.q("PRAGMA user_version")[0][0])

    def info(self) -> dict[str, Any]:
        return {"engine": "sqlite", "path": str(self.path), "schema": self.schema_version()}

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at path now; None when there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino
