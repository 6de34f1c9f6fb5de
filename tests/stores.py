"""The store engines the contract tests run against: SQLite, and PostgreSQL (see tests/pg.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from monitor.model import Delivery
from monitor.store import Store, open_store
from monitor.store.schema import statements

ENGINES = ["sqlite", "postgres"]


def new_target(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A path or URL naming a new, empty database of the engine."""
    if engine == "sqlite":
        return str(tmp_path / f"state-{len(list(tmp_path.glob('state-*.db')))}.db")
    if engine == "postgres":
        return str(request.getfixturevalue("pg_server").new_database())
    raise ValueError(engine)


def open_engine(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A store of the engine on an empty database, closed after the test."""
    store = open_store(new_target(engine, tmp_path, request))
    try:
        yield store
    finally:
        store.close()


def due(store: Store, now: datetime) -> list[Delivery]:
    """The rows a deliverer would send at `now`, in order (claimed, then given back)."""
    rows = store.claim_deliveries("probe", now, 60.0)
    store.release_deliveries([r.id for r in rows], "probe")
    return rows


def create_at_version(engine: str, target: str, version: int, *rows: str) -> None:
    """Build what an older monitor would have left: migrations 0..version-1, then `rows`
    (plain SQL statements, e.g. INSERTs of that version's data)."""
    sql = [s for step in range(version) for s in statements(step, engine)] + list(rows)
    if engine == "sqlite":
        conn = sqlite3.connect(target)
        with conn:
            for s in sql:
                conn.execute(s)
            conn.execute(f"PRAGMA user_version = {version}")
        conn.close()
        return
    with psycopg.connect(target) as pconn:
        pconn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        pconn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
        for s in sql:
            pconn.execute(s.encode())
