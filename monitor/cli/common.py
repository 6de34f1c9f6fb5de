"""What every command shares: exit codes, the -c option, and how a command is registered."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor.config.load import default_config_path

EXIT_OK, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2
Command = Callable[[argparse.Namespace], int]
Subparsers = Any  # argparse's _SubParsersAction, which typeshed keeps private


def add(sub: Subparsers, name: str, help_: str, func: Command) -> argparse.ArgumentParser:
    """A sub-command with the -c/--config option every command takes."""
    c: argparse.ArgumentParser = sub.add_parser(name, help=help_, description=help_)
    c.add_argument(
        "-c",
        "--config",
        type=Path,
        default=None,
        help="config file (default: $MONITOR_CONFIG, then ./config.toml)",
    )
    c.set_defaults(func=func)
    return c


def config_path(args: argparse.Namespace) -> Path:
    return args.config or default_config_path()
