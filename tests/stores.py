"""The store engines the contract tests run against: SQLite always, PostgreSQL when available."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from monitor.store import Store
from monitor.store.sqlite import SqliteStore

ENGINES = ["sqlite"]


def open_engine(engine: str, tmp_path: Path) -> Iterator[Store]:
    if engine == "sqlite":
        store = SqliteStore(tmp_path / "state.db")
    else:  # pragma: no cover - extended when the PostgreSQL engine lands
        raise ValueError(engine)
    try:
        yield store
    finally:
        store.close()
