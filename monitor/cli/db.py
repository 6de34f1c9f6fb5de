"""`monitor db copy`: move a state (e.g. SQLite) into an empty store (e.g. PostgreSQL).

Copies what keeps the new store from alerting again on what was already handled: seen
items, feed state (validators, schedule, health), alerts with their sources, matched-item
hits (escalation baselines), the outbox with its statuses, and the periodic jobs' marks.
Leases, claims and instances are left behind: they belong to running processes. Stop the
monitor on the source while copying; nothing here takes a snapshot across tables.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from monitor import log
from monitor.cli.common import EXIT_CONFIG, EXIT_OK, Subparsers, config_path
from monitor.errors import StoreError
from monitor.service import runtime
from monitor.store import Store, open_store
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


def register(sub: Subparsers) -> None:
    db = sub.add_parser("db", help="state database tools")
    actions = db.add_subparsers(metavar="ACTION")
    copy = actions.add_parser("copy", help="copy the configured state into an empty PostgreSQL")
    copy.add_argument("-c", "--config", type=Path, default=None, help="config file")
    copy.add_argument(
        "--to",
        required=True,
        metavar="URL_ENV_NAME",
        help="environment variable holding the target postgresql:// URL",
    )
    copy.set_defaults(func=cmd_copy)


def cmd_copy(args: argparse.Namespace) -> int:
    """Copy seen items, feed state, alerts and the outbox so a move re-alerts on nothing."""
    url = os.environ.get(args.to, "")
    if not url.startswith(("postgresql://", "postgres://")):
        print(f"{args.to} must hold a postgresql:// URL", file=sys.stderr)
        return EXIT_CONFIG
    loaded = runtime.load(config_path(args))
    log.set_secrets([url, *loaded.config.secrets()])
    src = runtime.store_of(loaded.config, create=False)
    try:
        dst = open_store(url)
        try:
            counts = copy_state(src, dst)
        finally:
            dst.close()
    finally:
        src.close()
    print("copied: " + ", ".join(f"{n} {table}" for table, n in counts.items()))
    return EXIT_OK
