"""`monitor retry [--dead]`: make every pending (and dead) delivery due now."""

from __future__ import annotations

import argparse

from monitor.cli.common import EXIT_OK, Subparsers, add, config_path
from monitor.model import utcnow
from monitor.service import runtime


def register(sub: Subparsers) -> None:
    c = add(sub, "retry", "make every pending delivery due now", cmd)
    c.add_argument("--dead", action="store_true", help="also requeue dead deliveries")


def cmd(args: argparse.Namespace) -> int:
    loaded = runtime.load(config_path(args), read_only=True)
    store = runtime.store_of(loaded.config, create=False)
    try:
        n = store.retry(utcnow(), include_dead=args.dead)
    finally:
        store.close()
    print(f"{n} deliveries due now" + (" (dead ones included)" if args.dead else ""))
    return EXIT_OK
