"""`monitor run [--once]`: the daemon, or one poll of every feed with delivery."""

from __future__ import annotations

import argparse
import sys

from monitor import log
from monitor.cli.common import EXIT_FAIL, EXIT_OK, Subparsers, add, config_path
from monitor.service import memory, runtime
from monitor.service.once import run_once


def register(sub: Subparsers) -> None:
    c = add(sub, "run", "run the daemon (or poll everything once with --once)", cmd)
    c.add_argument("--once", action="store_true", help="poll every feed once, deliver, exit")


def cmd(args: argparse.Namespace) -> int:
    path = config_path(args)
    memory.limit_arenas()  # before any thread: arenas are handed out as threads meet
    loaded = runtime.load(path)
    log.set_secrets(loaded.config.secrets())
    log.setup(loaded.config.logging.format, loaded.config.logging.level)
    rt = runtime.build(loaded)
    if args.once:
        return once(rt)
    from monitor.service.daemon import Daemon  # APScheduler is loaded only for the daemon

    Daemon(rt, path).run_forever()
    return EXIT_OK


def once(rt: runtime.Runtime) -> int:
    """Exit 0 only if every feed was polled and every alert went through."""
    report = run_once(rt)
    if report.left_to_others:
        print(
            f"{report.left_to_others} feeds left to other instances "
            "(they hold or have just polled them)",
            file=sys.stderr,
        )
    return EXIT_OK if report.ok else EXIT_FAIL
