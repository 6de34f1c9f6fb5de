"""`monitor`: the argument parser and the exit codes; each command is a module of its own."""

from __future__ import annotations

import argparse
import sys

from monitor import __version__, log
from monitor.cli import (
    check,
    db,
    evidence,
    feeds,
    people,
    retry,
    run,
    search,
    sendtest,
    status,
    testrules,
    web,
)
from monitor.cli.common import EXIT_CONFIG
from monitor.errors import ConfigError, StoreError

COMMANDS = (
    run, check, status, retry, sendtest, testrules, db, feeds, people, web, search, evidence,
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not getattr(args, "func", None):
        parser().print_help()
        return EXIT_CONFIG
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for problem in exc.problems:
            print(log.redact(problem), file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing was started", file=sys.stderr)
        return EXIT_CONFIG
    except StoreError as exc:
        print(f"state store: {log.redact(str(exc))}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="monitor", description="Early-warning feed monitor for mass atrocities."
    )
    p.add_argument("--version", action="version", version=f"monitor {__version__}")
    sub = p.add_subparsers(metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return p


if __name__ == "__main__":
    raise SystemExit(main())
