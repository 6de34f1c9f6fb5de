"""`monitor check`: validate config and rules together; exit 2 on any problem."""

from __future__ import annotations

import argparse

from monitor.cli.common import EXIT_OK, Subparsers, add, config_path
from monitor.service import runtime


def register(sub: Subparsers) -> None:
    add(sub, "check", "validate config and rules; exit 2 on any problem", cmd)


def cmd(args: argparse.Namespace) -> int:
    loaded = runtime.load(config_path(args))
    c = loaded.config
    print(
        f"{c.file}: ok: {len(c.feeds)} feeds, {len(loaded.rules)} rules, "
        f"{len(c.channels)} channels, state {c.state.path or c.state.url_env}"
    )
    return EXIT_OK
