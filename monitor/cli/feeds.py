"""`monitor feeds import FILE.opml` and `monitor feeds export`: the feed list as OPML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitor.cli.common import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, Subparsers, config_path
from monitor.config import opml


def register(sub: Subparsers) -> None:
    feeds = sub.add_parser("feeds", help="import or export the feed list as OPML")
    actions = feeds.add_subparsers(metavar="ACTION")
    imp = actions.add_parser("import", help="add an OPML file's new feeds to the config")
    imp.add_argument("-c", "--config", type=Path, default=None, help="config file")
    imp.add_argument("file", type=Path, metavar="FILE.opml")
    imp.set_defaults(func=cmd_import)
    exp = actions.add_parser("export", help="print the configured feeds as OPML 2.0")
    exp.add_argument("-c", "--config", type=Path, default=None, help="config file")
    exp.set_defaults(func=cmd_export)


def cmd_import(args: argparse.Namespace) -> int:
    """Exit 0 when every feed was added or already there, 1 if some were refused, 2 on a
    malformed OPML or config (nothing written)."""
    try:
        result = opml.import_file(args.file, config_path(args))
    except opml.OpmlError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    print(*result.rejected, sep="\n", file=sys.stderr, end="\n" if result.rejected else "")
    print(*opml.report(result), sep="\n")
    return EXIT_FAIL if result.rejected else EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    try:
        print(opml.build(opml.configured(config_path(args), pages=False)), end="")
    except opml.OpmlError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_OK
